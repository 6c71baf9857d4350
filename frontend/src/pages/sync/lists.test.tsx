import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it } from 'vitest'
import type { FakeBridge } from '../../test/fakeBridge'
import { ErrorsPage, PairsPage, RunsPage } from './index'
import { renderAs, sampleProcess, setup, summary, systems } from './testkit'
import type { ParkedError } from '../../api/generated/types'

let fb: FakeBridge | undefined
afterEach(() => fb?.restore())

const p1 = sampleProcess()
const p2 = sampleProcess({ id: 'p2', name: 'Support ↔ Product' })
const processes = () => ({ processes: [summary(p1), summary(p2)] })

function parked(process: string, entity: string, key: string): ParkedError {
  return { process, side: 'a', entity, key, title: `Title of ${key}`, error: 'field "severity" is required', attempts: 5, at: '2026-01-05T08:00:00Z' }
}

describe('ErrorsPage', () => {
  it('retries every parked error, one call per process', async () => {
    let list = [parked('p1', '1', 'HELP-1'), parked('p1', '2', 'HELP-2'), parked('p2', '9', 'SUP-9')]
    fb = setup('operator', {
      'processes.list': processes,
      'errors.list': () => ({ errors: list }),
      'errors.retry': (params: any) => {
        const n = list.filter((e) => e.process === params.process).length
        list = list.filter((e) => e.process !== params.process)
        return { retried: n }
      },
    })
    const user = userEvent.setup()
    renderAs(fb, <ErrorsPage />)
    expect(await screen.findByText('HELP-1')).toBeInTheDocument()
    expect(screen.getAllByText('Helpdesk ↔ Engineering')).not.toHaveLength(0)
    await user.click(screen.getByRole('button', { name: 'Retry all (3)' }))

    expect(await screen.findByText('No errors')).toBeInTheDocument()
    const retries = fb.calls.filter((c) => c.method === 'errors.retry').map((c) => c.params)
    expect(retries).toEqual([{ process: 'p1' }, { process: 'p2' }])
  })

  it('retries one entity by its side and id', async () => {
    fb = setup('operator', {
      'processes.list': processes,
      'errors.list': () => ({ errors: [parked('p1', '1', 'HELP-1')] }),
      'errors.retry': () => ({ retried: 1 }),
    })
    const user = userEvent.setup()
    renderAs(fb, <ErrorsPage />)
    await user.click(await screen.findByRole('button', { name: 'Retry HELP-1' }))
    await waitFor(() => expect(fb!.calls.find((c) => c.method === 'errors.retry')?.params).toEqual({ process: 'p1', side: 'a', entity: '1' }))
  })

  it('shows errors to a viewer without retry buttons', async () => {
    fb = setup('viewer', { 'processes.list': processes, 'errors.list': () => ({ errors: [parked('p1', '1', 'HELP-1')] }) })
    renderAs(fb, <ErrorsPage />)
    expect(await screen.findByText('HELP-1')).toBeInTheDocument()
    expect(screen.queryByRole('button', { name: /Retry/ })).not.toBeInTheDocument()
  })

  it('lists the processes and the systems that fail, in words, with what to do', async () => {
    const refused = { state: 'failing', since: '2026-01-05T08:00:00Z', problem: 'Engineering refused the credentials (HTTP 401).', action: 'Enter a valid token for Engineering.', systemName: 'Engineering' }
    const p4 = sampleProcess({ id: 'p4', name: 'Archive ↔ Helpdesk', a: { system: 's3', project: 'ARC' }, b: { system: 's1', project: 'HELP' } })
    const list = [summary(p1, { health: refused }), summary(p4, { health: { state: 'ok' } })]
    fb = setup('viewer', {
      'processes.list': () => ({ processes: list }),
      'errors.list': () => ({ errors: [] }),
      'systems.list': () => ({
        systems: [
          { ...systems[1], health: refused },
          {
            id: 's3',
            name: 'Archive',
            kind: 'sandbox',
            url: 'https://archive.example',
            lastTest: { ok: false, message: 'HTTP 401', latencyMs: 30, at: '2026-01-05T07:00:00Z', actor: 'alice', savedAnyway: true },
            health: { state: 'failing', cause: 'test', problem: 'Archive refused the credentials (HTTP 401).', action: 'Enter a valid token for Archive.', acknowledged: true },
          },
          { ...systems[0], health: { state: 'ok' } },
        ],
      }),
    })
    const user = userEvent.setup()
    renderAs(fb, <ErrorsPage />)
    const process = await screen.findByTestId('process-failure')
    expect(process).toHaveTextContent('Helpdesk ↔ Engineering: failing because of Engineering')
    expect(process).toHaveTextContent('What to do: Enter a valid token for Engineering.')
    const failingSystems = await screen.findAllByTestId('system-failure')
    expect(failingSystems.map((s) => s.querySelector('.health-note-title')?.textContent)).toEqual(['Engineering: failing', 'Archive: failing'])
    expect(failingSystems[1]).toHaveTextContent('Archive refused the credentials (HTTP 401).')
    // Archive was saved despite its failing test: who did, and why nobody was notified.
    expect(within(failingSystems[1]).getByTestId('health-acknowledged')).toHaveTextContent('Saved despite a failing connection test by alice (tested')
    expect(within(failingSystems[0]).queryByTestId('health-acknowledged')).toBeNull()
    expect(screen.queryByText('No errors')).not.toBeInTheDocument()
    expect(screen.getByText('No entity is parked: the processes above stop before they reach any.')).toBeInTheDocument()

    // With a process picked, only its own systems.
    await user.selectOptions(screen.getByLabelText('Sync process'), 'p1')
    await waitFor(() => expect(screen.getAllByTestId('system-failure')).toHaveLength(1))
    expect(screen.getByTestId('system-failure')).toHaveTextContent('Engineering: failing')
    await user.selectOptions(screen.getByLabelText('Sync process'), 'p4')
    await waitFor(() => expect(screen.getByTestId('system-failure')).toHaveTextContent('Archive: failing'))
    expect(screen.queryByTestId('process-failure')).not.toBeInTheDocument()
  })

  it('lists a system that fails alone, and says no entity is parked', async () => {
    fb = setup('viewer', {
      'processes.list': processes,
      'errors.list': () => ({ errors: [] }),
      'systems.list': () => ({ systems: [{ id: 's3', name: 'Archive', kind: 'sandbox', url: 'https://archive.example', health: { state: 'failing', cause: 'test', problem: 'Nothing answers at archive.example.' } }] }),
    })
    renderAs(fb, <ErrorsPage />)
    expect(await screen.findByTestId('system-failure')).toHaveTextContent('Archive: failing')
    expect(await screen.findByText('No entity is parked.')).toBeInTheDocument()
    expect(screen.queryByText('No errors')).not.toBeInTheDocument()
  })

  it('says what to do when loading fails', async () => {
    fb = setup('viewer', {
      'processes.list': processes,
      'errors.list': () => {
        throw { kind: 'unavailable', message: 'the agent is restarting' }
      },
    })
    renderAs(fb, <ErrorsPage />)
    const alert = await screen.findByRole('alert')
    expect(alert).toHaveTextContent('The errors could not be loaded')
    expect(alert).toHaveTextContent('the agent is restarting')
    expect(within(alert).getByRole('button', { name: 'Try again' })).toBeInTheDocument()
  })
})

describe('PairsPage', () => {
  it('searches pairs by key or title and links a held pair to its comparison', async () => {
    const pair = (id: string, state: string, key: string) => ({
      id,
      process: 'p1',
      a: { id: `a${id}`, key, title: `Title ${key}`, type: 'incident' },
      b: { id: `b${id}`, key: `ENG-${id}`, title: `Title ${key}`, type: 'bug' },
      state,
      held: state === 'held' ? ['priority|priority'] : undefined,
      createdAt: '2026-01-01T00:00:00Z',
      lastSyncedAt: '2026-01-02T00:00:00Z',
    })
    fb = setup('operator', {
      'processes.list': processes,
      'pairs.list': (params: any) => ({ pairs: params.query ? [pair('2', 'held', 'HELP-2')] : [pair('1', 'synced', 'HELP-1'), pair('2', 'held', 'HELP-2')], cursor: '' }),
    })
    const user = userEvent.setup()
    renderAs(fb, <PairsPage />)
    expect(await screen.findByText('HELP-1')).toBeInTheDocument()
    await user.type(screen.getByLabelText('Search by key or title'), 'HELP-2')
    await user.click(screen.getByRole('button', { name: 'Search' }))
    await waitFor(() => expect(screen.queryByText('HELP-1')).not.toBeInTheDocument())
    expect(fb.calls.filter((c) => c.method === 'pairs.list').at(-1)!.params).toMatchObject({ query: 'HELP-2' })
    expect(screen.getByText('Held for review')).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'Compare priority' })).toHaveAttribute('href', '#/pairs/p1/2')
  })
})

describe('RunsPage', () => {
  it('lists a process runs with counts and opens a run with its errors', async () => {
    const run = {
      id: 'p1-7',
      process: 'p1',
      trigger: 'schedule',
      startedAt: '2026-01-03T10:00:00Z',
      endedAt: '2026-01-03T10:01:30Z',
      counts: { created: 3, updated: 2, commented: 1, attached: 0, linked: 0, skipped: 0, failed: 1, conflicts: 0 },
      errors: [{ side: 'a', entity: '9', key: 'HELP-9', message: 'field "severity" is required', parked: true }],
    }
    fb = setup('viewer', {
      'processes.list': processes,
      'runs.list': (params: any) => ({ runs: params.process === 'p1' ? [run] : [] }),
      'runs.get': () => ({ run }),
    })
    const user = userEvent.setup()
    renderAs(fb, <RunsPage />)
    const table = await screen.findByRole('table', { name: 'Runs, newest first' })
    const row = within(table).getAllByRole('row')[1]
    expect(within(row).getByText('Schedule')).toBeInTheDocument()
    expect(within(row).getByText('1m 30s')).toBeInTheDocument()
    expect(within(row).getByText('3')).toBeInTheDocument()

    await user.click(within(row).getAllByRole('button')[0])
    const detail = await screen.findByRole('region', { name: /^Run of/ })
    expect(await within(detail).findByText('field "severity" is required')).toBeInTheDocument()
    expect(within(detail).getByText('Parked: retry it on the Errors page')).toBeInTheDocument()
    expect(fb.calls.find((c) => c.method === 'runs.get')!.params).toEqual({ id: 'p1-7' })

    await user.selectOptions(screen.getByLabelText('Sync process'), 'Support ↔ Product')
    expect(await screen.findByText('No runs yet')).toBeInTheDocument()
  })

  it('names every trigger in words, the run a recreated entity started too', async () => {
    const at = (trigger: string, i: number) => ({
      id: `p1-${i}`, process: 'p1', trigger, startedAt: '2026-01-03T10:00:00Z', endedAt: '2026-01-03T10:00:01Z',
      counts: { created: 0, updated: 0, commented: 0, attached: 0, linked: 0, skipped: 0, failed: 0, conflicts: 0 }, errors: [],
    })
    const triggers = ['schedule', 'manual', 'webhook', 'entity', 'bulk', 'retry', 'recreate', 'test'] // docs/protocol.md, Run
    fb = setup('viewer', { 'processes.list': processes, 'runs.list': () => ({ runs: triggers.map(at) }) })
    renderAs(fb, <RunsPage />)
    const table = await screen.findByRole('table', { name: 'Runs, newest first' })
    const shown = within(table).getAllByRole('row').slice(1).map((r) => within(r).getAllByRole('cell').map((c) => c.textContent))
    for (const word of triggers) {
      expect(shown.flat()).not.toContain(word)
    }
    expect(within(table).getByText('Deleted entity recreated')).toBeInTheDocument()
  })
})
