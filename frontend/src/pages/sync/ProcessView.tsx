// One process's page: its state and the operator's actions at the top, the
// mapping editor below (read-only for anyone but an admin).
import { useCallback, useState } from 'react'
import { bridge, errorMessage } from '../../api/bridge'
import { useAgentEvents, useAsync, useCan } from '../../state'
import { Alert, Badge, Button, ConfirmDialog, HealthBadge, HealthNote, Loading, Page, useNotify } from '../../ui'
import { deleteProcess, exportProcesses, getProcess, listProcesses, runNow, setActive } from './api'
import { BulkSyncForm, PlanPanel, SyncEntityForm } from './operations'
import { ProcessEditor } from './ProcessEditor'
import { QueuePanel } from './QueuePanel'
import { sideNamer, slug } from './format'
import type { System } from '../../api/generated/types'
import type { Process } from './api'

export function ProcessView({ id, systems, onBack }: { id: string; systems: System[]; onBack: () => void }) {
  const proc = useAsync(() => getProcess(id), [id], { keep: 'processes.get' })
  // The process's health comes with the list's summaries.
  const summary = useAsync(async () => (await listProcesses()).find((s) => s.process.id === id), [id], { keep: 'processes.list/one' })
  const reloadSummary = summary.reload
  useAgentEvents(
    ['HealthChanged', 'RunFinished'],
    useCallback((e) => {
      if (e.type === 'RunFinished' || (e.data?.kind === 'process' && e.data?.id === id)) void reloadSummary()
    }, [id, reloadSummary]),
    reloadSummary,
  )
  const health = summary.data?.health
  const canEdit = useCan('processes.update')
  const canActivate = useCan('processes.activate')
  const canRun = useCan('processes.run')
  const canDelete = useCan('processes.delete')
  const notify = useNotify()
  const [busy, setBusy] = useState('')
  const [confirmDelete, setConfirmDelete] = useState(false)
  const [actionError, setActionError] = useState('')
  const { reload, setData } = proc
  useAgentEvents(
    ['ConfigChanged'],
    useCallback((e) => {
      // Another admin changed it; an open edit keeps its own copy until saved.
      if (e.data?.kind === 'process' && e.data?.id === id && e.data?.action !== 'update') void reload()
    }, [id, reload]),
  )

  const p = proc.data
  if (!p) {
    return (
      <Page title="Sync process" actions={<Button onClick={onBack}>Back to processes</Button>}>
        {proc.error ? (
          <Alert kind="error" title="The process could not be loaded" actions={<Button onClick={() => void reload()}>Try again</Button>}>
            {errorMessage(proc.error)}
          </Alert>
        ) : (
          <Loading label="Loading the process…" />
        )}
      </Page>
    )
  }

  const act = async (what: string, fn: () => Promise<void>) => {
    setBusy(what)
    setActionError('')
    try {
      await fn()
    } catch (e) {
      setActionError(errorMessage(e))
    } finally {
      setBusy('')
    }
  }

  const toggle = () =>
    act('active', async () => {
      const next = await setActive(p.id, !p.active)
      setData(next)
      notify('success', next.active ? `${p.name} is active` : `${p.name} is inactive`)
    })
  const run = () =>
    act('run', async () => {
      await runNow(p.id)
      notify('info', `A run of ${p.name} started; its result appears under Runs.`)
    })
  const exportOne = () =>
    act('export', async () => {
      const doc = await exportProcesses([p.id])
      const path = await bridge().SaveTextFile(`${slug(p.name)}.yaml`, doc)
      if (path) notify('success', `Exported to ${path}`)
    })
  const remove = () =>
    act('delete', async () => {
      await deleteProcess(p.id)
      setConfirmDelete(false)
      notify('success', `${p.name} was deleted; the entities in both systems stay.`)
      onBack()
    })

  const sideName = sideNamer(p, systems)
  const actions = (
    <>
      <Button onClick={onBack}>Back</Button>
      <Button onClick={exportOne} busy={busy === 'export'}>
        Export…
      </Button>
      {canRun && (
        <Button onClick={run} busy={busy === 'run'}>
          Run now
        </Button>
      )}
      {canActivate && (
        <Button variant={p.active ? 'secondary' : 'primary'} onClick={toggle} busy={busy === 'active'}>
          {p.active ? 'Deactivate' : 'Activate'}
        </Button>
      )}
      {canDelete && (
        <Button variant="danger" onClick={() => setConfirmDelete(true)}>
          Delete
        </Button>
      )}
    </>
  )

  return (
    <Page
      title={
        <>
          {p.name} {p.active ? <Badge tone="info">Active</Badge> : <Badge>Inactive</Badge>} <HealthBadge health={health} />
        </>
      }
      subtitle={`${sideName('a')} ↔ ${sideName('b')}`}
      actions={actions}
    >
      {actionError && <Alert kind="error">{actionError}</Alert>}
      <HealthNote health={health} title={health?.state === 'failing' ? 'This process is failing: its runs stop before syncing anything.' : 'Some entities of this process are not in step.'} />
      {canRun && (
        <div className="ops">
          <SyncEntityForm processId={p.id} sideName={sideName} />
          <BulkSyncForm processId={p.id} />
          <PlanPanel processId={p.id} sideName={sideName} />
        </div>
      )}
      <QueuePanel processId={p.id} sideName={sideName} />
      <h2 className="section-title">Configuration</h2>
      <ProcessEditor
        initial={p}
        systems={systems}
        readOnly={!canEdit}
        onSaved={(saved: Process) => {
          setData(saved)
          notify('success', `${saved.name} was saved${saved.active ? ' and restarted' : ''}.`)
        }}
      />
      <ConfirmDialog
        open={confirmDelete}
        danger
        title={`Delete ${p.name}?`}
        message="The process, its entity pairs, runs and errors are removed from the agent. The entities in both systems stay as they are; a new process would pair them again from scratch."
        confirmLabel="Delete process"
        busy={busy === 'delete'}
        onConfirm={remove}
        onCancel={() => setConfirmDelete(false)}
      />
    </Page>
  )
}
