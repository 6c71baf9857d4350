// Entity pairs: which entity of A is linked to which of B and their state in
// words; for operators, unpairing a selection, relinking, adopting pairs that
// already exist, and the ways out of a pair whose entity was deleted.
import { useCallback, useMemo, useState, type FormEvent } from 'react'
import { errorMessage } from '../../api/bridge'
import { useAgentEvents, useAsync, useCan, usePaged } from '../../state'
import { Alert, Button, DateTime, Dialog, EmptyState, Loading, Page, Table, count, useNotify } from '../../ui'
import { listPairs, listProcesses, listSystems } from './api'
import { ProcessPicker, processName } from './ProcessPicker'
import { PairDetail, pairHref, type PairContext } from './PairDetail'
import { AdoptDialog } from './AdoptDialog'
import { DeletedWaysOut, RelinkDialog, UnpairDialog } from './PairActions'
import { entityLabel, fieldLabel, pairLabel, stateBadge, statusText } from './pairWords'
import { sideNamer } from './format'
import { useSubRoute } from '../../shell/route'
import type { RunFinished } from '../../api/generated/types'
import type { EntityRef, PairView as Pair, Side, System } from '../../api/generated/types'
import type { Process } from './api'
import './sync.css'

const pageSize = 100

// Entity names one side of a pair; its key opens the pair's page.
function Entity({ e, href }: { e: EntityRef; href: string }) {
  return (
    <span>
      <a href={href}>
        <strong>{entityLabel(e)}</strong>
      </a>{' '}
      {e.title}
      {e.type && <span className="muted small"> · {e.type}</span>}
    </span>
  )
}

export function PairsPage() {
  const sub = useSubRoute()
  if (sub.length === 2) return <PairPage process={sub[0]} id={sub[1]} />
  return <PairList />
}

// namerOf names a side of any process by its system and project.
function namerOf(processes: Process[], systems: System[]) {
  return (process: string, s: Side) => {
    const p = processes.find((x) => x.id === process)
    return p ? sideNamer(p, systems)(s) : s.toUpperCase()
  }
}

// PairPage is one pair's page with the actions an operator may take on it.
function PairPage({ process, id }: { process: string; id: string }) {
  const canAct = useCan('pairs.unpair')
  const notify = useNotify()
  const [unpairing, setUnpairing] = useState<Pair[] | null>(null)
  const [relinking, setRelinking] = useState<Pair | null>(null)
  const [ctx, setCtx] = useState<PairContext | null>(null)
  return (
    <>
      <PairDetail
        process={process}
        id={id}
        actions={(p, _reload, ctx) =>
          canAct ? (
            <>
              <Button
                onClick={() => {
                  setCtx(ctx)
                  setRelinking(p)
                }}
              >
                Relink…
              </Button>
              <Button variant="danger" onClick={() => setUnpairing([p])}>
                Unpair…
              </Button>
            </>
          ) : null
        }
      />
      <UnpairDialog
        pairs={unpairing}
        onCancel={() => setUnpairing(null)}
        onDone={() => {
          notify('success', `${unpairing ? pairLabel(unpairing[0]) : 'The pair'} was unpaired; both entities are excluded from sync until relinked.`)
          setUnpairing(null)
          window.location.hash = '#/pairs'
        }}
      />
      {relinking && ctx && (
        <RelinkDialog
          open
          processes={ctx.process ? [ctx.process] : []}
          process={process}
          sideName={(_p, s) => ctx.sideName(s)}
          initial={{ a: entityLabel(relinking.a), b: entityLabel(relinking.b) }}
          onClose={() => setRelinking(null)}
          onDone={(np, excluded) => {
            setRelinking(null)
            notify('success', relinked(np, excluded))
            window.location.hash = pairHref(np.process, np.id)
          }}
        />
      )}
    </>
  )
}

// runChanged says whether a finished run (its RunFinished event) changed
// anything a pair shows: an idle poll (nothing but entities skipped) does
// not reload the list.
function runChanged(d: RunFinished | undefined): boolean {
  if (!d) return false
  const { skipped: _seen, ...changed } = d.counts ?? {}
  return (d.errors ?? 0) > 0 || Object.values(changed).some((n) => typeof n === 'number' && n > 0)
}

function relinked(p: Pair, excluded: string[]): string {
  return `${pairLabel(p)} are paired.` + (excluded.length ? ` Excluded from sync until relinked: ${excluded.join(', ')}.` : '')
}

function PairList() {
  const processes = useAsync(listProcesses, [])
  const systems = useAsync(listSystems, [])
  const [process, setProcess] = useState('')
  const [draft, setDraft] = useState('')
  const [query, setQuery] = useState('')
  const [selected, setSelected] = useState<Set<string>>(new Set())
  const [unpairing, setUnpairing] = useState<Pair[] | null>(null)
  const [relinking, setRelinking] = useState<{ a: string; b: string; process?: string } | null>(null)
  const [adopting, setAdopting] = useState(false)
  const [waysOut, setWaysOut] = useState<Pair | null>(null)
  const canAct = useCan('pairs.unpair')
  const canAdopt = useCan('pairs.adopt')
  const notify = useNotify()
  // Only the answer to the latest filter is shown (state/latest.ts).
  const paged = usePaged(
    async (f: { process: string; query: string }, cursor: string) => {
      const r = await listPairs({ process: f.process || undefined, query: f.query || undefined, cursor: cursor || undefined, limit: pageSize })
      return { items: r.pairs, cursor: r.cursor }
    },
    { process, query },
  )
  const pairs = useMemo(() => paged.items ?? [], [paged.items])
  const { loading, error, cursor } = paged
  const load = (more: boolean) => (more ? paged.more() : paged.reload())
  const reload = paged.reload
  // The list follows what changes pairs: a run that did something (synced,
  // held, failed), and changes outside runs (by hand here or elsewhere).
  useAgentEvents(
    ['PairChanged', 'RunFinished'],
    useCallback((e) => {
      if (process && e.data?.process !== process) return
      if (e.type === 'RunFinished' && !runChanged(e.data)) return
      void reload()
    }, [process, reload]),
    reload,
  )

  // A process created or renamed elsewhere shows in the picker at once.
  const reloadProcesses = processes.reload
  useAgentEvents(
    ['ConfigChanged'],
    useCallback((e) => {
      if (e.data?.kind === 'process') void reloadProcesses()
    }, [reloadProcesses]),
    reloadProcesses,
  )

  const keyOf = (p: Pair) => `${p.process}/${p.id}`
  // The selection is of pairs shown: what a new filter or reload hides is not unpaired.
  const chosen = pairs.filter((p) => selected.has(keyOf(p)))
  const allChosen = pairs.length > 0 && chosen.length === pairs.length
  const toggle = (p: Pair) =>
    setSelected((cur) => {
      const next = new Set(cur)
      if (next.has(keyOf(p))) next.delete(keyOf(p))
      else next.add(keyOf(p))
      return next
    })

  const search = (e: FormEvent) => {
    e.preventDefault()
    setQuery(draft.trim())
  }

  const list = processes.data ?? []
  const procs = list.map((s) => s.process)
  const sideName = namerOf(procs, systems.data ?? [])
  const one = chosen.length === 1 ? chosen[0] : null
  return (
    <Page title="Entity pairs" subtitle="Entities linked across the two systems of each process, last synced first. Open a pair by its key.">
      <form className="sync-filters" onSubmit={search} role="search">
        <ProcessPicker processes={list} value={process} onChange={setProcess} allowAll />
        <input aria-label="Search by key or title" placeholder="Key or title" value={draft} onChange={(e) => setDraft(e.target.value)} />
        <Button type="submit">Search</Button>
        {query && (
          <Button
            variant="ghost"
            onClick={() => {
              setDraft('')
              setQuery('')
            }}
          >
            Clear
          </Button>
        )}
      </form>
      {canAct && (
        <div className="toolbar" aria-label="Pair actions" role="toolbar">
          <Button variant="danger" disabled={chosen.length === 0} onClick={() => setUnpairing(chosen)}>
            {chosen.length ? `Unpair ${count(chosen.length, 'pair')}…` : 'Unpair…'}
          </Button>
          <Button
            disabled={list.length === 0}
            onClick={() => setRelinking(one ? { a: entityLabel(one.a), b: entityLabel(one.b), process: one.process } : { a: '', b: '', process: process || undefined })}
          >
            {one ? `Relink ${pairLabel(one)}…` : 'Relink…'}
          </Button>
          {canAdopt && (
            <Button disabled={list.length === 0} onClick={() => setAdopting(true)}>
              Adopt existing pairs…
            </Button>
          )}
          {chosen.length > 0 && (
            <span className="muted small" aria-live="polite">
              {count(chosen.length, 'pair')} selected
            </span>
          )}
        </div>
      )}
      {error ? (
        <Alert kind="error" title="The pairs could not be loaded" actions={<Button onClick={() => void load(false)}>Try again</Button>}>
          {errorMessage(error)}
        </Alert>
      ) : loading && !paged.items ? (
        <Loading label="Loading entity pairs…" />
      ) : (
        <>
          <Table
            rows={pairs}
            rowKey={keyOf}
            className="sync-table pairs-table"
            caption={<span className="sr-only">Entity pairs</span>}
            empty={
              <EmptyState title={query ? `No pair matches "${query}"` : 'No entity pairs yet'}>
                {query
                  ? 'Search by the key (HELP-42) or words of the title, on either side.'
                  : 'Pairs appear when a process syncs its first entities (activate a process or run it from its page), or when you adopt pairs that already exist on both sides.'}
              </EmptyState>
            }
            columns={[
              ...(canAct
                ? [
                    {
                      key: 'select',
                      className: 'select',
                      header: (
                        <input
                          type="checkbox"
                          aria-label="Select every pair shown"
                          checked={allChosen}
                          onChange={() => setSelected(allChosen ? new Set() : new Set(pairs.map(keyOf)))}
                        />
                      ),
                      render: (p: Pair) => <input type="checkbox" aria-label={`Select ${pairLabel(p)}`} checked={selected.has(keyOf(p))} onChange={() => toggle(p)} />,
                    },
                  ]
                : []),
              ...(process ? [] : [{ key: 'process', header: 'Process', render: (p: Pair) => processName(list, p.process) }]),
              { key: 'a', header: 'Entity in A', render: (p: Pair) => <Entity e={p.a} href={pairHref(p.process, p.id)} /> },
              { key: 'b', header: 'Entity in B', render: (p: Pair) => <Entity e={p.b} href={pairHref(p.process, p.id)} /> },
              {
                key: 'state',
                header: 'State',
                render: (p: Pair) => (
                  <div className="pair-state">
                    {stateBadge(p)}
                    <div className="small muted">{statusText(p)}</div>
                    {(p.divergences?.length ?? 0) > 0 && <div className="small">{count(p.divergences!.length, 'change')} not mirrored</div>}
                    {p.state === 'held' && (
                      <a className="small" href={pairHref(p.process, p.id)}>
                        Compare {(p.held ?? []).map(fieldLabel).join(', ')}
                      </a>
                    )}
                    {p.state === 'deleted' && canAct && (
                      <Button onClick={() => setWaysOut(p)} aria-label={`Ways out for ${pairLabel(p)}`}>
                        Ways out…
                      </Button>
                    )}
                  </div>
                ),
              },
              { key: 'synced', header: 'Last synced', render: (p: Pair) => <DateTime value={p.lastSyncedAt} /> },
            ]}
          />
          {cursor && (
            <div className="toolbar">
              <Button onClick={() => void load(true)} busy={paged.loadingMore} disabled={loading}>
                Show more
              </Button>
            </div>
          )}
        </>
      )}
      <UnpairDialog
        pairs={unpairing}
        onCancel={() => setUnpairing(null)}
        onDone={(n) => {
          notify('success', `${count(n, 'pair')} unpaired; their entities are excluded from sync until relinked.`)
          setUnpairing(null)
          setSelected(new Set())
          void reload()
        }}
      />
      <RelinkDialog
        open={!!relinking}
        processes={procs}
        process={relinking?.process}
        sideName={sideName}
        initial={relinking ?? undefined}
        onClose={() => setRelinking(null)}
        onDone={(p, excluded) => {
          setRelinking(null)
          setSelected(new Set())
          notify('success', relinked(p, excluded))
          void reload()
        }}
      />
      <AdoptDialog open={adopting} processes={procs} process={process || undefined} sideName={sideName} onClose={() => setAdopting(false)} onAdopted={() => void reload()} />
      <Dialog open={!!waysOut} title={waysOut ? `Ways out for ${pairLabel(waysOut)}` : ''} onClose={() => setWaysOut(null)}>
        {waysOut && (
          <DeletedWaysOut
            pair={waysOut}
            process={procs.find((x) => x.id === waysOut.process)}
            sideName={(s) => sideName(waysOut.process, s)}
            onDone={(message) => {
              setWaysOut(null)
              notify('success', message)
              void reload()
            }}
          />
        )}
      </Dialog>
    </Page>
  )
}
