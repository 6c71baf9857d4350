import type { AuditRecord } from '../../api/generated/types'

// A session.end record in words. The agent writes one for every session
// that ended without its owner logging out (a logout is session.logout):
// its result says why (timeout: no call for the idle timeout; expired: the
// longest a session lasts after its login; evicted: a newer login of the
// account took its place; revoked: something done to the account ended
// it), its diff holds the facts: the session's id (never its token), when
// it logged in, its last call (to the minute), when it ended and, for an
// eviction, the session that evicted it, for a revocation its cause.

export type SessionEnd = {
  summary: string
  session?: string
  loggedInAt?: string
  lastUsedAt?: string
  endedAt?: string
  by?: string
  cause?: string
}

// revokedBy words the causes the agent names.
const revokedBy: Record<string, string> = {
  'account locked': 'Ended when an administrator locked the account.',
  'locked out after failed logins': 'Ended when the account was locked out after failed logins.',
  'password changed': "Ended when the account's password was changed.",
  'account deleted': 'Ended when the account was deleted.',
}

export function sessionEnd(r: AuditRecord): SessionEnd | null {
  if (r.action !== 'session.end' || typeof r.diff !== 'object' || r.diff === null || Array.isArray(r.diff)) return null
  const d = r.diff as Record<string, unknown>
  const text = (k: string) => (typeof d[k] === 'string' && d[k] !== '' ? (d[k] as string) : undefined)
  const f: SessionEnd = { summary: '', session: text('session'), loggedInAt: text('loggedInAt'), lastUsedAt: text('lastUsedAt'), endedAt: text('endedAt'), by: text('by'), cause: text('cause') }
  switch (r.result) {
    case 'timeout': {
      const idle = span(f.lastUsedAt, f.endedAt)
      f.summary = idle ? `Timed out after ${idle} without a call.` : 'Timed out: no call for too long.'
      break
    }
    case 'expired': {
      const life = span(f.loggedInAt, f.endedAt)
      f.summary = life ? `Expired ${life} after its login, the longest a session lasts.` : 'Expired: the longest a session lasts had passed.'
      break
    }
    case 'evicted':
      f.summary = `Ended by a newer login${f.by ? ` (session ${f.by})` : ''}: the account had as many sessions as it may, and this one was the least recently used.`
      break
    case 'revoked':
      f.summary = (f.cause && revokedBy[f.cause]) || (f.cause ? `Revoked: ${f.cause}.` : 'Revoked.')
      break
    default:
      f.summary = `Ended (${r.result}).`
  }
  return f
}

// span is the time from a to b in words (30 minutes, 12 hours, 1 hour 5
// minutes); undefined when either is missing or unreadable.
export function span(a?: string, b?: string): string | undefined {
  if (!a || !b) return undefined
  const ms = new Date(b).getTime() - new Date(a).getTime()
  if (!Number.isFinite(ms) || ms < 0) return undefined
  const minutes = Math.round(ms / 60000)
  const h = Math.floor(minutes / 60)
  const m = minutes % 60
  const unit = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`
  if (h === 0) return unit(m, 'minute')
  return m === 0 ? unit(h, 'hour') : `${unit(h, 'hour')} ${unit(m, 'minute')}`
}
