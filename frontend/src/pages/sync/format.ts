// Wording shared by the sync pages.
import type { Counts, Process, System } from './types'

export function countsText(c?: Partial<Counts> | null): string {
  if (!c) return 'no counts'
  const parts: string[] = []
  const add = (n: number | undefined, word: string) => {
    if (n) parts.push(`${n} ${word}`)
  }
  add(c.created, 'created')
  add(c.updated, 'updated')
  add(c.commented, 'commented')
  add(c.attached, 'attached')
  add(c.linked, 'linked')
  add(c.skipped, 'skipped')
  add(c.failed, 'failed')
  add(c.conflicts, c.conflicts === 1 ? 'conflict' : 'conflicts')
  return parts.length ? parts.join(', ') : 'nothing changed'
}

export function systemName(systems: System[], id: string): string {
  return systems.find((s) => s.id === id)?.name ?? (id || '?')
}

// sideNamer names side a or b of p by its system and project.
export function sideNamer(p: Process, systems: System[]) {
  return (s: 'a' | 'b') => {
    const end = s === 'a' ? p.a : p.b
    return `${systemName(systems, end.system)} ${end.project}`.trim()
  }
}

export function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'sync-process'
}

export function durationOf(start: string, end: string): number | null {
  const a = Date.parse(start)
  const b = Date.parse(end)
  if (Number.isNaN(a) || Number.isNaN(b) || b < a) return null
  return (b - a) / 1000
}
