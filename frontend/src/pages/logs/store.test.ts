import { describe, expect, it } from 'vitest'
import { LogStore, emptyFilter, type LogLine } from './store'

function line(i: number): LogLine {
  const lvl = ['debug', 'info', 'warn', 'error'][i % 4]
  return {
    time: new Date(1_700_000_000_000 + i).toISOString(),
    level: lvl,
    component: i % 2 ? 'syncer' : 'rpc',
    message: `line ${i}`,
    fields: { process: `p${i % 3}`, system: `s${i % 5}`, entity_key: `HELP-${i}` },
  }
}

function lines(from: number, to: number): LogLine[] {
  const out: LogLine[] = []
  for (let i = from; i < to; i++) out.push(line(i))
  return out
}

describe('LogStore', () => {
  it('keeps the newest 100k lines of 120k and counts the rest', () => {
    const s = new LogStore(100_000)
    for (let i = 0; i < 120_000; i += 200) s.push(lines(i, i + 200))
    expect(s.size).toBe(100_000)
    expect(s.length).toBe(100_000)
    expect(s.evicted).toBe(20_000)
    expect(s.at(0)?.message).toBe('line 20000')
    expect(s.at(99_999)?.message).toBe('line 119999')
  })

  it('filters 100k lines by level, process, system and text', () => {
    const s = new LogStore(100_000)
    s.push(lines(0, 100_000))
    s.setFilter({ ...emptyFilter, minLevel: 'warn' })
    expect(s.length).toBe(50_000)
    expect(s.matching().every((l) => l.level === 'warn' || l.level === 'error')).toBe(true)

    s.setFilter({ ...emptyFilter, minLevel: 'error', process: 'p1', system: 's2' })
    // i%4==3 and i%3==1 and i%5==2: i ≡ 7 (mod 60)
    expect(s.length).toBe(Math.ceil((100_000 - 7) / 60))
    expect(s.at(0)?.message).toBe('line 7')

    s.setFilter({ ...emptyFilter, text: 'help-9999' })
    // HELP-9999 and HELP-99990..99999
    expect(s.matching().map((l) => l.message)).toEqual(['line 9999', ...lines(99_990, 100_000).map((l) => l.message)])

    // Search ignores case and spans component and message.
    s.setFilter({ ...emptyFilter, text: 'SYNCER line 5' })
    expect(s.length).toBeGreaterThan(0)
    expect(s.matching().every((l) => l.component === 'syncer' && l.message.startsWith('line 5'))).toBe(true)
  })

  it('keeps the filtered index right as old lines fall out of the ring', () => {
    const s = new LogStore(1000)
    s.setFilter({ ...emptyFilter, minLevel: 'error' })
    for (let i = 0; i < 50_000; i += 100) s.push(lines(i, i + 100))
    expect(s.size).toBe(1000)
    expect(s.length).toBe(250)
    expect(s.at(0)?.message).toBe('line 49003')
    expect(s.at(249)?.message).toBe('line 49999')
    s.setFilter(emptyFilter)
    expect(s.length).toBe(1000)
  })

  it('collects the processes and systems it has seen for the pickers', () => {
    const s = new LogStore(100)
    s.push(lines(0, 30))
    expect([...s.processes].sort()).toEqual(['p0', 'p1', 'p2'])
    expect(s.systems.size).toBe(5)
  })

  it('names each line by a number that stays with it', () => {
    const s = new LogStore(10)
    s.push(lines(0, 25))
    expect(s.at(0)?.message).toBe('line 15')
    expect(s.seqAt(0)).toBe(15)
    expect(s.indexOf(15)).toBe(0)
    expect(s.indexOf(24)).toBe(9)
    expect(s.indexOf(14)).toBe(-1) // pushed out
    s.setFilter({ ...emptyFilter, minLevel: 'warn' })
    // warn and error: lines 15, 18, 19, 22, 23
    expect([0, 1, 2, 3, 4].map((i) => s.seqAt(i))).toEqual([15, 18, 19, 22, 23])
    expect(s.indexOf(22)).toBe(3)
    expect(s.indexOf(20)).toBe(-1) // filtered out
    s.setFilter(emptyFilter)
    s.clear()
    s.push(lines(0, 4))
    // After Clear the numbers go on: no new line takes an old one's.
    expect(s.seqAt(0)).toBe(25)
    expect(s.indexOf(18)).toBe(-1)
  })
})
