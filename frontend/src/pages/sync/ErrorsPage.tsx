// Parked errors: entities that failed permanently and wait for an
// administrator to fix the cause and retry them.
import { useCallback, useState } from 'react'
import { errorMessage } from '../../api/bridge'
import { useAgentEvents, useAsync, useCan } from '../../state'
import { Alert, Button, DateTime, EmptyState, HealthNote, Loading, Page, Table, useNotify } from '../../ui'
import { listErrors, listProcesses, listSystems, retryErrors } from './api'
import { sideNamer } from './format'
import { ProcessPicker, processName } from './ProcessPicker'
import type { ParkedError, System } from '../../api/generated/types'
import type { ProcessSummary } from './api'

// sideOf names the side of a parked entity by its system and project
// ("Helpdesk HELP"), never as a bare A or B.
function sideOf(processes: ProcessSummary[] | undefined, systems: System[], e: ParkedError): string {
  const s = processes?.find((x) => x.process.id === e.process)
  return s ? sideNamer(s.process, systems)(e.side) : e.side.toUpperCase()
}
import './sync.css'

export function ErrorsPage() {
  const processes = useAsync(listProcesses, [], { keep: 'processes.list' })
  const [process, setProcess] = useState('')
  const errors = useAsync(() => listErrors(process || undefined), [process], { keep: 'errors.list' })
  const systems = useAsync(listSystems, [], { keep: 'systems.list' })
  const systemsList = systems.data ?? []
  const reloadSystems = systems.reload
  const canRetry = useCan('errors.retry')
  const notify = useNotify()
  const [busy, setBusy] = useState('')
  const [failure, setFailure] = useState('')
  const reload = errors.reload
  const reloadProcesses = processes.reload
  const reloadAll = useCallback(() => {
    void reload()
    void reloadProcesses()
    void reloadSystems()
  }, [reload, reloadProcesses, reloadSystems])
  useAgentEvents(['PairFailed', 'RunFinished', 'HealthChanged'], reloadAll, reloadAll)

  const retry = async (key: string, fn: () => Promise<number>) => {
    setBusy(key)
    setFailure('')
    try {
      const n = await fn()
      notify('success', n === 1 ? 'One entity is queued again.' : `${n} entities are queued again.`)
      await reload()
    } catch (e) {
      setFailure(`Retry failed: ${errorMessage(e)}`)
    } finally {
      setBusy('')
    }
  }

  const retryOne = (e: ParkedError) => retry(`${e.process}/${e.side}/${e.entity}`, () => retryErrors(e.process, e.side, e.entity))

  // errors.retry takes one process; "all" over every process is one call each.
  const retryAll = () =>
    retry('all', async () => {
      const procs = Array.from(new Set((errors.data ?? []).map((e) => e.process)))
      let n = 0
      for (const p of procs) n += await retryErrors(p)
      return n
    })

  const list = errors.data ?? []
  const names = processes.data
  // Whole runs that fail (a system unreachable, credentials refused, a
  // project gone) are errors too, listed before the parked entities.
  const failing = (names ?? []).filter((s) => s.health?.state === 'failing' && (!process || s.process.id === process))
  // A system can fail with no process to say so: its connection test
  // failed (credentials refused, address wrong), or no active process uses
  // it. With a process picked, only its two systems.
  const picked = names?.find((s) => s.process.id === process)?.process
  const failingSystems = systemsList.filter((s) => s.health?.state === 'failing' && (!picked || s.id === picked.a.system || s.id === picked.b.system))
  const allWell = failing.length === 0 && failingSystems.length === 0
  return (
    <Page
      title="Errors"
      subtitle="Processes and systems that fail, and entities that could not be synced. Fix the cause (credentials, a mapping, a required field), then retry."
      actions={
        <>
          <ProcessPicker processes={names ?? []} value={process} onChange={setProcess} allowAll />
          {canRetry && list.length > 0 && (
            <Button variant="primary" busy={busy === 'all'} onClick={retryAll}>
              Retry all ({list.length})
            </Button>
          )}
        </>
      }
    >
      {failure && <Alert kind="error">{failure}</Alert>}
      {failing.length > 0 && (
        <section className="process-failures" aria-labelledby="process-failures">
          <h2 id="process-failures" className="section-title">
            Processes that cannot sync
          </h2>
          <ul className="plain-list">
            {failing.map((s) => (
              <li key={s.process.id} data-testid="process-failure">
                <HealthNote
                  health={s.health}
                  title={
                    <>
                      {s.process.name}: failing{s.health?.systemName ? ` because of ${s.health.systemName}` : ''}
                    </>
                  }
                />
              </li>
            ))}
          </ul>
        </section>
      )}
      {failingSystems.length > 0 && (
        <section className="process-failures" aria-labelledby="system-failures">
          <h2 id="system-failures" className="section-title">
            Systems that fail
          </h2>
          <ul className="plain-list">
            {failingSystems.map((s) => (
              <li key={s.id} data-testid="system-failure">
                <HealthNote health={s.health} test={s.lastTest} title={`${s.name}: failing`}>
                  <p>
                    <a href="#/systems">Open the Systems page</a> to change its settings or test it again.
                  </p>
                </HealthNote>
              </li>
            ))}
          </ul>
        </section>
      )}
      {errors.error ? (
        <Alert kind="error" title="The errors could not be loaded" actions={<Button onClick={() => void reload()}>Try again</Button>}>
          {errorMessage(errors.error)}
        </Alert>
      ) : !errors.data ? (
        <Loading label="Loading errors…" />
      ) : (
        <Table
          rows={list}
          rowKey={(e) => `${e.process}/${e.side}/${e.entity}`}
          className="sync-table"
          caption={<span className="sr-only">Parked errors</span>}
          empty={
            !allWell ? (
              <p className="muted">No entity is parked{failing.length > 0 ? ': the processes above stop before they reach any' : ''}.</p>
            ) : (
              <EmptyState title="No errors">Every process runs and every entity is in step, and no system fails. Entities that fail permanently are parked here for you to retry.</EmptyState>
            )
          }
          columns={[
            ...(process ? [] : [{ key: 'process', header: 'Process', render: (e: ParkedError) => processName(names, e.process) }]),
            {
              key: 'entity',
              header: 'Entity',
              render: (e: ParkedError) => (
                <span>
                  <strong>{e.key || e.entity}</strong> {e.title}
                  <div className="muted small">in {sideOf(names, systemsList, e)}</div>
                </span>
              ),
            },
            { key: 'error', header: 'Error' },
            { key: 'attempts', header: 'Attempts', className: 'num' },
            { key: 'at', header: 'Since', render: (e: ParkedError) => <DateTime value={e.at} /> },
            ...(canRetry
              ? [
                  {
                    key: 'retry',
                    header: <span className="sr-only">Actions</span>,
                    render: (e: ParkedError) => (
                      <Button busy={busy === `${e.process}/${e.side}/${e.entity}`} onClick={() => retryOne(e)} aria-label={`Retry ${e.key || e.entity}`}>
                        Retry
                      </Button>
                    ),
                  },
                ]
              : []),
          ]}
        />
      )}
    </Page>
  )
}
