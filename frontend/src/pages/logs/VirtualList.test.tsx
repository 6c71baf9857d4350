import { fireEvent, render, screen } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { VirtualList } from './VirtualList'

function list(count: number) {
  return <VirtualList count={count} rowHeight={20} follow={false} label="Lines" overscan={2} renderRow={(i, s) => <div data-testid="row" style={{ top: s.top }}>{`row ${i}`}</div>} />
}

// scrollTo moves the list as the browser does: scrollTop, then a scroll event.
function scrollTo(top: number) {
  const box = screen.getByRole('log', { name: 'Lines' })
  Object.defineProperty(box, 'scrollTop', { configurable: true, value: top })
  fireEvent.scroll(box)
}

describe('VirtualList', () => {
  it('draws only the rows in view, in order', () => {
    render(list(100_000))
    const rows = screen.getAllByTestId('row')
    // 600 px (the height before any measure) of 20 px rows, and 2 more each side at most.
    expect(rows.length).toBeLessThanOrEqual(32)
    expect(rows[0]).toHaveTextContent('row 0')
    scrollTo(20 * 5000)
    const shown = screen.getAllByTestId('row').map((r) => r.textContent)
    expect(shown[0]).toBe('row 4998')
    expect(shown).toEqual([...shown].sort((a, b) => Number(a.split(' ')[1]) - Number(b.split(' ')[1])))
  })

  it('reuses the elements of rows that scroll out for rows that come in', () => {
    render(list(100_000))
    // Away from the top, where the window is as tall as it gets.
    scrollTo(20 * 100)
    const before = new Set(screen.getAllByTestId('row'))
    for (const top of [20 * 3, 20 * 40, 20 * 90_000, 20 * 7]) {
      scrollTo(top)
      for (const el of screen.getAllByTestId('row')) expect(before.has(el)).toBe(true)
    }
    expect(screen.getAllByTestId('row')[0]).toHaveTextContent('row 5')
  })

  it('follows new rows again once emptied, without waiting for a scroll event', () => {
    const follow = (count: number) => <VirtualList count={count} rowHeight={20} follow label="Lines" renderRow={(i, s) => <div data-testid="row" style={{ top: s.top }}>{`row ${i}`}</div>} />
    let count = 1000
    const { rerender } = render(follow(count))
    const box = screen.getByRole('log', { name: 'Lines' })
    Object.defineProperty(box, 'clientHeight', { configurable: true, value: 600 })
    Object.defineProperty(box, 'scrollHeight', { configurable: true, get: () => count * 20 })
    Object.defineProperty(box, 'scrollTop', { configurable: true, writable: true, value: 100 })
    fireEvent.scroll(box) // scrolled up: it stops following
    rerender(follow((count = 1001)))
    expect(box.scrollTop).toBe(100)
    // Cleared, and new rows before the browser's scroll event for the clearing.
    rerender(follow((count = 0)))
    rerender(follow((count = 1000)))
    expect(box.scrollTop).toBe(1000 * 20 - 600)
  })
})
