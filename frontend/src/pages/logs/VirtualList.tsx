import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react'

export type VirtualListProps = {
  count: number
  rowHeight: number
  renderRow: (index: number, style: { top: number; height: number }) => ReactNode
  // follow keeps the view pinned to the newest row while the user has not
  // scrolled up.
  follow: boolean
  label: string
  overscan?: number
}

// VirtualList draws only the rows in view (fixed row height), so 100,000
// lines cost as much to render as forty.
export function VirtualList({ count, rowHeight, renderRow, follow, label, overscan = 10 }: VirtualListProps) {
  const box = useRef<HTMLDivElement>(null)
  const [scrollTop, setScrollTop] = useState(0)
  const [height, setHeight] = useState(600)
  const atBottom = useRef(true)

  useEffect(() => {
    const el = box.current
    if (!el) return
    const measure = () => setHeight(el.clientHeight || 600)
    measure()
    if (typeof ResizeObserver === 'undefined') return
    const ro = new ResizeObserver(measure)
    ro.observe(el)
    return () => ro.disconnect()
  }, [])

  useLayoutEffect(() => {
    const el = box.current
    if (!el || !follow || !atBottom.current) return
    const bottom = Math.max(0, count * rowHeight - el.clientHeight)
    el.scrollTop = bottom
    setScrollTop(bottom)
  }, [count, follow, rowHeight])

  const start = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan)
  const end = Math.min(count, Math.ceil((scrollTop + height) / rowHeight) + overscan)
  const rows: ReactNode[] = []
  for (let i = start; i < end; i++) rows.push(renderRow(i, { top: i * rowHeight, height: rowHeight }))

  return (
    <div
      ref={box}
      className="log-view"
      role="log"
      aria-label={label}
      tabIndex={0}
      onScroll={(e) => {
        const el = e.currentTarget
        setScrollTop(el.scrollTop)
        atBottom.current = el.scrollTop + el.clientHeight >= el.scrollHeight - rowHeight * 2
      }}
    >
      <div style={{ height: count * rowHeight, position: 'relative' }}>{rows}</div>
    </div>
  )
}
