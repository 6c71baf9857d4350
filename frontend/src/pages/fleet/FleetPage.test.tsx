import { act, render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ConnStatus } from '../../api/bridge'
import { FleetProvider } from '../../state/fleet'
import { ConnectionProvider } from '../../state/session'
import { agentStatus, fakeBridge, type FakeBridge } from '../../test/fakeBridge'
import { NotifyProvider } from '../../ui'
import { FleetPage } from './FleetPage'

let fb: FakeBridge | undefined
afterEach(() => {
  fb?.restore()
  fb = undefined
})

const agent = agentStatus

const run = (at: string) => ({ id: 'r', process: 'x', trigger: 'schedule', startedAt: at, endedAt: at, counts: {} })
const proc = (id: string, name: string, state: string, over: Record<string, unknown> = {}) => ({
  process: { id, name, a: { system: 's1', project: 'SUP' }, b: { system: 's2', project: 'ENG' } },
  pairs: 3,
  errors: 0,
  health: { state },
  ...over,
})

// Three agents signed in or not, one out of reach: east is current and well,
// west has a failing process and an expired license, north cannot be
// reached, south waits for a sign-in.
function fleet(over: Record<string, (p: any) => unknown> = {}, bridgeOver: Parameters<typeof fakeBridge>[1] = {}) {
  const agents = [agent('east', 'loggedIn'), agent('west', 'loggedIn'), agent('north', 'disconnected', { error: 'dial tcp: connection refused', agent: '' }), agent('south', 'connected')]
  return fakeBridge(
    {
      'east:agent.info': () => ({ version: '1.2.0' }),
      'east:license.get': () => ({ state: 'valid', usersSeen: 3, overLimit: false }),
      'east:processes.list': () => ({ processes: [proc('e1', 'Helpdesk to engineering', 'ok', { lastRun: run('2027-01-02T10:00:00Z') })] }),
      'west:agent.info': () => ({ version: '1.1.0' }),
      'west:license.get': () => ({ state: 'expired', usersSeen: 3, overLimit: false }),
      'west:processes.list': () => ({ processes: [proc('w1', 'Orders to billing', 'failing', { errors: 2 }), proc('w2', 'Stock to shop', 'ok')] }),
      ...over,
    },
    {
      Agents: async () => agents,
      ConnectAll: async () => agents,
      SubscribeAgentEvents: async (name: string) => `fleet-${name}`,
      ...bridgeOver,
    },
    agents[0],
  )
}

function renderFleet(f: FakeBridge) {
  return render(
    <NotifyProvider>
      <ConnectionProvider initial={f.status}>
        <FleetProvider>
          <FleetPage />
        </FleetProvider>
      </ConnectionProvider>
    </NotifyProvider>,
  )
}

const rowOf = (name: string) => screen.getAllByTestId('fleet-agent').find((el) => el.dataset.agent === name)!.closest('tr')!

describe('FleetPage', () => {
  it('lists every agent, the ones needing attention first, with version, license, processes and last run', async () => {
    fb = fleet()
    renderFleet(fb)
    await waitFor(() => expect(within(rowOf('east')).getByTestId('fleet-processes')).toHaveTextContent('1 process'))
    await waitFor(() => expect(within(rowOf('west')).getByTestId('fleet-processes')).toHaveTextContent('1 failing'))
    const order = screen.getAllByTestId('fleet-agent').map((el) => el.dataset.agent)
    expect(order).toEqual(['north', 'west', 'south', 'east'])

    const west = rowOf('west')
    expect(west).toHaveTextContent('1 failing process')
    expect(west).toHaveTextContent('version 1.1.0')
    expect(within(west).getByTestId('fleet-license')).toHaveTextContent('Expired')
    expect(within(west).getByTestId('fleet-processes')).toHaveTextContent('2 processes')
    expect(within(west).getByTestId('fleet-processes')).toHaveTextContent('2 parked errors')
    const east = rowOf('east')
    expect(east).toHaveTextContent('All well')
    expect(east).toHaveTextContent('current')
    expect(east).toHaveTextContent('Helpdesk to engineering')
    expect(rowOf('north')).toHaveTextContent('Unreachable')
    expect(rowOf('north')).toHaveTextContent('connection refused')
    expect(rowOf('south')).toHaveTextContent('Sign in to see how it is doing')
    expect(within(rowOf('south')).getByTestId('fleet-version')).toHaveTextContent('version 1.2.0')
    // Names, never ids.
    expect(document.body.textContent).not.toMatch(/\b(e1|w1|w2|s1|s2)\b/)
    // Nobody was asked to sign in again; only what the rows show was read.
    expect(fb.calls.filter((c) => c.agent === 'north' || c.agent === 'south')).toEqual([])
  })

  it('shows notifications from every agent, saying which, and reads that agent again', async () => {
    fb = fleet()
    renderFleet(fb)
    await waitFor(() => expect(within(rowOf('west')).getByTestId('fleet-processes')).toHaveTextContent('1 failing'))
    const before = fb.calls.filter((c) => c.agent === 'west' && c.method === 'processes.list').length
    act(() => {
      fb!.emit('events:batch', {
        sub: 'fleet-west',
        profile: 'west',
        events: [{ sub: 'fleet-west', seq: 7, time: '2027-01-02T10:00:00Z', type: 'PairFailed', data: { process: 'w1', key: 'ORD-9', error: 'total: must be a number', step: 'fields' } }],
      })
      fb!.emit('events:batch', {
        sub: 'fleet-east',
        profile: 'east',
        events: [{ sub: 'fleet-east', seq: 3, time: '2027-01-02T10:00:01Z', type: 'HealthChanged', data: { kind: 'system', id: 's9', name: 'Helpdesk', health: { state: 'degraded', problem: 'Two entities parked' }, previous: 'ok' } }],
      })
      fb!.emit('events:batch', {
        sub: 'fleet-west',
        profile: 'west',
        events: [{ sub: 'fleet-west', seq: 8, time: '2027-01-02T10:00:02Z', type: 'HealthChanged', data: { kind: 'process', id: 'w2', name: 'Stock to shop', health: { state: 'failing', problem: 'Shop refused the credentials' }, previous: 'ok' } }],
      })
    })
    const notices = await screen.findAllByTestId('fleet-notice')
    expect(notices.map((n) => [n.dataset.agent, n.textContent])).toEqual([
      ['west', expect.stringContaining('Process Stock to shop: failing — Shop refused the credentials')],
      ['east', expect.stringContaining('System Helpdesk: degraded — Two entities parked')],
      ['west', expect.stringContaining('Orders to billing: ORD-9 failed at fields: total: must be a number')],
    ])
    for (const n of notices) expect(n).toHaveTextContent(n.dataset.agent!)
    // West is not the current agent: its failing process is also said in the corner.
    expect(await screen.findByText('west: Process Stock to shop: failing — Shop refused the credentials')).toBeInTheDocument()
    expect(screen.queryByText(/^east: System Helpdesk/)).toBeNull()
    await waitFor(() => expect(fb!.calls.filter((c) => c.agent === 'west' && c.method === 'processes.list').length).toBeGreaterThan(before))
  })

  // With many agents, other agents' failures as sticky errors were noise:
  // one notice per agent, clearing by itself, leading to its row.
  it('groups another agent\'s notices into one that clears by itself and leads to its row; the current agent\'s say nothing in the corner', async () => {
    fb = fleet()
    renderFleet(fb)
    await waitFor(() => expect(within(rowOf('west')).getByTestId('fleet-processes')).toHaveTextContent('1 failing'))
    const health = (agent: string, seq: number, name: string, state: string, problem: string) =>
      fb!.emit('events:batch', {
        sub: `fleet-${agent}`,
        profile: agent,
        events: [{ sub: `fleet-${agent}`, seq, time: '2027-01-02T10:00:00Z', type: 'HealthChanged', data: { kind: 'system', id: `s${seq}`, name, health: { state, problem }, previous: 'ok' } }],
      })
    act(() => {
      health('west', 1, 'Shop', 'failing', 'Shop refused the credentials')
      health('west', 2, 'Billing', 'failing', 'Billing could not be reached')
      health('east', 3, 'Helpdesk', 'failing', 'Helpdesk could not be reached')
    })
    const toast = await screen.findByText('west: System Billing: failing — Billing could not be reached')
    const notices = document.querySelectorAll('.toast')
    expect(notices).toHaveLength(1)
    expect(notices[0]).toHaveClass('toast-error')
    expect(notices[0]).toHaveTextContent('(1 more before it)')
    expect(within(notices[0] as HTMLElement).getByRole('link', { name: 'See west in the fleet' })).toHaveAttribute('href', '#/fleet/west')
    expect(toast).toBeInTheDocument()
    expect(screen.queryByText(/^east: /)).toBeNull()
  })

  it('keeps what another agent says before its subscription\'s answer arrives, and nothing of streams not its own', async () => {
    // The bridge delivers a stream's first batch as soon as the agent
    // accepted it, which can be before SubscribeAgentEvents' answer.
    let answerWest: (id: string) => void = () => {}
    fb = fleet({}, {
      SubscribeAgentEvents: (name: string) =>
        name === 'west' ? new Promise<string>((resolve) => (answerWest = resolve)) : Promise.resolve(`fleet-${name}`),
    })
    renderFleet(fb)
    await waitFor(() => expect(within(rowOf('west')).getByTestId('fleet-processes')).toHaveTextContent('1 failing'))
    act(() => {
      fb!.emit('events:batch', {
        sub: 'fleet-west',
        profile: 'west',
        events: [{ sub: 'fleet-west', seq: 1, time: '2027-01-02T10:00:00Z', type: 'HealthChanged', data: { kind: 'system', id: 's1', name: 'Shop', health: { state: 'failing', problem: 'Shop refused the credentials' }, previous: 'ok' } }],
      })
      fb!.emit('events:batch', {
        sub: 'events-99',
        profile: 'west',
        events: [{ sub: 'events-99', seq: 2, time: '2027-01-02T10:00:00Z', type: 'HealthChanged', data: { kind: 'system', id: 's2', name: 'Billing', health: { state: 'failing', problem: 'Billing could not be reached' }, previous: 'ok' } }],
      })
    })
    expect(screen.queryByText(/^west: /)).toBeNull()
    await act(async () => answerWest('fleet-west'))
    expect(await screen.findByText('west: System Shop: failing — Shop refused the credentials')).toBeInTheDocument()
    // The other stream was a page's, not the fleet's: never shown.
    expect(screen.queryByText(/Billing could not be reached/)).toBeNull()
  })

  it('points at the row a notice led to: marked and focused', async () => {
    window.location.hash = '#/fleet/west'
    try {
      fb = fleet()
      renderFleet(fb)
      const west = await waitFor(() => {
        const el = screen.getAllByTestId('fleet-agent').find((x) => x.dataset.agent === 'west')!
        expect(el).toHaveFocus()
        return el
      })
      expect(west).toHaveAttribute('data-pointed', 'true')
      expect(screen.getAllByTestId('fleet-agent').filter((x) => x.dataset.pointed)).toHaveLength(1)
    } finally {
      window.location.hash = ''
    }
  })

  it('shows a process that is not active as inactive, not healthy', async () => {
    fb = fleet({
      'east:processes.list': () => ({
        processes: [
          proc('e1', 'Helpdesk to engineering', 'ok', { lastRun: run('2027-01-02T10:00:00Z') }),
          { ...proc('e2', 'Copied from west', 'ok'), process: { id: 'e2', name: 'Copied from west', active: false } },
        ],
      }),
      'west:processes.list': () => ({ processes: [{ ...proc('w1', 'Orders to billing', 'inactive'), process: { id: 'w1', name: 'Orders to billing', active: false } }] }),
      'west:license.get': () => ({ state: 'valid', usersSeen: 3, overLimit: false }),
    })
    renderFleet(fb)
    await waitFor(() => expect(within(rowOf('east')).getByTestId('fleet-processes')).toHaveTextContent('2 processes'))
    const east = within(rowOf('east')).getByTestId('fleet-processes')
    expect(within(east).getByText('1 healthy')).toBeInTheDocument()
    expect(within(east).getByText('1 inactive')).toBeInTheDocument()
    await waitFor(() => expect(within(rowOf('west')).getByTestId('fleet-processes')).toHaveTextContent('1 inactive'))
    expect(within(rowOf('west')).getByTestId('fleet-processes')).not.toHaveTextContent(/healthy|failing/)
    expect(within(rowOf('west')).getByTestId('fleet-attention')).toHaveTextContent('Its process is inactive')
  })

  it('says it is loading, not that there are no agents, until the bridge answers; an old answer never replaces a newer one', async () => {
    const agents = [agent('east', 'loggedIn'), agent('west', 'connected')]
    let answerAgents: (l: ConnStatus[]) => void = () => {}
    let answerAll: (l: ConnStatus[]) => void = () => {}
    fb = fleet(
      {},
      {
        Agents: () => new Promise<ConnStatus[]>((r) => (answerAgents = r)),
        ConnectAll: () => new Promise<ConnStatus[]>((r) => (answerAll = r)),
      },
    )
    renderFleet(fb)
    expect(await screen.findByText('Loading…')).toBeInTheDocument()
    expect(screen.queryByText('No agents yet')).toBeNull()
    // ConnectAll, asked after Agents, answers first: Agents' older list is dropped.
    await act(async () => answerAll(agents))
    await waitFor(() => expect(screen.getAllByTestId('fleet-agent')).toHaveLength(2))
    await act(async () => answerAgents([agents[0]]))
    expect(screen.getAllByTestId('fleet-agent')).toHaveLength(2)
  })

  it('switches to another agent without signing in again', async () => {
    const user = userEvent.setup()
    const connect = vi.fn(async (name: string) => agent(name, 'loggedIn'))
    const login = vi.fn()
    fb = fleet({}, { Connect: connect, Login: login })
    renderFleet(fb)
    await user.click(await screen.findByRole('button', { name: 'Open west' }))
    expect(connect).toHaveBeenCalledWith('west')
    expect(login).not.toHaveBeenCalled()
    expect(window.location.hash).toBe('#/dashboard')
    expect(screen.getByRole('button', { name: 'Sign in to south' })).toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Connect to north' })).toBeInTheDocument()
  })
})

const sandboxKind = {
  kind: 'sandbox',
  title: 'Sandbox',
  fields: [
    { name: 'project', label: 'Project', type: 'string', required: false, secret: false },
    { name: 'token', label: 'API token', type: 'secret', required: true, secret: true },
  ],
}
const sys = (id: string, name: string, project: string) => ({
  id,
  name,
  kind: 'sandbox',
  url: 'http://sandbox.example:8080',
  settings: { project },
  secrets: { token: { set: true } },
  createdAt: '2027-01-01T00:00:00Z',
  updatedAt: '2027-01-01T00:00:00Z',
})

describe('copying between agents', () => {
  it('copies a process: says what the target lacks, copies the missing system with its secret typed again, then imports', async () => {
    const user = userEvent.setup()
    const westSystems: ReturnType<typeof sys>[] = [sys('t2', 'Engineering', 'ENG')]
    const created: any[] = []
    const imported: any[] = []
    fb = fleet({
      'east:processes.get': ({ id }) => ({ process: proc(id, 'Helpdesk to engineering', 'ok').process }),
      'east:systems.list': () => ({ systems: [sys('s1', 'Helpdesk', 'HELP'), sys('s2', 'Engineering', 'ENG')] }),
      'east:systems.get': ({ id }) => ({ system: sys(id, 'Helpdesk', 'HELP') }),
      'east:processes.export': ({ ids }) => ({ document: `version: 1\nkind: lockstep/sync-processes\n# ${ids.join(',')}\n` }),
      'west:systems.list': () => ({ systems: [...westSystems] }),
      'west:systems.kinds': () => ({ kinds: [sandboxKind] }),
      'west:systems.create': (p) => {
        created.push(p)
        const s = sys('t1', p.name, p.settings.project)
        westSystems.push(s)
        return { system: s }
      },
      'west:systems.test': () => ({ ok: true, message: 'OK', latencyMs: 3 }),
      'west:processes.import': (p) => {
        imported.push(p)
        return { created: ['Helpdesk to engineering'], updated: null }
      },
    })
    renderFleet(fb)
    await user.click(await screen.findByRole('button', { name: 'Copy a process…' }))
    const dialog = screen.getByRole('dialog')
    await waitFor(() => expect(within(dialog).getByLabelText('Process')).toHaveValue('e1'))
    expect(within(dialog).getByLabelText('From agent')).toHaveValue('east')
    expect(within(dialog).getByLabelText('To agent')).toHaveValue('west')
    await user.click(within(dialog).getByRole('button', { name: 'Continue' }))

    // Helpdesk is missing on west; Engineering is there.
    await within(dialog).findByTestId('copy-plan')
    expect(within(dialog).getByTestId('copy-side-a')).toHaveTextContent('Helpdesk')
    expect(within(dialog).getByTestId('copy-side-a')).toHaveTextContent('missing on west')
    expect(within(dialog).getByTestId('copy-side-b')).toHaveTextContent('on west')
    expect(within(dialog).getByText('west lacks Helpdesk')).toBeInTheDocument()
    expect(within(dialog).getByRole('button', { name: 'Copy process' })).toBeDisabled()

    await user.click(within(dialog).getByRole('button', { name: 'Copy Helpdesk to west' }))
    const form = await within(dialog).findByRole('form', { name: 'Sandbox system' })
    expect(within(form).getByLabelText(/^Name/)).toHaveValue('Helpdesk')
    expect(within(form).getByLabelText(/^URL/)).toHaveValue('http://sandbox.example:8080')
    expect(within(form).getByLabelText(/^Project/)).toHaveValue('HELP')
    expect(within(dialog).getByText(/Secrets are not copied/)).toHaveTextContent('API token (set on east)')
    const token = within(form).getByLabelText(/^API token/)
    expect(token).toHaveValue('')
    await user.click(within(form).getByRole('button', { name: 'Copy to west' }))
    expect(await within(form).findByText('API token is required.')).toBeInTheDocument()
    expect(created).toEqual([])
    await user.type(token, 'typed-again-token')
    await user.click(within(form).getByRole('button', { name: 'Copy to west' }))

    await within(dialog).findByText('Copied Helpdesk to west')
    expect(created).toEqual([{ name: 'Helpdesk', kind: 'sandbox', url: 'http://sandbox.example:8080', settings: { project: 'HELP' }, secrets: { token: 'typed-again-token' } }])
    await waitFor(() => expect(within(dialog).getByTestId('copy-side-a')).toHaveTextContent('on west'))
    const copy = within(dialog).getByRole('button', { name: 'Copy process' })
    await waitFor(() => expect(copy).toBeEnabled())
    await user.click(copy)

    await within(dialog).findByText('Copied Helpdesk to engineering on west')
    expect(imported).toEqual([{ document: 'version: 1\nkind: lockstep/sync-processes\n# e1\n' }])
    expect(within(dialog).getByText(/inactive/)).toBeInTheDocument()
    // The source was read, never written; the target was never asked for a secret.
    expect(fb.calls.filter((c) => c.agent === 'east').map((c) => c.method)).not.toContain('systems.create')
  })

  it('says in words what the target refused on import', async () => {
    const user = userEvent.setup()
    fb = fleet({
      'east:processes.get': ({ id }) => ({ process: proc(id, 'Helpdesk to engineering', 'ok').process }),
      'east:systems.list': () => ({ systems: [sys('s1', 'Helpdesk', 'HELP'), sys('s2', 'Engineering', 'ENG')] }),
      'east:processes.export': () => ({ document: 'version: 1\n' }),
      'west:systems.list': () => ({ systems: [sys('t1', 'helpdesk', 'HELP'), sys('t2', 'Engineering', 'ENG')] }),
      'west:processes.list': () => ({ processes: [proc('w9', 'Helpdesk to Engineering', 'ok')] }),
      'west:processes.import': () => {
        throw { kind: 'invalid', message: 'invalid', field: 'processes[0].b.project', issues: [{ field: 'processes[0].b.project', message: 'project ENG does not exist in Engineering' }] }
      },
    })
    renderFleet(fb)
    await user.click(await screen.findByRole('button', { name: 'Copy a process…' }))
    const dialog = screen.getByRole('dialog')
    await waitFor(() => expect(within(dialog).getByLabelText('Process')).toHaveValue('e1'))
    await user.click(within(dialog).getByRole('button', { name: 'Continue' }))
    await within(dialog).findByTestId('copy-plan')
    expect(within(dialog).getByText('west already has a process named Helpdesk to engineering')).toBeInTheDocument()
    await user.click(within(dialog).getByRole('button', { name: 'Copy process' }))
    expect(await within(dialog).findByText('west refused the copy')).toBeInTheDocument()
    expect(within(dialog).getByText('Project in B: project ENG does not exist in Engineering')).toBeInTheDocument()
  })

  it('copies a system, and says when the target cannot hold its kind', async () => {
    const user = userEvent.setup()
    fb = fleet({
      'east:systems.list': () => ({ systems: [sys('s1', 'Helpdesk', 'HELP')] }),
      'east:systems.get': ({ id }) => ({ system: { ...sys(id, 'Helpdesk', 'HELP'), kind: 'servicenow' } }),
      'west:systems.list': () => ({ systems: [] }),
      'west:systems.kinds': () => ({ kinds: [sandboxKind] }),
    })
    renderFleet(fb)
    await user.click(await screen.findByRole('button', { name: 'Copy a system…' }))
    const dialog = screen.getByRole('dialog')
    await waitFor(() => expect(within(dialog).getByLabelText('System')).toHaveValue('s1'))
    await user.click(within(dialog).getByRole('button', { name: 'Continue' }))
    expect(await within(dialog).findByText('west cannot hold a system of the kind of Helpdesk')).toBeInTheDocument()
  })

  it('needs two signed-in agents', async () => {
    const one = [agent('east', 'loggedIn'), agent('west', 'connected')]
    fb = fleet({}, { Agents: async () => one, ConnectAll: async () => one })
    renderFleet(fb)
    await screen.findAllByTestId('fleet-agent')
    expect(screen.getByRole('button', { name: 'Copy a process…' })).toBeDisabled()
    expect(screen.getByRole('button', { name: 'Copy a system…' })).toBeDisabled()
  })
})
