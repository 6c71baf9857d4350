import { act, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it } from 'vitest'
import type { PlanItem } from '../../api/generated/types'
import type { FakeBridge } from '../../test/fakeBridge'
import { ProcessesPage } from './index'
import { emitEvents, processHandlers, renderAs, sampleProcess, setup } from './testkit'

let fb: FakeBridge | undefined
afterEach(() => fb?.restore())

async function openProcess(user: ReturnType<typeof userEvent.setup>) {
  await user.click(await screen.findByRole('button', { name: 'Helpdesk ↔ Engineering' }))
  await screen.findByRole('form', { name: 'Sync process configuration' })
}

// showPlan opens the process as an operator and asks for the dry run the
// agent answers with items (typed as the wire's, so a fixture cannot send
// what the agent never does).
async function showPlan(items: PlanItem[]): Promise<FakeBridge> {
  const f = setup('operator', { ...processHandlers(sampleProcess()), 'processes.plan': () => ({ items }) })
  const user = userEvent.setup()
  renderAs(f, <ProcessesPage />)
  await openProcess(user)
  await user.click(screen.getByRole('button', { name: 'Show what a run would do' }))
  return f
}

describe('ProcessesPage', () => {
  it('lists processes with their state, last run and errors', async () => {
    const p = sampleProcess({ active: true })
    fb = setup('viewer', {
      ...processHandlers(p),
      'processes.list': () => ({
        processes: [{ process: p, pairs: 3, errors: 2, lastRun: { id: 'p1-1', process: 'p1', trigger: 'schedule', startedAt: '2026-01-03T10:00:00Z', endedAt: '2026-01-03T10:00:05Z', counts: { created: 4, updated: 1 } } }],
      }),
    })
    renderAs(fb, <ProcessesPage />)
    const row = (await screen.findByRole('button', { name: 'Helpdesk ↔ Engineering' })).closest('tr')!
    expect(within(row).getByText('Active')).toBeInTheDocument()
    expect(within(row).getByText('Helpdesk HELP ↔ Engineering ENG')).toBeInTheDocument()
    expect(within(row).getByText(/4 created, 1 updated/)).toBeInTheDocument()
    expect(within(row).getByText('2')).toBeInTheDocument()
  })

  it('saves an edited field pair direction and keeps the rest of the document', async () => {
    const p = sampleProcess()
    fb = setup('admin', {
      ...processHandlers(p),
      'processes.update': (params: any) => ({ process: params.process }),
    })
    const user = userEvent.setup()
    renderAs(fb, <ProcessesPage />)
    await openProcess(user)

    await user.selectOptions(screen.getByLabelText(/^Direction of field pair 1 /), 'A → B')
    await user.click(screen.getByRole('button', { name: 'Save changes' }))

    await waitFor(() => expect(fb!.calls.some((c) => c.method === 'processes.update')).toBe(true))
    const sent = fb.calls.find((c) => c.method === 'processes.update')!.params.process
    expect(sent.id).toBe('p1')
    expect(sent.types[0].fields[0]).toEqual({ a: 'title', b: 'title', direction: 'a_to_b' })
    // Everything else travels back as it came.
    expect(sent.types[0].fields[1]).toEqual(p.types[0].fields[1])
    expect(sent.types[0].filters).toEqual(p.types[0].filters)
    expect(sent.types[0].linkTypes).toEqual(p.types[0].linkTypes)
    expect(sent.users).toEqual(p.users)
    expect(sent.options).toEqual(p.options)
    expect(sent.schedule).toEqual(p.schedule)
    expect(sent.createdAt).toBeUndefined()
  })

  it('shows the agent validation error at the field it names and focuses it', async () => {
    const p = sampleProcess()
    fb = setup('admin', {
      ...processHandlers(p),
      'processes.update': () => {
        throw {
          kind: 'invalid',
          message: 'invalid sync process: types[0].fields[1].b: field "state" does not exist in bug; schedule.pollSeconds: must be between 5 and 86400',
          field: 'types[0].fields[1].b',
          issues: [
            { field: 'types[0].fields[1].b', message: 'field "state" does not exist in bug' },
            { field: 'schedule.pollSeconds', message: 'must be between 5 and 86400' },
          ],
        }
      },
    })
    const user = userEvent.setup()
    renderAs(fb, <ProcessesPage />)
    await openProcess(user)
    await user.clear(screen.getByLabelText('Poll interval in seconds'))
    await user.type(screen.getByLabelText('Poll interval in seconds'), '1')
    await user.click(screen.getByRole('button', { name: 'Save changes' }))

    const field = await screen.findByLabelText(/^Field in B of field pair 2 /)
    await waitFor(() => expect(field).toHaveAttribute('aria-invalid', 'true'))
    expect(field).toHaveAccessibleDescription('field "state" does not exist in bug')
    expect(field).toHaveFocus()
    expect(screen.getByLabelText('Poll interval in seconds')).toHaveAccessibleDescription('must be between 5 and 86400')
    // Fields the agent did not name stay unmarked.
    expect(screen.getByLabelText(/^Field in A of field pair 2 /)).not.toHaveAttribute('aria-invalid')
  })

  it('imports a CSV user map, lists each bad line and uses the good ones', async () => {
    const p = sampleProcess()
    const csv = 'a,b\nbob@help.example,bob@eng.example\nnot-an-email,carl@eng.example\n\ndana@help.example,dana@eng.example\nerin@help.example\n'
    fb = setup('admin', { ...processHandlers(p), 'processes.update': (params: any) => ({ process: params.process }) }, { OpenTextFile: async () => csv })
    const user = userEvent.setup()
    renderAs(fb, <ProcessesPage />)
    await openProcess(user)

    await user.click(screen.getByRole('button', { name: 'Import CSV…' }))
    const preview = await screen.findByRole('region', { name: 'CSV import' })
    expect(within(preview).getByText('2 lines of the file could not be read')).toBeInTheDocument()
    expect(within(preview).getByText('Line 3: column 1 (a): "not-an-email" is not an email address')).toBeInTheDocument()
    expect(within(preview).getByText('Line 6: expected 2 values, found 1')).toBeInTheDocument()
    // Nothing changes before the administrator says so.
    expect(screen.getByText('ann@help.example')).toBeInTheDocument()

    await user.click(within(preview).getByRole('button', { name: 'Use 2 entries' }))
    expect(screen.queryByText('ann@help.example')).not.toBeInTheDocument()
    expect(screen.getByText('bob@help.example')).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Save changes' }))
    await waitFor(() => expect(fb!.calls.some((c) => c.method === 'processes.update')).toBe(true))
    const sent = fb.calls.find((c) => c.method === 'processes.update')!.params.process
    expect(sent.users.matchBy).toBe('email')
    expect(sent.users.entries).toEqual([
      { a: { email: 'bob@help.example' }, b: { email: 'bob@eng.example' } },
      { a: { email: 'dana@help.example' }, b: { email: 'dana@eng.example' } },
    ])
  })

  it('renders the dry-run plan as a table of what a run would do', async () => {
    fb = await showPlan([
      { action: 'read', side: 'a', entity: '1', key: 'HELP-1', title: 'Printer jam' },
      { action: 'create', side: 'b', key: 'HELP-1', title: 'Printer jam', detail: 'bug from a HELP-1' },
      { action: 'update', side: 'a', key: 'HELP-2', title: 'VPN down', detail: 'status' },
      { action: 'comment', side: 'b', key: 'ENG-7', detail: 'comment c1 from HELP-2' },
      { action: 'attach', side: 'b', key: 'ENG-7', detail: 'log.txt (120 bytes) from HELP-2' },
      { action: 'link', side: 'b', key: 'ENG-7', detail: 'blocks ENG-8' },
    ])

    const table = await screen.findByRole('table', { name: 'What a run would do' })
    const rows = within(table).getAllByRole('row').slice(1)
    expect(rows.map((r) => within(r).getAllByRole('cell')[0].textContent)).toEqual(['Create', 'Update', 'Comment', 'Attach', 'Link'])
    expect(within(rows[0]).getByText('Engineering ENG')).toBeInTheDocument()
    expect(within(rows[0]).getByText('bug from a HELP-1')).toBeInTheDocument()
    const totals = screen.getByRole('list', { name: 'Plan totals' })
    expect(within(totals).getByText('Read: 1')).toBeInTheDocument()
    expect(within(totals).getByText('Create: 1')).toBeInTheDocument()
    expect(fb.calls.find((c) => c.method === 'processes.plan')!.params).toEqual({ id: 'p1' })
    // A plan that ran to its end says nothing of stopping.
    expect(screen.queryByTestId('plan-stopped')).toBeNull()
    expect(screen.queryByText(/partial/)).toBeNull()
  })

  it('says a dry run cut short stopped, why and how far it got, apart from the items, which keep their sides', async () => {
    const why = 'The dry run was stopped after it worked 2 of the 900 items: its time ran out. The plan lists what a run would do for those; the rest are not planned. Nothing was changed; plan again.'
    // As the agent answers: the reads first, then what the items worked
    // would do, and last the entry saying it stopped, with no side.
    fb = await showPlan([
      { action: 'read', side: 'a', entity: '1', key: 'HELP-1', title: 'Printer jam' },
      { action: 'read', side: 'a', entity: '2', key: 'HELP-2', title: 'VPN down' },
      { action: 'comment-edit', side: 'b', key: 'ENG-7', detail: 'comment c9 from HELP-2' },
      { action: 'update', side: 'b', key: 'ENG-7', title: 'VPN down', detail: 'status' },
      { action: 'create', side: 'b', key: 'HELP-1', title: 'Printer jam', detail: 'bug from a HELP-1' },
      { action: 'stopped', detail: why },
    ])

    const notice = await screen.findByRole('alert')
    expect(notice).toHaveTextContent('The dry run stopped before it finished: this plan is partial')
    expect(within(notice).getByTestId('plan-stopped')).toHaveTextContent(why)

    const table = screen.getByRole('table', { name: 'What a run would do, for the items worked before the dry run stopped' })
    // The notice comes first: the totals and rows are read knowing they are not all.
    expect(notice.compareDocumentPosition(table) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy()
    const rows = within(table).getAllByRole('row').slice(1)
    const cells = rows.map((r) => within(r).getAllByRole('cell').map((c) => c.textContent))
    // The stop is no item: not a row, not a total, and no side is made up for it.
    expect(cells.map((c) => c[0])).toEqual(['Create', 'Update', 'Edit comment'])
    expect(cells.map((c) => c[1])).toEqual(['Engineering ENG', 'Engineering ENG', 'Engineering ENG'])
    expect(rows.map((r) => r.textContent).filter((t) => /stopped/i.test(t ?? ''))).toEqual([])
    const totals = screen.getByRole('list', { name: 'Plan totals, of the items worked before the stop' })
    expect(within(totals).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['Create: 1', 'Update: 1', 'Edit comment: 1', 'Read: 2'])
    expect(screen.queryByText('Nothing to do')).toBeNull()
  })

  it('does not call a dry run stopped while it read the changes "nothing to do"', async () => {
    const why = 'The dry run was stopped while it read the changes, before it worked any item: it was canceled (the request was abandoned, or the agent is stopping). It read 1 changed entities. Nothing was changed; plan again.'
    fb = await showPlan([
      { action: 'read', side: 'b', entity: '7', key: 'ENG-7', title: 'VPN down' },
      { action: 'stopped', detail: why },
    ])

    expect(await screen.findByTestId('plan-stopped')).toHaveTextContent(why)
    expect(screen.getByRole('alert')).toHaveTextContent('this plan is partial')
    expect(screen.getByText('Of what it got to, a run would read 1 entity and change nothing. The rest was not planned.')).toBeInTheDocument()
    expect(screen.queryByText('Nothing to do')).toBeNull()
    expect(screen.queryByText(/both systems are in step/)).toBeNull()
    expect(screen.queryByRole('table', { name: /What a run would do/ })).toBeNull()
  })

  it('moves the bulk sync progress bar with BulkProgress events', async () => {
    const p = sampleProcess()
    fb = setup('operator', {
      ...processHandlers(p),
      'processes.bulkSync': (params: any) => ({ job: { id: 'job-1', process: params.id, since: params.since, state: 'running', total: 0, done: 0 } }),
    })
    const user = userEvent.setup()
    renderAs(fb, <ProcessesPage />)
    await openProcess(user)
    await user.type(screen.getByLabelText('Sync entities changed since'), '2026-01-15')
    await user.click(screen.getByRole('button', { name: 'Start bulk sync' }))

    const bar = await screen.findByRole('progressbar', { name: 'Bulk sync progress' })
    expect(bar).toHaveAttribute('aria-valuenow', '0')
    expect(new Date(fb.calls.find((c) => c.method === 'processes.bulkSync')!.params.since).getDate()).toBe(15)

    act(() => emitEvents(fb!, ['BulkProgress'], [{ type: 'BulkProgress', data: { id: 'job-1', process: 'p1', state: 'running', total: 50, done: 20, percent: 40 } }]))
    expect(bar).toHaveAttribute('aria-valuenow', '40')
    expect(screen.getByText('20 of 50 entities (40%)')).toBeInTheDocument()
    // Another job's progress is not this one's.
    act(() => emitEvents(fb!, ['BulkProgress'], [{ type: 'BulkProgress', data: { id: 'job-0', process: 'p1', state: 'running', total: 50, done: 45, percent: 90 } }]))
    expect(bar).toHaveAttribute('aria-valuenow', '40')
    act(() => emitEvents(fb!, ['BulkProgress'], [{ type: 'BulkProgress', data: { id: 'job-1', process: 'p1', state: 'done', total: 50, done: 50, percent: 100 } }]))
    expect(bar).toHaveAttribute('aria-valuenow', '100')
    expect(screen.getByText('Done: 50 of 50 entities synced.')).toBeInTheDocument()
  })

  it('lets a viewer read but not change or run a process', async () => {
    fb = setup('viewer', processHandlers(sampleProcess()))
    const user = userEvent.setup()
    renderAs(fb, <ProcessesPage />)
    expect(await screen.findByRole('button', { name: 'Helpdesk ↔ Engineering' })).toBeInTheDocument()
    expect(screen.queryByRole('button', { name: 'New process' })).not.toBeInTheDocument()
    expect(screen.queryByRole('button', { name: 'Import YAML…' })).not.toBeInTheDocument()
    await openProcess(user)
    for (const name of ['Activate', 'Run now', 'Delete', 'Save changes', 'Show what a run would do', 'Start bulk sync']) {
      expect(screen.queryByRole('button', { name })).not.toBeInTheDocument()
    }
    expect(screen.getByRole('button', { name: 'Export…' })).toBeInTheDocument()
    expect(screen.getByLabelText(/^Direction of field pair 1 /)).toBeDisabled()
    expect(screen.getByLabelText('Name')).toBeDisabled()
  })

  it('lets an operator activate and run a process but not edit it', async () => {
    const p = sampleProcess()
    fb = setup('operator', {
      ...processHandlers(p),
      'processes.activate': () => ({ process: { ...p, active: true } }),
      'processes.run': () => ({ accepted: true }),
    })
    const user = userEvent.setup()
    renderAs(fb, <ProcessesPage />)
    await openProcess(user)
    expect(screen.queryByRole('button', { name: 'Save changes' })).not.toBeInTheDocument()
    expect(screen.queryByRole('button', { name: 'Delete' })).not.toBeInTheDocument()
    expect(screen.getByLabelText(/^Direction of field pair 1 /)).toBeDisabled()

    await user.click(screen.getByRole('button', { name: 'Activate' }))
    expect(await screen.findByRole('button', { name: 'Deactivate' })).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Run now' }))
    await waitFor(() => expect(fb!.calls.map((c) => c.method)).toEqual(expect.arrayContaining(['processes.activate', 'processes.run'])))
  })

  it('shows import validation errors and changes nothing', async () => {
    fb = setup(
      'admin',
      {
        ...processHandlers(sampleProcess()),
        'processes.import': () => {
          throw {
            kind: 'invalid',
            message: 'invalid sync process: processes[0].a.system: no system named "Jira" on this agent',
            field: 'processes[0].a.system',
          }
        },
      },
      { OpenTextFile: async () => 'version: 1\nkind: lockstep/sync-processes\nprocesses: []\n' },
    )
    const user = userEvent.setup()
    renderAs(fb, <ProcessesPage />)
    await user.click(await screen.findByRole('button', { name: 'Import YAML…' }))
    const alert = await screen.findByRole('alert')
    expect(alert).toHaveTextContent('Nothing was imported')
    expect(alert).toHaveTextContent('processes[0].a.system no system named "Jira" on this agent')
  })

  it('exports a process as YAML through the save dialog', async () => {
    let saved: [string, string] | null = null
    fb = setup(
      'viewer',
      { ...processHandlers(sampleProcess()), 'processes.export': () => ({ document: 'version: 1\n' }) },
      {
        SaveTextFile: async (name: string, content: string) => {
          saved = [name, content]
          return `/home/ann/${name}`
        },
      },
    )
    const user = userEvent.setup()
    renderAs(fb, <ProcessesPage />)
    await openProcess(user)
    await user.click(screen.getByRole('button', { name: 'Export…' }))
    await waitFor(() => expect(saved).toEqual(['helpdesk-engineering.yaml', 'version: 1\n']))
    expect(fb.calls.find((c) => c.method === 'processes.export')!.params).toEqual({ ids: ['p1'] })
  })
  it('creates a new process with the systems chosen', async () => {
    const p = sampleProcess()
    fb = setup('admin', { ...processHandlers(p), 'processes.create': (params: any) => ({ process: { ...params.process, id: 'p9' } }) })
    const user = userEvent.setup()
    renderAs(fb, <ProcessesPage />)
    await user.click(await screen.findByRole('button', { name: 'New process' }))
    await user.type(screen.getByLabelText('Name'), 'Ops sync')
    await user.selectOptions(screen.getByLabelText('System A'), 'Helpdesk (sandbox)')
    await user.selectOptions(screen.getByLabelText('System B'), 'Engineering (sandbox)')
    await user.type(screen.getByLabelText('Project in A'), 'OPS')
    await user.type(screen.getByLabelText('Project in B'), 'ENG')
    await user.type(screen.getByLabelText('Entity type in A (pair 1)'), 'incident')
    await user.type(screen.getByLabelText('Entity type in B (pair 1)'), 'bug')
    await user.click(screen.getByRole('button', { name: 'Create process' }))
    await waitFor(() => expect(fb!.calls.some((c) => c.method === 'processes.create')).toBe(true))
    const sent = fb.calls.find((c) => c.method === 'processes.create')!.params.process
    expect(sent).toMatchObject({ name: 'Ops sync', a: { system: 's1', project: 'OPS' }, b: { system: 's2', project: 'ENG' }, active: false })
    expect(sent.types).toEqual([{ a: 'incident', b: 'bug', fields: [{ a: 'title', b: 'title', direction: 'both' }] }])
  })

  it('keeps what is typed into a new process while the list reloads', async () => {
    const p = sampleProcess({ active: true })
    fb = setup('admin', processHandlers(p))
    const user = userEvent.setup()
    renderAs(fb, <ProcessesPage />)
    await user.click(await screen.findByRole('button', { name: 'New process' }))
    await user.type(screen.getByLabelText('Name'), 'Ops sync')
    await user.type(screen.getByLabelText('Project in A'), 'OPS')
    const lists = fb.calls.filter((c) => c.method === 'processes.list').length
    // Another process's run finishes: the page reloads its list.
    act(() => emitEvents(fb!, ['ConfigChanged', 'RunFinished', 'HealthChanged'], [{ type: 'RunFinished', data: { process: 'p1' } }]))
    await waitFor(() => expect(fb!.calls.filter((c) => c.method === 'processes.list').length).toBe(lists + 1))
    await user.type(screen.getByLabelText('Project in B'), 'ENG')
    expect(screen.getByLabelText('Name')).toHaveValue('Ops sync')
    expect(screen.getByLabelText('Project in A')).toHaveValue('OPS')
    expect(screen.getByLabelText('Project in B')).toHaveValue('ENG')
    expect(screen.getByText('Unsaved changes')).toBeInTheDocument()
  })

  it('keeps unsaved edits when the process is activated, and shows what was saved', async () => {
    const p = sampleProcess()
    fb = setup('admin', {
      ...processHandlers(p),
      'processes.activate': () => ({ process: { ...p, active: true, updatedAt: '2026-01-03T00:00:00Z' } }),
      'processes.update': (params: any) => ({ process: { ...params.process, active: true, updatedAt: '2026-01-04T00:00:00Z' } }),
    })
    const user = userEvent.setup()
    renderAs(fb, <ProcessesPage />)
    await openProcess(user)
    await user.clear(screen.getByLabelText('Poll interval in seconds'))
    await user.type(screen.getByLabelText('Poll interval in seconds'), '90')

    await user.click(screen.getByRole('button', { name: 'Activate' }))
    expect(await screen.findByRole('button', { name: 'Deactivate' })).toBeInTheDocument()
    expect(screen.getByLabelText('Poll interval in seconds')).toHaveValue(90)
    expect(screen.getByText('Unsaved changes')).toBeInTheDocument()

    // Undoing the edit by hand leaves nothing to save: activation is not an edit.
    await user.clear(screen.getByLabelText('Poll interval in seconds'))
    await user.type(screen.getByLabelText('Poll interval in seconds'), '30')
    expect(screen.queryByText('Unsaved changes')).not.toBeInTheDocument()

    await user.clear(screen.getByLabelText('Poll interval in seconds'))
    await user.type(screen.getByLabelText('Poll interval in seconds'), '45')
    await user.click(screen.getByRole('button', { name: 'Save changes' }))
    await waitFor(() => expect(screen.getByRole('button', { name: 'Save changes' })).toBeDisabled())
    expect(fb.calls.find((c) => c.method === 'processes.update')!.params.process.schedule.pollSeconds).toBe(45)
    expect(screen.getByLabelText('Poll interval in seconds')).toHaveValue(45)
    expect(screen.queryByText('Unsaved changes')).not.toBeInTheDocument()
  })

  it('syncs one entity by key and shows what the run did', async () => {
    fb = setup('operator', {
      ...processHandlers(sampleProcess()),
      'processes.syncEntity': () => ({ run: { id: 'p1-9', process: 'p1', trigger: 'entity', startedAt: '', endedAt: '', counts: { created: 1, commented: 2 } } }),
    })
    const user = userEvent.setup()
    renderAs(fb, <ProcessesPage />)
    await openProcess(user)
    await user.selectOptions(screen.getByLabelText('Entity is in'), 'In Engineering ENG')
    await user.type(screen.getByLabelText('Entity key or id'), 'ENG-12')
    await user.click(screen.getByRole('button', { name: 'Sync' }))
    expect(await screen.findByText('Synced: 1 created, 2 commented')).toBeInTheDocument()
    expect(fb.calls.find((c) => c.method === 'processes.syncEntity')!.params).toEqual({ id: 'p1', side: 'b', entity: 'ENG-12' })
  })
})
