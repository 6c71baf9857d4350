// Sync runs: each cycle of a process with its counts and errors, and one
// run's detail (conflicts and the entities that failed).
import { useCallback, useEffect, useState } from 'react'
import { errorMessage } from '../../api/bridge'
import { useAgentEvents, useAsync } from '../../state'
import { Alert, Badge, Button, DateTime, EmptyState, Loading, Page, Table, formatDate, formatDuration } from '../../ui'
import { getRun, listProcesses, listRuns } from './api'
import { durationOf } from './format'
import { ProcessPicker } from './ProcessPicker'
import type { Counts, Run } from '../../api/generated/types'
import './sync.css'

const triggerLabels: Record<string, string> = {
  schedule: 'Schedule',
  manual: 'Run now',
  webhook: 'Webhook',
  entity: 'One entity',
  bulk: 'Bulk sync',
  retry: 'Retry',
  test: 'Connection test passed',
  recreate: 'Deleted entity recreated',
}

const countNames: [keyof Counts, string][] = [
  ['created', 'Created'],
  ['updated', 'Updated'],
  ['commented', 'Commented'],
  ['attached', 'Attached'],
  ['linked', 'Linked'],
  ['skipped', 'Skipped'],
  ['failed', 'Failed'],
  ['conflicts', 'Conflicts'],
]

export function RunsPage() {
  const processes = useAsync(listProcesses, [], { keep: 'processes.list' })
  const [picked, setPicked] = useState('')
  const process = picked || processes.data?.[0]?.process.id || ''
  const runs = useAsync(() => listRuns(process), [process], { skip: !process, keep: 'runs.list' })
  const [selected, setSelected] = useState<string | null>(null)
  const reload = runs.reload
  useAgentEvents(
    ['RunFinished'],
    useCallback((e) => {
      if (e.data?.process === process) void reload()
    }, [process, reload]),
    reload,
  )
  useEffect(() => setSelected(null), [process])

  const list = processes.data ?? []
  let body
  if (processes.error) {
    body = (
      <Alert kind="error" title="The processes could not be loaded" actions={<Button onClick={() => void processes.reload()}>Try again</Button>}>
        {errorMessage(processes.error)}
      </Alert>
    )
  } else if (!processes.data) {
    body = <Loading label="Loading…" />
  } else if (list.length === 0) {
    body = <EmptyState title="No sync processes yet">Runs are listed here once a sync process exists and has run. Create one on the Sync processes page.</EmptyState>
  } else if (runs.error) {
    body = (
      <Alert kind="error" title="The runs could not be loaded" actions={<Button onClick={() => void reload()}>Try again</Button>}>
        {errorMessage(runs.error)}
      </Alert>
    )
  } else if (!runs.data) {
    body = <Loading label="Loading runs…" />
  } else {
    body = (
      <>
        <Table
          rows={runs.data}
          rowKey={(r) => r.id}
          selected={selected}
          onRowClick={(r) => setSelected(r.id)}
          className="sync-table"
          caption={<span className="sr-only">Runs, newest first</span>}
          empty={<EmptyState title="No runs yet">This process has not run. Activate it, or use Run now on its page.</EmptyState>}
          columns={[
            {
              key: 'started',
              header: 'Started',
              render: (r) => (
                <button type="button" className="link-button" onClick={(e) => (e.stopPropagation(), setSelected(r.id))}>
                  <DateTime value={r.startedAt} />
                </button>
              ),
            },
            { key: 'trigger', header: 'Trigger', render: (r) => triggerLabels[r.trigger] ?? r.trigger },
            { key: 'duration', header: 'Duration', render: (r) => formatDuration(durationOf(r.startedAt, r.endedAt)) },
            { key: 'created', header: 'Created', className: 'num', render: (r) => r.counts?.created ?? 0 },
            { key: 'updated', header: 'Updated', className: 'num', render: (r) => r.counts?.updated ?? 0 },
            { key: 'commented', header: 'Comments', className: 'num', render: (r) => r.counts?.commented ?? 0 },
            { key: 'attached', header: 'Attachments', className: 'num', render: (r) => r.counts?.attached ?? 0 },
            { key: 'linked', header: 'Links', className: 'num', render: (r) => r.counts?.linked ?? 0 },
            {
              key: 'errors',
              header: 'Errors',
              className: 'num',
              render: (r) => {
                const n = Math.max(r.errors?.length ?? 0, r.counts?.failed ?? 0)
                return n > 0 ? <Badge tone="bad">{n}</Badge> : '0'
              },
            },
          ]}
        />
        {selected && <RunDetail id={selected} onClose={() => setSelected(null)} />}
      </>
    )
  }

  return (
    <Page title="Sync runs" subtitle="Every cycle of a process: what it changed and what failed." actions={list.length > 0 ? <ProcessPicker processes={list} value={process} onChange={setPicked} allowAll={false} /> : undefined}>
      {body}
    </Page>
  )
}

function RunDetail({ id, onClose }: { id: string; onClose: () => void }) {
  const run = useAsync(() => getRun(id), [id])
  const r: Run | undefined = run.data
  return (
    <section className="run-detail editor-section" aria-labelledby="run-detail-title">
      <div className="row spread">
        <h3 id="run-detail-title">Run {r ? `of ${formatDate(r.startedAt)}` : ''}</h3>
        <Button variant="ghost" onClick={onClose}>
          Close
        </Button>
      </div>
      {run.error ? (
        <Alert kind="error">The run could not be loaded: {errorMessage(run.error)}</Alert>
      ) : !r ? (
        <Loading label="Loading the run…" />
      ) : (
        <>
          <p className="muted small">
            {triggerLabels[r.trigger] ?? r.trigger} · {formatDuration(durationOf(r.startedAt, r.endedAt))}
            {r.requests ? ` · ${r.requests} requests to the systems` : ''}
          </p>
          <dl className="counts">
            {countNames.map(([k, label]) => (
              <div key={k}>
                <dt>{label}</dt>
                <dd>{r.counts?.[k] ?? 0}</dd>
              </div>
            ))}
          </dl>
          {(r.conflicts?.length ?? 0) > 0 && (
            <>
              <h4>Conflicts</h4>
              <Table
                rows={r.conflicts ?? []}
                rowKey={(c) => `${c.pair}/${c.field}`}
                columns={[
                  { key: 'pair', header: 'Pair' },
                  { key: 'field', header: 'Field' },
                  { key: 'aVersion', header: 'Version in A' },
                  { key: 'bVersion', header: 'Version in B' },
                  { key: 'winner', header: 'Outcome', render: (c) => (c.winner === 'held' ? <Badge tone="warn">Held for review</Badge> : `${c.winner.toUpperCase()} won`) },
                ]}
              />
            </>
          )}
          <h4>Errors</h4>
          {(r.errors?.length ?? 0) === 0 ? (
            <p className="muted">No entity failed in this run.</p>
          ) : (
            <Table
              rows={r.errors ?? []}
              rowKey={(e) => `${e.side}/${e.entity}`}
              columns={[
                { key: 'side', header: 'In', render: (e) => e.side.toUpperCase() },
                { key: 'entity', header: 'Entity', render: (e) => e.key || e.entity },
                { key: 'message', header: 'Error' },
                { key: 'parked', header: 'Outcome', render: (e) => (e.parked ? 'Parked: retry it on the Errors page' : 'Retried automatically') },
              ]}
            />
          )}
        </>
      )}
    </section>
  )
}
