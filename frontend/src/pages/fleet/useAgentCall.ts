import { useCallback, useEffect, useRef, useState } from 'react'
import { callAgent } from '../../api/bridge'
import type { Method, Params, Result } from '../../api/generated/methods'
import { useLatest } from '../../state/latest'

export type AgentCall<T> = { data: T | undefined; error: unknown; loading: boolean; reload: () => Promise<void> }

// useAgentCall calls one method on a named agent (not necessarily the
// current one) and calls again when the agent or the params change. Only
// the newest request's answer is applied (state/latest.ts). Unlike useCall
// it does not wait for the current agent: another agent's reach is its own.
export function useAgentCall<M extends Method>(agent: string, method: M, params?: Params<M>, skip = false): AgentCall<Result<M>> {
  const key = JSON.stringify(params ?? {})
  const latest = useLatest()
  const [data, setData] = useState<Result<M> | undefined>(undefined)
  const [error, setError] = useState<unknown>(null)
  const [loading, setLoading] = useState(!skip && !!agent)
  const off = skip || !agent
  const run = useCallback(async () => {
    const current = latest.begin()
    setLoading(true)
    try {
      const d = await callAgent(agent, method, JSON.parse(key) as Params<M>)
      if (current()) {
        setData(d)
        setError(null)
      }
    } catch (e) {
      if (current()) setError(e)
    } finally {
      if (current()) setLoading(false)
    }
  }, [agent, method, key, latest])
  const first = useRef(true)
  useEffect(() => {
    if (!first.current) setData(undefined)
    first.current = false
    if (off) {
      latest.invalidate()
      setLoading(false)
      return
    }
    void run()
    return () => latest.invalidate()
  }, [run, off, latest])
  return { data, error, loading, reload: run }
}
