// The dry-run plan: what a run would do now, grouped by action so the totals
// read first and the details after.
import { Badge, EmptyState } from '../../ui'
import type { PlanItem } from '../../api/generated/types'

const actionLabels: Record<string, string> = {
  read: 'Read',
  create: 'Create',
  update: 'Update',
  comment: 'Comment',
  attach: 'Attach',
  link: 'Link',
  unlink: 'Unlink',
  hold: 'Hold for review',
  error: 'Error',
}

const order = ['create', 'update', 'comment', 'attach', 'link', 'unlink', 'hold', 'error', 'read']

const tone = (a: string) => (a === 'error' ? 'bad' : a === 'hold' ? 'warn' : a === 'create' ? 'good' : a === 'read' ? 'neutral' : 'info')

export function PlanTable({ items, sideName }: { items: PlanItem[]; sideName: (s: 'a' | 'b') => string }) {
  const writes = items.filter((i) => i.action !== 'read')
  if (writes.length === 0) {
    return (
      <EmptyState title="Nothing to do">
        A run now would read {items.length} {items.length === 1 ? 'entity' : 'entities'} and change nothing: both systems are in step.
      </EmptyState>
    )
  }
  const counts = new Map<string, number>()
  for (const i of items) counts.set(i.action, (counts.get(i.action) ?? 0) + 1)
  const sorted = [...writes].sort((x, y) => order.indexOf(x.action) - order.indexOf(y.action))
  return (
    <div className="plan">
      <ul className="plan-totals" aria-label="Plan totals">
        {order
          .filter((a) => counts.has(a))
          .map((a) => (
            <li key={a}>
              <Badge tone={tone(a)}>
                {actionLabels[a] ?? a}: {counts.get(a)}
              </Badge>
            </li>
          ))}
      </ul>
      <div className="table-wrap">
        <table className="table">
          <caption className="sr-only">What a run would do</caption>
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
                <td>{sideName(i.side)}</td>
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
