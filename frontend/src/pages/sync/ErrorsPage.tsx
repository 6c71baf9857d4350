// Parked errors: entities that failed permanently and wait for an
// administrator to fix the cause and retry them.
import { useCallback, useState } from 'react'
import { errorMessage } from '../../api/bridge'
import { useAgentEvents, useAsync, useCan } from '../../state'
import { Alert, Button, EmptyState, Loading, Page, Table, formatDate, useNotify } from '../../ui'
import { listErrors, listProcesses, retryErrors } from './api'
import { ProcessPicker, processName } from './ProcessPicker'
import type { ParkedError } from './types'
import './sync.css'

export function ErrorsPage() {
  const processes = useAsync(listProcesses, [])
  const [process, setProcess] = useState('')
  const errors = useAsync(() => listErrors(process || undefined), [process])
  const canRetry = useCan('errors.retry')
  const notify = useNotify()
  const [busy, setBusy] = useState('')
  const [failure, setFailure] = useState('')
  const reload = errors.reload
  useAgentEvents(['PairFailed', 'RunFinished'], useCallback(() => void reload(), [reload]), reload)

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
  return (
    <Page
      title="Errors"
      subtitle="Entities that could not be synced. Fix the cause (a mapping, a permission, a required field), then retry."
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
          empty={<EmptyState title="No errors">Every entity is in step. Entities that fail permanently are parked here for you to retry.</EmptyState>}
          columns={[
            ...(process ? [] : [{ key: 'process', header: 'Process', render: (e: ParkedError) => processName(names, e.process) }]),
            {
              key: 'entity',
              header: 'Entity',
              render: (e: ParkedError) => (
                <span>
                  <span className="muted small">{e.side.toUpperCase()} </span>
                  <strong>{e.key || e.entity}</strong> {e.title}
                </span>
              ),
            },
            { key: 'error', header: 'Error' },
            { key: 'attempts', header: 'Attempts', className: 'num' },
            { key: 'at', header: 'Since', render: (e: ParkedError) => formatDate(e.at) },
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
