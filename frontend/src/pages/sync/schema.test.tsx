import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it } from 'vitest'
import type { FakeBridge } from '../../test/fakeBridge'
import { ProcessesPage } from './index'
import type { SystemSchema } from './schema'
import { processHandlers, renderAs, sampleProcess, setup } from './testkit'

let fb: FakeBridge | undefined
afterEach(() => fb?.restore())

// Schemas shaped like the agent's answer for the sandbox's demo projects.
const help: SystemSchema = {
  system: 's1',
  project: 'HELP',
  entityTypes: ['incident', 'task'],
  fields: [
    { name: 'title', label: 'Title', type: 'string', required: true },
    { name: 'status', label: 'Status', type: 'enum', values: ['new', 'in_progress', 'resolved'] },
    { name: 'cf.impact', label: 'Impact', type: 'enum', values: ['single_user', 'team', 'company'] },
  ],
  linkTypes: ['blocks', 'relates'],
  usersOmitted: true,
}

const eng: SystemSchema = {
  system: 's2',
  project: 'ENG',
  entityTypes: ['bug', 'story'],
  fields: [
    { name: 'title', label: 'Title', type: 'string', required: true },
    { name: 'status', label: 'Status', type: 'enum', values: ['open', 'fixed', 'released', 'planned'] },
    { name: 'cf.story_points', label: 'Story points', type: 'number' },
  ],
  linkTypes: ['blocks', 'duplicates'],
  // A bug never reaches "planned": the system narrows status per type.
  typeValues: { bug: { status: ['open', 'fixed', 'released'] } },
  usersOmitted: true,
}

function schemaHandler(answers: Record<string, () => SystemSchema>) {
  return (params: { id: string; project: string }) => {
    const answer = answers[`${params.id}/${params.project}`]
    if (!answer) throw { kind: 'invalid', message: `system has no project "${params.project}"`, field: 'project' }
    return answer()
  }
}

// optionsOf reads the suggestions of an input's datalist.
function optionsOf(input: HTMLElement): { value: string; label: string }[] {
  const id = input.getAttribute('list')
  if (!id) return []
  const list = document.getElementById(id)
  return Array.from(list?.querySelectorAll('option') ?? []).map((o) => ({ value: o.value, label: o.label }))
}

const values = (input: HTMLElement) => optionsOf(input).map((o) => o.value)

const schemaCalls = () => fb!.calls.filter((c) => c.method === 'systems.schema').map((c) => `${c.params.id}/${c.params.project}`)

async function openProcess(user: ReturnType<typeof userEvent.setup>) {
  await user.click(await screen.findByRole('button', { name: 'Helpdesk ↔ Engineering' }))
  await screen.findByRole('form', { name: 'Sync process configuration' })
}

describe('mapping editor pick-lists', () => {
  it('counts what each schema has in words: one entity type, fields', async () => {
    const p = sampleProcess()
    const small: SystemSchema = { ...eng, entityTypes: ['bug'], fields: eng.fields.slice(0, 2), linkTypes: ['blocks'] }
    fb = setup('admin', { ...processHandlers(p), 'systems.schema': schemaHandler({ 's1/HELP': () => ({ ...help, linkTypes: [] }), 's2/ENG': () => small }) })
    const user = userEvent.setup()
    renderAs(fb, <ProcessesPage />)
    await openProcess(user)
    const status = await screen.findByRole('list', { name: 'Pick-lists' })
    await waitFor(() => expect(status).toHaveTextContent('A: Helpdesk (HELP): 2 entity types, 3 fields, 0 link types'))
    expect(status).toHaveTextContent('B: Engineering (ENG): 1 entity type, 2 fields, 1 link type')
    expect(screen.getByLabelText(/^Field in B of field pair 1 /)).toHaveAccessibleDescription('string · required')
  })

  it('offers entity types, fields with their types, values and link types from both schemas', async () => {
    const p = sampleProcess()
    fb = setup('admin', {
      ...processHandlers(p),
      'systems.schema': schemaHandler({ 's1/HELP': () => help, 's2/ENG': () => eng }),
      'processes.update': (params: any) => ({ process: params.process }),
    })
    const user = userEvent.setup()
    renderAs(fb, <ProcessesPage />)
    await openProcess(user)

    const status = await screen.findByRole('list', { name: 'Pick-lists' })
    await waitFor(() => expect(status).toHaveTextContent('A: Helpdesk (HELP): 2 entity types, 3 fields, 2 link types'))
    expect(status).toHaveTextContent('B: Engineering (ENG): 2 entity types, 3 fields, 2 link types')

    expect(values(screen.getByLabelText('Entity type in A (pair 1)'))).toEqual(['incident', 'task'])
    expect(values(screen.getByLabelText('Entity type in B (pair 1)'))).toEqual(['bug', 'story'])

    // Fields name their label and type; the chosen one shows what it is.
    const fieldA = screen.getByLabelText(/^Field in A of field pair 2 /)
    expect(optionsOf(fieldA)).toEqual([
      { value: 'title', label: 'Title · string · required' },
      { value: 'status', label: 'Status · enum' },
      { value: 'cf.impact', label: 'Impact · enum' },
    ])
    expect(fieldA).toHaveAccessibleDescription('enum · 3 values')
    // The sample maps status to "state", which ENG does not have.
    const fieldB = screen.getByLabelText(/^Field in B of field pair 2 /)
    expect(fieldB).toHaveAccessibleDescription("Not in ENG's schema")
    expect(values(screen.getByLabelText(/^Value in B \(row 1\) of field pair 2 /))).toEqual([])

    // Value maps offer the field's values, narrowed to the entity type where
    // the system says so.
    expect(values(screen.getByLabelText(/^Value in A \(row 1\) of field pair 2 /))).toEqual(['new', 'in_progress', 'resolved'])
    await user.clear(fieldB)
    await user.type(fieldB, 'status')
    expect(screen.getByLabelText(/^Field in B of field pair 2 /)).toHaveAccessibleDescription('enum · 4 values')
    expect(values(screen.getByLabelText(/^Value in B \(row 1\) of field pair 2 /))).toEqual(['open', 'fixed', 'released'])
    expect(values(screen.getByLabelText(/^Default in B of field pair 2 /))).toEqual(['open', 'fixed', 'released'])

    // Filters suggest the fields of their side, and values for a comparison.
    expect(values(screen.getByLabelText('Field of filter 1'))).toEqual(['title', 'status', 'cf.impact'])
    await user.selectOptions(screen.getByLabelText('Side of filter 1'), 'In B')
    expect(values(screen.getByLabelText('Field of filter 1'))).toEqual(['title', 'status', 'cf.story_points'])

    expect(values(screen.getByLabelText('Link type in A (link 1)'))).toEqual(['blocks', 'relates'])
    expect(values(screen.getByLabelText('Link type in B (link 1)'))).toEqual(['blocks', 'duplicates'])

    // A name the schema does not list can still be typed and is saved as is.
    const typeA = screen.getByLabelText('Entity type in A (pair 1)')
    await user.clear(typeA)
    await user.type(typeA, 'problem')
    expect(typeA).toHaveAccessibleDescription('Not an entity type of HELP')
    await user.click(screen.getByRole('button', { name: 'Save changes' }))
    // The status pair maps three of A's values onto B's and has no default:
    // the save warns first, naming the values that map to nothing.
    const gaps = await screen.findByTestId('enum-gaps')
    expect(gaps).toHaveTextContent('status → status')
    expect(fb.calls.some((c) => c.method === 'processes.update')).toBe(false)
    await user.click(screen.getByRole('button', { name: 'Save anyway' }))
    await waitFor(() => expect(fb!.calls.some((c) => c.method === 'processes.update')).toBe(true))
    const sent = fb.calls.find((c) => c.method === 'processes.update')!.params.process
    expect(sent.types[0].a).toBe('problem')
    expect(sent.types[0].fields[1]).toMatchObject({ a: 'status', b: 'status' })

    // Each system and project was read once.
    expect(schemaCalls().sort()).toEqual(['s1/HELP', 's2/ENG'])
  })

  it('keeps each schema per system and project, and reads them again on refresh', async () => {
    const p = sampleProcess()
    const ops: SystemSchema = { ...help, project: 'OPS', entityTypes: ['change'] }
    fb = setup('admin', {
      ...processHandlers(p),
      'systems.schema': schemaHandler({ 's1/HELP': () => help, 's1/OPS': () => ops, 's2/ENG': () => eng }),
    })
    const user = userEvent.setup()
    renderAs(fb, <ProcessesPage />)
    await openProcess(user)
    const typeA = screen.getByLabelText('Entity type in A (pair 1)')
    await waitFor(() => expect(values(typeA)).toEqual(['incident', 'task']))

    // Each name arrives whole (pasted), so the calls counted do not depend
    // on how fast keys are typed.
    const project = screen.getByLabelText('Project in A')
    await user.clear(project)
    await user.paste('OPS')
    await waitFor(() => expect(values(screen.getByLabelText('Entity type in A (pair 1)'))).toEqual(['change']))
    await user.clear(project)
    await user.paste('HELP')
    expect(values(screen.getByLabelText('Entity type in A (pair 1)'))).toEqual(['incident', 'task'])
    // HELP came from the cache.
    expect(schemaCalls().sort()).toEqual(['s1/HELP', 's1/OPS', 's2/ENG'])

    // The system's schema changed: refresh reads both chosen ones again.
    fb.on('systems.schema', schemaHandler({ 's1/HELP': () => ({ ...help, entityTypes: ['incident', 'task', 'problem'] }), 's2/ENG': () => eng }))
    await user.click(screen.getByRole('button', { name: 'Refresh pick-lists' }))
    await waitFor(() => expect(values(screen.getByLabelText('Entity type in A (pair 1)'))).toEqual(['incident', 'task', 'problem']))
    expect(schemaCalls().sort()).toEqual(['s1/HELP', 's1/HELP', 's1/OPS', 's2/ENG', 's2/ENG'])
  })

  it('says which system could not be read and leaves its names free text', async () => {
    const p = sampleProcess()
    let engReachable = false
    fb = setup('admin', {
      ...processHandlers(p),
      'systems.schema': (params: { id: string }) => {
        if (params.id === 's1') return help
        if (!engReachable) {
          throw { kind: 'unavailable', message: 'cannot read the schema of system Engineering: dial tcp 10.0.0.7:443: connect: connection refused' }
        }
        return eng
      },
      'processes.update': (params: any) => ({ process: params.process }),
    })
    const user = userEvent.setup()
    renderAs(fb, <ProcessesPage />)
    await openProcess(user)

    const alert = await screen.findByRole('alert')
    expect(within(alert).getByText('No pick-lists for B: Engineering (ENG) could not be read')).toBeInTheDocument()
    expect(alert).toHaveTextContent('connection refused.')
    expect(alert).toHaveTextContent('Names can still be typed; saving checks them against the system.')
    // Side A still has its pick-lists; B is plain text that takes any name.
    expect(values(screen.getByLabelText('Entity type in A (pair 1)'))).toEqual(['incident', 'task'])
    const typeB = screen.getByLabelText('Entity type in B (pair 1)')
    expect(typeB).not.toHaveAttribute('list')
    expect(typeB).not.toHaveAccessibleDescription()
    await user.clear(typeB)
    await user.type(typeB, 'defect')
    await user.click(screen.getByRole('button', { name: 'Save changes' }))
    await waitFor(() => expect(fb!.calls.some((c) => c.method === 'processes.update')).toBe(true))
    expect(fb.calls.find((c) => c.method === 'processes.update')!.params.process.types[0].b).toBe('defect')

    // Once the system is back, a refresh brings its pick-lists.
    engReachable = true
    await user.click(screen.getByRole('button', { name: 'Refresh pick-lists' }))
    await waitFor(() => expect(values(screen.getByLabelText('Entity type in B (pair 1)'))).toEqual(['bug', 'story']))
    expect(screen.queryByRole('alert')).not.toBeInTheDocument()
  })

  it('suggests the people of each side for the user map when the agent sends them', async () => {
    const withUsers: SystemSchema = {
      ...help,
      usersOmitted: false,
      users: [
        { id: 'alice', email: 'alice@help.example', name: 'Alice Admin' },
        { id: 'carol', name: 'Carol Support' },
      ],
    }
    fb = setup('admin', {
      ...processHandlers(sampleProcess()),
      'systems.schema': schemaHandler({ 's1/HELP': () => withUsers, 's2/ENG': () => eng }),
    })
    const user = userEvent.setup()
    renderAs(fb, <ProcessesPage />)
    await openProcess(user)
    const personA = screen.getByLabelText('New entry: person in A')
    await waitFor(() => expect(optionsOf(personA)).toEqual([{ value: 'alice@help.example', label: 'Alice Admin' }]))
    await user.selectOptions(screen.getByLabelText('New entry: kind in A'), 'Account id')
    expect(values(screen.getByLabelText('New entry: person in A'))).toEqual(['alice', 'carol'])
    expect(values(screen.getByRole('combobox', { name: 'Default person in A' }))).toEqual(['alice@help.example'])
    // ENG's users were left out (usersOmitted): B stays plain text.
    expect(screen.getByLabelText('New entry: person in B')).not.toHaveAttribute('list')
  })

  it('says what becomes of attachments on a side that cannot hold files', async () => {
    // B is like a GitHub repository: issues hold no files.
    const noFiles = (attachments: 'comment' | 'skip') => ({ ...eng, attachments })
    let mode: 'comment' | 'skip' = 'comment'
    fb = setup('admin', {
      ...processHandlers(sampleProcess()),
      'systems.schema': schemaHandler({ 's1/HELP': () => help, 's2/ENG': () => noFiles(mode) }),
    })
    const user = userEvent.setup()
    renderAs(fb, <ProcessesPage />)
    await openProcess(user)
    const notes = await screen.findByRole('list', { name: 'What becomes of attachments' })
    expect(within(notes).getAllByRole('listitem')).toHaveLength(1)
    expect(notes).toHaveTextContent(
      'B (Engineering) cannot hold files: each attachment from A becomes a comment there naming the file and linking the item that has it.',
    )
    mode = 'skip'
    await user.click(screen.getByRole('button', { name: 'Refresh pick-lists' }))
    await waitFor(() =>
      expect(screen.getByRole('list', { name: 'What becomes of attachments' })).toHaveTextContent(
        'B (Engineering) cannot hold files: attachments from A are left out and counted as skipped in each run.',
      ),
    )
  })

  it('says nothing of attachments when both sides hold files', async () => {
    fb = setup('admin', { ...processHandlers(sampleProcess()), 'systems.schema': schemaHandler({ 's1/HELP': () => help, 's2/ENG': () => eng }) })
    const user = userEvent.setup()
    renderAs(fb, <ProcessesPage />)
    await openProcess(user)
    await waitFor(() => expect(screen.getByRole('list', { name: 'Pick-lists' })).toHaveTextContent('B: Engineering (ENG)'))
    expect(screen.queryByRole('list', { name: 'What becomes of attachments' })).not.toBeInTheDocument()
  })

  it('does not ask the systems for a read-only view', async () => {
    fb = setup('viewer', { ...processHandlers(sampleProcess()), 'systems.schema': () => help })
    const user = userEvent.setup()
    renderAs(fb, <ProcessesPage />)
    await openProcess(user)
    expect(screen.queryByRole('button', { name: 'Refresh pick-lists' })).not.toBeInTheDocument()
    expect(screen.getByLabelText('Entity type in A (pair 1)')).not.toHaveAttribute('list')
    expect(schemaCalls()).toEqual([])
  })
})
