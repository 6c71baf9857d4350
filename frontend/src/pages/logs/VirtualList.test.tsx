import { act, fireEvent, render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { VirtualList } from './VirtualList'

function list(count: number) {
  return <VirtualList count={count} rowHeight={20} follow={false} label="Lines" overscan={2} renderRow={(i, s) => <div data-testid="row" style={{ top: s.top }}>{`row ${i}`}</div>} />
}

// scrollTo moves the list as the browser does: scrollTop, then a scroll event.
function scrollTo(top: number) {
  const box = screen.getByRole('log', { name: 'Lines' })
  Object.defineProperty(box, 'scrollTop', { configurable: true, writable: true, value: top })
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

  // Rows that take focus, as the live log's do.
  const focusable = (count: number, first = 0) => (
    <VirtualList
      count={count}
      rowHeight={20}
      follow={false}
      label="Lines"
      overscan={2}
      keyOf={(i) => first + i}
      indexOf={(k) => (k >= first && k < first + count ? k - first : -1)}
      renderRow={(i, r) => (
        <div data-testid="row" role="button" tabIndex={0} id={r.id} style={{ top: r.top }}>{`line ${first + i}`}</div>
      )}
    />
  )

  it('keeps focus on the line focused while the list scrolls away and back', () => {
    render(focusable(100_000))
    const line10 = screen.getByText('line 10')
    act(() => line10.focus())
    scrollTo(20 * 5000)
    expect(document.activeElement).toHaveTextContent('line 10')
    // The rows in view are there as before, the focused one out of view before them.
    const shown = screen.getAllByTestId('row').map((r) => r.textContent)
    expect(shown[0]).toBe('line 10')
    expect(shown[1]).toBe('line 4998')
    scrollTo(20 * 90_000)
    expect(document.activeElement).toHaveTextContent('line 10')
    scrollTo(0)
    expect(document.activeElement).toBe(line10)
    expect(screen.getAllByText('line 10')).toHaveLength(1)
    // Focus elsewhere in the list lets the line go out of view.
    act(() => screen.getByText('line 20').focus())
    scrollTo(20 * 5000)
    expect(screen.queryByText('line 10')).toBeNull()
    expect(document.activeElement).toHaveTextContent('line 20')
  })

  it('keeps focus on its line while the lines before it go', () => {
    const { rerender } = render(focusable(1000))
    scrollTo(20 * 300)
    const el = screen.getByText('line 310')
    act(() => el.focus())
    // The oldest lines leave (a full ring), so every row's index moves.
    for (const first of [1, 5, 40]) {
      rerender(focusable(1000, first))
      expect(document.activeElement).toBe(el)
      expect(el).toHaveTextContent('line 310')
    }
  })

  it('gives focus to the list when the focused line is gone', () => {
    const { rerender } = render(focusable(1000))
    act(() => screen.getByText('line 3').focus())
    rerender(focusable(1000, 4))
    expect(screen.queryByText('line 3')).toBeNull()
    expect(document.activeElement).toBe(screen.getByRole('log', { name: 'Lines' }))
  })

  it('tabs from the focused line to the next drawn one', async () => {
    const user = userEvent.setup()
    render(focusable(1000))
    act(() => screen.getByText('line 10').focus())
    scrollTo(20 * 500)
    await user.tab()
    expect(document.activeElement).toHaveTextContent('line 498')
    await user.tab({ shift: true })
    expect(document.activeElement).toHaveTextContent('line 10')
  })
})
