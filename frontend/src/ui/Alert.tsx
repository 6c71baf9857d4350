import type { ReactNode } from 'react'

export type AlertKind = 'error' | 'warning' | 'info' | 'success'

// Alert is an inline message box; errors and warnings are announced.
export function Alert({ kind = 'info', title, children, actions }: { kind?: AlertKind; title?: ReactNode; children?: ReactNode; actions?: ReactNode }) {
  return (
    <div className={`alert alert-${kind}`} role={kind === 'error' || kind === 'warning' ? 'alert' : 'status'}>
      {title && <strong className="alert-title">{title}</strong>}
      {children && <div className="alert-body">{children}</div>}
      {actions && <div className="alert-actions">{actions}</div>}
    </div>
  )
}
