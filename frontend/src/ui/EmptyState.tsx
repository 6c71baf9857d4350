import type { ReactNode } from 'react'

export type EmptyStateProps = {
  title: ReactNode
  // children says what to do next.
  children?: ReactNode
  action?: ReactNode
}

export function EmptyState({ title, children, action }: EmptyStateProps) {
  return (
    <section className="empty-state">
      <h2>{title}</h2>
      {children && <div className="empty-state-text">{children}</div>}
      {action && <div className="empty-state-action">{action}</div>}
    </section>
  )
}
