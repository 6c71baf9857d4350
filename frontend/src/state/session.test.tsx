import { act, render, screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it } from 'vitest'
import type { ConnStatus } from '../api/bridge'
import { AgentSwitcher } from '../shell/AgentSwitcher'
import { fakeBridge, held, loggedInStatus, type FakeBridge, type Held } from '../test/fakeBridge'
import { NotifyProvider } from '../ui'
import { FleetProvider } from './fleet'
import { ConnectionProvider, useConnection } from './session'

// The bridge answers a call and sends conn:state on separate paths, so an
// answer made before an event can arrive after it. These tests hold the
// answers by hand and give them in that order; nothing waits for a time.

let fb: FakeBridge | undefined
afterEach(() => {
  fb?.restore()
  fb = undefined
})

const east = loggedInStatus('admin', { profile: 'east' })
const west = loggedInStatus('admin', { profile: 'west' })

function Probe() {
  const { status, refresh } = useConnection()
  return (
    <>
      <p data-testid="current">
        {status.profile}/{status.state}
      </p>
      <button onClick={() => void refresh()}>refresh</button>
    </>
  )
}

function renderShell(f: FakeBridge) {
  return render(
    <NotifyProvider>
      <ConnectionProvider initial={f.status}>
        <FleetProvider>
          <AgentSwitcher />
          <Probe />
        </FleetProvider>
      </ConnectionProvider>
    </NotifyProvider>,
  )
}

describe('the current agent against conn:state', () => {
  // switcher renders the header's agent picker over east and west, east
  // current, with every Connect answer held (by agent).
  async function switcher() {
    const connects = new Map<string, Held<ConnStatus>>()
    fb = fakeBridge(
      {},
      {
        Agents: async () => [east, west],
        ConnectAll: async () => [east, west],
        Connect: (name: string) => {
          const h = held<ConnStatus>()
          connects.set(name, h)
          return h.promise
        },
      },
      east,
    )
    renderShell(fb)
    const picker = await screen.findByRole('combobox', { name: 'Current agent' })
    await waitFor(() => expect(screen.getByTestId('current')).toHaveTextContent('east/loggedIn'))
    return { picker, connects }
  }

  it('keeps the agent picked last when the answer to an earlier pick arrives after it', async () => {
    const user = userEvent.setup()
    const { picker, connects } = await switcher()
    // west is picked: the bridge makes it current and says so...
    await user.selectOptions(picker, 'west')
    act(() => fb!.emit('conn:state', west))
    // ...then east again, before Connect(west) has answered.
    await user.selectOptions(picker, 'east')
    act(() => fb!.emit('conn:state', east))
    await act(async () => connects.get('east')!.resolve(east))
    // Connect(west)'s answer, made before the switch back, comes last.
    await act(async () => connects.get('west')!.resolve(west))
    expect(screen.getByTestId('current')).toHaveTextContent('east/loggedIn')
    expect(picker).toHaveValue('east')
  })

  it('takes a Connect answer when no conn:state came while it was asked', async () => {
    const user = userEvent.setup()
    const { picker, connects } = await switcher()
    await user.selectOptions(picker, 'west')
    await act(async () => connects.get('west')!.resolve(west))
    expect(screen.getByTestId('current')).toHaveTextContent('west/loggedIn')
  })

  it('keeps a conn:state newer than a Status answer asked before it', async () => {
    const user = userEvent.setup()
    const statuses: Held<ConnStatus>[] = []
    fb = fakeBridge(
      {},
      {
        Status: () => {
          const h = held<ConnStatus>()
          statuses.push(h)
          return h.promise
        },
      },
      east,
    )
    renderShell(fb)
    await act(async () => statuses[0].resolve(east))
    await user.click(screen.getByRole('button', { name: 'refresh' }))
    // east's session ends while the Status answer is on its way; the
    // answer, made before, says it is still signed in.
    act(() => fb!.emit('conn:state', { ...east, state: 'sessionExpired', session: null }))
    await act(async () => statuses[1].resolve(east))
    expect(screen.getByTestId('current')).toHaveTextContent('east/sessionExpired')
  })
})
