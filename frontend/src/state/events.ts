import { useEffect, useRef } from 'react'
import { bridge, events } from '../api/bridge'
import type { EventType, Events } from '../api/generated/methods'
import { useSession } from './session'

// AgentEvent is one agent event (apitype.EventNotification) of one of the
// types T; data is that type's payload (api/generated/methods.ts Events),
// so checking e.type narrows e.data.
export type AgentEvent<T extends EventType = EventType> = {
  [K in T]: { sub: string; seq: number; time: string; type: K; data: Events[K] }
}[T]

// useAgentEvents delivers the agent's events of the given types to handler
// while someone is logged in. onResync runs when the agent could not replay
// what was missed during a reconnect: reload what the page shows. The
// subscription survives reconnects (the agent client re-binds it).
export function useAgentEvents<T extends EventType>(types: readonly T[], handler: (e: AgentEvent<T>) => void, onResync?: () => void): void {
  const session = useSession()
  const loggedIn = session !== null
  const handlerRef = useRef(handler)
  const resyncRef = useRef(onResync)
  handlerRef.current = handler
  resyncRef.current = onResync
  const key = types.join(',')

  useEffect(() => {
    if (!loggedIn) return
    let sub: string | null = null
    let gone = false
    const offBatch = events().on('events:batch', (p: { sub: string; events: AgentEvent<T>[] }) => {
      if (!sub || p?.sub !== sub) return
      for (const e of p.events ?? []) handlerRef.current(e)
    })
    const offResync = events().on('events:resync', (p: { sub: string }) => {
      if (sub && p?.sub === sub) resyncRef.current?.()
    })
    bridge()
      .SubscribeEvents(key ? key.split(',') : [])
      .then((id) => {
        if (gone) void bridge().Unsubscribe(id).catch(() => {})
        else sub = id
      })
      .catch(() => {
        // Not subscribed: the page still works, it just does not refresh by itself.
      })
    return () => {
      gone = true
      offBatch()
      offResync()
      if (sub) void bridge().Unsubscribe(sub).catch(() => {})
    }
  }, [key, loggedIn])
}
