import type { FleetEvent } from '../../state/fleet'
import { formatLicenseState, healthWord, type Health } from '../../ui'

export type Notice = { tone: 'bad' | 'warn' | 'good' | 'info'; text: string }

const countWords: [string, string][] = [
  ['created', 'created'],
  ['updated', 'updated'],
  ['commented', 'commented'],
  ['attached', 'attached'],
  ['linked', 'linked'],
  ['conflicts', 'in conflict'],
  ['failed', 'failed'],
]

// noticeOf says in words what an agent's event means, naming processes and
// systems by name (processName looks a process's name up by its id; an id
// is never shown). Events that say nothing an administrator needs (a run
// that found nothing to do, a configuration change) give null.
export function noticeOf(e: FleetEvent, processName: (id: string) => string | undefined): Notice | null {
  const d = (e.data ?? {}) as Record<string, any>
  const proc = () => (d.process && processName(d.process)) || 'A process'
  switch (e.type) {
    case 'HealthChanged': {
      const h = d.health as Health | undefined
      // Not judged yet (a system just created, or given new credentials):
      // nothing has happened to tell of.
      // Nor is a process deactivated news of its health: it stopped.
      if (!h || h.state === 'unknown' || h.state === 'inactive') return null
      const what = `${d.kind === 'system' ? 'System' : 'Process'} ${d.name || ''}`.trim()
      if (h.state === 'ok') return d.previous === 'failing' || d.previous === 'degraded' ? { tone: 'good', text: `${what} works again` } : null
      // A failure an administrator saw and saved anyway is told, and why
      // the agent sends no notification for it.
      const known = d.acknowledged && h.state === 'failing' ? ' (saved despite a failing connection test: no notification is sent for it)' : ''
      return { tone: h.state === 'failing' ? 'bad' : 'warn', text: `${what}: ${healthWord(h).toLowerCase()}${h.problem ? ` — ${h.problem}` : ''}${known}` }
    }
    case 'PairFailed': {
      const which = d.key ? `${d.key}${d.title ? ` (${d.title})` : ''}` : 'an entity'
      return { tone: 'bad', text: `${proc()}: ${which} failed${d.step ? ` at ${d.step}` : ''}${d.error ? `: ${d.error}` : ''}` }
    }
    case 'LicenseChanged': {
      const tone = d.state === 'valid' ? 'good' : d.state === 'expired' || d.state === 'invalid' ? 'bad' : 'warn'
      return { tone, text: `License: ${formatLicenseState(String(d.state ?? ''))}${d.message ? ` — ${d.message}` : ''}` }
    }
    case 'RunFinished': {
      const c = (d.counts ?? {}) as Record<string, number>
      const parts = countWords.filter(([k]) => (c[k] ?? 0) > 0).map(([k, w]) => `${c[k]} ${w}`)
      const errors = Array.isArray(d.errors) ? d.errors.length : 0
      if (!parts.length && !errors) return null
      if (errors && !(c.failed ?? 0)) parts.push(`${errors} ${errors === 1 ? 'error' : 'errors'}`)
      return { tone: c.failed || errors ? 'warn' : 'info', text: `${proc()}: run finished, ${parts.join(', ')}` }
    }
  }
  return null
}
