import { useCallback, useEffect, useRef, useState } from 'react'
import { errorKind } from '../api/bridge'
import { useOffline, useReconnects } from './session'

// connectionLost says whether a call failed only because the agent is out
// of reach: what was loaded before stays shown (the shell says it is stale).
export function connectionLost(e: unknown): boolean {
  return ['not_connected', 'unavailable', 'timeout', 'canceled'].includes(errorKind(e))
}

// unreachable is what a page that loads while the agent is out of reach
// shows at once, rather than waiting for a call that waits for the agent.
export const unreachable = { kind: 'not_connected', message: 'The agent is unreachable; this loads by itself when it is back.' }

// useOfflineRef tracks, for async code, whether the agent is out of reach.
export function useOfflineRef(): { current: boolean } {
  const offline = useOffline()
  const ref = useRef(offline)
  ref.current = offline
  return ref
}

// useOnReconnect calls fn each time the session comes back after the agent
// was unreachable (not on mount).
export function useOnReconnect(fn: () => void): void {
  const n = useReconnects()
  const fnRef = useRef(fn)
  fnRef.current = fn
  const seen = useRef(n)
  useEffect(() => {
    if (seen.current === n) return
    seen.current = n
    fnRef.current()
  }, [n])
}

// Latest hands out tickets for requests: only the newest ticket's answer may
// be applied. A page that filters or pages asks again whenever the filter
// changes; an answer to an older question (a slow unfiltered list arriving
// after the filtered one) must never overwrite what the newer one showed.
// Every page that loads by filter or page goes through this, via useAsync
// or usePaged below, so there is one place that decides.
export class Latest {
  private gen = 0
  // begin starts a request; the function it returns says whether that
  // request is still the newest (its answer may be applied).
  begin(): () => boolean {
    const mine = ++this.gen
    return () => mine === this.gen
  }
  // invalidate makes every request begun so far stale (unmount, reset).
  invalidate(): void {
    this.gen++
  }
}

// useLatest is a Latest that lives as long as the component.
export function useLatest(): Latest {
  const ref = useRef<Latest | null>(null)
  if (!ref.current) ref.current = new Latest()
  return ref.current
}

export type PageOf<T> = { items: T[]; cursor: string }

export type Paged<T> = {
  items: T[] | undefined
  cursor: string
  loading: boolean
  loadingMore: boolean
  error: unknown
  // more appends the next page (when cursor is set).
  more: () => Promise<void>
  // reload asks for the first page again; what is shown stays meanwhile.
  reload: () => Promise<void>
}

// usePaged loads the first page for filter (compared as JSON) whenever it
// changes, and more() appends the next one. Only the answer to the latest
// request is applied: a filter change makes answers still in flight for
// the previous filter (first pages and further pages alike) stale.
export function usePaged<T, F>(fetch: (filter: F, cursor: string) => Promise<PageOf<T>>, filter: F, opts: { skip?: boolean } = {}): Paged<T> {
  const key = JSON.stringify(filter ?? null)
  const latest = useLatest()
  const fetchRef = useRef(fetch)
  fetchRef.current = fetch
  const [items, setItems] = useState<T[] | undefined>(undefined)
  const [cursor, setCursor] = useState('')
  const [loading, setLoading] = useState(!opts.skip)
  const [loadingMore, setLoadingMore] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const cursorRef = useRef('')
  const itemsRef = useRef<T[] | undefined>(undefined)
  const offlineRef = useOfflineRef()
  itemsRef.current = items
  const skip = !!opts.skip

  const load = useCallback(
    async (more: boolean) => {
      const current = latest.begin()
      if (offlineRef.current) {
        if (itemsRef.current === undefined) setError(unreachable)
        setLoading(false)
        return
      }
      if (more) setLoadingMore(true)
      else setLoading(true)
      try {
        const page = await fetchRef.current(JSON.parse(key) as F, more ? cursorRef.current : '')
        if (!current()) return
        setItems((prev) => (more && prev ? [...prev, ...page.items] : page.items))
        cursorRef.current = page.cursor
        setCursor(page.cursor)
        setError(null)
      } catch (e) {
        if (current() && !(connectionLost(e) && itemsRef.current !== undefined)) setError(e)
      } finally {
        if (current()) {
          setLoading(false)
          setLoadingMore(false)
        }
      }
    },
    [key, latest],
  )

  useEffect(() => {
    if (skip) {
      latest.invalidate()
      setLoading(false)
      return
    }
    // A new filter's list replaces the old one: nothing of the old filter
    // stays on screen as if it matched.
    setItems(undefined)
    cursorRef.current = ''
    setCursor('')
    void load(false)
    return () => latest.invalidate()
  }, [load, skip, latest])

  const more = useCallback(() => (cursorRef.current ? load(true) : Promise.resolve()), [load])
  const reload = useCallback(() => load(false), [load])
  useOnReconnect(() => void reload())
  return { items, cursor, loading, loadingMore, error, more, reload }
}
