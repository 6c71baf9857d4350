import { useEffect, useRef } from 'react'
import { bridge, events } from '../api/bridge'
import { useSession } from './session'

// AgentEvent is one agent event (apitype.EventNotification); data is the
// type's payload, e.g. {kind, id, action, actor} for ConfigChanged.
export type AgentEvent<D = any> = { sub: string; seq: number; time: string; type: string; data?: D }

// useAgentEvents delivers the agent's events of the given types to handler
// while someone is logged in. onResync runs when the agent could not replay
// what was missed during a reconnect: reload what the page shows. The
// subscription survives reconnects (the agent client re-binds it).
export function useAgentEvents(types: string[], handler: (e: AgentEvent) => void, onResync?: () => void): void {
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
    const offBatch = events().on('events:batch', (p: { sub: string; events: AgentEvent[] }) => {
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
