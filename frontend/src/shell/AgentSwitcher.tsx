import { bridge, errorKind, errorMessage, type ConnStatus } from '../api/bridge'
import { useFleet } from '../state/fleet'
import { useConnection } from '../state/session'
import { useNotify } from '../ui'
import { navigate } from './route'

const stateNote: Record<string, string> = {
  loggedIn: '',
  connected: ' (sign in)',
  sessionExpired: ' (sign in)',
  connecting: ' (connecting)',
  disconnected: ' (unreachable)',
  fingerprintMismatch: ' (key refused)',
  closed: ' (not connected)',
}

// AgentSwitcher picks the agent the pages show, among the saved ones. Each
// agent keeps its own connection and session, so switching back and forth
// asks for no new sign-in; it shows only when there is more than one agent.
export function AgentSwitcher() {
  const { agents } = useFleet()
  const { status, apply, refresh } = useConnection()
  const notify = useNotify()
  if (agents.length < 2) return null
  const current = agents.some((a) => a.profile === status.profile) ? status.profile : ''

  async function pick(name: string) {
    try {
      await apply(bridge().Connect(name))
    } catch (e) {
      await refresh()
      if (errorKind(e) === 'fingerprint_mismatch') navigate('agents')
      else notify('error', `Could not connect to ${name}: ${errorMessage(e)}`)
    }
  }

  return (
    <select className="agent-switch" aria-label="Current agent" value={current} onChange={(e) => void pick(e.target.value)} data-testid="agent-switch">
      {!current && (
        <option value="" disabled>
          Choose an agent
        </option>
      )}
      {agents.map((a: ConnStatus) => (
        <option key={a.profile} value={a.profile}>
          {a.profile}
          {stateNote[a.state] ?? ''}
        </option>
      ))}
    </select>
  )
}
