import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react'

export type NoticeKind = 'success' | 'error' | 'info'
export type Notice = { id: number; kind: NoticeKind; message: string }
export type Notify = (kind: NoticeKind, message: string) => void

// Without a provider (a page rendered alone in a test) notices go nowhere.
const NotifyContext = createContext<Notify>(() => {})

// useNotify returns notify(kind, message): a short message in the corner
// that an error keeps until dismissed and others clear after a few seconds.
export function useNotify(): Notify {
  return useContext(NotifyContext)
}

export function NotifyProvider({ children, timeoutMs = 5000 }: { children: ReactNode; timeoutMs?: number }) {
  const [notices, setNotices] = useState<Notice[]>([])
  const next = useRef(1)
  const dismiss = useCallback((id: number) => setNotices((n) => n.filter((x) => x.id !== id)), [])
  const notify = useCallback<Notify>(
    (kind, message) => {
      const id = next.current++
      setNotices((n) => [...n.slice(-4), { id, kind, message }])
      if (kind !== 'error') setTimeout(() => dismiss(id), timeoutMs)
    },
    [dismiss, timeoutMs],
  )
  const value = useMemo(() => notify, [notify])
  return (
    <NotifyContext.Provider value={value}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {notices.map((n) => (
          <div key={n.id} className={`toast toast-${n.kind}`}>
            <span>{n.message}</span>
            <button type="button" className="toast-close" aria-label="Dismiss" onClick={() => dismiss(n.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </NotifyContext.Provider>
  )
}
