import { useState, type FormEvent } from 'react'
import { bridge, errorKind, errorMessage } from '../api/bridge'
import { useConnection } from '../state/session'
import { Alert, Button, Field } from '../ui'
import { ReachProblem } from './agents/ReachProblem'

// LoginPage signs in to the connected agent. It explains why it is shown:
// a fresh connection, an expired session, or a lockout.
export function LoginPage() {
  const { status, refresh } = useConnection()
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<{ kind: string; message: string } | null>(null)

  async function submit(e: FormEvent) {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      await bridge().Login(username, password)
      setPassword('')
      await refresh()
    } catch (err) {
      setError({ kind: errorKind(err), message: errorMessage(err) })
    } finally {
      setBusy(false)
    }
  }

  const reconnecting = status.state === 'connecting' || status.state === 'disconnected'
  return (
    <section className="login card" aria-labelledby="login-title">
      <h2 id="login-title">Sign in to {status.profile || 'the agent'}</h2>
      <p className="muted">{status.url}</p>
      {status.state === 'sessionExpired' && (
        <Alert kind="warning" title="Your session expired">
          Sessions end after 30 minutes without activity or 12 hours in total, and when your password changes. Sign in again to continue.
        </Alert>
      )}
      {reconnecting && !status.error && (
        <Alert kind="info" title="Connecting to the agent…">
          The app is reaching the agent; you can sign in as soon as it answers.
        </Alert>
      )}
      {reconnecting && status.error && (
        <ReachProblem error={status.error} kind="warning" title="The agent does not answer yet">
          {' '}The app keeps trying and you can sign in as soon as it answers.
        </ReachProblem>
      )}
      {error && (
        <Alert kind="error" title={loginErrorTitle(error.kind)}>
          {error.message}
          {error.kind === 'locked_out' && <p>Wait until the lockout ends, or ask an administrator to unlock the account on the Accounts page.</p>}
        </Alert>
      )}
      <form className="form" onSubmit={submit}>
        <Field label="Username" required>
          <input value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="username" autoFocus />
        </Field>
        <Field label="Password" required>
          <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" />
        </Field>
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={busy} disabled={!username || !password}>
            Sign in
          </Button>
        </div>
      </form>
    </section>
  )
}

function loginErrorTitle(kind: string): string {
  switch (kind) {
    case 'locked_out':
      return 'Account locked'
    case 'unauthorized':
      return 'Sign-in failed'
    case 'not_connected':
    case 'unavailable':
      return 'The agent is not reachable'
    default:
      return 'Could not sign in'
  }
}
