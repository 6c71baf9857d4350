// The live log buffer: a ring of the newest lines (so memory stays bounded
// however long the page stays open) plus the index of the lines the current
// filter matches, kept up to date as lines arrive and old ones fall out.
import type { LogLine } from '../../api/generated/types'

export type { LogLine }

export type LogFilter = { minLevel: string; process: string; system: string; text: string }

export const emptyFilter: LogFilter = { minLevel: '', process: '', system: '', text: '' }

export const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'panic']

function levelRank(l: string): number {
  const i = levels.indexOf(l.toLowerCase())
  return i < 0 ? levels.indexOf('info') : i
}

type Entry = { line: LogLine; hay: string | null }

// haystack is the lower-case text a search looks in, built once per line.
function haystack(e: Entry): string {
  if (e.hay === null) {
    const f = e.line.fields
    let s = `${e.line.component} ${e.line.message}`
    if (f) for (const k in f) s += ` ${k}=${typeof f[k] === 'string' ? f[k] : JSON.stringify(f[k])}`
    e.hay = s.toLowerCase()
  }
  return e.hay
}

function field(line: LogLine, name: string): string {
  const v = line.fields?.[name]
  return v === undefined || v === null ? '' : String(v)
}

export function matches(e: Entry, f: LogFilter, text: string): boolean {
  if (f.minLevel && levelRank(e.line.level) < levelRank(f.minLevel)) return false
  if (f.process && field(e.line, 'process') !== f.process) return false
  if (f.system && field(e.line, 'system') !== f.system) return false
  if (text && !haystack(e).includes(text)) return false
  return true
}

const maxKnown = 500

export class LogStore {
  readonly capacity: number
  private buf: (Entry | undefined)[]
  // first and next are sequence numbers: the oldest line kept and the next
  // line to arrive; a line's slot is seq % capacity.
  private first = 0
  private next = 0
  private idx: number[] = []
  private head = 0
  private filter: LogFilter = emptyFilter
  private text = ''
  // evicted counts lines pushed out of the ring by newer ones.
  evicted = 0
  // processes and systems seen in fields, for the filter pickers.
  readonly processes = new Set<string>()
  readonly systems = new Set<string>()

  constructor(capacity = 100_000) {
    this.capacity = Math.max(1, capacity)
    this.buf = new Array(this.capacity)
  }

  push(lines: LogLine[]): void {
    for (const line of lines) {
      if (this.next - this.first === this.capacity) {
        this.first++
        this.evicted++
      }
      const e: Entry = { line, hay: null }
      this.buf[this.next % this.capacity] = e
      this.note(line)
      if (matches(e, this.filter, this.text)) this.idx.push(this.next)
      this.next++
    }
    while (this.head < this.idx.length && this.idx[this.head] < this.first) this.head++
    // Compact now and then so the index does not grow without bound.
    if (this.head > 4096 && this.head * 2 > this.idx.length) {
      this.idx = this.idx.slice(this.head)
      this.head = 0
    }
  }

  private note(line: LogLine) {
    const p = field(line, 'process')
    if (p && this.processes.size < maxKnown) this.processes.add(p)
    const s = field(line, 'system')
    if (s && this.systems.size < maxKnown) this.systems.add(s)
  }

  setFilter(f: LogFilter): void {
    this.filter = f
    this.text = f.text.trim().toLowerCase()
    const idx: number[] = []
    for (let seq = this.first; seq < this.next; seq++) {
      if (matches(this.buf[seq % this.capacity]!, f, this.text)) idx.push(seq)
    }
    this.idx = idx
    this.head = 0
  }

  // size is how many lines the ring holds; length how many match the filter.
  get size(): number {
    return this.next - this.first
  }

  get length(): number {
    return this.idx.length - this.head
  }

  // at returns the i-th matching line, oldest first.
  at(i: number): LogLine | undefined {
    const seq = this.idx[this.head + i]
    return seq === undefined ? undefined : this.buf[seq % this.capacity]?.line
  }

  // seqAt is the i-th matching line's sequence number: it names the line
  // for as long as the page is open, while its index moves as older lines
  // fall out of the ring or the filter changes.
  seqAt(i: number): number {
    return this.idx[this.head + i] ?? -1
  }

  // indexOf is the index of the line numbered seq among the matching ones,
  // -1 when it is no longer kept or does not match.
  indexOf(seq: number): number {
    let lo = this.head
    let hi = this.idx.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.idx[mid] < seq) lo = mid + 1
      else hi = mid
    }
    return lo < this.idx.length && this.idx[lo] === seq ? lo - this.head : -1
  }

  matching(): LogLine[] {
    const out: LogLine[] = new Array(this.length)
    for (let i = 0; i < out.length; i++) out[i] = this.at(i)!
    return out
  }

  // clear keeps counting from where it was, so no line after it takes the
  // sequence number of one before.
  clear(): void {
    this.buf = new Array(this.capacity)
    this.first = this.next
    this.head = 0
    this.idx = []
    this.evicted = 0
  }
}
