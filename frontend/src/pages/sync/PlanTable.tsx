// The dry-run plan: what a run would do now, grouped by action so the totals
// read first and the details after.
import { Alert, Badge, EmptyState } from '../../ui'
import type { PlanItem } from '../../api/generated/types'

const actionLabels: Record<string, string> = {
  read: 'Read',
  create: 'Create',
  adopt: 'Adopt',
  update: 'Update',
  comment: 'Comment',
  'comment-edit': 'Edit comment',
  'comment-delete': 'Delete comment',
  attach: 'Attach',
  'attachment-delete': 'Delete attachment',
  link: 'Link',
  unlink: 'Unlink',
  deleted: 'Deleted',
  delete: 'Delete',
  hold: 'Hold for review',
  error: 'Error',
}

const order = ['create', 'adopt', 'update', 'comment', 'comment-edit', 'comment-delete', 'attach', 'attachment-delete', 'link', 'unlink', 'deleted', 'delete', 'hold', 'error', 'read']

// rank places an action the agent adds later after the known ones, never
// before them.
const rank = (a: string) => (order.includes(a) ? order.indexOf(a) : order.length)

// stoppedAction is the action of the entry the agent ends a plan with when
// the dry run was stopped before it finished (out of time, or canceled):
// it says why and how far it got, and belongs to no side and no entity.
const stoppedAction = 'stopped'

const tone = (a: string) => (a === 'error' ? 'bad' : a === 'hold' ? 'warn' : a === 'create' ? 'good' : a === 'read' ? 'neutral' : 'info')

export function PlanTable({ items, sideName }: { items: PlanItem[]; sideName: (s: 'a' | 'b') => string }) {
  // A plan cut short is still a plan of what it got to; the entry saying
  // so is about the whole plan, so it is told above it, not counted or
  // listed among the items.
  const stop = items.find((i) => i.action === stoppedAction)
  const planned = items.filter((i) => i.action !== stoppedAction)
  const writes = planned.filter((i) => i.action !== 'read')
  const reads = planned.length - writes.length
  const notice = stop && (
    <Alert kind="warning" title="The dry run stopped before it finished: this plan is partial">
      <span data-testid="plan-stopped">{stop.detail || 'It did not say how far it got. Nothing was changed; plan again.'}</span>
    </Alert>
  )
  if (writes.length === 0) {
    if (stop) {
      return (
        <div className="plan">
          {notice}
          <p className="muted small">
            Of what it got to, a run would read {reads} {reads === 1 ? 'entity' : 'entities'} and change nothing. The rest was not planned.
          </p>
        </div>
      )
    }
    return (
      <EmptyState title="Nothing to do">
        A run now would read {reads} {reads === 1 ? 'entity' : 'entities'} and change nothing: both systems are in step.
      </EmptyState>
    )
  }
  const counts = new Map<string, number>()
  for (const i of planned) counts.set(i.action, (counts.get(i.action) ?? 0) + 1)
  const sorted = [...writes].sort((x, y) => rank(x.action) - rank(y.action))
  const shown = [...counts.keys()].sort((x, y) => rank(x) - rank(y))
  return (
    <div className="plan">
      {notice}
      <ul className="plan-totals" aria-label={stop ? 'Plan totals, of the items worked before the stop' : 'Plan totals'}>
        {shown.map((a) => (
          <li key={a}>
            <Badge tone={tone(a)}>
              {actionLabels[a] ?? a}: {counts.get(a)}
            </Badge>
          </li>
        ))}
      </ul>
      <div className="table-wrap">
        <table className="table">
          <caption className="sr-only">{stop ? 'What a run would do, for the items worked before the dry run stopped' : 'What a run would do'}</caption>
          <thead>
            <tr>
              <th scope="col">Action</th>
              <th scope="col">In</th>
              <th scope="col">Entity</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((i, n) => (
              <tr key={n}>
                <td>
                  <Badge tone={tone(i.action)}>{actionLabels[i.action] ?? i.action}</Badge>
                </td>
                <td>{i.side === 'a' || i.side === 'b' ? sideName(i.side) : <span className="muted">—</span>}</td>
                <td>
                  {i.key && <strong>{i.key}</strong>} {i.title ?? (i.key ? '' : i.entity)}
                </td>
                <td>{i.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  )
}
