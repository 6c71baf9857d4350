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
