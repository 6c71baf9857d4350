import { describe, expect, it } from 'vitest'
import { bucketRuns, type Run } from './chart'

const now = Date.parse('2030-01-10T12:00:00Z')
const run = (minsAgo: number, created = 0, failed = 0): Run => ({
  id: `r${minsAgo}`,
  process: 'p',
  startedAt: new Date(now - minsAgo * 60e3).toISOString(),
  counts: { created, updated: 1, failed },
})

describe('bucketRuns', () => {
  it('picks a step that covers the oldest run and sums per bucket', () => {
    const { step, buckets } = bucketRuns([run(1, 2), run(2, 0, 1), run(90, 5)], now)
    expect(step).toBe(5 * 60e3) // 90 minutes over 24 buckets
    expect(buckets).toHaveLength(24)
    const sum = (k: 'runs' | 'changes' | 'errors') => buckets.reduce((a, b) => a + b[k], 0)
    expect(sum('runs')).toBe(3)
    expect(sum('changes')).toBe(2 + 1 + 0 + 1 + 5 + 1)
    expect(sum('errors')).toBe(1)
    expect(buckets[buckets.length - 1].runs).toBe(2)
  })

  it('uses days for old runs and ignores unparseable times', () => {
    const { step, buckets } = bucketRuns([run(60 * 24 * 10), { id: 'x', process: 'p', startedAt: 'nonsense' }], now)
    expect(step).toBe(86400e3)
    expect(buckets.reduce((a, b) => a + b.runs, 0)).toBe(1)
  })

  it('charts nothing without runs', () => {
    const { buckets } = bucketRuns([], now)
    expect(buckets.every((b) => b.runs === 0)).toBe(true)
  })
})
