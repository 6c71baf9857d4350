import { act, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { fakeBridge, loggedInStatus, type FakeBridge } from '../test/fakeBridge'
import { can } from '../api/generated/roles'
import { methodAccess } from '../api/generated/methods'
import { ConnectionProvider, useCall, useConnection, useRole, useAgentEvents, type AgentEvent } from '.'

let fb: FakeBridge | undefined
afterEach(() => {
  fb?.restore()
  fb = undefined
})

describe('can', () => {
  it.each([
    ['admin', 'accounts.create', true],
    ['operator', 'accounts.list', false],
    ['operator', 'systems.test', true],
    ['operator', 'systems.create', false],
    ['operator', 'processes.activate', true],
    ['viewer', 'processes.activate', false],
    ['viewer', 'systems.list', true],
    ['viewer', 'license.import', false],
    [null, 'systems.list', false],
    ['superuser', 'systems.list', false],
    ['admin', 'no.such.method', false],
  ])('%s may call %s: %s', (role, method, want) => {
    expect(can(role, method)).toBe(want)
  })

  it('gives admins every method', () => {
    for (const m of Object.keys(methodAccess)) expect(can('admin', m)).toBe(true)
  })
})

function StatusProbe() {
  const { status } = useConnection()
  const role = useRole()
  return (
    <p>
      {status.state}/{role ?? 'none'}
    </p>
  )
}

describe('ConnectionProvider', () => {
  it('starts from Status() and follows conn:state', async () => {
    fb = fakeBridge({}, {}, loggedInStatus('operator'))
    render(
      <ConnectionProvider>
        <StatusProbe />
      </ConnectionProvider>,
    )
    expect(await screen.findByText('loggedIn/operator')).toBeInTheDocument()
    act(() => fb!.emit('conn:state', { ...loggedInStatus('operator'), state: 'sessionExpired', session: null }))
    expect(screen.getByText('sessionExpired/none')).toBeInTheDocument()
  })
})

describe('useCall', () => {
  it('calls the method with its params and exposes result and error', async () => {
    fb = fakeBridge({ 'systems.get': (p) => (p.id === 'x' ? { system: { name: 'Jira' } } : Promise.reject({ kind: 'not_found', message: 'no such system' })) })
    function Probe({ id }: { id: string }) {
      const r = useCall('systems.get', { id })
      if (r.loading) return <p>loading</p>
      if (r.error) return <p>error: {(r.error as { message: string }).message}</p>
      return <p>{r.data?.system.name}</p>
    }
    const { rerender } = render(<Probe id="x" />)
    expect(await screen.findByText('Jira')).toBeInTheDocument()
    rerender(<Probe id="y" />)
    expect(await screen.findByText('error: no such system')).toBeInTheDocument()
    expect(fb.calls.map((c) => c.params.id)).toEqual(['x', 'y'])
  })
})

describe('useAgentEvents', () => {
  it('subscribes while logged in and delivers only its own subscription', async () => {
    const subscribe = vi.fn(async () => 'events-7')
    const unsubscribe = vi.fn(async () => {})
    fb = fakeBridge({}, { SubscribeEvents: subscribe, Unsubscribe: unsubscribe }, loggedInStatus('viewer'))
    const got: AgentEvent[] = []
    const onResync = vi.fn()
    function Probe() {
      useAgentEvents(['ConfigChanged'], (e) => got.push(e), onResync)
      return null
    }
    const { unmount } = render(
      <ConnectionProvider>
        <Probe />
      </ConnectionProvider>,
    )
    await waitFor(() => expect(subscribe).toHaveBeenCalledWith(['ConfigChanged']))
    await act(async () => {})
    act(() => {
      fb!.emit('events:batch', { sub: 'events-7', events: [{ sub: 'events-7', seq: 1, time: '', type: 'ConfigChanged', data: { kind: 'system' } }] })
      fb!.emit('events:batch', { sub: 'other', events: [{ sub: 'other', seq: 2, time: '', type: 'ConfigChanged' }] })
      fb!.emit('events:resync', { sub: 'events-7' })
    })
    expect(got.map((e) => e.seq)).toEqual([1])
    expect(onResync).toHaveBeenCalledOnce()
    unmount()
    expect(unsubscribe).toHaveBeenCalledWith('events-7')
  })
})
