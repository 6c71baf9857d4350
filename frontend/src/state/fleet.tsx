import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react'
import { bridge, events, type ConnStatus } from '../api/bridge'
import { noticeOf } from '../pages/fleet/notices'
import { useNotify } from '../ui'
import type { AgentEvent } from './events'
import { sessionOf, useConnection } from './session'

// The events the fleet follows on every signed-in agent: its notifications,
// and what changes an agent's row (configuration, runs).
export const fleetEventTypes = ['HealthChanged', 'PairFailed', 'LicenseChanged', 'RunFinished', 'ConfigChanged']

// FleetEvent is one event of one agent: agent names the saved agent it came from.
export type FleetEvent = AgentEvent & { agent: string }

export type Fleet = {
  // agents is every saved agent with its connection, by name.
  agents: ConnStatus[]
  // ready says the bridge answered once: before, agents is empty because
  // nothing is known yet, not because none is saved.
  ready: boolean
  // events is what the agents said lately, newest first (at most maxEvents).
  events: FleetEvent[]
  // reload asks the bridge for the agents again (after adding or removing one).
  reload: () => Promise<void>
  // onEvent calls fn with each event as it arrives, from any agent; it
  // returns the function that stops it.
  onEvent: (fn: (e: FleetEvent) => void) => () => void
}

const maxEvents = 200
// At most this many unknown streams' batches are held while subscribing.
const maxEarlyStreams = 16
// retryEvery is how often agents that could not be reached are dialled again.
const retryEvery = 30_000

const FleetContext = createContext<Fleet>({ agents: [], ready: false, events: [], reload: async () => {}, onEvent: () => () => {} })

export function useFleet(): Fleet {
  return useContext(FleetContext)
}

// FleetProvider keeps a connection to every saved agent (the bridge dials
// them all at start, and those out of reach again every 30 s), follows each
// agent's state, and listens to the events of every agent someone is
// signed in to, so notifications arrive from all of them and say which
// agent they came from. Health and license changes of an agent other than
// the current one are also shown as a notice in the corner, one per agent,
// clearing by itself, with a link to that agent's row.
export function FleetProvider({ children }: { children: ReactNode }) {
  const [agents, setAgentList] = useState<ConnStatus[]>([])
  const [ready, setReady] = useState(false)
  const [recent, setRecent] = useState<FleetEvent[]>([])
  const listeners = useRef(new Set<(e: FleetEvent) => void>())
  const notify = useNotify()
  const { status } = useConnection()
  const currentRef = useRef(status.profile)
  currentRef.current = status.profile

  // Lists are asked for by Agents (at once) and ConnectAll (after the
  // dials): an answer older than one already applied is dropped. An answer
  // may also be older than agent:state events that arrived while it was
  // on its way (the bridge sends answers and events on separate paths): the
  // agents those events named keep the state the newest of them said. The
  // bridge sends agent:state, in order, for every change of an agent's
  // state, so a change the dropped part of an answer knew of still
  // arrives as an event.
  const asked = useRef(0)
  const applied = useRef(0)
  const heard = useRef(0) // agent:state events so far
  const lastHeard = useRef(new Map<string, { n: number; status: ConnStatus }>()) // agent -> its newest event
  const list = useCallback(async (ask: () => Promise<ConnStatus[]>) => {
    const n = ++asked.current
    const since = heard.current
    try {
      const got = (await ask()) ?? []
      if (n < applied.current) return
      applied.current = n
      setAgentList(
        got.map((a) => {
          const newer = lastHeard.current.get(a.profile)
          return newer && newer.n > since ? newer.status : a
        }),
      )
    } catch {
      // No bridge (a plain browser): no agents.
    }
    setReady(true)
  }, [])
  const reload = useCallback(() => list(() => bridge().Agents()), [list])

  // Every agent's state as it changes. An agent not listed yet (one just
  // added) has the list read again.
  const known = useRef(new Set<string>())
  known.current = new Set(agents.map((a) => a.profile))
  useEffect(() => {
    const off = events().on('agent:state', (s: ConnStatus) => {
      if (!s?.profile) return
      const status = { ...s, session: s.session ?? null }
      lastHeard.current.set(s.profile, { n: ++heard.current, status })
      if (!known.current.has(s.profile)) {
        void reload()
        return
      }
      setAgentList((list) => list.map((a) => (a.profile === s.profile ? status : a)))
    })
    // What is known at once (agents never dialled say closed), then every
    // agent dialled, which waits for the slowest of them.
    void reload()
    void list(() => bridge().ConnectAll())
    return off
  }, [reload, list])

  // Agents that could not be reached are dialled again now and then.
  const unreachable = agents.some((a) => a.state === 'disconnected' && !a.session)
  useEffect(() => {
    if (!unreachable) return
    const t = setInterval(() => void list(() => bridge().ConnectAll()), retryEvery)
    return () => clearInterval(t)
  }, [unreachable, list])

  // One event stream per signed-in agent. A stream survives its agent's
  // reconnects; it ends with a logout or a lost session, and a new one
  // starts with the next sign-in.
  const signedIn = agents
    .filter((a) => sessionOf(a) !== null)
    .map((a) => a.profile)
    .sort()
    .join('\n')
  // agent -> its stream: one object per subscription asked for, so an
  // answer finds out whether its stream is still the one wanted (a session
  // that ended and came back while it was asked for has a newer one).
  const subs = useRef(new Map<string, { id: string | null }>())
  const subAgent = useRef(new Map<string, string>()) // stream id -> agent
  // Batches of a stream whose id is not known yet: the bridge starts
  // delivering as soon as the agent accepted the subscription, which can be
  // before SubscribeAgentEvents' answer reaches this page. They are taken
  // when the id arrives (or dropped if it never does: another page's
  // stream). Bounded, so a page's own streams cannot grow it.
  const early = useRef(new Map<string, AgentEvent[]>())
  const deliver = useRef<(agent: string, events: AgentEvent[]) => void>(() => {})
  const subscribing = () => [...subs.current.values()].some((s) => s.id === null)
  // Once no subscription is under way, what was held is no stream of ours.
  const settled = () => {
    if (!subscribing()) early.current.clear()
  }
  useEffect(() => {
    const want = new Set(signedIn ? signedIn.split('\n') : [])
    for (const [agent, { id }] of subs.current) {
      if (want.has(agent)) continue
      subs.current.delete(agent)
      if (id) {
        subAgent.current.delete(id)
        void bridge()
          .Unsubscribe(id)
          .catch(() => {})
      }
    }
    for (const agent of want) {
      if (subs.current.has(agent)) continue
      const mine = { id: null as string | null }
      subs.current.set(agent, mine)
      bridge()
        .SubscribeAgentEvents(agent, fleetEventTypes)
        .then(
          (id) => {
            const waiting = early.current.get(id)
            early.current.delete(id)
            if (subs.current.get(agent) === mine) {
              mine.id = id
              subAgent.current.set(id, agent)
              if (waiting) deliver.current(agent, waiting)
            } else void bridge().Unsubscribe(id).catch(() => {})
            settled()
          },
          () => {
            // Not subscribed (the session ended meanwhile): the next
            // sign-in tries again. A newer subscription of the agent, asked
            // for since, stays.
            if (subs.current.get(agent) === mine) subs.current.delete(agent)
            settled()
          },
        )
    }
  }, [signedIn])
  useEffect(
    () => () => {
      for (const { id } of subs.current.values()) if (id) void bridge().Unsubscribe(id).catch(() => {})
      subs.current.clear()
      subAgent.current.clear()
    },
    [],
  )

  useEffect(() => {
    deliver.current = (agent: string, events: AgentEvent[]) => {
      const got = events.map((e) => ({ ...e, agent }))
      if (!got.length) return
      setRecent((r) => [...got.reverse(), ...r].slice(0, maxEvents))
      for (const e of got) {
        for (const fn of listeners.current) fn(e)
        // The current agent's pages say what goes wrong there; another
        // agent's news is one notice per agent that clears by itself (a
        // fleet of many would otherwise pile up errors to dismiss) and
        // leads to its row on the fleet page.
        const notice = cornerNotice(e)
        if (notice && e.agent !== currentRef.current) {
          notify(notice.kind, notice.text, { group: `agent:${e.agent}`, sticky: false, action: { label: `See ${e.agent} in the fleet`, href: fleetRowHref(e.agent) } })
        }
      }
    }
    const off = events().on('events:batch', (p: { sub: string; profile?: string; events: AgentEvent[] }) => {
      if (!p?.sub) return
      const agent = subAgent.current.get(p.sub)
      if (agent) {
        deliver.current(agent, p.events ?? [])
        return
      }
      // Perhaps a stream of ours whose id has not arrived yet.
      if (!subscribing()) return
      if (!early.current.has(p.sub) && early.current.size >= maxEarlyStreams) return
      const kept = early.current.get(p.sub) ?? []
      early.current.set(p.sub, [...kept, ...(p.events ?? [])].slice(-maxEvents))
    })
    return off
  }, [notify])

  const onEvent = useCallback((fn: (e: FleetEvent) => void) => {
    listeners.current.add(fn)
    return () => void listeners.current.delete(fn)
  }, [])

  const value = useMemo(() => ({ agents, ready, events: recent, reload, onEvent }), [agents, ready, recent, reload, onEvent])
  return <FleetContext.Provider value={value}>{children}</FleetContext.Provider>
}

// fleetRowHref is the address of an agent's row on the fleet page.
export function fleetRowHref(agent: string): string {
  return `#/fleet/${encodeURIComponent(agent)}`
}

// cornerNotice is the notice shown for an event of an agent other than the
// current one: a process or system whose health changed, and license
// changes, in the fleet page's words with the agent's name first.
// Everything else waits on the fleet page, and so does a change the
// agent does not notify (HealthChanged.acknowledged: a system saved
// despite its failing connection test, its failure and its end).
export function cornerNotice(e: FleetEvent): { kind: 'info' | 'success' | 'error'; text: string } | null {
  if (e.type !== 'HealthChanged' && e.type !== 'LicenseChanged') return null
  if (e.type === 'HealthChanged' && (e.data as { acknowledged?: boolean } | undefined)?.acknowledged) return null
  const n = noticeOf(e, () => undefined)
  if (!n) return null
  return { kind: n.tone === 'good' ? 'success' : n.tone === 'bad' ? 'error' : 'info', text: `${e.agent}: ${n.text}` }
}
