import type { ReactNode } from 'react'
import { Alert, type AlertKind } from '../../ui'
import { probeWords } from './probeWords'

// ReachProblem says in words why an agent could not be reached and what to
// try, with the Go error chain behind a disclosure: wherever the app dials
// an agent (adding one, checking a new key, signing in).
export function ReachProblem({ error, title = 'Could not reach the agent', kind = 'error', children }: { error: unknown; title?: string; kind?: AlertKind; children?: ReactNode }) {
  const words = probeWords(error)
  return (
    <Alert kind={kind} title={title}>
      <p data-testid="probe-problem">{words.problem}</p>
      <p>
        {words.tryThis}
        {children}
      </p>
      <details className="health-detail">
        <summary>Details</summary>
        <code>{words.detail}</code>
      </details>
    </Alert>
  )
}
