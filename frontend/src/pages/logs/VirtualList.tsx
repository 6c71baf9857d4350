import { Fragment, useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react'

export type VirtualListProps = {
  count: number
  rowHeight: number
  // renderRow draws row index; its element must carry no key (the list
  // keys each row by its slot).
  renderRow: (index: number, style: { top: number; height: number }) => ReactNode
  // follow keeps the view pinned to the newest row while the user has not
  // scrolled up.
  follow: boolean
  label: string
  overscan?: number
}

// VirtualList draws only the rows in view (fixed row height), so 100,000
// lines cost as much to render as forty. Rows are recycled: a row that
// scrolls out of view is the element drawn for one that comes in, so
// scrolling changes a few elements' text and place instead of removing and
// creating elements (make bench-ui counts them).
export function VirtualList({ count, rowHeight, renderRow, follow, label, overscan = 10 }: VirtualListProps) {
  const box = useRef<HTMLDivElement>(null)
  const [scrollTop, setScrollTop] = useState(0)
  const [height, setHeight] = useState(600)
  const atBottom = useRef(true)
  // slots maps each row in view to its slot, the key of its element.
  const slots = useRef(new Map<number, number>())
  const nextSlot = useRef(0)

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
    if (!el) return
    // A list that fits its view (emptied by Clear, say) is at its bottom, so
    // it follows new rows again; the scroll event its shrinking fires comes
    // a frame later, and rows arriving first would find it not following.
    if (count * rowHeight <= el.clientHeight) atBottom.current = true
    if (!follow || !atBottom.current) return
    const bottom = Math.max(0, count * rowHeight - el.clientHeight)
    el.scrollTop = bottom
    setScrollTop(bottom)
  }, [count, follow, rowHeight])

  // Pinned to the newest row, the window is the bottom one already, before
  // the layout effect scrolls there: drawn once, not first where the list
  // was and then again where it goes.
  const top = follow && atBottom.current ? Math.max(0, count * rowHeight - height) : scrollTop
  const start = Math.max(0, Math.floor(top / rowHeight) - overscan)
  const end = Math.min(count, Math.ceil((top + height) / rowHeight) + overscan)
  // A row still in view keeps its slot; a row coming into view takes the
  // slot of one that left, in the order they had, so the elements stay in
  // their order when the whole window changes. There are never more slots
  // than rows once in view together, and drawing the same window twice gives
  // the same keys.
  const prev = slots.current
  const now = new Map<number, number>()
  const free: number[] = []
  for (const [i, slot] of prev) if (i < start || i >= end) free.push(slot)
  const rows: ReactNode[] = []
  for (let i = start; i < end; i++) {
    let slot = prev.get(i)
    if (slot === undefined) slot = free.shift() ?? nextSlot.current++
    now.set(i, slot)
    rows.push(<Fragment key={slot}>{renderRow(i, { top: i * rowHeight, height: rowHeight })}</Fragment>)
  }
  slots.current = now

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
