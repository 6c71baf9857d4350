// Sync processes: the list with each process's health, a process's page
// (operations and the mapping editor), and YAML import and export.
import { useCallback, useState } from 'react'
import { bridge, errorMessage } from '../../api/bridge'
import { useAgentEvents, useAsync, useCan } from '../../state'
import { Alert, Badge, Button, DateTime, EmptyState, HealthBadge, Loading, Page, Table, useNotify } from '../../ui'
import { blankProcess, exportProcesses, importProcesses, issuesOf, listProcesses, listSystems, type Issue } from './api'
import { ProcessView } from './ProcessView'
import { ProcessEditor } from './ProcessEditor'
import { runFailed, runText, systemName } from './format'
import type { System } from '../../api/generated/types'
import type { Process, ProcessSummary } from './api'
import './sync.css'

// A new process's blank document is made once, when the form opens: the
// editor must see the same document however often the list reloads.
type View = { kind: 'list' } | { kind: 'view'; id: string } | { kind: 'new'; initial: Process }

export function ProcessesPage() {
  const [view, setView] = useState<View>({ kind: 'list' })
  const systems = useAsync(listSystems, [], { keep: 'systems.list' })
  const list = useAsync(listProcesses, [], { keep: 'processes.list' })
  const reload = list.reload
  useAgentEvents(
    ['ConfigChanged', 'RunFinished', 'HealthChanged'],
    useCallback((e) => {
      if (e.type !== 'ConfigChanged' || e.data?.kind === 'process') void reload()
    }, [reload]),
    reload,
  )

  if (view.kind === 'view') {
    return (
      <ProcessView
        id={view.id}
        systems={systems.data ?? []}
        onBack={() => {
          setView({ kind: 'list' })
          void reload()
        }}
      />
    )
  }
  if (view.kind === 'new') {
    return (
      <Page title="New sync process" subtitle="Two systems, the entities to keep in step, and how." actions={<Button onClick={() => setView({ kind: 'list' })}>Back to processes</Button>}>
        <ProcessEditor
          initial={view.initial}
          systems={systems.data ?? []}
          readOnly={false}
          onSaved={(p) => {
            void reload()
            setView({ kind: 'view', id: p.id })
          }}
          onCancel={() => setView({ kind: 'list' })}
        />
      </Page>
    )
  }
  return <ProcessList list={list.data} loading={list.loading} error={list.error} systems={systems.data ?? []} onOpen={(id) => setView({ kind: 'view', id })} onNew={() => setView({ kind: 'new', initial: blankProcess() })} onReload={reload} />
}

function ProcessList({
  list,
  loading,
  error,
  systems,
  onOpen,
  onNew,
  onReload,
}: {
  list?: ProcessSummary[]
  loading: boolean
  error: unknown
  systems: System[]
  onOpen: (id: string) => void
  onNew: () => void
  onReload: () => Promise<void>
}) {
  const canCreate = useCan('processes.create')
  const canImport = useCan('processes.import')
  const notify = useNotify()
  const [importIssues, setImportIssues] = useState<Issue[]>([])
  const [importError, setImportError] = useState('')
  const [busy, setBusy] = useState('')

  const exportAll = async () => {
    setBusy('export')
    try {
      const doc = await exportProcesses([])
      const path = await bridge().SaveTextFile('sync-processes.yaml', doc)
      if (path) notify('success', `Exported to ${path}`)
    } catch (e) {
      notify('error', `Export failed: ${errorMessage(e)}`)
    } finally {
      setBusy('')
    }
  }

  const importFile = async () => {
    setImportIssues([])
    setImportError('')
    let text = ''
    try {
      text = await bridge().OpenTextFile('Import sync processes', '*.yaml;*.yml')
    } catch (e) {
      setImportError(`The file could not be read: ${errorMessage(e)}`)
      return
    }
    if (!text) return // cancelled
    setBusy('import')
    try {
      const r = await importProcesses(text)
      const parts = [r.created.length && `created ${r.created.join(', ')}`, r.updated.length && `updated ${r.updated.join(', ')}`].filter(Boolean)
      notify('success', `Imported: ${parts.join('; ') || 'nothing to change'}`)
      await onReload()
    } catch (e) {
      const issues = issuesOf(e)
      if (issues.length) setImportIssues(issues)
      else setImportError(`The import failed: ${errorMessage(e)}`)
    } finally {
      setBusy('')
    }
  }

  const actions = (
    <>
      {canImport && (
        <Button onClick={importFile} busy={busy === 'import'}>
          Import YAML…
        </Button>
      )}
      {list && list.length > 0 && (
        <Button onClick={exportAll} busy={busy === 'export'}>
          Export all…
        </Button>
      )}
      {canCreate && (
        <Button variant="primary" onClick={onNew}>
          New process
        </Button>
      )}
    </>
  )

  return (
    <Page title="Sync processes" subtitle="Each process keeps the entities of two systems in step." actions={actions}>
      {importIssues.length > 0 && (
        <Alert kind="error" title="Nothing was imported: the document has problems" actions={<Button onClick={() => setImportIssues([])}>Dismiss</Button>}>
          <ul>
            {importIssues.map((i, n) => (
              <li key={n}>
                <code>{i.field}</code> {i.message}
              </li>
            ))}
          </ul>
          Fix the file and import it again.
        </Alert>
      )}
      {importError && <Alert kind="error">{importError}</Alert>}
      {error ? (
        <Alert kind="error" title="The processes could not be loaded" actions={<Button onClick={() => void onReload()}>Try again</Button>}>
          {errorMessage(error)}
        </Alert>
      ) : !list && loading ? (
        <Loading label="Loading sync processes…" />
      ) : (
        <Table
          rows={list ?? []}
          rowKey={(s) => s.process.id}
          onRowClick={(s) => onOpen(s.process.id)}
          className="sync-table"
          caption={<span className="sr-only">Sync processes</span>}
          empty={
            <EmptyState title="No sync processes yet" action={canCreate ? <Button variant="primary" onClick={onNew}>New process</Button> : undefined}>
              {canCreate
                ? 'Create a process to keep two systems in step, or import one exported from another agent.'
                : 'An administrator creates sync processes; they will be listed here.'}
            </EmptyState>
          }
          columns={[
            {
              key: 'name',
              header: 'Process',
              render: (s) => (
                <button type="button" className="link-button" onClick={(e) => (e.stopPropagation(), onOpen(s.process.id))}>
                  {s.process.name}
                </button>
              ),
            },
            {
              key: 'systems',
              header: 'Systems',
              render: (s) => (
                <span>
                  {systemName(systems, s.process.a.system)} {s.process.a.project} ↔ {systemName(systems, s.process.b.system)} {s.process.b.project}
                </span>
              ),
            },
            {
              key: 'state',
              header: 'State',
              render: (s) => (
                <div className="state-cell">
                  <span className="row tight">
                    {s.process.active ? <Badge tone="info">Active</Badge> : <Badge>Inactive</Badge>}
                    <HealthBadge health={s.health} />
                  </span>
                  {s.health && s.health.state !== 'ok' && s.health.problem && <div className="small health-problem">{s.health.problem}</div>}
                </div>
              ),
            },
            {
              key: 'lastRun',
              header: 'Last run',
              render: (s) =>
                s.lastRun ? (
                  <span title={runText(s.lastRun)}>
                    <DateTime value={s.lastRun.endedAt || s.lastRun.startedAt} />
                    <span className={runFailed(s.lastRun) ? 'small bad-text' : 'muted small'}> · {runText(s.lastRun)}</span>
                  </span>
                ) : (
                  <span className="muted">Never</span>
                ),
            },
            { key: 'pairs', header: 'Pairs', className: 'num', render: (s) => s.pairs },
            { key: 'errors', header: 'Errors', className: 'num', render: (s) => (s.errors > 0 ? <Badge tone="bad">{s.errors}</Badge> : '0') },
          ]}
        />
      )}
    </Page>
  )
}
