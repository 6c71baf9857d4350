// Reading a user map from a CSV file, by the rules of the agent's own reader
// (agent/internal/mapping/usercsv.go); both pass the same golden files
// (agent/internal/mapping/testdata/usercsv, usercsv.test.ts). A header row of
// either "a,b" or "emailA,emailB" (two emails per row) or some of
// a_id,a_email,a_name,b_id,b_email,b_name; a ';' delimiter when the header has
// no comma; a byte-order mark and blank rows ignored; RFC 4180 quoting, strictly
// (a quote inside a value that does not start with one is an error). Every bad
// line is reported, so an administrator can fix the file in one pass; the
// preview keeps the good rows (the agent's reader refuses the whole file).
import type { MatchBy, UserEntry, UserRef } from '../../api/generated/types'

export type CsvLineError = { line: number; message: string }
export type UserCsvResult = { entries: UserEntry[]; matchBy: MatchBy | ''; errors: CsvLineError[] }

const columns = ['a_id', 'a_email', 'a_name', 'b_id', 'b_email', 'b_name']
// Header spellings people write for the two-email form.
const emailPairs: Record<string, string> = { a: 'a_email', b: 'b_email', emaila: 'a_email', emailb: 'b_email' }
const maxFieldBytes = 512
export const maxEntries = 100_000

// Go's strings.TrimSpace: Unicode white space, which is not quite JavaScript's
// trim (that also strips U+FEFF and keeps U+0085).
const space = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000'
const edges = new RegExp(`^[${space}]+|[${space}]+$`, 'g')
const trim = (s: string) => s.replace(edges, '')

const bytes = (s: string) => new TextEncoder().encode(s).length

export function parseUserCsv(text: string): UserCsvResult {
  const src = text.replace(/^\uFEFF/, '')
  const firstLine = src.split('\n', 1)[0] ?? ''
  const delim = firstLine.includes(';') && !firstLine.includes(',') ? ';' : ','
  const { rows, broken } = readRecords(src, delim)
  const nonBlank = rows.filter((r) => !r.fields.every((f) => trim(f) === ''))
  const fail = (e: CsvLineError): UserCsvResult => ({ entries: [], matchBy: '', errors: [e] })
  const header = nonBlank[0]
  if (!header) return fail(broken ?? { line: 1, message: 'the file is empty: expected a header row such as a,b' })
  const parsed = parseHeader(header.fields)
  if ('error' in parsed) return fail({ line: header.line, message: parsed.error })
  const entries: UserEntry[] = []
  const errors: CsvLineError[] = []
  let full = false
  for (const row of nonBlank.slice(1)) {
    if (entries.length === maxEntries) {
      errors.push({ line: row.line, message: `more than ${maxEntries} entries` })
      full = true
      break
    }
    const r = parseRow(row.fields, parsed.cols, header.fields)
    if (typeof r === 'string') errors.push({ line: row.line, message: r })
    else entries.push(r)
  }
  if (broken && !full) errors.push(broken)
  return { entries, matchBy: parsed.matchBy, errors }
}

type Row = { line: number; fields: string[] }

// readRecords splits CSV text into records as Go's encoding/csv does: lines
// end at \n (a \r before it is dropped), empty lines are skipped, a value
// that starts with a quote runs to the matching quote ("" is a quote in it).
// A misplaced quote stops the reading: what follows it cannot be trusted.
function readRecords(src: string, delim: string): { rows: Row[]; broken?: CsvLineError } {
  const rows: Row[] = []
  let line = 1
  let i = 0
  const bareQuote = 'a quote (") in a value that does not start with one: quote the whole value and double the quotes in it'
  const badQuote = 'a quoted value is never closed, or text follows its closing quote'
  while (i < src.length) {
    const start = line
    if (src[i] === '\n' || (src[i] === '\r' && src[i + 1] === '\n')) {
      i += src[i] === '\r' ? 2 : 1
      line++
      continue // an empty line is no record
    }
    const fields: string[] = []
    for (;;) {
      let field = ''
      if (src[i] === '"') {
        i++
        for (;;) {
          if (i >= src.length) return { rows, broken: { line: start, message: badQuote } }
          const c = src[i]
          if (c === '"' && src[i + 1] === '"') {
            field += '"'
            i += 2
          } else if (c === '"') {
            i++
            break
          } else if (c === '\r' && src[i + 1] === '\n') {
            field += '\n'
            i += 2
            line++
          } else {
            if (c === '\n') line++
            field += c
            i++
          }
        }
        const next = src[i]
        if (!(i >= src.length || next === delim || next === '\n' || (next === '\r' && (src[i + 1] === '\n' || i + 1 >= src.length)))) {
          return { rows, broken: { line: start, message: badQuote } }
        }
      } else {
        while (i < src.length && src[i] !== delim && src[i] !== '\n' && !(src[i] === '\r' && (src[i + 1] === '\n' || i + 1 >= src.length))) {
          if (src[i] === '"') return { rows, broken: { line: start, message: bareQuote } }
          field += src[i]
          i++
        }
      }
      fields.push(field)
      if (i < src.length && src[i] === delim) {
        i++
        continue
      }
      // The end of the record: \n, \r\n, a \r ending the file, or the end.
      if (src[i] === '\r') i++
      if (src[i] === '\n') {
        i++
        line++
      }
      break
    }
    rows.push({ line: start, fields })
  }
  return { rows }
}

function parseHeader(header: string[]): { cols: string[]; matchBy: MatchBy | '' } | { error: string } {
  const names = header.map((h) => trim(h).toLowerCase())
  if (names.length === 2 && emailPairs[names[0]] === 'a_email' && emailPairs[names[1]] === 'b_email') {
    return { cols: ['a_email', 'b_email'], matchBy: 'email' }
  }
  const seen = new Set<string>()
  for (let i = 0; i < names.length; i++) {
    if (!columns.includes(names[i])) {
      return { error: `column ${i + 1}: unknown column "${trim(header[i])}", expected a,b or some of ${columns.join(',')}` }
    }
    if (seen.has(names[i])) return { error: `column ${i + 1}: column "${trim(header[i])}" appears twice` }
    seen.add(names[i])
  }
  for (const side of ['a', 'b']) {
    if (!seen.has(`${side}_id`) && !seen.has(`${side}_email`) && !seen.has(`${side}_name`)) {
      return { error: `no column for side ${side}: add ${side}_id, ${side}_email or ${side}_name` }
    }
  }
  return { cols: names, matchBy: '' }
}

function parseRow(fields: string[], cols: string[], header: string[]): UserEntry | string {
  if (fields.length !== cols.length) return `expected ${cols.length} values, found ${fields.length}`
  const a: UserRef = {}
  const b: UserRef = {}
  for (let i = 0; i < fields.length; i++) {
    const v = trim(fields[i])
    const col = `column ${i + 1} (${trim(header[i])})`
    if (bytes(v) > maxFieldBytes) return `${col}: longer than ${maxFieldBytes} bytes`
    if (/[\r\n]/.test(v)) return `${col}: contains a line break`
    const ref = cols[i].startsWith('b_') ? b : a
    const part = cols[i].slice(2) as keyof UserRef
    if (part === 'email' && v !== '' && !looksLikeEmail(v)) return `${col}: "${v}" is not an email address`
    if (v !== '') ref[part] = v
  }
  if (Object.keys(a).length === 0) return 'side a is empty: give an id, email or name'
  if (Object.keys(b).length === 0) return 'side b is empty: give an id, email or name'
  return { a, b }
}

// looksLikeEmail catches swapped columns (a name where the email belongs),
// as the agent does; it is not an address validator.
function looksLikeEmail(s: string): boolean {
  const at = s.indexOf('@')
  return at > 0 && at < s.length - 1 && !/[ \t,;<>]/.test(s)
}
