import { act, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { ConnectionProvider } from './session'
import { useCall } from './async'
import { forgetAll } from './known'
import { fakeBridge, loggedInStatus, type FakeBridge } from '../test/fakeBridge'

let fb: FakeBridge | undefined
afterEach(() => {
  fb?.restore()
  fb = undefined
  forgetAll()
})

function Count() {
  // Any method of the table will do: the fake answers with a count.
  const r = useCall('telemetry.preview')
  if (r.error) return <p>error: {(r.error as { message: string }).message}</p>
  return <p>{r.data ? `count ${r.data.body}` : 'loading'}</p>
}

describe('last known answers', () => {
  it('shows a page opened while the agent is unreachable what it showed last, and nothing of another agent', async () => {
    let n = 7
    fb = fakeBridge({ 'telemetry.preview': () => ({ body: String(n) }) }, {}, loggedInStatus('admin'))
    const first = render(
      <ConnectionProvider initial={fb.status}>
        <Count />
      </ConnectionProvider>,
    )
    expect(await screen.findByText('count 7')).toBeInTheDocument()
    first.unmount()

    // The agent goes away; the page is opened again: no call, the last answer.
    const offline = { ...loggedInStatus('admin'), state: 'disconnected' as const, error: 'connection refused' }
    fb.status = offline
    n = 8
    const calls = fb.calls.length
    const again = render(
      <ConnectionProvider initial={offline}>
        <Count />
      </ConnectionProvider>,
    )
    expect(await screen.findByText('count 7')).toBeInTheDocument()
    expect(fb.calls.length).toBe(calls)
    again.unmount()

    // Another agent, unreachable too: it was never read, so nothing is shown as its.
    const other = { ...offline, profile: 'other', url: 'wss://other.example:7443' }
    fb.status = other
    render(
      <ConnectionProvider initial={other}>
        <Count />
      </ConnectionProvider>,
    )
    expect(await screen.findByText('error: The agent is unreachable; this loads by itself when it is back.')).toBeInTheDocument()

    // The agent is back: the page reads it again by itself.
    fb.status = loggedInStatus('admin', { profile: 'other', url: 'wss://other.example:7443' })
    act(() => fb!.emit('conn:state', fb!.status))
    expect(await screen.findByText('count 8')).toBeInTheDocument()
  })
})
