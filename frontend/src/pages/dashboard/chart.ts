// Turning run records into chart buckets.
import type * as W from '../../api/generated/types'

// What the chart reads of a run (runs.list): where it is, when it started,
// what it changed and its errors; a run cut short may lack its counts.
export type Counts = Partial<W.Counts>
export type Run = Pick<W.Run, 'id' | 'process' | 'startedAt'> & Partial<Pick<W.Run, 'trigger' | 'endedAt' | 'errors'>> & { counts?: Counts }
export type Bucket = { start: number; runs: number; changes: number; errors: number }

const steps = [60e3, 5 * 60e3, 15 * 60e3, 3600e3, 6 * 3600e3, 86400e3, 7 * 86400e3]

// changesOf counts what a run wrote to the systems.
export function changesOf(c: Counts | undefined): number {
  if (!c) return 0
  return (c.created ?? 0) + (c.updated ?? 0) + (c.commented ?? 0) + (c.attached ?? 0) + (c.linked ?? 0)
}

export function errorsOf(r: Run): number {
  return Math.max(r.counts?.failed ?? 0, r.errors?.length ?? 0)
}

// bucketRuns spreads runs over n buckets ending at now. The bucket width is
// the smallest round step (a minute, 5 minutes... a week) that covers the
// oldest run, so a fresh agent and one that ran for months both chart well.
export function bucketRuns(runs: Run[], now: number, n = 24): { step: number; buckets: Bucket[] } {
  const times = runs.map((r) => Date.parse(r.startedAt)).filter((t) => Number.isFinite(t))
  const oldest = times.length ? Math.min(...times) : now
  const span = Math.max(1, now - oldest)
  const step = steps.find((s) => s * n >= span) ?? steps[steps.length - 1]
  const end = Math.ceil(now / step) * step
  const start = end - step * n
  const buckets: Bucket[] = Array.from({ length: n }, (_, i) => ({ start: start + i * step, runs: 0, changes: 0, errors: 0 }))
  for (const r of runs) {
    const t = Date.parse(r.startedAt)
    if (!Number.isFinite(t) || t < start || t >= end) continue
    const b = buckets[Math.floor((t - start) / step)]
    b.runs++
    b.changes += changesOf(r.counts)
    b.errors += errorsOf(r)
  }
  return { step, buckets }
}
