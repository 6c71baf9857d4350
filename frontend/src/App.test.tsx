import { act, render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import App from './App'
import type { ConnStatus } from './api/bridge'
import { fakeBridge, loggedInStatus, type FakeBridge } from './test/fakeBridge'

const closed: ConnStatus = { profile: '', url: '', fingerprint: '', state: 'closed', error: '', session: null }
let fb: FakeBridge | undefined

beforeEach(() => {
  window.location.hash = ''
})
afterEach(() => {
  fb?.restore()
  fb = undefined
})

describe('App shell', () => {
  it('shows the agents empty state and the version from Go', async () => {
    fb = fakeBridge({}, {}, closed)
    const loadInfo = vi.fn().mockResolvedValue({ name: 'Lockstep', version: '1.2.3' })
    render(<App loadInfo={loadInfo} />)

    expect(await screen.findByRole('heading', { name: 'No agents yet — add one by URL' })).toBeVisible()
    expect(screen.getByRole('navigation', { name: 'Main' })).toHaveTextContent('Agents')
    expect(screen.getByRole('link', { name: 'Agents' })).toHaveAttribute('aria-current', 'page')
    expect(await screen.findByText('Lockstep 1.2.3')).toBeInTheDocument()
    expect(screen.getByTestId('conn-state')).toHaveTextContent('Not connected')
  })

  it('still renders when the Go bindings are missing (plain browser)', async () => {
    render(<App />)
    expect(screen.getByRole('heading', { name: 'Agents', level: 1 })).toBeInTheDocument()
    expect(await screen.findByText('Could not read the saved agents')).toBeInTheDocument()
    expect(screen.getByTestId('app-version').textContent?.trim()).toBe('')
  })

  it('keeps the connection state visible in the header as it changes', async () => {
    fb = fakeBridge({}, {}, loggedInStatus('admin'))
    render(<App />)
    const badge = await screen.findByTestId('conn-state')
    await waitFor(() => expect(badge).toHaveTextContent('Connected to prod'))
    act(() => fb!.emit('conn:state', { ...loggedInStatus('admin'), state: 'disconnected', error: 'connection reset' }))
    expect(badge).toHaveTextContent('Connection to prod lost — reconnecting')
    // The reason in words, the error chain on hover.
    expect(badge).toHaveTextContent('The connection to the agent was cut.')
    expect(badge.querySelector('.conn-detail')).toHaveAttribute('title', 'connection reset')
    act(() => fb!.emit('conn:state', loggedInStatus('admin')))
    expect(badge).toHaveTextContent('Connected to prod')
  })
})

describe('role gating', () => {
  it('hides admin pages from a viewer and refuses them by URL', async () => {
    fb = fakeBridge({}, {}, loggedInStatus('viewer'))
    window.location.hash = '#/accounts'
    render(<App />)
    expect(await screen.findByText('Accounts is not available to your role')).toBeInTheDocument()
    const nav = screen.getByRole('navigation', { name: 'Main' })
    expect(within(nav).queryByRole('link', { name: 'Accounts' })).toBeNull()
    expect(within(nav).queryByRole('link', { name: 'Audit' })).toBeNull()
    expect(within(nav).getByRole('link', { name: 'Processes' })).toBeInTheDocument()
  })
})

describe('landing after sign-in', () => {
  it('takes a viewer who signs in on a forbidden page to the dashboard', async () => {
    fb = fakeBridge({}, {}, { ...loggedInStatus('viewer'), state: 'connected', session: null })
    window.location.hash = '#/accounts'
    render(<App />)
    expect(await screen.findByLabelText(/Password/)).toBeInTheDocument()
    act(() => fb!.emit('conn:state', loggedInStatus('viewer')))
    await waitFor(() => expect(window.location.hash).toBe('#/dashboard'))
    expect(screen.queryByText('Accounts is not available to your role')).not.toBeInTheDocument()
  })
})

describe('login', () => {
  it('sends back to login with a message when the session expires', async () => {
    fb = fakeBridge({}, {}, loggedInStatus('admin'))
    window.location.hash = '#/processes'
    render(<App />)
    await screen.findByTestId('session-user')
    act(() => fb!.emit('conn:state', { ...loggedInStatus('admin'), state: 'sessionExpired', session: null }))
    expect(screen.getByText('Your session expired')).toBeInTheDocument()
    expect(screen.getByLabelText(/Password/)).toHaveValue('')
  })

  it('shows the agent’s lockout message', async () => {
    const user = userEvent.setup()
    fb = fakeBridge(
      {},
      { Login: () => Promise.reject({ kind: 'locked_out', message: 'too many failed logins; try again in 14m0s' }) },
      { ...loggedInStatus('admin'), state: 'connected', session: null },
    )
    window.location.hash = '#/dashboard'
    render(<App />)
    await user.type(await screen.findByLabelText(/Username/), 'ann')
    await user.type(screen.getByLabelText(/Password/), 'wrong')
    await user.click(screen.getByRole('button', { name: 'Sign in' }))
    expect(await screen.findByText('Account locked')).toBeInTheDocument()
    expect(screen.getByText(/try again in 14m0s/)).toBeInTheDocument()
  })

  it('says in words why the agent does not answer on the sign-in page, the error chain behind a disclosure', async () => {
    const chain = 'connect to other: open WebSocket to agent: connect to agent 127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection refused'
    fb = fakeBridge({}, {}, { ...loggedInStatus('admin'), profile: 'other', state: 'disconnected', error: chain, session: null })
    window.location.hash = '#/dashboard'
    render(<App />)
    expect(await screen.findByTestId('probe-problem')).toHaveTextContent('Nothing is listening at that address and port.')
    expect(screen.queryByText('Connecting to the agent…')).not.toBeInTheDocument()
    expect(screen.getByText(chain).closest('details')).not.toBeNull()
    expect(screen.getByTestId('conn-state')).toHaveTextContent('(Nothing is listening at that address and port.)')
  })
})

describe('many agents', () => {
  it('switches the current agent from the header: the page loads the other agent, no new sign-in', async () => {
    const user = userEvent.setup()
    const east = loggedInStatus('admin', { profile: 'east' })
    const west = loggedInStatus('operator', { profile: 'west' })
    const login = vi.fn()
    const processes: Record<string, string> = { east: 'East orders', west: 'West stock' }
    fb = fakeBridge(
      {
        'processes.list': () => ({ processes: [{ process: { id: 'p1', name: processes[fb!.status.profile], a: { system: 's1' }, b: { system: 's2' } }, pairs: 0, errors: 0, health: { state: 'ok' } }] }),
        'systems.list': () => ({ systems: [] }),
      },
      {
        Agents: async () => [east, west],
        ConnectAll: async () => [east, west],
        Login: login,
        Connect: async (name: string) => {
          fb!.status = name === 'west' ? west : east
          return fb!.status
        },
      },
      east,
    )
    window.location.hash = '#/processes'
    render(<App />)
    expect(await screen.findByText('East orders')).toBeInTheDocument()
    const pick = await screen.findByRole('combobox', { name: 'Current agent' })
    expect(pick).toHaveValue('east')
    await user.selectOptions(pick, 'west')
    expect(await screen.findByText('West stock')).toBeInTheDocument()
    expect(screen.queryByText('East orders')).toBeNull()
    expect(screen.getByTestId('session-user')).toHaveTextContent('ann · operator')
    expect(login).not.toHaveBeenCalled()
    expect(window.location.hash).toBe('#/processes')
  })

  it('lists Fleet beside Agents, usable before any sign-in', async () => {
    fb = fakeBridge({}, {}, closed)
    window.location.hash = '#/fleet'
    render(<App />)
    expect(await screen.findByRole('heading', { name: 'Fleet', level: 1 })).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'Fleet' })).toHaveAttribute('aria-current', 'page')
    expect(await screen.findByText('No agents yet')).toBeInTheDocument()
  })
})
