import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ConnectionProvider } from '../../state/session'
import { fakeBridge, type FakeBridge } from '../../test/fakeBridge'
import { LogsPage } from './LogsPage'
import type { LogLine } from './store'

let fb: FakeBridge | undefined
afterEach(() => {
  fb?.restore()
  fb = undefined
})

function batch(from: number, n: number, dropped = 0) {
  const lines: LogLine[] = []
  for (let i = from; i < from + n; i++) lines.push({ time: '2030-01-01T00:00:00Z', level: i % 10 === 0 ? 'error' : 'info', component: 'syncer', message: `msg ${i}`, fields: { process: i % 2 ? 'helpdesk' : 'eng' } })
  return { sub: 'logs-1', lines, dropped }
}

// nextFrame waits for the page to draw what arrived: it renders new lines
// once an animation frame.
const nextFrame = () => act(() => new Promise<void>((r) => requestAnimationFrame(() => r())))

async function setup(capacity?: number) {
  const save = vi.fn(async (name: string, _content: string) => `/tmp/${name}`)
  fb = fakeBridge({}, { SubscribeLogs: async () => 'logs-1', SaveTextFile: save })
  render(
    <ConnectionProvider>
      <LogsPage capacity={capacity} />
    </ConnectionProvider>,
  )
  await waitFor(() => expect(screen.getByTestId('log-status')).toBeInTheDocument())
  await act(async () => {})
  return save
}

describe('LogsPage', () => {
  it('renders only a window of 100k lines and shows dropped counts', async () => {
    await setup()
    act(() => {
      for (let i = 0; i < 100_000; i += 500) fb!.emit('logs:batch', batch(i, 500, i === 0 ? 42 : 0))
    })
    await nextFrame()
    expect(screen.getByTestId('log-status')).toHaveTextContent('Showing 100,000 of 100,000')
    expect(screen.getByTestId('log-dropped')).toHaveTextContent('42')
    const rows = screen.getAllByTestId('log-row')
    expect(rows.length).toBeGreaterThan(0)
    expect(rows.length).toBeLessThan(100)
  })

  it('counts lines pushed out of the ring', async () => {
    await setup(100)
    act(() => fb!.emit('logs:batch', batch(0, 150)))
    await nextFrame()
    expect(screen.getByTestId('log-evicted')).toHaveTextContent('Discarded (over 100 kept): 50')
  })

  it('holds lines while paused and adds them on resume', async () => {
    const user = userEvent.setup()
    await setup()
    act(() => fb!.emit('logs:batch', batch(0, 10)))
    await nextFrame()
    await user.click(screen.getByRole('button', { name: 'Pause' }))
    act(() => fb!.emit('logs:batch', batch(10, 5)))
    await nextFrame()
    expect(screen.getByTestId('log-status')).toHaveTextContent('Showing 10 of 10')
    await user.click(screen.getByRole('button', { name: 'Resume (5 waiting)' }))
    expect(screen.getByTestId('log-status')).toHaveTextContent('Showing 15 of 15')
  })

  it('filters by level and process and exports what matches', async () => {
    const save = await setup()
    act(() => fb!.emit('logs:batch', batch(0, 40)))
    await nextFrame()
    fireEvent.change(screen.getByLabelText('Level'), { target: { value: 'error' } })
    expect(screen.getByTestId('log-status')).toHaveTextContent('Showing 4 of 40')
    fireEvent.change(screen.getByLabelText('Level'), { target: { value: '' } })
    fireEvent.change(screen.getByLabelText('Process'), { target: { value: 'helpdesk' } })
    expect(screen.getByTestId('log-status')).toHaveTextContent('Showing 20 of 40')
    fireEvent.click(screen.getByRole('button', { name: 'Export…' }))
    await waitFor(() => expect(save).toHaveBeenCalled())
    const content = save.mock.calls[0][1]
    const exported = content.trim().split('\n').map((l) => JSON.parse(l))
    expect(exported).toHaveLength(20)
    expect(exported.every((l: LogLine) => l.fields?.process === 'helpdesk')).toBe(true)
  })

  it('keeps focus on the line clicked while newer lines push older ones out', async () => {
    const user = userEvent.setup()
    await setup(50)
    act(() => fb!.emit('logs:batch', batch(0, 50)))
    await nextFrame()
    const row = screen.getAllByTestId('log-row').find((r) => r.textContent?.includes('msg 30'))!
    await user.click(row)
    expect(screen.getByTestId('log-detail')).toHaveTextContent('msg 30')
    // The ring is full: each line arriving moves every line's index by one.
    for (const from of [50, 55, 60]) {
      act(() => fb!.emit('logs:batch', batch(from, 5)))
      await nextFrame()
      expect(document.activeElement).toHaveTextContent('msg 30')
    }
    await user.keyboard('{Enter}')
    expect(screen.queryByTestId('log-detail')).toBeNull()
    await user.keyboard('{Enter}')
    expect(screen.getByTestId('log-detail')).toHaveTextContent('msg 30')
    // Pushed out itself, its row goes and the list has the focus.
    act(() => fb!.emit('logs:batch', batch(65, 20)))
    await nextFrame()
    expect(within(screen.getByRole('log', { name: 'Log lines' })).queryByText('msg 30')).toBeNull()
    expect(document.activeElement).toBe(screen.getByRole('log', { name: 'Log lines' }))
  })

  it('ignores batches of other subscriptions', async () => {
    await setup()
    act(() => fb!.emit('logs:batch', { ...batch(0, 5), sub: 'someone-else' }))
    await nextFrame()
    expect(screen.getByTestId('log-status')).toHaveTextContent('Showing 0 of 0')
  })
})
