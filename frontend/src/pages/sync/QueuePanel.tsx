// A process's queue: how many entities wait, how many wait for a retry,
// since when, and the first ones with why they wait.
import { useCallback } from 'react'
import { errorMessage } from '../../api/bridge'
import { useAgentEvents, useAsync } from '../../state'
import { Alert, Button, DateTime, Loading, Table, count, formatDate } from '../../ui'
import { listQueue } from './api'
import { pairHref } from './PairDetail'
import type { QueueEntry, Side } from '../../api/generated/types'

const shown = 20

export function QueuePanel({ processId, sideName }: { processId: string; sideName: (s: Side) => string }) {
  const queue = useAsync(() => listQueue(processId, shown), [processId])
  const reload = queue.reload
  useAgentEvents(
    ['RunFinished', 'PairChanged'],
    useCallback((e) => {
      if (e.data?.process === processId) void reload()
    }, [processId, reload]),
    reload,
  )
  const q = queue.data
  return (
    <section aria-labelledby="queue-title" data-testid="queue">
      <div className="row spread">
        <h2 id="queue-title" className="section-title">
          Queue
        </h2>
        <Button onClick={() => void reload()} busy={queue.loading && !!q}>
          Refresh queue
        </Button>
      </div>
      {queue.error && !q ? (
        <Alert kind="error" title="The queue could not be read">
          {errorMessage(queue.error)}
        </Alert>
      ) : !q ? (
        <Loading label="Reading the queue…" />
      ) : q.total === 0 ? (
        <p className="muted" data-testid="queue-summary">
          Nothing waits: every entity the process has seen is worked.
        </p>
      ) : (
        <>
          <p data-testid="queue-summary">
            <strong>{count(q.total, 'entity', 'entities')}</strong> {q.total === 1 ? 'waits' : 'wait'}
            {q.retrying > 0 && <>, {q.retrying.toLocaleString()} of them for a retry after failing</>}; the oldest since {formatDate(q.oldest)}.
            {q.total > q.items.length && <span className="muted"> The first {q.items.length} are listed.</span>}
          </p>
          <Table
            rows={q.items}
            rowKey={(x: QueueEntry) => `${x.side}/${x.entity}`}
            caption={<span className="sr-only">Entities waiting, oldest first</span>}
            columns={[
              {
                key: 'entity',
                header: 'Entity',
                render: (x) => (
                  <span>
                    {x.pair ? (
                      <a href={pairHref(processId, x.pair)}>
                        <strong>{x.key || x.entity}</strong>
                      </a>
                    ) : (
                      <strong>{x.key || x.entity}</strong>
                    )}{' '}
                    {x.title && <span className="muted">{x.title}</span>}
                  </span>
                ),
              },
              { key: 'side', header: 'In', render: (x) => sideName(x.side) },
              { key: 'reason', header: 'Why it waits', render: (x) => x.reason },
              { key: 'since', header: 'Waiting since', render: (x) => <DateTime value={x.enqueued} /> },
            ]}
          />
        </>
      )}
    </section>
  )
}
