import type { ConnStatus } from '../api/bridge'
import { probeWords } from '../pages/agents/probeWords'

type Look = { tone: 'good' | 'warn' | 'bad' | 'idle'; text: string }

// describe says in words what the connection is doing; the header always shows it.
export function describe(s: ConnStatus): Look {
  const who = s.profile || s.url
  switch (s.state) {
    case 'loggedIn':
      return { tone: 'good', text: `Connected to ${who}` }
    case 'connected':
      return { tone: 'warn', text: `Connected to ${who} — sign in` }
    case 'connecting':
      return { tone: 'warn', text: `Connecting to ${who}…` }
    case 'disconnected':
      // agentclient waits between reconnect attempts in this state.
      return who ? { tone: 'bad', text: `Connection to ${who} lost — reconnecting` } : { tone: 'idle', text: 'Not connected' }
    case 'sessionExpired':
      return { tone: 'warn', text: `Session on ${who} expired — sign in again` }
    case 'fingerprintMismatch':
      return { tone: 'bad', text: `${who} presented a different key — not connected` }
    default:
      return { tone: 'idle', text: 'Not connected' }
  }
}

// stateWords says what the connection is doing where the agent is already
// named, as on its card on the agents page: one phrase for each state of the
// desktop's agent client.
export function stateWords(s: ConnStatus): Look {
  switch (s.state) {
    case 'loggedIn':
      return { tone: 'good', text: s.session?.username ? `Connected, signed in as ${s.session.username}` : 'Connected, signed in' }
    case 'connected':
      return { tone: 'warn', text: 'Connected, not signed in' }
    case 'connecting':
      return { tone: 'warn', text: 'Connecting…' }
    case 'disconnected':
      // agentclient waits between reconnect attempts in this state.
      return { tone: 'bad', text: 'Connection lost, reconnecting' }
    case 'sessionExpired':
      return { tone: 'warn', text: 'Session expired, sign in again' }
    case 'fingerprintMismatch':
      return { tone: 'bad', text: 'Refused: the agent presented a different key' }
    case 'closed':
      return { tone: 'idle', text: 'Disconnected' }
    default:
      return { tone: 'idle', text: 'Not connected' }
  }
}

export function ConnectionBadge({ status }: { status: ConnStatus }) {
  const look = describe(status)
  return (
    <div className={`conn conn-${look.tone}`} data-testid="conn-state" data-state={status.state} role="status" aria-live="polite">
      <span className="conn-dot" aria-hidden="true" />
      <span>{look.text}</span>
      {status.error && status.state !== 'loggedIn' && (
        // The reason in words; the error chain itself on hover.
        <span className="conn-detail" title={status.error}>
          ({probeWords(status.error).problem})
        </span>
      )}
    </div>
  )
}
