// One entity pair: both sides (with links to each system's page for people
// where it has one), the state in words, its conflict (both values, read
// live, resolved per field), the ways out of a deletion, its pending work
// and what could not be mirrored, each mapped field's sync state, what was
// copied besides fields, and the recent runs that touched it. Actions on the
// whole pair (unpair, relink) go in the actions bar.
import { useCallback } from 'react'
import { call, errorMessage } from '../../api/bridge'
import { useAgentEvents, useAsync, useCan } from '../../state'
import { connectionLost } from '../../state/latest'
import { Alert, Badge, Button, DateTime, Loading, Page, Table, useNotify } from '../../ui'
import { listProcesses, listRuns } from './api'
import { ConflictView } from './ConflictView'
import { sideNamer } from './format'
import { humanLink } from './links'
import { DeletedWaysOut } from './PairActions'
import { fieldLabel, stateBadge, statusText } from './pairWords'
import type { EntityRef, PairView as Pair, Pending, Run, Side } from '../../api/generated/types'
import type { Process } from './api'
import type { ReactNode } from 'react'


// pairHref is the address of a pair's page.
export function pairHref(process: string, id: string): string {
  return `#/pairs/${encodeURIComponent(process)}/${encodeURIComponent(id)}`
}

// copied counts what a pair maps besides fields; comments and attachments
// are recorded in both directions, once per side.
function copied(m?: Record<string, unknown>): number {
  return m ? Math.floor(Object.keys(m).length / 2) : 0
}

// PairContext is what the actions bar gets besides the pair.
export type PairContext = { process?: Process; sideName: (s: Side) => string }

export function PairDetail({ process, id, actions }: { process: string; id: string; actions?: (p: Pair, reload: () => void, ctx: PairContext) => ReactNode }) {
  const pair = useAsync(async () => (await call('pairs.get', { process, id })).pair, [process, id])
  const notify = useNotify()
  const canAct = useCan('pairs.unpair')
  const reloadPair = pair.reload
  // A run of the process or a change to this pair shows at once.
  useAgentEvents(
    ['PairChanged', 'RunFinished'],
    useCallback((e) => {
      if (e.data?.process === process && (e.type === 'RunFinished' || !e.data?.pair || e.data?.pair === id)) void reloadPair()
    }, [process, id, reloadPair]),
    reloadPair,
  )
  const context = useAsync(async () => {
    const [procs, systems] = await Promise.all([listProcesses(), call('systems.list', {}).then((r) => r.systems ?? [])])
    return { summary: procs.find((s) => s.process.id === process), systems }
  }, [process])
  const runs = useAsync(() => listRuns(process, 100), [process])
  const back = (
    <Button onClick={() => (window.location.hash = '#/pairs')} aria-label="Back to the entity pairs">
      Back
    </Button>
  )
  const p = pair.data
  if (!p) {
    return (
      <Page title="Entity pair" actions={back}>
        {pair.error ? <Alert kind="error" title="The pair could not be loaded">{errorMessage(pair.error)}</Alert> : <Loading label="Loading the pair…" />}
      </Page>
    )
  }
  const proc = context.data?.summary?.process
  const systems = context.data?.systems ?? []
  const sideName = (s: Side) => (proc ? sideNamer(proc, systems)(s) : s.toUpperCase())
  const systemOf = (s: Side) => systems.find((x) => x.id === (s === 'a' ? proc?.a.system : proc?.b.system))
  const touched = (runs.data ?? []).filter((r: Run) =>
    (r.errors ?? []).some((e) => (e.side === 'a' && e.entity === p.a.id) || (e.side === 'b' && e.entity === p.b.id)) || (r.conflicts ?? []).some((c) => c.pair === p.id),
  )
  const fields = Object.entries(p.fields ?? {}).sort(([x], [y]) => x.localeCompare(y))
  const reload = () => void pair.reload()
  const done = (message: string) => {
    notify('success', message)
    reload()
  }
  // The pair was unpaired or relinked meanwhile (here or by someone else).
  const gone = pair.error && !connectionLost(pair.error)
  return (
    <Page
      title={
        <>
          {p.a.key || p.a.id} ↔ {p.b.key || p.b.id} {stateBadge(p)}
        </>
      }
      subtitle={proc ? `${proc.name}: ${sideName('a')} ↔ ${sideName('b')}` : undefined}
      actions={back}
    >
      <div className="pair-actions" data-testid="pair-actions">
        {!gone && actions?.(p, reload, { process: proc, sideName })}
      </div>
      {gone ? (
        <Alert kind="warning" title="This pair is not there any more">
          {errorMessage(pair.error)}. It was unpaired or relinked; what is shown is how it was.
        </Alert>
      ) : p.state === 'deleted' ? (
        <Alert kind="warning" title="An entity of this pair was deleted">
          <p>{statusText(p)}</p>
          {canAct && <DeletedWaysOut pair={p} process={proc} sideName={sideName} onDone={done} />}
        </Alert>
      ) : p.state === 'error' ? (
        <Alert kind="error" title="The last attempt failed">
          {p.error}
        </Alert>
      ) : (
        <p className="pair-status" data-testid="pair-status">
          {statusText(p)}
        </p>
      )}
      {!gone && p.state === 'held' && <ConflictView pair={p} sideName={sideName} onResolved={done} />}
      {(p.pending?.length ?? 0) > 0 && <PendingWork pending={p.pending ?? []} sideName={sideName} />}
      {(p.divergences?.length ?? 0) > 0 && (
        <section aria-labelledby="pair-divergences">
          <h2 id="pair-divergences" className="section-title">
            Not mirrored
          </h2>
          <p className="muted small">What the other system could not do, so the two sides differ here:</p>
          <ul className="plain-list" data-testid="divergences">
            {(p.divergences ?? []).map((d, i) => (
              <li key={i}>{d}</li>
            ))}
          </ul>
        </section>
      )}
      <div className="cards">
        {(['a', 'b'] as Side[]).map((s) => (
          <SideCard key={s} title={sideName(s)} e={s === 'a' ? p.a : p.b} link={humanLink(systemOf(s)?.kind, systemOf(s)?.url, s === 'a' ? p.a : p.b)} />
        ))}
        <section className="card" aria-labelledby="pair-state">
          <h2 id="pair-state">State</h2>
          <dl className="kv">
            <dt>Paired</dt>
            <dd>
              <DateTime value={p.createdAt} />
            </dd>
            <dt>Last synced</dt>
            <dd>
              <DateTime value={p.lastSyncedAt} />
            </dd>
            <dt>Comments copied</dt>
            <dd>{copied(p.comments)}</dd>
            <dt>Attachments copied</dt>
            <dd>{copied(p.attachments)}</dd>
            <dt>Links synced</dt>
            <dd>{Object.keys(p.links ?? {}).length}</dd>
          </dl>
        </section>
      </div>
      <h2 className="section-title">Fields</h2>
      <Table
        rows={fields}
        rowKey={([k]) => k}
        caption={<span className="sr-only">Fields of the pair</span>}
        empty={<p className="muted">No field has been synced yet.</p>}
        columns={[
          { key: 'a', header: `In ${sideName('a')}`, render: ([k]) => <span className="mono">{k.split('|')[0]}</span> },
          { key: 'b', header: `In ${sideName('b')}`, render: ([k]) => <span className="mono">{k.split('|')[1] ?? ''}</span> },
          {
            key: 'state',
            header: 'Sync state',
            render: ([k, base]) =>
              (p.held ?? []).includes(k) || (p.held ?? []).includes(k.split('|')[0]) ? (
                <Badge tone="warn">Held: changed on both sides</Badge>
              ) : base.a && base.b ? (
                <Badge tone="good">In step</Badge>
              ) : (
                <Badge>One side only</Badge>
              ),
          },
        ]}
      />
      <h2 className="section-title">Recent runs that touched it</h2>
      {runs.error ? (
        <Alert kind="error">{errorMessage(runs.error)}</Alert>
      ) : !runs.data ? (
        <Loading />
      ) : touched.length === 0 ? (
        <p className="muted">None of the last {runs.data.length} runs failed on it or found a conflict in it.</p>
      ) : (
        <Table
          rows={touched}
          rowKey={(r) => r.id}
          caption={<span className="sr-only">Runs that touched the pair</span>}
          columns={[
            { key: 'at', header: 'Started', render: (r) => <DateTime value={r.startedAt} /> },
            {
              key: 'what',
              header: 'What happened',
              render: (r) => (
                <ul className="plain-list tight">
                  {(r.errors ?? [])
                    .filter((e) => e.entity === p.a.id || e.entity === p.b.id)
                    .map((e, i) => (
                      <li key={`e${i}`}>{e.message}</li>
                    ))}
                  {(r.conflicts ?? [])
                    .filter((c) => c.pair === p.id)
                    .map((c, i) => (
                      <li key={`c${i}`}>
                        Conflict on {fieldLabel(c.field)}: {c.winner === 'held' ? 'held for review' : `${sideName(c.winner as Side)} won`}
                      </li>
                    ))}
                </ul>
              ),
            },
          ]}
        />
      )}
    </Page>
  )
}

// PendingWork is the pair's entities waiting in the queue: which step,
// how many attempts failed, when the next one is, and why.
function PendingWork({ pending, sideName }: { pending: Pending[]; sideName: (s: Side) => string }) {
  return (
    <section aria-labelledby="pair-pending">
      <h2 id="pair-pending" className="section-title">
        Pending work
      </h2>
      <Table
        rows={pending}
        rowKey={(x) => `${x.side}/${x.entity}`}
        caption={<span className="sr-only">Pending work of the pair</span>}
        columns={[
          { key: 'side', header: 'Entity in', render: (x) => sideName(x.side) },
          { key: 'step', header: 'Step', render: (x) => x.step || 'all of it' },
          { key: 'attempts', header: 'Failed attempts', className: 'num', render: (x) => String(x.attempts) },
          { key: 'next', header: 'Next attempt', render: (x) => (x.attempts > 0 ? <DateTime value={x.nextAttempt} /> : 'the next run') },
          { key: 'error', header: 'Last error', render: (x) => x.lastError || <span className="muted">none</span> },
          { key: 'since', header: 'Waiting since', render: (x) => <DateTime value={x.enqueued} /> },
        ]}
      />
    </section>
  )
}

function SideCard({ title, e, link }: { title: string; e: EntityRef; link: string | null }) {
  return (
    <section className="card" aria-label={title}>
      <h2>{title}</h2>
      <dl className="kv">
        <dt>Key</dt>
        <dd>
          {link ? (
            <a href={link} target="_blank" rel="noreferrer">
              {e.key || e.id}
            </a>
          ) : (
            e.key || e.id
          )}
        </dd>
        <dt>Title</dt>
        <dd>{e.title || '—'}</dd>
        {e.type && (
          <>
            <dt>Type</dt>
            <dd>{e.type}</dd>
          </>
        )}
        <dt>Id</dt>
        <dd className="mono">{e.id}</dd>
      </dl>
    </section>
  )
}
