import { useEffect, useRef, useState, type RefObject } from 'react'
import { count } from '../../ui'
import type { Bucket } from './chart'

type Series = { key: 'runs' | 'changes' | 'errors'; label: string; cls: string }

// One of each series, for counts read out: 1 run, 2 runs.
const one: Record<Series['key'], string> = { runs: 'run', changes: 'change', errors: 'error' }

// BarChart is a small grouped bar chart in SVG: no chart library, colours
// from the theme. It is drawn at the width its card gives it, one SVG unit
// a CSS pixel, so its labels keep their 12 px however wide the card is (a
// fixed viewBox scaled them down to 6 px in a narrow card).
export function BarChart({ buckets, step, series, title }: { buckets: Bucket[]; step: number; series: Series[]; title: string }) {
  const [ref, measured] = useWidth<HTMLElement>()
  const w = Math.max(240, measured || 600)
  const h = 160
  const pad = { l: 34, r: 6, t: 10, b: 22 }
  const max = Math.max(1, ...buckets.flatMap((b) => series.map((s) => b[s.key])))
  const bw = (w - pad.l - pad.r) / Math.max(1, buckets.length)
  const sw = (bw - 2) / series.length
  const y = (v: number) => pad.t + (h - pad.t - pad.b) * (1 - v / max)
  const label = (t: number) => {
    const d = new Date(t)
    return step >= 86400e3 ? d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' }) : d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false })
  }
  const total = (k: Series['key']) => buckets.reduce((a, b) => a + b[k], 0)
  // A time label every 70 px or so, so they never run into each other.
  const every = Math.max(1, Math.ceil(70 / Math.max(1, bw)))
  return (
    <figure className="chart-figure" style={{ margin: 0 }} ref={ref}>
      <svg className="chart" viewBox={`0 0 ${w} ${h}`} width={w} height={h} role="img" aria-label={`${title}: ${series.map((s) => count(total(s.key), one[s.key])).join(', ')}`}>
        <line className="axis" x1={pad.l} x2={w - pad.r} y1={h - pad.b} y2={h - pad.b} />
        <text x={pad.l - 4} y={y(max) + 4} textAnchor="end">
          {max}
        </text>
        <text x={pad.l - 4} y={h - pad.b} textAnchor="end">
          0
        </text>
        {buckets.map((b, i) =>
          series.map((s, j) => {
            const v = b[s.key]
            if (!v) return null
            return (
              <rect key={`${i}-${s.key}`} className={s.cls} x={pad.l + i * bw + 1 + j * sw} y={y(v)} width={Math.max(1, sw - 1)} height={h - pad.b - y(v)}>
                <title>{`${label(b.start)}: ${count(v, one[s.key])}`}</title>
              </rect>
            )
          }),
        )}
        {buckets.map((b, i) =>
          i % every === 0 ? (
            <text key={i} x={pad.l + i * bw} y={h - 6}>
              {label(b.start)}
            </text>
          ) : null,
        )}
      </svg>
      <figcaption className="legend">
        {series.map((s) => (
          <span key={s.key}>
            <i className={`${s.cls}-bg`} />
            {s.label}: {total(s.key)}
          </span>
        ))}
      </figcaption>
    </figure>
  )
}

// useWidth follows an element's content width in CSS pixels (0 until it is
// known, and where ResizeObserver is missing).
function useWidth<T extends HTMLElement>(): [RefObject<T | null>, number] {
  const ref = useRef<T>(null)
  const [width, setWidth] = useState(0)
  useEffect(() => {
    const el = ref.current
    if (!el || typeof ResizeObserver === 'undefined') return
    const ro = new ResizeObserver((entries) => {
      const w = Math.floor(entries[0]?.contentRect.width ?? 0)
      if (w > 0) setWidth(w)
    })
    ro.observe(el)
    return () => ro.disconnect()
  }, [])
  return [ref, width]
}
