import { memo, useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { bridge, errorMessage, events } from '../../api/bridge'
import { useSession } from '../../state/session'
import { useAsync } from '../../state/async'
import { listProcesses, listSystems } from '../sync/api'
import { Alert, Button, Field, Page, useNotify } from '../../ui'
import { VirtualList } from './VirtualList'
import { LogStore, emptyFilter, levels, type LogFilter, type LogLine } from './store'

const rowHeight = 22
const backlog = 1000

type Batch = { sub: string; lines: LogLine[] | null; dropped: number }

// LogsPage follows the agent's live log: a virtualised view over a ring of
// the newest lines, with filters, pause and export. Lines the agent had to
// drop for this viewer, and lines pushed out of the ring, are counted on screen.
export function LogsPage({ capacity = 100_000 }: { capacity?: number }) {
  const session = useSession()
  const notify = useNotify()
  const store = useMemo(() => new LogStore(capacity), [capacity])
  const [, setVersion] = useState(0)
  // bump draws the page again, once a frame at most: a flood of batches
  // costs one render a frame, not one a batch.
  const frame = useRef(0)
  const bump = useCallback(() => {
    if (frame.current) return
    frame.current = requestAnimationFrame(() => {
      frame.current = 0
      setVersion((v) => v + 1)
    })
  }, [])
  useEffect(() => () => cancelAnimationFrame(frame.current), [])
  const [filter, setFilter] = useState<LogFilter>(emptyFilter)
  const [paused, setPaused] = useState(false)
  const pausedRef = useRef(false)
  const pending = useRef<LogLine[]>([])
  const [pendingCount, setPendingCount] = useState(0)
  const [dropped, setDropped] = useState(0)
  const [subError, setSubError] = useState('')
  const [open, setOpen] = useState<LogLine | null>(null)
  // Processes and systems by name: log lines carry their ids.
  const names = useAsync(
    async () => {
      const [ps, ss] = await Promise.all([listProcesses().catch(() => []), listSystems().catch(() => [])])
      return { process: new Map(ps.map((p) => [p.process.id, p.process.name])), system: new Map(ss.map((s) => [s.id, s.name])) }
    },
    [],
    { keep: 'logs.names' },
  )
  // Stable while the names are, so rows that did not change are not drawn again.
  const nameOf = useCallback((kind: 'process' | 'system', id: string) => names.data?.[kind].get(id) ?? id, [names.data])
  const toggle = useCallback((l: LogLine) => setOpen((o) => (o === l ? null : l)), [])
  // A row is its line's: the list keeps an element with the line it shows.
  const seqAt = useCallback((i: number) => store.seqAt(i), [store])
  const indexOf = useCallback((seq: number) => store.indexOf(seq), [store])
  const known = (kind: 'process' | 'system') =>
    [...new Set([...(kind === 'process' ? store.processes : store.systems), ...(names.data?.[kind].keys() ?? [])])].sort((x, y) => nameOf(kind, x).localeCompare(nameOf(kind, y)))

  const take = useCallback(
    (b: Batch) => {
      if (b.dropped) setDropped((d) => d + b.dropped)
      const lines = b.lines ?? []
      if (lines.length === 0) return
      if (pausedRef.current) {
        // Held lines are bounded like the ring: beyond it they would be evicted on resume anyway.
        pending.current.push(...lines)
        const over = pending.current.length - store.capacity
        if (over > 0) {
          pending.current.splice(0, over)
          store.evicted += over
        }
        setPendingCount(pending.current.length)
        return
      }
      store.push(lines)
      bump()
    },
    [store, bump],
  )

  const loggedIn = session !== null
  useEffect(() => {
    if (!loggedIn) return
    let sub: string | null = null
    let gone = false
    // Backlog lines can arrive before SubscribeLogs answers with the id.
    const early: Batch[] = []
    const off = events().on('logs:batch', (b: Batch) => {
      if (sub === null) early.push(b)
      else if (b?.sub === sub) take(b)
    })
    bridge()
      .SubscribeLogs({ backlog })
      .then((id) => {
        if (gone) {
          void bridge().Unsubscribe(id).catch(() => {})
          return
        }
        sub = id
        for (const b of early.splice(0)) if (b?.sub === id) take(b)
      })
      .catch((e) => setSubError(errorMessage(e)))
    return () => {
      gone = true
      off()
      if (sub) void bridge().Unsubscribe(sub).catch(() => {})
    }
  }, [loggedIn, take])

  function changeFilter(next: Partial<LogFilter>) {
    const f = { ...filter, ...next }
    setFilter(f)
    store.setFilter(f)
  }

  function togglePause() {
    const next = !paused
    pausedRef.current = next
    setPaused(next)
    if (!next && pending.current.length) {
      store.push(pending.current)
      pending.current = []
      setPendingCount(0)
      bump()
    }
  }

  async function exportLines() {
    const content = store
      .matching()
      .map((l) => JSON.stringify(l))
      .join('\n')
    try {
      const path = await bridge().SaveTextFile(`lockstep-logs-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.jsonl`, content + '\n')
      if (path) notify('success', `Saved ${store.length.toLocaleString()} lines to ${path}`)
    } catch (e) {
      notify('error', `Could not save the log: ${errorMessage(e)}`)
    }
  }

  return (
    <Page
      title="Live logs"
      subtitle="The agent's log as it happens. Filters apply to the lines kept here."
      actions={
        <>
          <Button onClick={togglePause} aria-pressed={paused}>
            {paused ? `Resume (${pendingCount.toLocaleString()} waiting)` : 'Pause'}
          </Button>
          <Button onClick={exportLines} disabled={store.length === 0}>
            Export…
          </Button>
          <Button
            variant="ghost"
            onClick={() => {
              store.clear()
              setDropped(0)
              bump()
            }}
          >
            Clear
          </Button>
        </>
      }
    >
      <div className="logs">
        {subError && (
          <Alert kind="error" title="Could not follow the log">
            {subError}. Check the connection in the header; the page subscribes again when you come back to it.
          </Alert>
        )}
        <div className="filters" role="search" aria-label="Log filters">
          <Field label="Level">
            <select value={filter.minLevel} onChange={(e) => changeFilter({ minLevel: e.target.value })}>
              <option value="">All levels</option>
              {levels.slice(0, 5).map((l) => (
                <option key={l} value={l}>
                  {l} and above
                </option>
              ))}
            </select>
          </Field>
          <Field label="Process">
            <select value={filter.process} onChange={(e) => changeFilter({ process: e.target.value })}>
              <option value="">All processes</option>
              {known('process').map((p) => (
                <option key={p} value={p}>
                  {nameOf('process', p)}
                </option>
              ))}
            </select>
          </Field>
          <Field label="System">
            <select value={filter.system} onChange={(e) => changeFilter({ system: e.target.value })}>
              <option value="">All systems</option>
              {known('system').map((s) => (
                <option key={s} value={s}>
                  {nameOf('system', s)}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Search">
            <input type="search" value={filter.text} onChange={(e) => changeFilter({ text: e.target.value })} placeholder="Text in message or fields" />
          </Field>
        </div>
        <div className="log-status" data-testid="log-status">
          <span>
            Showing {store.length.toLocaleString()} of {store.size.toLocaleString()} lines kept
          </span>
          <span data-testid="log-dropped">Dropped by the agent: {dropped.toLocaleString()}</span>
          <span data-testid="log-evicted">
            Discarded (over {store.capacity.toLocaleString()} kept): {store.evicted.toLocaleString()}
          </span>
          {paused && <span>Paused</span>}
        </div>
        <VirtualList
          count={store.length}
          rowHeight={rowHeight}
          follow={!paused}
          label="Log lines"
          keyOf={seqAt}
          indexOf={indexOf}
          renderRow={(i, row) => {
            const l = store.at(i)
            if (!l) return null
            return <LogRow line={l} id={row.id} top={row.top} nameOf={nameOf} selected={open === l} onToggle={toggle} />
          }}
        />
        {open && <LogDetail line={open} nameOf={nameOf} onClose={() => setOpen(null)} />}
      </div>
    </Page>
  )
}

type NameOf = (kind: 'process' | 'system', id: string) => string

// fieldText shows a field's value, a process or system by its name.
function fieldText(k: string, v: unknown, nameOf: NameOf): string {
  if ((k === 'process' || k === 'system') && typeof v === 'string') return nameOf(k, v)
  return typeof v === 'string' ? v : JSON.stringify(v)
}

// LogRow is one line. Memoised: scrolling and new lines redraw only the rows
// whose line or place changed.
const LogRow = memo(function LogRow({ line, id, top, nameOf, selected, onToggle }: { line: LogLine; id: string; top: number; nameOf: NameOf; selected: boolean; onToggle: (l: LogLine) => void }) {
  const onOpen = () => onToggle(line)
  const fields = line.fields ? Object.entries(line.fields) : []
  const level = line.level.toLowerCase()
  return (
    <div
      id={id}
      className={selected ? 'log-row selected' : 'log-row'}
      style={{ top }}
      data-testid="log-row"
      role="button"
      tabIndex={0}
      aria-pressed={selected}
      title="Show the whole line"
      onClick={onOpen}
      onKeyDown={(e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault()
          onOpen()
        }
      }}
    >
      <span className="log-time">{timeOf(line.time)}</span>
      <span className={`log-level log-level-${level}`}>{level}</span>
      {line.component && <span className="log-component">{line.component}</span>}
      <span className="log-msg">{line.message}</span>
      {fields.length > 0 && (
        <span className="log-fields">
          {fields.map(([k, v]) => `${k}=${fieldText(k, v, nameOf)}`).join(' ')}
        </span>
      )}
    </div>
  )
})

// LogDetail shows one whole line: every field, nothing cut at the edge.
function LogDetail({ line, nameOf, onClose }: { line: LogLine; nameOf: NameOf; onClose: () => void }) {
  const fields = line.fields ? Object.entries(line.fields) : []
  return (
    <section className="log-detail card" aria-label="Log line" data-testid="log-detail">
      <div className="row spread">
        <strong>
          {line.level.toUpperCase()} · {line.component} · {timeOf(line.time)}
        </strong>
        <Button className="btn-small" onClick={onClose}>
          Close
        </Button>
      </div>
      <p className="log-detail-msg">{line.message}</p>
      {fields.length > 0 && (
        <dl className="kv">
          {fields.map(([k, v]) => (
            <div key={k} className="kv-row">
              <dt>{k}</dt>
              <dd>
                {fieldText(k, v, nameOf)}
                {(k === 'process' || k === 'system') && typeof v === 'string' && nameOf(k, v) !== v && <span className="muted small"> ({v})</span>}
              </dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  )
}

// clock formats a line's time of day. One formatter for every line:
// toLocaleTimeString builds a new one each call, which cost more than the
// rest of a row put together (make bench-ui).
const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })

function timeOf(s: string): string {
  const d = new Date(s)
  if (Number.isNaN(d.getTime())) return s
  return clock.format(d) + '.' + String(d.getMilliseconds()).padStart(3, '0')
}
