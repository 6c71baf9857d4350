// Reading a user map from a CSV file, with the rules of the agent's own reader
// (agent/internal/mapping/usercsv.go): a header row of either "a,b" (two
// emails per row) or some of a_id,a_email,a_name,b_id,b_email,b_name; a
// ';' delimiter when the header has no comma; a byte-order mark and blank
// rows ignored. Unlike the agent, every bad line is reported, so an
// administrator can fix the file in one pass.
import type { MatchBy, UserEntry, UserRef } from './types'

export type CsvLineError = { line: number; message: string }
export type UserCsvResult = { entries: UserEntry[]; matchBy: MatchBy; errors: CsvLineError[] }

const columns = ['a_id', 'a_email', 'a_name', 'b_id', 'b_email', 'b_name']
// Header spellings people write for the two-email form.
const emailPairs: Record<string, string> = { a: 'a_email', b: 'b_email', emaila: 'a_email', emailb: 'b_email' }
const maxField = 512
export const maxEntries = 100_000

export function parseUserCsv(text: string): UserCsvResult {
  const errors: CsvLineError[] = []
  const src = text.replace(/^\uFEFF/, '')
  const firstLine = src.split(/\r?\n/, 1)[0] ?? ''
  const delim = firstLine.includes(';') && !firstLine.includes(',') ? ';' : ','
  const rows = readRecords(src, delim, errors)
  if (rows.length === 0) {
    return { entries: [], matchBy: '', errors: [{ line: 1, message: 'the file is empty: expected a header row such as a,b' }] }
  }
  const header = rows[0]
  const parsed = parseHeader(header.fields)
  if ('error' in parsed) return { entries: [], matchBy: '', errors: [{ line: header.line, message: parsed.error }] }
  const entries: UserEntry[] = []
  for (const row of rows.slice(1)) {
    if (row.fields.every((f) => f.trim() === '')) continue
    if (entries.length === maxEntries) {
      errors.push({ line: row.line, message: `more than ${maxEntries} entries` })
      break
    }
    const r = parseRow(row.fields, parsed.cols, header.fields)
    if (typeof r === 'string') errors.push({ line: row.line, message: r })
    else entries.push(r)
  }
  errors.sort((x, y) => x.line - y.line)
  return { entries, matchBy: parsed.matchBy, errors }
}

type Row = { line: number; fields: string[] }

// readRecords splits CSV text into records with RFC 4180 quoting, noting the
// line each record starts on; an unterminated quote is reported and ends the file.
function readRecords(src: string, delim: string, errors: CsvLineError[]): Row[] {
  const rows: Row[] = []
  let line = 1
  let i = 0
  while (i < src.length) {
    const start = line
    const fields: string[] = []
    let field = ''
    let quoted = false
    let done = false
    while (i < src.length && !done) {
      const c = src[i]
      if (quoted) {
        if (c === '"' && src[i + 1] === '"') {
          field += '"'
          i += 2
        } else if (c === '"') {
          quoted = false
          i++
        } else {
          if (c === '\n') line++
          field += c
          i++
        }
      } else if (c === '"' && field === '') {
        quoted = true
        i++
      } else if (c === delim) {
        fields.push(field)
        field = ''
        i++
      } else if (c === '\n' || c === '\r') {
        i += c === '\r' && src[i + 1] === '\n' ? 2 : 1
        line++
        done = true
      } else {
        field += c
        i++
      }
    }
    if (quoted) {
      errors.push({ line: start, message: 'a quoted value is never closed' })
      return rows
    }
    fields.push(field)
    rows.push({ line: start, fields })
  }
  return rows
}

function parseHeader(header: string[]): { cols: string[]; matchBy: MatchBy } | { error: string } {
  const names = header.map((h) => h.trim().toLowerCase())
  if (names.length === 2 && emailPairs[names[0]] === 'a_email' && emailPairs[names[1]] === 'b_email') {
    return { cols: ['a_email', 'b_email'], matchBy: 'email' }
  }
  const seen = new Set<string>()
  for (let i = 0; i < names.length; i++) {
    if (!columns.includes(names[i])) {
      return { error: `column ${i + 1}: unknown column "${header[i].trim()}", expected a,b or some of ${columns.join(',')}` }
    }
    if (seen.has(names[i])) return { error: `column ${i + 1}: column "${header[i].trim()}" appears twice` }
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
    const v = fields[i].trim()
    const col = `column ${i + 1} (${header[i].trim()})`
    if (v.length > maxField) return `${col}: longer than ${maxField} characters`
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
  return at > 0 && at < s.length - 1 && !/[\s,;<>]/.test(s)
}
