// Entity pairs: which entity of A is linked to which of B, their state, and
// the pairs held for review after a conflict.
import { useState, type FormEvent } from 'react'
import { errorMessage } from '../../api/bridge'
import { useAsync, useCan, usePaged } from '../../state'
import { Alert, Badge, Button, EmptyState, Loading, Page, Table, formatDate, useNotify } from '../../ui'
import { listPairs, listProcesses, resolvePair } from './api'
import { ProcessPicker, processName } from './ProcessPicker'
import { PairDetail, pairHref } from './PairDetail'
import { useSubRoute } from '../../shell/route'
import type { EntityRef, Pair } from './types'
import './sync.css'

const pageSize = 100

// Entity names one side of a pair; its key opens the pair's page.
function Entity({ e, href }: { e: EntityRef; href: string }) {
  const label = e.key || e.id
  return (
    <span>
      <a href={href}>
        <strong>{label}</strong>
      </a>{' '}
      {e.title}
      {e.type && <span className="muted small"> · {e.type}</span>}
    </span>
  )
}

function stateBadge(p: Pair) {
  if (p.state === 'held') return <Badge tone="warn">Held: {(p.held ?? []).join(', ') || 'conflict'}</Badge>
  if (p.state === 'error') return <Badge tone="bad">Error</Badge>
  return <Badge tone="good">Synced</Badge>
}

export function PairsPage() {
  const sub = useSubRoute()
  if (sub.length === 2) return <PairPage process={sub[0]} id={sub[1]} />
  return <PairList />
}

// PairPage is one pair's page with the actions an operator may take on it.
function PairPage({ process, id }: { process: string; id: string }) {
  const canResolve = useCan('processes.resolve')
  const notify = useNotify()
  const [busy, setBusy] = useState(false)
  return (
    <PairDetail
      process={process}
      id={id}
      actions={(p, reload) =>
        canResolve && p.state === 'held' ? (
          <>
            {(['a', 'b'] as const).map((w) => (
              <Button
                key={w}
                busy={busy}
                onClick={async () => {
                  setBusy(true)
                  try {
                    await resolvePair(p.process, p.id, w)
                    notify('success', `${w.toUpperCase()}'s values win on the next run.`)
                    reload()
                  } catch (e) {
                    notify('error', `The conflict was not settled: ${errorMessage(e)}`)
                  } finally {
                    setBusy(false)
                  }
                }}
              >
                Keep {w.toUpperCase()}'s values
              </Button>
            ))}
          </>
        ) : null
      }
    />
  )
}

function PairList() {
  const processes = useAsync(listProcesses, [])
  const [process, setProcess] = useState('')
  const [draft, setDraft] = useState('')
  const [query, setQuery] = useState('')
  const [busy, setBusy] = useState('')
  const canResolve = useCan('processes.resolve')
  const notify = useNotify()
  // Only the answer to the latest filter is shown (state/latest.ts).
  const paged = usePaged(
    async (f: { process: string; query: string }, cursor: string) => {
      const r = await listPairs({ process: f.process || undefined, query: f.query || undefined, cursor: cursor || undefined, limit: pageSize })
      return { items: r.pairs, cursor: r.cursor }
    },
    { process, query },
  )
  const pairs = paged.items ?? []
  const { loading, error, cursor } = paged
  const load = (more: boolean) => (more ? paged.more() : paged.reload())

  const search = (e: FormEvent) => {
    e.preventDefault()
    setQuery(draft.trim())
  }

  const resolve = async (p: Pair, winner: 'a' | 'b') => {
    setBusy(p.id)
    try {
      await resolvePair(p.process, p.id, winner)
      notify('success', `${p.a.key || p.a.id}: ${winner.toUpperCase()}'s values win on the next run.`)
      await load(false)
    } catch (e) {
      notify('error', `The conflict was not settled: ${errorMessage(e)}`)
    } finally {
      setBusy('')
    }
  }

  const list = processes.data ?? []
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
            rowKey={(p) => `${p.process}/${p.id}`}
            className="sync-table"
          caption={<span className="sr-only">Entity pairs</span>}
            empty={
              <EmptyState title={query ? `No pair matches "${query}"` : 'No entity pairs yet'}>
                {query
                  ? 'Search by the key (HELP-42) or words of the title, on either side.'
                  : 'Pairs appear when a process syncs its first entities: activate a process or run it from its page.'}
              </EmptyState>
            }
            columns={[
              ...(process ? [] : [{ key: 'process', header: 'Process', render: (p: Pair) => processName(list, p.process) }]),
              { key: 'a', header: 'Entity in A', render: (p: Pair) => <Entity e={p.a} href={pairHref(p.process, p.id)} /> },
              { key: 'b', header: 'Entity in B', render: (p: Pair) => <Entity e={p.b} href={pairHref(p.process, p.id)} /> },
              {
                key: 'state',
                header: 'State',
                render: (p: Pair) => (
                  <span title={p.error}>
                    {stateBadge(p)}
                    {p.error && <div className="small muted">{p.error}</div>}
                  </span>
                ),
              },
              { key: 'synced', header: 'Last synced', render: (p: Pair) => formatDate(p.lastSyncedAt) },
              ...(canResolve
                ? [
                    {
                      key: 'resolve',
                      header: <span className="sr-only">Actions</span>,
                      render: (p: Pair) =>
                        p.state === 'held' ? (
                          <span className="row tight">
                            <Button busy={busy === p.id} onClick={() => resolve(p, 'a')} aria-label={`Keep A's values for ${p.a.key || p.a.id}`}>
                              Keep A
                            </Button>
                            <Button busy={busy === p.id} onClick={() => resolve(p, 'b')} aria-label={`Keep B's values for ${p.b.key || p.b.id}`}>
                              Keep B
                            </Button>
                          </span>
                        ) : null,
                    },
                  ]
                : []),
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
    </Page>
  )
}
