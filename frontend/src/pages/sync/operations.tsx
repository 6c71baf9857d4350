// What operators do with a process besides editing it: sync one entity,
// bulk sync from a date (with live progress) and the dry-run plan.
import { useRef, useState, type FormEvent } from 'react'
import { errorMessage } from '../../api/bridge'
import { useAgentEvents } from '../../state'
import { Alert, Button } from '../../ui'
import { bulkSync, plan, syncEntity } from './api'
import { PlanTable } from './PlanTable'
import { countsText } from './format'
import type { BulkJob, BulkProgress, PlanItem, Run } from '../../api/generated/types'

export function SyncEntityForm({ processId, sideName }: { processId: string; sideName: (s: 'a' | 'b') => string }) {
  const [side, setSide] = useState<'a' | 'b'>('a')
  const [entity, setEntity] = useState('')
  const [busy, setBusy] = useState(false)
  const [result, setResult] = useState<Run | null>(null)
  const [error, setError] = useState('')
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (!entity.trim()) return
    setBusy(true)
    setError('')
    setResult(null)
    try {
      setResult(await syncEntity(processId, side, entity.trim()))
    } catch (err) {
      setError(`${entity.trim()} was not synced: ${errorMessage(err)}. Check the key or id and that the entity is in the process's project.`)
    } finally {
      setBusy(false)
    }
  }
  return (
    <form className="op-card" onSubmit={submit} aria-labelledby="op-entity">
      <h3 id="op-entity">Sync one entity now</h3>
      <div className="row">
        <select aria-label="Entity is in" value={side} onChange={(e) => setSide(e.target.value as 'a' | 'b')}>
          <option value="a">In {sideName('a')}</option>
          <option value="b">In {sideName('b')}</option>
        </select>
        <input aria-label="Entity key or id" placeholder="Key or id, e.g. HELP-42" value={entity} onChange={(e) => setEntity(e.target.value)} />
        <Button type="submit" busy={busy} disabled={!entity.trim()}>
          Sync
        </Button>
      </div>
      {error && <Alert kind="error">{error}</Alert>}
      {result && (
        <Alert kind={result.errors?.length ? 'warning' : 'success'} title={`Synced: ${countsText(result.counts)}`}>
          {result.errors?.map((e, i) => (
            <div key={i}>
              {e.key ?? e.entity}: {e.message}
            </div>
          ))}
        </Alert>
      )}
    </form>
  )
}

// A local date at midnight, the start of the day the administrator picked.
function startOfDay(date: string): Date {
  const [y, m, d] = date.split('-').map(Number)
  return new Date(y, m - 1, d)
}

export function BulkSyncForm({ processId }: { processId: string }) {
  const [date, setDate] = useState('')
  // A job as bulkSync answered it, moved on by its progress events.
  const [job, setJob] = useState<(BulkJob & { percent?: number }) | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')

  // Progress of a short job can arrive before bulkSync answers; the latest
  // event per job is kept so the answer does not show a stale 0%.
  const seen = useRef(new Map<string, BulkProgress>())
  useAgentEvents(['BulkProgress'], (e) => {
    const d = e.data
    if (!d?.id) return
    seen.current.set(d.id, d)
    setJob((cur) => (cur && cur.id === d.id ? { ...cur, ...d } : cur))
  })

  const start = async (e: FormEvent) => {
    e.preventDefault()
    if (!date) return
    setBusy(true)
    setError('')
    try {
      const j = await bulkSync(processId, startOfDay(date))
      const later = seen.current.get(j.id)
      setJob(later && later.done >= j.done ? { ...j, ...later } : j)
    } catch (err) {
      setError(`The bulk sync did not start: ${errorMessage(err)}`)
    } finally {
      setBusy(false)
    }
  }

  const running = job?.state === 'running'
  const pct = job ? Math.min(100, job.percent ?? (job.total > 0 ? Math.floor((job.done * 100) / job.total) : 0)) : 0
  return (
    <form className="op-card" onSubmit={start} aria-labelledby="op-bulk">
      <h3 id="op-bulk">Bulk sync from a date</h3>
      <p className="muted small">Every entity changed since that day, on either side, is synced again. Use it after changing the mapping or to bring in old work.</p>
      <div className="row">
        <input type="date" aria-label="Sync entities changed since" value={date} max={new Date().toISOString().slice(0, 10)} onChange={(e) => setDate(e.target.value)} />
        <Button type="submit" busy={busy} disabled={!date || running}>
          Start bulk sync
        </Button>
      </div>
      {error && <Alert kind="error">{error}</Alert>}
      {job && (
        <div className="bulk-progress">
          <div className="progress" role="progressbar" aria-label="Bulk sync progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
            <div className={`progress-bar ${job.state === 'failed' ? 'failed' : ''}`} style={{ width: `${pct}%` }} />
          </div>
          <div className="small" aria-live="polite">
            {job.state === 'running' && `${job.done} of ${job.total || '?'} entities (${pct}%)`}
            {job.state === 'done' && `Done: ${job.done} of ${job.total} entities synced.`}
            {job.state === 'failed' && `Stopped after ${job.done} of ${job.total} entities: ${job.error ?? 'see the agent log'}. Fix the cause and start again; entities already synced are not duplicated.`}
          </div>
        </div>
      )}
    </form>
  )
}

export function PlanPanel({ processId, sideName }: { processId: string; sideName: (s: 'a' | 'b') => string }) {
  const [items, setItems] = useState<PlanItem[] | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  const load = async () => {
    setBusy(true)
    setError('')
    try {
      setItems(await plan(processId))
    } catch (err) {
      setError(`The plan could not be made: ${errorMessage(err)}. Test both systems' connections on the Systems page.`)
    } finally {
      setBusy(false)
    }
  }
  return (
    <section className="op-card wide" aria-labelledby="op-plan">
      <div className="row spread">
        <h3 id="op-plan">Dry run</h3>
        <Button onClick={load} busy={busy}>
          {items ? 'Plan again' : 'Show what a run would do'}
        </Button>
      </div>
      <p className="muted small">Reads both systems and lists what a run would create, update, comment, attach and link. Nothing is written.</p>
      {error && <Alert kind="error">{error}</Alert>}
      {items && <PlanTable items={items} sideName={sideName} />}
    </section>
  )
}
