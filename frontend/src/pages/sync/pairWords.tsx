// How the pair pages name things: entities by key, field pairs by their
// names, a pair's state as a badge and in words, and live field values.
import { Badge } from '../../ui'
import type { EntityRef, PairView as Pair } from '../../api/generated/types'

// entityLabel names an entity by its key, else its id.
export function entityLabel(e: { id: string; key?: string }): string {
  return e.key || e.id
}

// pairLabel names a pair by both keys.
export function pairLabel(p: Pick<Pair, 'a' | 'b'>): string {
  return `${entityLabel(p.a)} ↔ ${entityLabel(p.b)}`
}

// fieldLabel names a field pair ("status|state"): one name when both
// sides call it the same.
export function fieldLabel(key: string): string {
  const [a, b = a] = key.split('|')
  return a === b ? a : `${a} ↔ ${b}`
}

// retrying is the pending entry of a pair that failed and waits for a retry.
export function retrying(p: Pair) {
  return (p.pending ?? []).find((x) => x.attempts > 0)
}

export function stateBadge(p: Pair) {
  switch (p.state) {
    case 'held':
      return <Badge tone="warn">Held for review</Badge>
    case 'error':
      return <Badge tone="bad">Error</Badge>
    case 'deleted':
      return <Badge tone="bad">Deleted</Badge>
  }
  if (retrying(p)) return <Badge tone="warn">Retrying</Badge>
  if (p.pending?.length) return <Badge tone="info">Queued</Badge>
  return <Badge tone="good">Synced</Badge>
}

// statusText says a pair's state in words. The agent says it (status);
// a held pair's fields are named here as people read them.
export function statusText(p: Pair): string {
  if (p.state === 'held' && p.held?.length) {
    const chosen = p.held.filter((k) => p.resolve?.[k])
    const open = p.held.filter((k) => !p.resolve?.[k])
    const parts: string[] = []
    if (open.length) parts.push(`Held for review: both sides changed ${open.map(fieldLabel).join(', ')}. Compare both values and choose which wins.`)
    if (chosen.length) parts.push(`Chosen for ${chosen.map(fieldLabel).join(', ')}: applied on the next run.`)
    return parts.join(' ')
  }
  return p.status || p.error || (p.state === 'synced' ? 'In sync.' : p.state)
}

// survivor is the side of a deleted pair whose entity is still there.
export function survivorOf(p: Pair): { gone: 'a' | 'b'; kept: 'a' | 'b'; dead: EntityRef; alive: EntityRef } | null {
  if (p.state !== 'deleted' || (p.gone !== 'a' && p.gone !== 'b')) return null
  const gone = p.gone
  const kept = gone === 'a' ? 'b' : 'a'
  return { gone, kept, dead: gone === 'a' ? p.a : p.b, alive: kept === 'a' ? p.a : p.b }
}

// valueText shows a field's live value: text as it is, lists joined,
// anything else as JSON; nothing is "empty".
export function valueText(v: unknown): string {
  if (v === null || v === undefined || v === '') return ''
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v.join(', ')
  return JSON.stringify(v)
}

// Value shows one live value; an empty one says so.
export function Value({ v }: { v: unknown }) {
  const text = valueText(v)
  if (!text) return <span className="muted">(empty)</span>
  return <span className="live-value">{text}</span>
}
