import { render, screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ConnStatus, Profile } from '../../api/bridge'
import { FleetProvider } from '../../state/fleet'
import { ConnectionProvider } from '../../state/session'
import { fakeBridge, type FakeBridge } from '../../test/fakeBridge'
import { NotifyProvider } from '../../ui'
import { AgentsPage } from './AgentsPage'

const closed: ConnStatus = { profile: '', url: '', fingerprint: '', state: 'closed', error: '', session: null }
const fp = '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0'
const newFp = 'ffff2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0'
let fb: FakeBridge | undefined
afterEach(() => {
  fb?.restore()
  fb = undefined
})

function renderPage() {
  return render(
    <ConnectionProvider>
      <AgentsPage />
    </ConnectionProvider>,
  )
}

describe('AgentsPage', () => {
  it('pins the fingerprint only after the administrator confirms the comparison', async () => {
    const user = userEvent.setup()
    const saved: Profile[] = []
    const save = vi.fn(async (p: Profile) => {
      saved.push(p)
      return p
    })
    const connect = vi.fn(async () => ({ ...closed, profile: 'prod', state: 'connected' as const }))
    fb = fakeBridge({}, { ListProfiles: async () => saved, ProbeAgent: async (url: string) => ({ url, fingerprint: fp }), SaveProfile: save, Connect: connect }, closed)
    renderPage()

    await user.click(await screen.findByRole('button', { name: 'Add agent' }))
    await user.type(screen.getByLabelText(/Name/), 'prod')
    await user.type(screen.getByLabelText(/Agent URL/), 'https://agent.example:7443')
    await user.click(screen.getByRole('button', { name: 'Fetch fingerprint' }))

    expect(await screen.findByTestId('fingerprint')).toHaveTextContent('0f1e 2d3c 4b5a')
    const pin = screen.getByRole('button', { name: 'Pin fingerprint and connect' })
    expect(pin).toBeDisabled()
    expect(save).not.toHaveBeenCalled()
    await user.click(screen.getByLabelText(/I compared it/))
    await user.click(pin)
    await waitFor(() => expect(save).toHaveBeenCalledWith({ name: 'prod', url: 'https://agent.example:7443', fingerprint: fp }))
    await waitFor(() => expect(connect).toHaveBeenCalledWith('prod'))
  })

  it('refuses a changed fingerprint with a warning and offers a checked re-pin', async () => {
    const user = userEvent.setup()
    const profile = { name: 'prod', url: 'https://agent.example:7443', fingerprint: fp }
    const save = vi.fn(async (p: Profile) => p)
    fb = fakeBridge(
      {},
      {
        ListProfiles: async () => [profile],
        Connect: () => Promise.reject({ kind: 'fingerprint_mismatch', message: 'the agent presented a different key' }),
        ProbeAgent: async (url: string) => ({ url, fingerprint: newFp }),
        SaveProfile: save,
      },
      closed,
    )
    renderPage()
    await user.click(await screen.findByRole('button', { name: 'Connect to prod' }))

    const alert = await screen.findByText(/presented a different key — the app refused to connect/)
    const box = alert.closest('.alert') as HTMLElement
    expect(box).toHaveTextContent('reinstalled')
    expect(box).toHaveTextContent('rotated')
    expect(box).toHaveTextContent('man-in-the-middle')
    expect(box).toHaveTextContent('lockstep-agent fingerprint')

    await user.click(screen.getByRole('button', { name: 'Check the new fingerprint' }))
    expect(await screen.findByTestId('fingerprint')).toHaveTextContent('ffff 2d3c')
    expect(screen.getByText(/Previously pinned/)).toHaveTextContent('0f1e 2d3c')
    expect(screen.getByRole('button', { name: 'Pin the new fingerprint and connect' })).toBeDisabled()
    expect(save).not.toHaveBeenCalled()
  })

  it('says in words why an agent could not be reached, when connecting and when checking a new key', async () => {
    const user = userEvent.setup()
    const refused = { kind: 'unavailable', message: 'connect to prod: open WebSocket to agent: connect to agent 10.0.0.7:7443: dial tcp 10.0.0.7:7443: connect: connection refused' }
    let connectErr: unknown = refused
    fb = fakeBridge(
      {},
      {
        ListProfiles: async () => [{ name: 'prod', url: 'https://10.0.0.7:7443', fingerprint: fp }],
        Connect: () => Promise.reject(connectErr),
        ProbeAgent: () => Promise.reject({ kind: 'unavailable', message: 'probe wss://10.0.0.7:7443/v1/ws: dial tcp 10.0.0.7:7443: i/o timeout' }),
      },
      closed,
    )
    render(
      <NotifyProvider>
        <ConnectionProvider>
          <AgentsPage />
        </ConnectionProvider>
      </NotifyProvider>,
    )
    await user.click(await screen.findByRole('button', { name: 'Connect to prod' }))
    const toast = await screen.findByText(/Could not connect to prod/)
    expect(toast).toHaveTextContent('Could not connect to prod: Nothing is listening at that address and port. Check that the agent is running')
    expect(toast).not.toHaveTextContent('dial tcp')

    // A changed key, and the agent gone while its new key is checked.
    connectErr = { kind: 'fingerprint_mismatch', message: 'the agent presented a different key' }
    await user.click(screen.getByRole('button', { name: 'Connect to prod' }))
    await user.click(await screen.findByRole('button', { name: 'Check the new fingerprint' }))
    expect(await screen.findByTestId('probe-problem')).toHaveTextContent('No answer from that address.')
    expect(screen.getByText(/i\/o timeout/).closest('details')).not.toBeNull()
  })

  it('shows the warning when the live state says the key changed', async () => {
    fb = fakeBridge({}, { ListProfiles: async () => [{ name: 'prod', url: 'https://a:7443', fingerprint: fp }] }, { ...closed, profile: 'prod', state: 'fingerprintMismatch' })
    renderPage()
    expect(await screen.findByText(/prod presented a different key/)).toBeInTheDocument()
  })

  it.each([
    ['loggedIn', 'Connected, signed in as ann'],
    ['connected', 'Connected, not signed in'],
    ['connecting', 'Connecting…'],
    ['disconnected', 'Connection lost, reconnecting'],
    ['sessionExpired', 'Session expired, sign in again'],
    ['fingerprintMismatch', 'Refused: the agent presented a different key'],
  ] as const)('says in words what the connection in state %s is doing', async (state, words) => {
    const session = state === 'loggedIn' ? { username: 'ann', role: 'admin', expiresAt: '2030-01-01T00:00:00Z' } : null
    fb = fakeBridge({}, { ListProfiles: async () => [{ name: 'prod', url: 'wss://a:7443/v1/ws', fingerprint: fp }] }, { ...closed, profile: 'prod', url: 'wss://a:7443/v1/ws', state, session })
    renderPage()
    const badge = await screen.findByTestId('agent-state')
    expect(badge).toHaveTextContent(words)
    expect(badge).not.toHaveTextContent(state)
  })

  it('shows no state on an agent the app is not connected to', async () => {
    fb = fakeBridge({}, { ListProfiles: async () => [{ name: 'prod', url: 'wss://a:7443/v1/ws', fingerprint: fp }] }, closed)
    renderPage()
    await screen.findByRole('button', { name: 'Connect to prod' })
    expect(screen.queryByTestId('agent-state')).not.toBeInTheDocument()
  })
})

describe('AgentsPage with several agents', () => {
  it('shows each agent’s own connection, and opens another without a new sign-in', async () => {
    const user = userEvent.setup()
    const east: ConnStatus = { profile: 'east', url: 'wss://east:7443/v1/ws', fingerprint: fp, state: 'loggedIn', error: '', session: { username: 'ann', role: 'admin', expiresAt: '2030-01-01T00:00:00Z' } }
    const west: ConnStatus = { ...east, profile: 'west', url: 'wss://west:7443/v1/ws', session: { username: 'bob', role: 'operator', expiresAt: '2030-01-01T00:00:00Z' } }
    const north: ConnStatus = { ...east, profile: 'north', url: 'wss://north:7443/v1/ws', state: 'disconnected', error: 'connection refused', session: null }
    const connect = vi.fn(async (name: string) => (name === 'west' ? west : east))
    const login = vi.fn()
    fb = fakeBridge(
      {},
      {
        ListProfiles: async () => [east, west, north].map((s) => ({ name: s.profile, url: s.url, fingerprint: fp })),
        Agents: async () => [east, north, west],
        ConnectAll: async () => [east, north, west],
        Connect: connect,
        Login: login,
      },
      east,
    )
    render(
      <ConnectionProvider initial={east}>
        <FleetProvider>
          <AgentsPage />
        </FleetProvider>
      </ConnectionProvider>,
    )
    await waitFor(() => expect(screen.getAllByTestId('agent-state')).toHaveLength(3))
    const states = screen.getAllByTestId('agent-state').map((el) => el.textContent)
    expect(states).toEqual(['Connected, signed in as ann', 'Connected, signed in as bob', 'Connection lost, reconnecting'])
    expect(screen.getByRole('button', { name: 'Connect to north' })).toBeInTheDocument()
    expect(screen.queryByRole('button', { name: 'Open east' })).toBeNull()
    await user.click(screen.getByRole('button', { name: 'Open west' }))
    expect(connect).toHaveBeenCalledWith('west')
    expect(login).not.toHaveBeenCalled()
  })
})
