import { Fragment, useEffect, useId, useLayoutEffect, useRef, useState, type ReactNode } from 'react'

export type VirtualListProps = {
  count: number
  rowHeight: number
  // keyOf names the row at an index by what it shows (a log line's sequence
  // number): a name that stays with the line while lines before it come and
  // go. indexOf finds a name's row again, -1 once it is gone. Without them
  // a row is named by its index.
  keyOf?: (index: number) => number
  indexOf?: (key: number) => number
  // renderRow draws row index; its element must carry no key (the list
  // keys each row by its slot) and must carry id (by which the list knows
  // the row in focus).
  renderRow: (index: number, row: { top: number; height: number; id: string }) => ReactNode
  // follow keeps the view pinned to the newest row while the user has not
  // scrolled up.
  follow: boolean
  label: string
  overscan?: number
}

const same = (i: number) => i

// VirtualList draws only the rows in view (fixed row height), so 100,000
// lines cost as much to render as forty. Rows are recycled: a row that
// scrolls out of view is the element drawn for one that comes in, so
// scrolling changes a few elements' text and place instead of removing and
// creating elements (make bench-ui counts them). An element stays with its
// line while the line is drawn, whatever its index becomes; and the row in
// focus stays drawn, out of view too, as a browser keeps focus on an
// element scrolled away: the focus ring and a screen reader stay on the
// line the user chose, never on another line drawn in its element.
export function VirtualList({ count, rowHeight, keyOf = same, indexOf = same, renderRow, follow, label, overscan = 10 }: VirtualListProps) {
  const box = useRef<HTMLDivElement>(null)
  const [scrollTop, setScrollTop] = useState(0)
  const [height, setHeight] = useState(600)
  const atBottom = useRef(true)
  // slots maps each row drawn, by its key, to its slot, the key of its element.
  const slots = useRef(new Map<number, number>())
  const nextSlot = useRef(0)
  // focused is the key of the row in focus, if one is.
  const focused = useRef<number | null>(null)
  const idPrefix = useId() + 'row-'

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

  // A row in focus whose line is gone (pushed out of the ring, filtered
  // out, cleared) took the focus away with its element: the list itself
  // takes it, so the keyboard stays in the list.
  useLayoutEffect(() => {
    if (focused.current === null || indexOf(focused.current) >= 0) return
    focused.current = null
    const active = document.activeElement
    if (!active || active === document.body) box.current?.focus({ preventScroll: true })
  })

  // Pinned to the newest row, the window is the bottom one already, before
  // the layout effect scrolls there: drawn once, not first where the list
  // was and then again where it goes.
  const top = follow && atBottom.current ? Math.max(0, count * rowHeight - height) : scrollTop
  const start = Math.max(0, Math.floor(top / rowHeight) - overscan)
  const end = Math.min(count, Math.ceil((top + height) / rowHeight) + overscan)
  // The rows drawn: those in view, and the row in focus where it is, before
  // or after them, when it is out of view.
  const fk = focused.current
  let held = fk === null ? -1 : indexOf(fk)
  // The element of a focused line that is gone is not drawn again for
  // another line, which would take the focus with it: it goes.
  const dropped = fk !== null && held < 0 ? slots.current.get(fk) : undefined
  if (held >= start && held < end) held = -1
  const drawn: number[] = []
  if (held >= 0 && held < start) drawn.push(held)
  for (let i = start; i < end; i++) drawn.push(i)
  if (held >= end) drawn.push(held)
  // A row still drawn keeps its slot; a row coming into view takes the slot
  // of one that left, in the order they had, so the elements stay in their
  // order when the whole window changes. There are never more slots than
  // rows once drawn together, and drawing the same rows twice gives the
  // same keys.
  const prev = slots.current
  const keys = drawn.map((i) => keyOf(i))
  const kept = new Set<number>()
  for (const k of keys) {
    const slot = prev.get(k)
    if (slot !== undefined) kept.add(slot)
  }
  const free: number[] = []
  for (const slot of prev.values()) if (!kept.has(slot) && slot !== dropped) free.push(slot)
  const now = new Map<number, number>()
  const rows: ReactNode[] = []
  drawn.forEach((i, n) => {
    const k = keys[n]
    const slot = prev.get(k) ?? free.shift() ?? nextSlot.current++
    now.set(k, slot)
    rows.push(<Fragment key={slot}>{renderRow(i, { top: i * rowHeight, height: rowHeight, id: idPrefix + k })}</Fragment>)
  })
  slots.current = now

  return (
    <div
      ref={box}
      className="log-view"
      role="log"
      aria-label={label}
      tabIndex={0}
      onFocus={(e) => {
        const id = e.target.id
        focused.current = id.startsWith(idPrefix) ? Number(id.slice(idPrefix.length)) : null
      }}
      onBlur={(e) => {
        // Focus gone elsewhere; not a row removed with its line (the layout
        // effect above sees to that).
        if (e.target.isConnected && !e.currentTarget.contains(e.relatedTarget as Node | null)) focused.current = null
      }}
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
