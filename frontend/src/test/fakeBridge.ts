import type { Bridge, ConnStatus, Events, Session } from '../api/bridge'
import { setBridge } from '../api/bridge'

type Handler = (params: any) => unknown

export type FakeBridge = {
  bridge: Bridge
  events: Events
  // calls records every Call(method, params) and CallAgent(agent, method,
  // params) in order; agent is set for the latter.
  calls: { method: string; params: any; agent?: string }[]
  // emit delivers a Wails event (conn:state, logs:batch, events:batch...).
  emit: (event: string, payload: unknown) => void
  // on replaces or adds the handler of one agent method; "agent:method"
  // answers CallAgent on that agent only.
  on: (method: string, h: Handler) => void
  // status is what Status() answers; set it and emit conn:state to change it.
  status: ConnStatus
  restore: () => void
}

export function loggedInStatus(role: Session['role'] = 'admin', over: Partial<ConnStatus> = {}): ConnStatus {
  return {
    profile: 'prod',
    url: 'wss://agent.example:7443',
    fingerprint: 'ab'.repeat(32),
    state: 'loggedIn',
    error: '',
    session: { username: 'ann', role, expiresAt: '2030-01-01T00:00:00Z' },
    ...over,
  }
}

// agentStatus is one saved agent's status as Agents and agent:state give
// it: signed in as an admin when loggedIn.
export function agentStatus(profile: string, state: ConnStatus['state'], over: Partial<ConnStatus> = {}): ConnStatus {
  const session = state === 'loggedIn' ? { username: 'ann', role: 'admin', expiresAt: '2030-01-01T00:00:00Z' } : null
  return { profile, url: `wss://${profile}.example:7443/v1/ws`, fingerprint: 'ab'.repeat(32), state, error: '', session, agent: 'lockstep-agent/1.2.0', ...over }
}

// fakeBridge installs a bridge double whose agent methods answer from
// handlers (an unknown method rejects with kind not_found), and whose other
// bridge methods can be overridden. It returns the double; call restore()
// (or let afterEach do it) to put the real one back.
export function fakeBridge(handlers: Record<string, Handler> = {}, overrides: Partial<Bridge> = {}, status?: ConnStatus): FakeBridge {
  const listeners = new Map<string, Set<(p: any) => void>>()
  const table = new Map(Object.entries(handlers))
  const fb = {} as FakeBridge
  fb.calls = []
  fb.status = status ?? loggedInStatus()
  let subs = 0
  const base: Bridge = {
    AppInfo: async () => ({ name: 'Lockstep', version: 'test' }),
    ListProfiles: async () => [],
    SaveProfile: async (p) => p,
    DeleteProfile: async () => {},
    ProbeAgent: async (url) => ({ url, fingerprint: 'ab'.repeat(32) }),
    Connect: async () => fb.status,
    ConnectAll: async () => (fb.status.profile ? [fb.status] : []),
    Agents: async () => (fb.status.profile ? [fb.status] : []),
    Disconnect: async () => {},
    Status: async () => fb.status,
    Login: async (username) => ({ username, role: 'admin', expiresAt: '2030-01-01T00:00:00Z' }),
    Logout: async () => {},
    Call: async (method, params) => {
      fb.calls.push({ method, params })
      const h = table.get(method)
      if (!h) throw { kind: 'not_found', message: `no fake for ${method}` }
      return h(params)
    },
    CallAgent: async (agent, method, params) => {
      fb.calls.push({ method, params, agent })
      const h = table.get(`${agent}:${method}`) ?? table.get(method)
      if (!h) throw { kind: 'not_found', message: `no fake for ${method} on ${agent}` }
      return h(params)
    },
    SubscribeLogs: async () => `logs-${++subs}`,
    SubscribeEvents: async () => `events-${++subs}`,
    SubscribeAgentEvents: async () => `events-${++subs}`,
    Unsubscribe: async () => {},
    SaveSupportPackage: async () => ({ path: '/tmp/support.zip', size: 0, sha256: '', cancelled: false }),
    SaveTextFile: async (name) => `/tmp/${name}`,
    OpenTextFile: async () => '',
  }
  fb.bridge = { ...base, ...overrides }
  fb.events = {
    on(event, fn) {
      let set = listeners.get(event)
      if (!set) listeners.set(event, (set = new Set()))
      set.add(fn)
      return () => set!.delete(fn)
    },
  }
  fb.emit = (event, payload) => {
    for (const fn of Array.from(listeners.get(event) ?? [])) fn(payload)
  }
  fb.on = (method, h) => table.set(method, h)
  fb.restore = setBridge(fb.bridge, fb.events)
  return fb
}

// Held is a bridge answer a test gives when it chooses: answers can then
// arrive in any order against the events the test emits, by hand.
export type Held<T> = { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void }

export function held<T>(): Held<T> {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}
