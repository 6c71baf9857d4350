// Wording shared by the sync pages.
import type { Counts, Run, System } from '../../api/generated/types'
import type { Process } from './api'

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

// runFailed says whether a run stopped as a whole (a system refused or
// unreachable), not just some of its entities.
export function runFailed(r?: Pick<Run, 'errors'> | null): boolean {
  return !!r?.errors?.some((e) => !e.entity)
}

// runText sums a run up: what it changed, or that it failed as a whole.
export function runText(r: Pick<Run, 'errors' | 'counts'>): string {
  return runFailed(r) ? 'the run failed' : countsText(r.counts)
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
