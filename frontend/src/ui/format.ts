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
