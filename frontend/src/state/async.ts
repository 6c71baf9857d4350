import { useCallback, useEffect, useRef, useState } from 'react'
import { call } from '../api/bridge'
import type { Method, Params, Result } from '../api/generated/methods'
import { recall, remember, knownKey } from './known'
import { connectionLost, unreachable, useLatest, useOfflineRef, useOnReconnect } from './latest'
import { useConnection } from './session'

export type AsyncState<T> = {
  data: T | undefined
  error: unknown
  loading: boolean
  // reload runs the function again; the previous data stays shown meanwhile.
  reload: () => Promise<void>
  setData: (d: T | undefined) => void
}

// useAsync runs fn when deps change and keeps the latest result. Only the
// latest request's answer is applied (state/latest.ts): one that arrives
// after newer deps, a newer reload, or unmount is dropped, so a slow answer
// never overwrites a fresh one.
//
// With opts.keep (a key naming what fn reads, e.g. 'processes.list'), the
// answer is remembered for the agent and account (state/known.ts): opened
// while the agent is unreachable, the page shows the last answer instead
// of saying that nothing could be loaded.
export function useAsync<T>(fn: () => Promise<T>, deps: readonly unknown[], opts: { skip?: boolean; keep?: string } = {}): AsyncState<T> {
  const [data, setData] = useState<T | undefined>(undefined)
  const [error, setError] = useState<unknown>(null)
  const [loading, setLoading] = useState(!opts.skip)
  const latest = useLatest()
  const fnRef = useRef(fn)
  fnRef.current = fn
  const skip = !!opts.skip
  const first = useRef(true)
  const dataRef = useRef<T | undefined>(undefined)
  const offlineRef = useOfflineRef()
  dataRef.current = data
  const { status } = useConnection()
  const keep = opts.keep ? knownKey(status.profile, status.session?.username ?? '', `${opts.keep} ${JSON.stringify(deps)}`) : ''
  const keepRef = useRef(keep)
  keepRef.current = keep

  const run = useCallback(async () => {
    const current = latest.begin()
    if (offlineRef.current) {
      // No call now: it would wait for the agent. It runs when it is back.
      // Meanwhile the last answer known, if any.
      const known = keepRef.current ? recall<T>(keepRef.current) : undefined
      if (dataRef.current === undefined && known !== undefined) {
        setData(known)
        setError(null)
      } else if (dataRef.current === undefined) setError(unreachable)
      setLoading(false)
      return
    }
    setLoading(true)
    try {
      const d = await fnRef.current()
      if (current()) {
        setData(d)
        setError(null)
        if (keepRef.current) remember(keepRef.current, d)
      }
    } catch (e) {
      // Out of reach of the agent, what was loaded stays shown; the
      // shell says it is stale, and it reloads when the agent is back.
      if (current() && !(connectionLost(e) && dataRef.current !== undefined)) setError(e)
    } finally {
      if (current()) setLoading(false)
    }
  }, [latest])
  useOnReconnect(() => void run())

  useEffect(() => {
    if (skip) {
      setLoading(false)
      return
    }
    // Data for other deps (another process, another filter) is not shown
    // as if it were the answer to these.
    if (!first.current) setData(undefined)
    first.current = false
    void run()
    return () => latest.invalidate()
  }, [skip, run, ...deps])

  return { data, error, loading, reload: run, setData }
}

// useCall calls one agent method with params and re-calls when the params
// (compared as JSON) change.
export function useCall<M extends Method>(method: M, params?: Params<M>, opts: { skip?: boolean; keep?: string } = {}): AsyncState<Result<M>> {
  const key = JSON.stringify(params ?? {})
  return useAsync(() => call(method, JSON.parse(key) as Params<M>), [method, key], { keep: method, ...opts })
}
