import { useCallback, useEffect, useRef, useState } from 'react'
import { call } from '../api/bridge'

export type AsyncState<T> = {
  data: T | undefined
  error: unknown
  loading: boolean
  // reload runs the function again; the previous data stays shown meanwhile.
  reload: () => Promise<void>
  setData: (d: T | undefined) => void
}

// useAsync runs fn when deps change and keeps the latest result. A result
// that arrives after newer deps (or unmount) is dropped, so a slow answer
// never overwrites a fresh one.
export function useAsync<T>(fn: () => Promise<T>, deps: readonly unknown[], opts: { skip?: boolean } = {}): AsyncState<T> {
  const [data, setData] = useState<T | undefined>(undefined)
  const [error, setError] = useState<unknown>(null)
  const [loading, setLoading] = useState(!opts.skip)
  const gen = useRef(0)
  const fnRef = useRef(fn)
  fnRef.current = fn
  const skip = !!opts.skip

  const run = useCallback(async () => {
    const mine = ++gen.current
    setLoading(true)
    try {
      const d = await fnRef.current()
      if (gen.current === mine) {
        setData(d)
        setError(null)
      }
    } catch (e) {
      if (gen.current === mine) setError(e)
    } finally {
      if (gen.current === mine) setLoading(false)
    }
  }, [])

  useEffect(() => {
    if (skip) {
      setLoading(false)
      return
    }
    void run()
    return () => {
      gen.current++
    }
  }, [skip, run, ...deps])

  return { data, error, loading, reload: run, setData }
}

// useCall calls one agent method with params and re-calls when the params
// (compared as JSON) change.
export function useCall<R>(method: string, params: unknown = {}, opts: { skip?: boolean } = {}): AsyncState<R> {
  const key = JSON.stringify(params ?? {})
  return useAsync<R>(() => call<R>(method, JSON.parse(key)), [method, key], opts)
}
