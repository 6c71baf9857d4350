// Formatting shared by the pages: bytes, dates, durations, license states.

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`
}

// count puts a number before a noun in the right number: 1 field, 2 fields.
// many is for nouns that do not just add an s (entity, entities).
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`
}

// formatDate shows a moment the same way everywhere, in local time:
// 2027-01-05 05:46:23. Dates alone (a license's expiry) use the same order.
export function formatDate(s: string | null | undefined): string {
  if (!s) return '—'
  const d = new Date(s)
  if (Number.isNaN(d.getTime()) || d.getFullYear() < 1971) return '—'
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
}

// The moment formatDate shows, as people type it back: the year first, then
// the time with or without its seconds, or no time at all ("T" between the
// two, as ISO 8601 writes it, is taken too).
const typedMoment = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:\s+|T)(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?$/
export const dateFormatHint = 'YYYY-MM-DD HH:MM:SS'

const monthNames = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']

export type ParsedDate = { ok: true; date: Date } | { ok: false; error: string }

// parseDate reads a moment typed in the form formatDate shows one
// (2027-01-05 05:46:23, local time), the form the whole app uses, so that a
// filter reads and takes the same text whatever the browser's locale. What
// is left out is the start of it (a day alone is its first moment, a time
// without seconds its first second), or with end: true the end of it, so
// that "To 2027-01-05" takes in the whole of that day. Anything else gets
// an error that says what is wrong with it.
export function parseDate(text: string, { end = false }: { end?: boolean } = {}): ParsedDate {
  const t = text.trim()
  const fail = (error: string): ParsedDate => ({ ok: false, error })
  const m = typedMoment.exec(t)
  if (!m) {
    const form = 'Write it as 2027-01-05 05:46:23 (year first; the time, or its seconds, may be left out)'
    if (t === '') return fail(`Enter a date. ${form}.`)
    if (/^\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b/.test(t)) return fail(`"${t}" puts the day or month first. ${form}.`)
    return fail(`"${t}" is not a date and time. ${form}.`)
  }
  const [y, mo, d] = [1, 2, 3].map((i) => Number(m[i]))
  const timed = m[4] !== undefined
  const withSeconds = m[6] !== undefined
  const h = timed ? Number(m[4]) : end ? 23 : 0
  const mi = timed ? Number(m[5]) : end ? 59 : 0
  const sec = withSeconds ? Number(m[6]) : end ? 59 : 0
  const ms = end && !withSeconds ? 999 : 0
  const p = (n: number) => String(n).padStart(2, '0')
  if (mo < 1 || mo > 12) return fail(`Month ${p(mo)} does not exist: a month is 01 to 12.`)
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]
  if (d < 1 || d > days) return fail(`${y}-${p(mo)}-${p(d)} does not exist: ${monthNames[mo - 1]} ${y} has ${days} days.`)
  if (h > 23) return fail(`Hour ${p(h)} does not exist: an hour is 00 to 23.`)
  if (mi > 59) return fail(`Minute ${p(mi)} does not exist: a minute is 00 to 59.`)
  if (sec > 59) return fail(`Second ${p(sec)} does not exist: a second is 00 to 59.`)
  // setFullYear, as new Date(y, ...) takes a year below 100 for 19yy.
  const date = new Date(2000, 0, 1, h, mi, sec, ms)
  date.setFullYear(y, mo - 1, d)
  // A time the clock skips when summer time begins comes out another hour.
  if (date.getHours() !== h || date.getMinutes() !== mi) {
    return fail(`${y}-${p(mo)}-${p(d)} ${p(h)}:${p(mi)} does not exist in this computer's time zone: the clocks skip it (summer time begins).`)
  }
  return { ok: true, date }
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—'
  // Sub-second runs are common: "0s" would say nothing.
  if (seconds >= 0 && seconds < 1) return `${Math.round(seconds * 1000)} ms`
  if (seconds < 10 && !Number.isInteger(seconds)) return `${seconds.toFixed(1)}s`
  const s = Math.max(0, Math.floor(seconds))
  const d = Math.floor(s / 86400)
  const h = Math.floor((s % 86400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  if (d > 0) return `${d}d ${h}h ${m}m`
  if (h > 0) return `${h}h ${m}m`
  if (m > 0) return `${m}m ${s % 60}s`
  return `${s}s`
}

// formatFingerprint groups a 64-hex SPKI fingerprint in fours, the way it is
// easiest to compare by eye with `lockstep-agent fingerprint`.
export function formatFingerprint(fp: string): string {
  return (fp.match(/.{1,4}/g) ?? []).join(' ')
}

// licenseStates names the agent's license states (license.get's state) in
// the same words wherever they appear: the dashboard and the License page.
const licenseStates: Record<string, string> = {
  valid: 'Valid',
  expiring: 'Valid, expiring soon',
  grace: 'Expired, in the grace period',
  expired: 'Expired',
  missing: 'No license (evaluation)',
  invalid: 'Invalid (evaluation rules apply)',
}

export function formatLicenseState(state: string): string {
  return licenseStates[state] ?? state
}

export function licenseTone(state: string): 'good' | 'warn' | 'bad' {
  if (state === 'valid') return 'good'
  return state === 'expiring' || state === 'grace' || state === 'missing' ? 'warn' : 'bad'
}
