import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react'
import { bridge, events, type ConnStatus, type Session } from '../api/bridge'
import { can } from '../api/generated/roles'

const idle: ConnStatus = { profile: '', url: '', fingerprint: '', state: 'closed', error: '', session: null }

export type Connection = {
  status: ConnStatus
  // reconnects counts the times the session came back after the agent was
  // unreachable: pages reload what they show when it changes.
  reconnects: number
  // offlineSince is when a signed-in session lost its agent ('' while online).
  offlineSince: string
  // refresh asks the bridge for the status again (after Connect, Login...).
  refresh: () => Promise<ConnStatus>
  // apply takes the status a bridge call answers (Connect), without waiting
  // for conn:state: pass the call's promise as it is made,
  // apply(bridge().Connect(name)), so that an answer older than a
  // conn:state that arrived meanwhile is dropped. It resolves to the status
  // then current, and rejects as the call does.
  apply: (answer: Promise<ConnStatus>) => Promise<ConnStatus>
}

const ConnectionContext = createContext<Connection>({ status: idle, reconnects: 0, offlineSince: '', refresh: async () => idle, apply: async (a) => normalise(await a) })

// ConnectionProvider keeps the connection and session state as the bridge
// reports it: once at start, then on every conn:state event, and from the
// answers of calls that change it (Status, Connect).
//
// The bridge sends a call's answer and its events on separate paths, so an
// answer made before a conn:state can arrive after it. The bridge sends
// conn:state, in order, for every change of the current agent and its
// state; so an answer is taken only when no conn:state arrived while it was
// asked for, and otherwise the events already said as much or will.
export function ConnectionProvider({ children, initial }: { children: ReactNode; initial?: ConnStatus }) {
  const [status, setStatus] = useState<ConnStatus>(initial ?? idle)
  const [reconnects, setReconnects] = useState(0)
  const [offlineSince, setOfflineSince] = useState('')
  const heard = useRef(0) // conn:state events so far
  const latest = useRef(status) // the status last set, for answers dropped
  const set = useCallback((s: ConnStatus) => {
    latest.current = s
    setStatus(s)
  }, [])
  const apply = useCallback(
    async (answer: Promise<ConnStatus>) => {
      const since = heard.current
      const s = normalise(await answer)
      if (heard.current !== since) return latest.current
      set(s)
      return s
    },
    [set],
  )
  // A signed-in session whose agent went away, and its return.
  const offline = isOffline(status)
  useEffect(() => {
    if (offline) setOfflineSince((t) => t || new Date().toISOString())
    else
      setOfflineSince((t) => {
        if (t && status.state === 'loggedIn') setReconnects((n) => n + 1)
        return ''
      })
  }, [offline, status.state])
  const refresh = useCallback(async () => {
    try {
      return await apply(bridge().Status())
    } catch {
      return idle
    }
  }, [apply])
  useEffect(() => {
    const off = events().on('conn:state', (s: ConnStatus) => {
      heard.current++
      set(normalise(s))
    })
    void refresh()
    return off
  }, [set, refresh])
  const value = useMemo(() => ({ status, reconnects, offlineSince, refresh, apply }), [status, reconnects, offlineSince, refresh, apply])
  return <ConnectionContext.Provider value={value}>{children}</ConnectionContext.Provider>
}

function normalise(s: ConnStatus | null | undefined): ConnStatus {
  if (!s) return idle
  return { ...idle, ...s, session: s.session ?? null }
}

export function useConnection(): Connection {
  return useContext(ConnectionContext)
}

// sessionOf is the logged-in account, or null. The session outlives a
// dropped connection: the agent client resumes it when it reconnects, so
// pages stay put while the header says "reconnecting".
export function sessionOf(s: ConnStatus): Session | null {
  switch (s.state) {
    case 'loggedIn':
    case 'connecting':
    case 'disconnected':
      return s.session
    default:
      return null
  }
}

// isOffline says whether a signed-in session has lost its agent: the
// agent client is reconnecting and will resume the session by itself.
export function isOffline(s: ConnStatus): boolean {
  return sessionOf(s) !== null && s.state !== 'loggedIn'
}

// useOffline says whether the agent is unreachable while signed in: what
// pages show is what was last loaded, and nothing that needs the agent works.
export function useOffline(): boolean {
  return isOffline(useConnection().status)
}

// useReconnects changes each time the session comes back after the agent
// was unreachable.
export function useReconnects(): number {
  return useConnection().reconnects
}

// useSession is the logged-in account, or null.
export function useSession(): Session | null {
  return sessionOf(useConnection().status)
}

// useRole is the logged-in account's role, or null.
export function useRole(): string | null {
  return useSession()?.role ?? null
}

// useCan says whether the logged-in account may call method.
export function useCan(method: string): boolean {
  return can(useRole(), method)
}

// isLive says whether the state is one the agent client is (or will soon be)
// connected in: everything but closed and a refused fingerprint.
export function isLive(s: ConnStatus): boolean {
  return s.profile !== '' && s.state !== 'closed' && s.state !== 'fingerprintMismatch'
}

export { can }
