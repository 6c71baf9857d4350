import type { ReactNode } from 'react'
import type { Health, SystemTest } from '../api/generated/types'
import { Badge } from './Page'
import { formatDate } from './format'

// Health is how a process or a system is doing, as the agent judges it
// (docs/protocol.md, Health): the state (ok, degraded, failing; a process
// not active is inactive, neither healthy nor failing; the UI says unknown
// before any evidence), since when, the problem in words and what to do,
// with the system's own message kept for a disclosure.
export type { Health }

const words: Record<string, string> = { ok: 'Healthy', degraded: 'Degraded', failing: 'Failing', inactive: 'Inactive', unknown: 'Not checked yet' }
const tones: Record<string, 'good' | 'warn' | 'bad' | 'neutral'> = { ok: 'good', degraded: 'warn', failing: 'bad', inactive: 'neutral', unknown: 'neutral' }

export function healthWord(h?: Health | null): string {
  return h ? (words[h.state] ?? h.state) : 'Unknown'
}

export function healthTone(h?: Health | null): 'good' | 'warn' | 'bad' | 'neutral' {
  return h ? (tones[h.state] ?? 'neutral') : 'neutral'
}

// HealthBadge is the state in one word, with since when it holds. An
// inactive process has no health to show: the Active/Inactive badge that
// every page puts beside it says it does not sync.
export function HealthBadge({ health, label }: { health?: Health | null; label?: string }) {
  if (!health || health.state === 'inactive') return null
  const since = health.state !== 'ok' && health.since ? ` since ${formatDate(health.since)}` : ''
  return (
    <span className="health" data-testid="health" data-state={health.state}>
      <Badge tone={healthTone(health)}>{label ?? healthWord(health)}</Badge>
      {since && <span className="muted small nowrap">{since}</span>}
    </span>
  )
}

// savedAnywayText says why a failing system sends no notification: an
// administrator saw its connection test fail and saved it all the same
// (the form's "Save anyway" / "Create anyway"; health.acknowledged), with
// who and when from the test kept as its last test. Null for any other
// health: a failure nobody acknowledged is notified as ever.
export function savedAnywayText(health?: Health | null, test?: SystemTest | null): string | null {
  if (!health?.acknowledged || health.state !== 'failing') return null
  const who = test?.savedAnyway && test.actor ? ` by ${test.actor}` : ''
  const when = test?.savedAnyway && test.at ? ` (tested ${formatDate(test.at)})` : ''
  return `Saved despite a failing connection test${who}${when}: no notification is sent for this failure.`
}

// HealthNote says what is wrong and what to do; the raw message sits
// behind a disclosure. Nothing is shown for a healthy one. test, a
// system's last connection test, names who saved it despite a failing test.
export function HealthNote({ health, title, test, children }: { health?: Health | null; title?: ReactNode; test?: SystemTest | null; children?: ReactNode }) {
  if (!health || health.state === 'ok' || health.state === 'unknown' || health.state === 'inactive') return null
  const acknowledged = savedAnywayText(health, test)
  return (
    <div className={`health-note health-note-${health.state}`} role="status" data-testid="health-note">
      {title && <strong className="health-note-title">{title}</strong>}
      {health.problem && <p className="health-problem">{health.problem}</p>}
      {health.action && <p className="health-action">What to do: {health.action}</p>}
      {acknowledged && (
        <p className="muted" data-testid="health-acknowledged">
          {acknowledged}
        </p>
      )}
      {children}
      {health.detail && (
        <details className="health-detail">
          <summary>Details</summary>
          <code>{health.detail}</code>
        </details>
      )}
    </div>
  )
}
