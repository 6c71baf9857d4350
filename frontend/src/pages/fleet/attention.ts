import type { ConnStatus } from '../../api/bridge'
import type { Health } from '../../ui'

// What the fleet view reads of each agent (agent.info, license.get,
// processes.list): only the fields it shows.
export type LicenseInfo = { state: string; overLimit?: boolean; expiresAt?: string; evaluationEndsAt?: string; graceEndsAt?: string }
export type RunSummary = { startedAt?: string; endedAt?: string }
export type ProcessRow = {
  process: { id: string; name: string; active?: boolean; a?: { system: string; project?: string }; b?: { system: string; project?: string } }
  pairs: number
  errors: number
  lastRun?: RunSummary | null
  health?: Health
}
export type Summary = { version: string; license: LicenseInfo | null; processes: ProcessRow[] }

// AgentRow is one saved agent as the fleet view shows it: its connection,
// and what it said when last asked (absent before anyone signed in).
export type AgentRow = { status: ConnStatus; summary?: Summary; error?: string }

// Attention levels, most urgent first.
export const Level = {
  Unreachable: 0,
  Failing: 1,
  Degraded: 2,
  License: 3,
  Unknown: 4,
  Notice: 5,
  Ok: 6,
  Off: 7,
} as const
export type LevelValue = (typeof Level)[keyof typeof Level]

export type Attention = { level: LevelValue; tone: 'bad' | 'warn' | 'good' | 'neutral'; reason: string }

// licenseProblem says what is wrong with a license that stops or will stop
// syncing now ('' when nothing is).
export function licenseProblem(l: LicenseInfo | null | undefined, now = Date.now()): string {
  if (!l) return ''
  if (l.overLimit) return 'More users than the license allows'
  switch (l.state) {
    case 'expired':
      return 'License expired'
    case 'grace':
      return 'License expired, in the grace period'
    case 'invalid':
      return 'License invalid'
    case 'missing':
      return l.evaluationEndsAt && Date.parse(l.evaluationEndsAt) < now ? 'No license, evaluation over' : ''
  }
  return ''
}

// licenseNotice is a license state worth knowing that stops nothing yet.
export function licenseNotice(l: LicenseInfo | null | undefined): string {
  if (!l) return ''
  if (l.state === 'expiring') return 'License expiring soon'
  if (l.state === 'missing') return 'No license (evaluation)'
  return ''
}

export type Counts = { total: number; failing: number; degraded: number; ok: number; inactive: number; parked: number }

// processCounts counts an agent's processes by health. One that is not
// active (a copy arrives so) is inactive, neither healthy nor failing,
// whatever its health says (an older agent judges it by its runs, which a
// copy has none of: ok).
export function processCounts(list: ProcessRow[]): Counts {
  const c = { total: list.length, failing: 0, degraded: 0, ok: 0, inactive: 0, parked: 0 }
  for (const p of list) {
    const state = p.health?.state
    if (p.process.active === false || state === 'inactive') c.inactive++
    else if (state === 'failing') c.failing++
    else if (state === 'degraded') c.degraded++
    else c.ok++
    c.parked += p.errors ?? 0
  }
  return c
}

// lastRunOf is the newest run of any of the agent's processes.
export function lastRunOf(list: ProcessRow[]): { process: string; run: RunSummary } | null {
  let best: { process: string; run: RunSummary; at: number } | null = null
  for (const p of list) {
    const r = p.lastRun
    if (!r) continue
    const at = Date.parse(r.endedAt || r.startedAt || '')
    if (Number.isNaN(at)) continue
    if (!best || at > best.at) best = { process: p.process.name, run: r, at }
  }
  return best && { process: best.process, run: best.run }
}

// attentionOf says how urgently an agent needs the administrator, and why,
// in the order the fleet view sorts by: out of reach first, then failing
// processes, degraded ones (or parked entities), license problems, agents
// whose state is unknown (nobody signed in), license notices, healthy ones,
// and last those disconnected on purpose.
export function attentionOf(row: AgentRow, now = Date.now()): Attention {
  const s = row.status
  switch (s.state) {
    case 'fingerprintMismatch':
      return { level: Level.Unreachable, tone: 'bad', reason: 'Refused: the agent presented a different key' }
    case 'disconnected':
      return { level: Level.Unreachable, tone: 'bad', reason: s.session ? 'Connection lost, reconnecting' : 'Unreachable' }
    case 'closed':
      return { level: Level.Off, tone: 'neutral', reason: 'Not connected' }
    case 'connecting':
      return { level: Level.Unknown, tone: 'neutral', reason: 'Connecting…' }
    case 'connected':
      return { level: Level.Unknown, tone: 'warn', reason: 'Sign in to see how it is doing' }
    case 'sessionExpired':
      return { level: Level.Unknown, tone: 'warn', reason: 'Session expired, sign in again' }
  }
  if (!row.summary) return { level: Level.Unknown, tone: 'neutral', reason: row.error ? `Could not read its state: ${row.error}` : 'Loading…' }
  const c = processCounts(row.summary.processes)
  if (c.failing) return { level: Level.Failing, tone: 'bad', reason: `${c.failing} failing ${c.failing === 1 ? 'process' : 'processes'}` }
  if (c.degraded || c.parked) {
    const parts = []
    if (c.degraded) parts.push(`${c.degraded} degraded ${c.degraded === 1 ? 'process' : 'processes'}`)
    if (c.parked) parts.push(`${c.parked} parked ${c.parked === 1 ? 'entity' : 'entities'}`)
    return { level: Level.Degraded, tone: 'warn', reason: parts.join(', ') }
  }
  const problem = licenseProblem(row.summary.license, now)
  if (problem) return { level: Level.License, tone: 'bad', reason: problem }
  const notice = licenseNotice(row.summary.license)
  if (notice) return { level: Level.Notice, tone: 'warn', reason: notice }
  // Nothing wrong, but nothing syncs either (a copy arrives inactive).
  if (c.total > 0 && c.inactive === c.total) return { level: Level.Ok, tone: 'neutral', reason: c.total === 1 ? 'Its process is inactive' : 'Every process is inactive' }
  return { level: Level.Ok, tone: 'good', reason: 'All well' }
}

// sortByAttention orders agents by attention level; within a level, more
// failing processes, then more parked entities, then the name.
export function sortByAttention(rows: AgentRow[], now = Date.now()): AgentRow[] {
  const keyed = rows.map((r) => {
    const c = r.summary ? processCounts(r.summary.processes) : { failing: 0, parked: 0, degraded: 0 }
    return { r, level: attentionOf(r, now).level, failing: c.failing, degraded: c.degraded, parked: c.parked }
  })
  keyed.sort(
    (x, y) =>
      x.level - y.level ||
      y.failing - x.failing ||
      y.degraded - x.degraded ||
      y.parked - x.parked ||
      x.r.status.profile.localeCompare(y.r.status.profile),
  )
  return keyed.map((k) => k.r)
}
