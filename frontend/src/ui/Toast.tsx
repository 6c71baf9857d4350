import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react'

export type NoticeKind = 'success' | 'error' | 'info'

export type NoticeOptions = {
  // group: a notice of a group already shown takes that one's place (the
  // newest message, how many it stands for), so a burst reads as one.
  group?: string
  // sticky: kept until dismissed. Errors are, unless this says false.
  sticky?: boolean
  // action: a link to where the notice is about, e.g. a row of a page.
  action?: { label: string; href: string }
}
export type Notice = { id: number; kind: NoticeKind; message: string; count: number; group?: string; action?: NoticeOptions['action'] }
export type Notify = (kind: NoticeKind, message: string, options?: NoticeOptions) => void

// Without a provider (a page rendered alone in a test) notices go nowhere.
const NotifyContext = createContext<Notify>(() => {})

// useNotify returns notify(kind, message, options?): a short message in the
// corner that an error keeps until dismissed and others clear after a few
// seconds.
export function useNotify(): Notify {
  return useContext(NotifyContext)
}

export function NotifyProvider({ children, timeoutMs = 5000 }: { children: ReactNode; timeoutMs?: number }) {
  const [notices, setNotices] = useState<Notice[]>([])
  const next = useRef(1)
  const timers = useRef(new Map<number, ReturnType<typeof setTimeout>>())
  const dismiss = useCallback((id: number) => {
    clearTimeout(timers.current.get(id))
    timers.current.delete(id)
    setNotices((n) => n.filter((x) => x.id !== id))
  }, [])
  const notify = useCallback<Notify>(
    (kind, message, options = {}) => {
      const id = next.current++
      setNotices((list) => {
        const grouped = options.group ? list.find((x) => x.group === options.group) : undefined
        if (grouped) {
          clearTimeout(timers.current.get(grouped.id))
          timers.current.delete(grouped.id)
        }
        const notice: Notice = { id, kind, message, count: (grouped?.count ?? 0) + 1, group: options.group, action: options.action }
        return [...list.filter((x) => x !== grouped).slice(-4), notice]
      })
      if (!(options.sticky ?? kind === 'error')) timers.current.set(id, setTimeout(() => dismiss(id), timeoutMs))
    },
    [dismiss, timeoutMs],
  )
  useEffect(() => {
    const pending = timers.current
    return () => {
      for (const t of pending.values()) clearTimeout(t)
      pending.clear()
    }
  }, [])
  const value = useMemo(() => notify, [notify])
  return (
    <NotifyContext.Provider value={value}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {notices.map((n) => (
          <div key={n.id} className={`toast toast-${n.kind}`} data-group={n.group}>
            <span>
              {n.message}
              {n.count > 1 && <span className="toast-more"> ({n.count - 1} more before it)</span>}
              {n.action && (
                <>
                  {' '}
                  <a href={n.action.href} className="toast-action" onClick={() => dismiss(n.id)}>
                    {n.action.label}
                  </a>
                </>
              )}
            </span>
            <button type="button" className="toast-close" aria-label="Dismiss" onClick={() => dismiss(n.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </NotifyContext.Provider>
  )
}
