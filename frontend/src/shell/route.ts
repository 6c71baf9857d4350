import { useEffect, useState } from 'react'

// The pages the shell knows. Routes live in the URL hash (#/systems) so the
// app needs no server routing under wails:// or the test harness.
export const pageIds = [
  'agents',
  'fleet',
  'dashboard',
  'systems',
  'processes',
  'pairs',
  'runs',
  'errors',
  'logs',
  'audit',
  'accounts',
  'license',
  'settings',
  'support',
] as const
export type PageId = (typeof pageIds)[number]

export function parseRoute(hash: string): PageId {
  const id = hash.replace(/^#\/?/, '').split(/[/?]/)[0]
  return (pageIds as readonly string[]).includes(id) ? (id as PageId) : 'agents'
}

export function navigate(id: PageId) {
  window.location.hash = `#/${id}`
}

export function useRoute(): PageId {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash))
  useEffect(() => {
    const on = () => setRoute(parseRoute(window.location.hash))
    window.addEventListener('hashchange', on)
    return () => window.removeEventListener('hashchange', on)
  }, [])
  return route
}

// useSubRoute is what follows the page in the hash: #/pairs/p1/a9 gives
// ['p1', 'a9'] (a page's own detail views).
export function useSubRoute(): string[] {
  const read = () => window.location.hash.replace(/^#\/?/, '').split('?')[0].split('/').slice(1).filter(Boolean).map(decodeURIComponent)
  const [parts, setParts] = useState(read)
  useEffect(() => {
    const on = () => setParts(read())
    window.addEventListener('hashchange', on)
    return () => window.removeEventListener('hashchange', on)
  }, [])
  return parts
}
