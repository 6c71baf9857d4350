import { render, screen, within } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { ConnectionProvider } from '../../state/session'
import { fakeBridge, type FakeBridge } from '../../test/fakeBridge'
import { DashboardPage } from './DashboardPage'

let fb: FakeBridge | undefined
afterEach(() => {
  fb?.restore()
  fb = undefined
})

const host = { os: 'linux', platform: 'debian', platformVersion: '12', kernel: '6.1', arch: 'amd64', hostname: 'sync01', cpuModel: 'Xeon', cpuCores: 4, cpuPercent: 12, memTotal: 8 * 1024 ** 3, memAvailable: 2 * 1024 ** 3, threads: 17, goroutines: 40, rss: 50 * 1024 ** 2, diskFree: 1024 ** 4, uptimeSeconds: 3700 }

describe('DashboardPage', () => {
  it('shows host, license, sync health and charts from runs', async () => {
    const started = new Date(Date.now() - 60e3).toISOString()
    fb = fakeBridge({
      'agent.info': () => ({ version: '1.2.0', instanceId: 'inst-1', startedAt: started, dataDir: '/var/lib/lockstep', license: { state: 'valid' } }),
      'host.info': () => host,
      'license.get': () => ({ state: 'valid', usersSeen: 3, maxUsers: 10, overLimit: false }),
      'processes.list': () => ({ processes: [{ process: { id: 'p1', name: 'Help', active: true }, pairs: 12, errors: 2 }] }),
      'runs.list': (p) => ({ runs: p.process === 'p1' ? [{ id: 'r1', process: 'p1', startedAt: started, counts: { created: 3, updated: 2, failed: 1 } }] : [] }),
    })
    render(
      <ConnectionProvider>
        <DashboardPage />
      </ConnectionProvider>,
    )
    expect(await screen.findByTestId('host-info')).toHaveTextContent('debian 12 (amd64)')
    expect(screen.getByTestId('host-info')).toHaveTextContent('2.0 GiB free of 8.0 GiB')
    expect(screen.getByTestId('host-info')).toHaveTextContent('17 threads')
    expect(screen.getByTestId('host-info')).toHaveTextContent('1h 1m')
    expect(await screen.findByTestId('processes-count')).toHaveTextContent('1 (1 active)')
    expect(screen.getByTestId('errors-count')).toHaveTextContent('2')
    expect(screen.getByText('3 of 10')).toBeInTheDocument()
    expect(await screen.findByRole('img', { name: 'Runs and synced changes: 1 run, 5 changes' })).toBeInTheDocument()
    expect(screen.getByRole('img', { name: 'Errors: 1 error' })).toBeInTheDocument()
    expect(fb.calls.find((c) => c.method === 'runs.list')?.params).toEqual({ process: 'p1', limit: 200 })
  })

  it('names the license state in the words of the License page', async () => {
    fb = fakeBridge({
      'agent.info': () => ({ version: '1.2.0', instanceId: 'inst-1', startedAt: '', dataDir: '/var/lib/lockstep', license: { state: 'missing' } }),
      'host.info': () => host,
      'license.get': () => ({ state: 'missing', usersSeen: 0, overLimit: false }),
      'processes.list': () => ({ processes: [] }),
    })
    render(
      <ConnectionProvider>
        <DashboardPage />
      </ConnectionProvider>,
    )
    const card = (await screen.findByRole('heading', { name: 'License' })).closest('section')!
    expect(await within(card).findByText('No license (evaluation)')).toBeInTheDocument()
    expect(within(card).queryByText('missing')).not.toBeInTheDocument()
  })
})

describe('DashboardPage health', () => {
  const failing = { state: 'failing', since: '2026-01-05T08:00:00Z', problem: 'Engineering refused the credentials (HTTP 401).', action: 'Enter a valid token for Engineering.', detail: 'HTTP 401 Unauthorized' }
  const degraded = { state: 'degraded', since: '2026-01-05T09:00:00Z', problem: '2 entities are parked.', action: 'Retry them on the Errors page.' }
  const ok = { state: 'ok' }

  function renderWith(processes: unknown[], systems: unknown[]) {
    fb = fakeBridge({
      'agent.info': () => ({ version: '1.2.0', instanceId: 'inst-1', startedAt: '', dataDir: '/d', license: { state: 'valid' } }),
      'host.info': () => host,
      'license.get': () => ({ state: 'valid', usersSeen: 0, overLimit: false }),
      'processes.list': () => ({ processes }),
      'runs.list': () => ({ runs: [] }),
      'systems.list': () => ({ systems }),
    })
    render(
      <ConnectionProvider>
        <DashboardPage />
      </ConnectionProvider>,
    )
  }

  it('lists every failing and degraded process and system first, the failing before the degraded, in words', async () => {
    renderWith(
      [
        { process: { id: 'p1', name: 'Help to Eng', active: true }, pairs: 3, errors: 2, health: degraded },
        { process: { id: 'p2', name: 'Support to Eng', active: true }, pairs: 0, errors: 0, health: failing },
        { process: { id: 'p3', name: 'Quiet', active: true }, pairs: 1, errors: 0, health: ok },
      ],
      [
        { id: 's1', name: 'Engineering', health: failing },
        { id: 's2', name: 'Helpdesk', health: degraded },
        { id: 's3', name: 'Archive', health: ok },
      ],
    )
    const list = await screen.findByTestId('attention')
    const items = within(list).getAllByTestId('health-note').map((n) => n.querySelector('.health-note-title')?.textContent)
    expect(items).toEqual(['Process Support to Eng: failing', 'System Engineering: failing', 'Process Help to Eng: degraded', 'System Helpdesk: degraded'])
    expect(list).toHaveTextContent('Engineering refused the credentials (HTTP 401).')
    expect(list).toHaveTextContent('What to do: Enter a valid token for Engineering.')
    expect(list).not.toHaveTextContent('Quiet')
    expect(list).not.toHaveTextContent('Archive')
    expect(screen.getByTestId('health-summary')).toHaveTextContent('2 failing')
    expect(screen.getByTestId('health-summary')).toHaveTextContent('2 degraded')
    // What needs attention comes before the cards, where a small window shows it.
    const attention = screen.getByRole('heading', { name: 'Needs attention' })
    const cards = screen.getByRole('heading', { name: 'Sync health' })
    expect(attention.compareDocumentPosition(cards) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy()
  })

  it('lists a system whose connection test fails though no process uses it', async () => {
    renderWith([], [{ id: 's1', name: 'Orphan', health: { ...failing, cause: 'test', problem: 'Orphan refused the credentials (HTTP 401).' } }])
    const list = await screen.findByTestId('attention')
    expect(list).toHaveTextContent('System Orphan: failing')
    expect(list).toHaveTextContent('Orphan refused the credentials (HTTP 401).')
    expect(screen.getByTestId('health-summary')).toHaveTextContent('1 failing')
  })

  it('says of a system saved despite its failing test who saved it and that no notification is sent', async () => {
    const test = { ok: false, message: 'HTTP 401', problem: 'Orphan refused the credentials (HTTP 401).', latencyMs: 40, at: '2026-01-05T08:00:00Z', actor: 'alice', savedAnyway: true }
    renderWith(
      [{ process: { id: 'p2', name: 'Support to Eng', active: true }, pairs: 0, errors: 0, health: failing }],
      [{ id: 's1', name: 'Orphan', lastTest: test, health: { ...failing, cause: 'test', problem: test.problem, acknowledged: true } }],
    )
    const list = await screen.findByTestId('attention')
    const notes = within(list).getAllByTestId('health-note')
    expect(notes[1]).toHaveTextContent('System Orphan: failing')
    expect(within(notes[1]).getByTestId('health-acknowledged')).toHaveTextContent('Saved despite a failing connection test by alice (tested')
    // The process's failure is notified: nothing is said of it.
    expect(within(notes[0]).queryByTestId('health-acknowledged')).toBeNull()
  })

  it('says all is healthy and lists nothing when nothing is wrong', async () => {
    renderWith([{ process: { id: 'p3', name: 'Quiet', active: true }, pairs: 1, errors: 0, health: ok }], [{ id: 's3', name: 'Archive', health: ok }])
    expect(await screen.findByText('All healthy')).toBeInTheDocument()
    expect(screen.queryByTestId('attention')).not.toBeInTheDocument()
  })
})
