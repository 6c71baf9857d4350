// The one door from the UI to Go: the methods of bridge.App (docs/desktop-bridge.md),
// reached through window.go (Wails, or the browser-test harness's shim) and the
// Wails runtime's events. Pages import from here, never from wailsjs directly, so
// tests can swap the whole bridge with setBridge().
import type { Method, Params, Result } from './generated/methods'

export type Profile = { name: string; url: string; fingerprint: string }
export type Session = { username: string; role: 'admin' | 'operator' | 'viewer' | string; expiresAt: string }
export type ConnState =
  | 'disconnected'
  | 'connecting'
  | 'connected'
  | 'loggedIn'
  | 'sessionExpired'
  | 'fingerprintMismatch'
  | 'closed'
export type ConnStatus = {
  profile: string
  url: string
  fingerprint: string
  state: ConnState
  error: string
  session: Session | null
  // agent is what the agent called itself on connecting (lockstep-agent/1.2.0).
  agent?: string
}
export type ProbeResult = { url: string; fingerprint: string }
export type SavedFile = { path: string; size: number; sha256: string; cancelled: boolean }

// BridgeError is what every rejected bridge promise carries.
export type BridgeError = { kind: string; message: string }

export function isBridgeError(e: unknown): e is BridgeError {
  return typeof e === 'object' && e !== null && 'kind' in e && 'message' in e
}

// errorMessage turns anything a bridge call rejected with into one readable line.
export function errorMessage(e: unknown): string {
  if (isBridgeError(e)) return e.message
  if (e instanceof Error) return e.message
  if (typeof e === 'string') {
    try {
      const parsed = JSON.parse(e)
      if (isBridgeError(parsed)) return parsed.message
    } catch {
      /* a plain string */
    }
    return e
  }
  return String(e)
}

// errorKind returns the error's kind, or '' when it has none.
export function errorKind(e: unknown): string {
  if (isBridgeError(e)) return e.kind
  if (typeof e === 'string') {
    try {
      const parsed = JSON.parse(e)
      if (isBridgeError(parsed)) return parsed.kind
    } catch {
      return ''
    }
  }
  return ''
}

export interface Bridge {
  AppInfo(): Promise<{ name: string; version: string }>
  ListProfiles(): Promise<Profile[]>
  SaveProfile(p: Profile): Promise<Profile>
  DeleteProfile(name: string): Promise<void>
  ProbeAgent(url: string): Promise<ProbeResult>
  Connect(name: string): Promise<ConnStatus>
  ConnectAll(): Promise<ConnStatus[]>
  Agents(): Promise<ConnStatus[]>
  Disconnect(name: string): Promise<void>
  Status(): Promise<ConnStatus>
  Login(username: string, password: string): Promise<Session>
  Logout(): Promise<void>
  Call(method: string, params: unknown): Promise<unknown>
  CallAgent(name: string, method: string, params: unknown): Promise<unknown>
  SubscribeLogs(params: unknown): Promise<string>
  SubscribeEvents(types: string[]): Promise<string>
  SubscribeAgentEvents(name: string, types: string[]): Promise<string>
  Unsubscribe(id: string): Promise<void>
  SaveSupportPackage(id: string, defaultName: string): Promise<SavedFile>
  SaveTextFile(defaultName: string, content: string): Promise<string>
  OpenTextFile(title: string, pattern: string): Promise<string>
}

type Listener = (payload: any) => void
export interface Events {
  on(event: string, fn: Listener): () => void
}

declare global {
  interface Window {
    go?: { bridge?: { App?: Bridge } }
    runtime?: { EventsOnMultiple?: (name: string, cb: Listener, max: number) => () => void }
  }
}

const missing: BridgeError = { kind: 'not_connected', message: 'The desktop bridge is not available in this window.' }

const windowBridge: Bridge = new Proxy({} as Bridge, {
  get(_t, name: string) {
    return (...args: unknown[]) => {
      const b = window.go?.bridge?.App as Record<string, any> | undefined
      if (!b || typeof b[name] !== 'function') return Promise.reject(missing)
      return b[name](...args)
    }
  },
})

const windowEvents: Events = {
  on(event, fn) {
    const on = window.runtime?.EventsOnMultiple
    if (!on) return () => {}
    return on(event, fn, -1)
  },
}

let current: Bridge = windowBridge
let currentEvents: Events = windowEvents

// bridge returns the active bridge (the window's, or a test double).
export function bridge(): Bridge {
  return current
}

// events returns the active event source.
export function events(): Events {
  return currentEvents
}

// setBridge swaps the bridge and events, for tests; it returns a restore function.
export function setBridge(b: Bridge, e: Events): () => void {
  const prev = current
  const prevEvents = currentEvents
  current = b
  currentEvents = e
  return () => {
    current = prev
    currentEvents = prevEvents
  }
}

// call invokes one agent API method (shared/protocol), typed by the method
// table generated from it (api/generated/methods.ts). Params may be left out
// for methods that take none; the agent names any field that is missing.
export function call<M extends Method>(method: M, params?: Params<M>): Promise<Result<M>> {
  return current.Call(method, params ?? {}) as Promise<Result<M>>
}

// callAgent is call on the named agent, current or not (the fleet view).
export function callAgent<M extends Method>(agent: string, method: M, params?: Params<M>): Promise<Result<M>> {
  return current.CallAgent(agent, method, params ?? {}) as Promise<Result<M>>
}
