import { act, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ConnectionProvider } from '../../state'
import type { FakeBridge } from '../../test/fakeBridge'
import { AdoptDialog } from './AdoptDialog'
import { ConflictView } from './ConflictView'
import { DeletedWaysOut } from './PairActions'
import { PairDetail } from './PairDetail'
import { PairsPage } from './PairsPage'
import { QueuePanel } from './QueuePanel'
import { ProcessesPage } from './ProcessesPage'
import { emitEvents, processHandlers, renderAs, sampleProcess, setup, summary, systems } from './testkit'
import type { FieldValues, PairView as Pair, Side } from '../../api/generated/types'
import type { AdoptResult } from './api'

let fb: FakeBridge | undefined
afterEach(() => {
  fb?.restore()
  window.location.hash = ''
})

// Deferred answers: the test decides in which order the agent answers.
type Pending = { params: any; resolve: (v: unknown) => void }
function deferred(queue: Pending[]) {
  return (params: any) => new Promise((resolve) => queue.push({ params, resolve }))
}
async function answer(p: Pending, v: unknown) {
  await act(async () => p.resolve(v))
}

const p1 = sampleProcess()
const p2 = sampleProcess({ id: 'p2', name: 'Support ↔ Product', a: { system: 's1', project: 'SUP' }, b: { system: 's2', project: 'PRD' } })
const names = (_process: string, s: Side) => (s === 'a' ? 'Helpdesk HELP' : 'Engineering ENG')
const sideName = (s: Side) => names('p1', s)

function pair(id: string, over: Partial<Pair> = {}): Pair {
  return {
    id,
    process: 'p1',
    a: { id: `a${id}`, key: `HELP-${id}`, title: `Printer ${id}`, type: 'incident' },
    b: { id: `b${id}`, key: `ENG-${id}`, title: `Printer ${id}`, type: 'bug' },
    state: 'synced',
    status: 'In sync.',
    fields: {},
    createdAt: '2026-01-01T00:00:00Z',
    lastSyncedAt: '2026-01-02T00:00:00Z',
    ...over,
  }
}

const brief = (id: string, key: string, title: string) => ({ id, key, title })
const dryRun: AdoptResult = {
  matches: [
    { a: brief('1', 'HELP-1', 'Printer jams'), b: brief('11', 'ENG-1', 'Printer jams') },
    { a: brief('2', 'HELP-2', 'VPN drops'), b: brief('12', 'ENG-2', 'VPN drops') },
  ],
  ambiguous: [{ match: 'badge reader', a: [brief('3', 'HELP-3', 'Badge reader'), brief('4', 'HELP-4', 'Badge reader')], b: [brief('13', 'ENG-3', 'Badge reader')] }],
  unmatchedA: [brief('5', 'HELP-5', 'Only in the helpdesk')],
  unmatchedB: [brief('15', 'ENG-5', 'Only in engineering')],
  alreadyPaired: [{ a: brief('6', 'HELP-6', 'Old pair'), b: brief('16', 'ENG-6', 'Old pair') }],
  problems: [],
  adopted: 0,
  dryRun: true,
}

const schemaOf = (project: string) => ({
  system: project === 'HELP' ? 's1' : 's2',
  project,
  entityTypes: ['incident', 'bug'],
  fields: [
    { name: 'title', label: 'Title', type: 'string' },
    { name: 'cf.ticket', label: 'Ticket number', type: 'string' },
    { name: 'status', label: 'Status', type: 'enum', values: ['open', 'closed'] },
  ],
  linkTypes: [],
})

describe('AdoptDialog', () => {
  it('runs a dry run by matching a field of each side, shows what it found, then adopts the matches', async () => {
    fb = setup('operator', {
      'systems.schema': (p: any) => schemaOf(p.project),
      'pairs.adopt': (p: any) => ({ result: p.dryRun ? dryRun : { ...dryRun, dryRun: false, adopted: 2 } }),
    })
    const onAdopted = vi.fn()
    const user = userEvent.setup()
    renderAs(fb, <AdoptDialog open processes={[p1]} process="p1" sideName={names} onClose={() => {}} onAdopted={onAdopted} />)
    // The fields come from each system's schema, as in the process editor.
    const fieldB = await screen.findByRole('combobox', { name: 'Field in Engineering ENG' })
    await within(fieldB).findByRole('option', { name: 'Ticket number (cf.ticket)' })
    await user.selectOptions(fieldB, 'cf.ticket')
    expect(screen.queryByRole('button', { name: /^Adopt/ })).not.toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Dry run' }))

    const result = await screen.findByTestId('adopt-dry-run')
    expect(fb.calls.find((c) => c.method === 'pairs.adopt')!.params).toEqual({ process: 'p1', matchA: 'title', matchB: 'cf.ticket', dryRun: true })
    expect(within(result).getByText('Dry run: nothing was written')).toBeInTheDocument()
    const matches = within(result).getByRole('table', { name: 'Pairs to adopt' })
    expect(within(matches).getAllByRole('row')).toHaveLength(3)
    expect(within(matches).getByText('HELP-2')).toBeInTheDocument()
    const amb = within(result).getByRole('table', { name: 'Ambiguous matches' })
    const row = within(amb).getAllByRole('row')[1]
    expect(within(row).getByText('badge reader')).toBeInTheDocument()
    expect(within(row).getByText('HELP-3')).toBeInTheDocument()
    expect(within(row).getByText('HELP-4')).toBeInTheDocument()
    expect(within(row).getByText('ENG-3')).toBeInTheDocument()
    expect(within(within(result).getByRole('region', { name: 'Unmatched in Helpdesk HELP' })).getByText('HELP-5')).toBeInTheDocument()
    expect(within(within(result).getByRole('region', { name: 'Unmatched in Engineering ENG' })).getByText('ENG-5')).toBeInTheDocument()
    expect(within(within(result).getByRole('region', { name: 'Paired already (left as they are)' })).getByText('HELP-6')).toBeInTheDocument()

    await user.click(screen.getByRole('button', { name: 'Adopt 2 pairs' }))
    const done = await screen.findByTestId('adopt-done')
    expect(within(done).getByText('2 pairs adopted')).toBeInTheDocument()
    expect(fb.calls.filter((c) => c.method === 'pairs.adopt').at(-1)!.params).toEqual({ process: 'p1', matchA: 'title', matchB: 'cf.ticket', dryRun: false })
    expect(onAdopted).toHaveBeenCalledWith(2)
  })

  it('reads a CSV from a file, shows the format and the lines that name nothing', async () => {
    const csv = 'help,eng\nHELP-1,ENG-1\nHELP-99,ENG-2\n'
    fb = setup(
      'operator',
      {
        'systems.schema': (p: any) => schemaOf(p.project),
        'pairs.adopt': () => ({ result: { ...dryRun, ambiguous: null, unmatchedA: null, unmatchedB: null, alreadyPaired: null, matches: [dryRun.matches[0]], problems: ['line 3: no entity "HELP-99" in side A'] } }),
      },
      { OpenTextFile: async () => csv },
    )
    const user = userEvent.setup()
    renderAs(fb, <AdoptDialog open processes={[p1]} process="p1" sideName={names} onClose={() => {}} onAdopted={() => {}} />)
    await user.click(screen.getByRole('radio', { name: 'From a CSV of keys' }))
    const text = screen.getByRole('textbox', { name: 'Key pairs' })
    expect(text).toHaveAccessibleDescription(/One pair per line: the key \(or id\) in Helpdesk HELP, a comma, the key in Engineering ENG/)
    await user.click(screen.getByRole('button', { name: 'Open a CSV file…' }))
    expect(text).toHaveValue(csv)
    await user.click(screen.getByRole('button', { name: 'Dry run' }))
    expect(await screen.findByTestId('adopt-problems')).toHaveTextContent('line 3: no entity "HELP-99" in side A')
    expect(fb.calls.find((c) => c.method === 'pairs.adopt')!.params).toEqual({ process: 'p1', csv, dryRun: true })
    expect(screen.getByRole('button', { name: 'Adopt 1 pair' })).toBeEnabled()
  })

  it('drops a dry run answered after the question changed', async () => {
    const queue: Pending[] = []
    fb = setup('operator', { 'systems.schema': (p: any) => schemaOf(p.project), 'pairs.adopt': deferred(queue) })
    const user = userEvent.setup()
    renderAs(fb, <AdoptDialog open processes={[p1]} process="p1" sideName={names} onClose={() => {}} onAdopted={() => {}} />)
    const fieldB = await screen.findByRole('combobox', { name: 'Field in Engineering ENG' })
    await within(fieldB).findByRole('option', { name: 'Ticket number (cf.ticket)' })
    await user.click(screen.getByRole('button', { name: 'Dry run' }))
    await waitFor(() => expect(queue).toHaveLength(1))
    // The field changes while the first dry run is on its way.
    await user.selectOptions(fieldB, 'cf.ticket')
    await user.click(screen.getByRole('button', { name: 'Dry run' }))
    await waitFor(() => expect(queue).toHaveLength(2))
    expect(queue[1].params).toMatchObject({ matchB: 'cf.ticket' })
    const second = { ...dryRun, matches: [dryRun.matches[1]], ambiguous: [], alreadyPaired: [] }
    await answer(queue[1], { result: second })
    await answer(queue[0], { result: dryRun })
    const result = await screen.findByTestId('adopt-dry-run')
    expect(within(result).getByText('HELP-2')).toBeInTheDocument()
    expect(within(result).queryByText('HELP-1')).not.toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Adopt 1 pair' })).toBeInTheDocument()
  })
})

const held = pair('7', { state: 'held', held: ['status|state', 'priority|priority'], status: 'Held for review: both sides changed status|state, priority|priority.' })
const values: FieldValues[] = [
  { field: 'title|title', a: 'Printer 7', b: 'Printer 7', inA: 'Printer 7', inB: 'Printer 7', held: false, same: true },
  { field: 'status|state', a: 'new', b: 'resolved', inB: 'open', inA: 'solved', held: true, same: false },
  { field: 'priority|priority', a: 'high', b: 'low', inB: 'high', inA: 'low', held: true, same: false },
]

describe('ConflictView', () => {
  it('shows both sides’ current values of each held field and resolves them field by field', async () => {
    fb = setup('operator', { 'pairs.values': () => ({ fields: values }), 'pairs.resolve': () => ({}) })
    const onResolved = vi.fn()
    const user = userEvent.setup()
    renderAs(fb, <ConflictView pair={held} sideName={sideName} onResolved={onResolved} />)
    const table = await screen.findByRole('table', { name: "Held fields with both sides' current values" })
    const rows = within(table).getAllByRole('row')
    expect(rows).toHaveLength(3)
    const status = rows[1]
    expect(within(status).getByText('status ↔ state')).toBeInTheDocument()
    await within(status).findByText('new')
    expect(within(status).getByText('resolved')).toBeInTheDocument()
    // What choosing a side would write, where the value map changes it.
    expect(within(status).getByText('open')).toBeInTheDocument()
    expect(within(rows[2]).getByText('high')).toBeInTheDocument()
    expect(within(rows[2]).getByText('low')).toBeInTheDocument()
    expect(fb.calls.find((c) => c.method === 'pairs.values')!.params).toEqual({ process: 'p1', id: '7' })

    const resolve = screen.getByRole('button', { name: 'Choose a winner per field' })
    expect(resolve).toBeDisabled()
    await user.click(within(screen.getByRole('radiogroup', { name: 'Winner of status ↔ state' })).getByRole('radio', { name: 'Helpdesk HELP' }))
    await user.click(within(screen.getByRole('radiogroup', { name: 'Winner of priority' })).getByRole('radio', { name: 'Engineering ENG' }))
    await user.click(screen.getByRole('button', { name: 'Resolve 2 fields…' }))
    // It says which values go before anything is sent.
    const ask = screen.getByRole('dialog', { name: 'Resolve 2 fields?' })
    const says = within(within(ask).getByRole('list', { name: 'What the resolution writes' })).getAllByRole('listitem')
    const overwrite = (li: HTMLElement) => Array.from(li.querySelectorAll('dd')).map((d) => d.textContent)
    expect(says[0]).toHaveTextContent(/^status ↔ state in Engineering ENG/)
    expect(overwrite(says[0])).toEqual(['resolved', "openHelpdesk HELP's value"])
    expect(says[1]).toHaveTextContent(/^priority in Helpdesk HELP/)
    expect(overwrite(says[1])).toEqual(['high', "lowEngineering ENG's value"])
    expect(fb.calls.some((c) => c.method === 'pairs.resolve')).toBe(false)
    await user.click(within(ask).getByRole('button', { name: 'Resolve 2 fields' }))
    await waitFor(() => expect(onResolved).toHaveBeenCalled())
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument()
    expect(fb.calls.find((c) => c.method === 'pairs.resolve')!.params).toEqual({ process: 'p1', id: '7', fields: { 'status|state': 'a', 'priority|priority': 'b' } })
    expect(onResolved.mock.calls[0][0]).toContain("status ↔ state: Helpdesk HELP's value")
  })

  it('resolves one field and keeps the other held; a chosen field says it waits for the next run', async () => {
    fb = setup('operator', { 'pairs.values': () => ({ fields: values }), 'pairs.resolve': () => ({}) })
    const onResolved = vi.fn()
    const user = userEvent.setup()
    const { rerender } = renderAs(fb, <ConflictView pair={held} sideName={sideName} onResolved={onResolved} />)
    await screen.findByText('resolved')
    await user.click(within(screen.getByRole('radiogroup', { name: 'Winner of status ↔ state' })).getByRole('radio', { name: 'Engineering ENG' }))
    await user.click(screen.getByRole('button', { name: 'Resolve 1 field…' }))
    const ask = screen.getByRole('dialog', { name: 'Resolve 1 field?' })
    expect(ask).toHaveTextContent('1 field stays held.')
    await user.click(within(ask).getByRole('button', { name: 'Resolve 1 field' }))
    await waitFor(() => expect(onResolved).toHaveBeenCalled())
    expect(onResolved.mock.calls[0][0]).toContain('1 field stays held')
    rerender(
      <ConnectionProvider initial={fb.status}>
        <ConflictView pair={{ ...held, resolve: { 'status|state': 'b' } }} sideName={sideName} onResolved={onResolved} />
      </ConnectionProvider>,
    )
    expect(screen.getByText("Engineering ENG's value, on the next run")).toBeInTheDocument()
    expect(screen.queryByRole('radiogroup', { name: 'Winner of status ↔ state' })).not.toBeInTheDocument()
  })

  it('shows the values of the latest read when an earlier read answers last', async () => {
    const queue: Pending[] = []
    fb = setup('operator', { 'pairs.values': deferred(queue) })
    const user = userEvent.setup()
    renderAs(fb, <ConflictView pair={held} sideName={sideName} onResolved={() => {}} />)
    await waitFor(() => expect(queue).toHaveLength(1))
    await user.click(screen.getByRole('button', { name: 'Refresh values' }))
    await waitFor(() => expect(queue).toHaveLength(2))
    const fresh = values.map((v) => (v.field === 'priority|priority' ? { ...v, a: 'critical', inB: 'critical' } : v))
    await answer(queue[1], { fields: fresh })
    await answer(queue[0], { fields: values })
    const table = screen.getByRole('table', { name: "Held fields with both sides' current values" })
    expect(within(table).getByText('critical')).toBeInTheDocument()
    expect(within(table).queryByText('high')).not.toBeInTheDocument()
  })

  it('tells a viewer which fields are held without reading their values', async () => {
    fb = setup('viewer', {})
    renderAs(fb, <ConflictView pair={held} sideName={sideName} onResolved={() => {}} />)
    expect(screen.getByText(/Held: status ↔ state, priority\. Reading both sides' values and choosing which wins needs the operator role/)).toBeInTheDocument()
    expect(screen.queryByRole('radio')).not.toBeInTheDocument()
    expect(fb.calls.some((c) => c.method === 'pairs.values')).toBe(false)
  })
})

const processes = () => ({ processes: [summary(p1), summary(p2)] })

describe('PairsPage lifecycle', () => {
  it('unpairs a selection across processes after saying what unpairing means', async () => {
    let list = [pair('1'), pair('2'), pair('3', { process: 'p2', a: { id: 'a3', key: 'SUP-3' }, b: { id: 'b3', key: 'PRD-3' } })]
    fb = setup('operator', {
      'processes.list': processes,
      'systems.list': () => ({ systems }),
      'pairs.list': () => ({ pairs: list, cursor: '' }),
      'pairs.unpair': (p: any) => {
        list = list.filter((x) => !(x.process === p.process && p.pairs.includes(x.id)))
        return { count: p.pairs.length }
      },
    })
    const user = userEvent.setup()
    renderAs(fb, <PairsPage />)
    await user.click(await screen.findByRole('checkbox', { name: 'Select HELP-1 ↔ ENG-1' }))
    await user.click(screen.getByRole('checkbox', { name: 'Select SUP-3 ↔ PRD-3' }))
    await user.click(screen.getByRole('button', { name: 'Unpair 2 pairs…' }))
    const dialog = screen.getByRole('dialog', { name: 'Unpair 2 pairs?' })
    expect(dialog).toHaveTextContent('excluded from sync')
    expect(dialog).toHaveTextContent('until you relink it')
    expect(within(dialog).getByRole('list', { name: 'Pairs to unpair' })).toHaveTextContent('HELP-1 ↔ ENG-1')
    await user.click(within(dialog).getByRole('button', { name: 'Unpair 2 pairs' }))
    await waitFor(() => expect(screen.queryByText('SUP-3')).not.toBeInTheDocument())
    expect(fb.calls.filter((c) => c.method === 'pairs.unpair').map((c) => c.params)).toEqual([
      { process: 'p1', pairs: ['1'] },
      { process: 'p2', pairs: ['3'] },
    ])
    expect(screen.getByText('HELP-2')).toBeInTheDocument()
  })

  it('relinks two entities by key from scratch and shows the agent’s complaint at the field', async () => {
    fb = setup('operator', {
      'processes.list': processes,
      'systems.list': () => ({ systems }),
      'pairs.list': () => ({ pairs: [pair('1')], cursor: '' }),
      'pairs.relink': (p: any) => {
        if (p.b === 'ENG-404') throw { kind: 'invalid', message: 'no entity "ENG-404" in side b', field: 'b', issues: [{ field: 'b', message: 'no entity "ENG-404" in side b' }] }
        return { pair: pair('9', { a: { id: 'a9', key: p.a }, b: { id: 'b9', key: p.b } }), excluded: ['ENG-1'] }
      },
    })
    const user = userEvent.setup()
    renderAs(fb, <PairsPage />)
    await screen.findByText('HELP-1')
    await user.selectOptions(screen.getByLabelText('Sync process'), 'Helpdesk ↔ Engineering')
    await user.click(screen.getByRole('button', { name: 'Relink…' }))
    const dialog = screen.getByRole('dialog', { name: 'Relink two entities' })
    await user.type(within(dialog).getByRole('textbox', { name: 'Entity in Helpdesk HELP' }), 'HELP-1')
    await user.type(within(dialog).getByRole('textbox', { name: 'Entity in Engineering ENG' }), 'ENG-404')
    await user.click(within(dialog).getByRole('button', { name: 'Relink' }))
    // HELP-1 has a pair: relinking removes it, and says so before it does.
    const removes = await within(dialog).findByRole('list', { name: 'Pairs relinking removes' })
    expect(removes).toHaveTextContent('HELP-1 ↔ ENG-1 goes; ENG-1 (Printer 1) is excluded from sync until you relink it.')
    expect(fb.calls.some((c) => c.method === 'pairs.relink')).toBe(false)
    await user.click(within(dialog).getByRole('button', { name: 'Relink and remove 1 pair' }))
    expect(await within(dialog).findByText('no entity "ENG-404" in side b')).toBeInTheDocument()
    // A new key is a new question: asked again before relinking.
    await user.clear(within(dialog).getByRole('textbox', { name: 'Entity in Engineering ENG' }))
    await user.type(within(dialog).getByRole('textbox', { name: 'Entity in Engineering ENG' }), 'ENG-7')
    expect(within(dialog).queryByRole('list', { name: 'Pairs relinking removes' })).not.toBeInTheDocument()
    await user.click(within(dialog).getByRole('button', { name: 'Relink' }))
    await within(dialog).findByRole('list', { name: 'Pairs relinking removes' })
    await user.click(within(dialog).getByRole('button', { name: 'Relink and remove 1 pair' }))
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument())
    expect(fb.calls.filter((c) => c.method === 'pairs.relink').map((c) => c.params)).toEqual([
      { process: 'p1', a: 'HELP-1', b: 'ENG-404' },
      { process: 'p1', a: 'HELP-1', b: 'ENG-7' },
    ])
  })

  it('relinks at once what has no pair, and says a pair is paired already', async () => {
    fb = setup('operator', {
      'processes.list': processes,
      'systems.list': () => ({ systems }),
      'pairs.list': (p: any) => ({ pairs: !p.query || p.query === 'HELP-1' || p.query === 'ENG-1' ? [pair('1')] : [], cursor: '' }),
      'pairs.relink': (p: any) => ({ pair: pair('9', { a: { id: 'a9', key: p.a }, b: { id: 'b9', key: p.b } }), excluded: [] }),
    })
    const user = userEvent.setup()
    renderAs(fb, <PairsPage />)
    await user.click(await screen.findByRole('checkbox', { name: 'Select HELP-1 ↔ ENG-1' }))
    await user.click(screen.getByRole('button', { name: 'Relink HELP-1 ↔ ENG-1…' }))
    const dialog = screen.getByRole('dialog', { name: 'Relink two entities' })
    await user.click(within(dialog).getByRole('button', { name: 'Relink' }))
    expect(await within(dialog).findByText('HELP-1 and ENG-1 are a pair now: there is nothing to relink.')).toBeInTheDocument()
    expect(within(dialog).getByRole('button', { name: 'Relink and remove 1 pair' })).toBeDisabled()
    const a = within(dialog).getByRole('textbox', { name: 'Entity in Helpdesk HELP' })
    await user.clear(a)
    await user.type(a, 'HELP-8')
    const b = within(dialog).getByRole('textbox', { name: 'Entity in Engineering ENG' })
    await user.clear(b)
    await user.type(b, 'ENG-8')
    await user.click(within(dialog).getByRole('button', { name: 'Relink' }))
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument())
    expect(fb.calls.filter((c) => c.method === 'pairs.relink').map((c) => c.params)).toEqual([{ process: 'p1', a: 'HELP-8', b: 'ENG-8' }])
  })

  it('offers a deleted pair its three ways out, saying what each does', async () => {
    const deleted = pair('4', {
      state: 'deleted',
      gone: 'a',
      status: 'HELP-4 was deleted in Helpdesk; ENG-4 in Engineering is kept. Unpair, recreate HELP-4, or apply a deletion policy.',
    })
    fb = setup('operator', {
      'processes.list': processes,
      'systems.list': () => ({ systems }),
      'pairs.list': () => ({ pairs: [deleted], cursor: '' }),
      'pairs.recreate': () => ({}),
    })
    const user = userEvent.setup()
    renderAs(fb, <PairsPage />)
    expect(await screen.findByText(/HELP-4 was deleted in Helpdesk; ENG-4 in Engineering is kept/)).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Ways out for HELP-4 ↔ ENG-4' }))
    const dialog = screen.getByRole('dialog', { name: 'Ways out for HELP-4 ↔ ENG-4' })
    expect(within(dialog).getByRole('radio', { name: /^Keep ENG-4, unpair Dismisses the deletion: the pair is removed, and ENG-4 stays as it is in Engineering ENG, excluded from sync/ })).toBeEnabled()
    expect(within(dialog).getByRole('radio', { name: /^Delete ENG-4 too .*cannot be undone/ })).toBeEnabled()
    // Marking needs the process to say what to set.
    expect(within(dialog).getByRole('radio', { name: /^Mark ENG-4/ })).toBeDisabled()
    await user.click(within(dialog).getByRole('radio', { name: /^Recreate HELP-4 .*creates a new copy of ENG-4 in Helpdesk HELP/ }))
    await user.click(within(dialog).getByRole('button', { name: 'Recreate HELP-4' }))
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument())
    expect(fb.calls.find((c) => c.method === 'pairs.recreate')!.params).toEqual({ process: 'p1', id: '4' })
  })

  it('asks once more before deleting the survivor, and shows the agent’s refusal in words', async () => {
    const deleted = pair('4', { state: 'deleted', gone: 'a', status: 'HELP-4 was deleted in Helpdesk; ENG-4 in Engineering is kept.' })
    let refuse = true
    fb = setup('operator', {
      'pairs.applyDeletion': () => {
        if (refuse) throw { kind: 'unavailable', message: 'Engineering is unreachable: dial tcp: connection refused' }
        return {}
      },
    })
    const onDone = vi.fn()
    const user = userEvent.setup()
    renderAs(fb, <DeletedWaysOut pair={deleted} process={p1} sideName={sideName} onDone={onDone} />)
    await user.click(screen.getByRole('radio', { name: /^Delete ENG-4 too/ }))
    await user.click(screen.getByRole('button', { name: 'Delete ENG-4 too…' }))
    const ask = screen.getByRole('alert')
    expect(ask).toHaveTextContent('Delete ENG-4 in Engineering ENG?')
    expect(ask).toHaveTextContent('ENG-4 (Printer 4) is deleted in Engineering ENG and the pair removed. This cannot be undone.')
    expect(within(ask).getByRole('button', { name: 'Keep it' })).toHaveFocus()
    expect(fb.calls.some((c) => c.method === 'pairs.applyDeletion')).toBe(false)
    // Keep it goes back without a call.
    await user.click(within(ask).getByRole('button', { name: 'Keep it' }))
    expect(fb.calls.some((c) => c.method === 'pairs.applyDeletion')).toBe(false)
    await user.click(screen.getByRole('button', { name: 'Delete ENG-4 too…' }))
    await user.click(screen.getByRole('button', { name: 'Delete ENG-4' }))
    expect(await screen.findByText('Nothing was changed: Engineering is unreachable: dial tcp: connection refused')).toBeInTheDocument()
    expect(onDone).not.toHaveBeenCalled()
    refuse = false
    await user.click(screen.getByRole('button', { name: 'Delete ENG-4 too…' }))
    await user.click(screen.getByRole('button', { name: 'Delete ENG-4' }))
    await waitFor(() => expect(onDone).toHaveBeenCalledWith('ENG-4 was deleted too.'))
    expect(fb.calls.filter((c) => c.method === 'pairs.applyDeletion').map((c) => c.params)).toEqual([
      { process: 'p1', id: '4', action: 'mirror' },
      { process: 'p1', id: '4', action: 'mirror' },
    ])
  })

  it('shows states in words and no actions to a viewer', async () => {
    const retrying = pair('5', {
      pending: [{ side: 'b', entity: 'b5', attempts: 2, step: 'comments', nextAttempt: '2026-01-03T00:00:00Z', lastError: 'HTTP 503', enqueued: '2026-01-02T00:00:00Z' }],
      status: 'Waiting for a retry of its comments (attempt 3, next at 2026-01-03T00:00:00Z): HTTP 503',
    })
    fb = setup('viewer', { 'processes.list': processes, 'systems.list': () => ({ systems }), 'pairs.list': () => ({ pairs: [retrying, held], cursor: '' }) })
    renderAs(fb, <PairsPage />)
    expect(await screen.findByText('Retrying')).toBeInTheDocument()
    expect(screen.getByText(/Waiting for a retry of its comments \(attempt 3/)).toBeInTheDocument()
    expect(screen.getByText('Held for review: both sides changed status ↔ state, priority. Compare both values and choose which wins.')).toBeInTheDocument()
    expect(screen.queryByRole('checkbox')).not.toBeInTheDocument()
    expect(screen.queryByRole('button', { name: /Unpair|Relink|Adopt/ })).not.toBeInTheDocument()
  })
})

describe('following the agent', () => {
  it('reloads the pairs on PairChanged and on a run that did something, not on an idle poll or another process', async () => {
    let list = [pair('1')]
    fb = setup('viewer', { 'processes.list': processes, 'systems.list': () => ({ systems }), 'pairs.list': () => ({ pairs: list, cursor: '' }) })
    renderAs(fb, <PairsPage />)
    await screen.findByText('HELP-1')
    const loads = () => fb!.calls.filter((c) => c.method === 'pairs.list').length
    const before = loads()
    const types = ['PairChanged', 'RunFinished']
    act(() => emitEvents(fb!, types, [{ type: 'RunFinished', data: { process: 'p1', run: 'r1', counts: { created: 0, updated: 0, skipped: 3 }, errors: 0 } }]))
    list = [pair('1', { state: 'deleted', gone: 'b', status: 'ENG-1 was deleted in Engineering; HELP-1 in Helpdesk is kept.' })]
    act(() => emitEvents(fb!, types, [{ type: 'PairChanged', data: { process: 'p1', pair: '1', change: 'deleted' } }]))
    expect(await screen.findByText('ENG-1 was deleted in Engineering; HELP-1 in Helpdesk is kept.')).toBeInTheDocument()
    expect(loads()).toBe(before + 1)
    list = [pair('1'), pair('2')]
    act(() => emitEvents(fb!, types, [{ type: 'RunFinished', data: { process: 'p1', run: 'r2', counts: { created: 1 }, errors: 0 } }]))
    expect(await screen.findByText('HELP-2')).toBeInTheDocument()
    expect(loads()).toBe(before + 2)

    // A process chosen: another process's changes do not reload it.
    await userEvent.setup().selectOptions(screen.getByLabelText('Sync process'), 'Helpdesk ↔ Engineering')
    await waitFor(() => expect(fb!.calls.filter((c) => c.method === 'pairs.list').at(-1)!.params).toMatchObject({ process: 'p1' }))
    const chosen = loads()
    act(() => emitEvents(fb!, types, [{ type: 'PairChanged', data: { process: 'p2', pair: '3', change: 'unpaired' } }]))
    act(() => emitEvents(fb!, types, [{ type: 'PairChanged', data: { process: 'p1', pair: '2', change: 'unpaired' } }]))
    await waitFor(() => expect(loads()).toBe(chosen + 1))
    await act(async () => {})
    expect(loads()).toBe(chosen + 1)
  })

  it('reloads a pair on its PairChanged and says when it is not there any more', async () => {
    let answer: () => unknown = () => ({ pair: pair('8', { state: 'held', held: ['priority|priority'] }) })
    fb = setup('viewer', { 'pairs.get': () => answer(), 'processes.list': processes, 'systems.list': () => ({ systems }), 'runs.list': () => ({ runs: [] }) })
    renderAs(fb, <PairDetail process="p1" id="8" />)
    expect(await screen.findByText('Held for review')).toBeInTheDocument()
    const types = ['PairChanged', 'RunFinished']
    answer = () => ({ pair: pair('8') })
    // Another pair's change is not this one's.
    act(() => emitEvents(fb!, types, [{ type: 'PairChanged', data: { process: 'p1', pair: '9', change: 'unpaired' } }]))
    act(() => emitEvents(fb!, types, [{ type: 'RunFinished', data: { process: 'p1', run: 'r1', counts: { updated: 1 }, errors: 0 } }]))
    expect(await screen.findByTestId('pair-status')).toHaveTextContent('In sync.')
    expect(fb.calls.filter((c) => c.method === 'pairs.get')).toHaveLength(2)
    answer = () => {
      throw { kind: 'not_found', message: 'pair 8 of process p1: not found' }
    }
    act(() => emitEvents(fb!, types, [{ type: 'PairChanged', data: { process: 'p1', pair: '8', change: 'unpaired' } }]))
    expect(await screen.findByText('This pair is not there any more')).toBeInTheDocument()
    expect(screen.getByRole('alert')).toHaveTextContent('pair 8 of process p1: not found. It was unpaired or relinked; what is shown is how it was.')
  })
  // pairs.resolve publishes PairChanged with change "resolved": a pair open
  // elsewhere (another window, another administrator) shows the choice at
  // once, and a choice made here for that field is not sent again.
  it('shows a resolution made elsewhere on an open pair and in the pairs list (PairChanged resolved)', async () => {
    const heldPair = () => pair('7', { ...held, state: 'held' })
    let current = heldPair()
    fb = setup('operator', {
      'pairs.get': () => ({ pair: current }),
      'pairs.list': () => ({ pairs: [current], cursor: '' }),
      'pairs.values': () => ({ fields: values }),
      'processes.list': processes,
      'systems.list': () => ({ systems }),
      'runs.list': () => ({ runs: [] }),
    })
    const user = userEvent.setup()
    renderAs(fb, <PairDetail process="p1" id="7" />)
    await screen.findAllByText('new')
    await user.click(within(screen.getByRole('radiogroup', { name: 'Winner of priority' })).getByRole('radio', { name: 'Helpdesk HELP' }))
    expect(screen.getByRole('button', { name: 'Resolve 1 field…' })).toBeEnabled()
    const gets = () => fb!.calls.filter((c) => c.method === 'pairs.get').length
    const before = gets()

    const types = ['PairChanged', 'RunFinished']
    current = pair('7', {
      ...held,
      resolve: { 'priority|priority': 'b' },
      status: 'Held for review: both sides changed status ↔ state. Chosen for priority: applied on the next run.',
    })
    act(() => emitEvents(fb!, types, [{ type: 'PairChanged', data: { process: 'p1', pair: '7', change: 'resolved' } }]))
    expect(await screen.findByText("Engineering ENG's value, on the next run")).toBeInTheDocument()
    expect(gets()).toBe(before + 1)
    expect(screen.queryByRole('radiogroup', { name: 'Winner of priority' })).not.toBeInTheDocument()
    // The choice made here for priority is gone with the field: nothing is left to resolve but status.
    expect(screen.queryByRole('button', { name: /^Resolve/ })).not.toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Choose a winner per field' })).toBeDisabled()
    expect(screen.getByTestId('pair-status')).toHaveTextContent('Chosen for priority: applied on the next run.')
  })

  it('reloads the pairs list on a resolution (PairChanged resolved) of its process', async () => {
    let current = pair('7', { ...held })
    fb = setup('viewer', { 'processes.list': processes, 'systems.list': () => ({ systems }), 'pairs.list': () => ({ pairs: [current], cursor: '' }) })
    renderAs(fb, <PairsPage />)
    expect(await screen.findByText(/Held for review: both sides changed/)).toBeInTheDocument()
    const loads = () => fb!.calls.filter((c) => c.method === 'pairs.list').length
    const before = loads()
    current = pair('7', { ...held, resolve: { 'status|state': 'a', 'priority|priority': 'a' }, status: 'Chosen for status ↔ state, priority: applied on the next run.' })
    act(() => emitEvents(fb!, ['PairChanged', 'RunFinished'], [{ type: 'PairChanged', data: { process: 'p1', pair: '7', change: 'resolved' } }]))
    expect(await screen.findByText('Chosen for status ↔ state, priority: applied on the next run.')).toBeInTheDocument()
    expect(loads()).toBe(before + 1)
  })
})

describe('PairDetail', () => {
  it('lists the pending work and what could not be mirrored', async () => {
    const p = pair('8', {
      divergences: ['ENG-8 comment 3 was deleted, but Helpdesk cannot delete comments: its copy was kept'],
      pending: [{ side: 'a', entity: 'a8', attempts: 1, step: 'attachments', nextAttempt: '2026-01-03T00:00:00Z', lastError: 'HTTP 429', enqueued: '2026-01-02T00:00:00Z' }],
    })
    fb = setup('viewer', { 'pairs.get': () => ({ pair: p }), 'processes.list': processes, 'systems.list': () => ({ systems }), 'runs.list': () => ({ runs: [] }) })
    renderAs(fb, <PairDetail process="p1" id="8" />)
    const pending = await screen.findByRole('table', { name: 'Pending work of the pair' })
    const row = within(pending).getAllByRole('row')[1]
    expect(within(row).getByText('attachments')).toBeInTheDocument()
    expect(within(row).getByText('HTTP 429')).toBeInTheDocument()
    expect(within(row).getByText('1')).toBeInTheDocument()
    expect(await within(row).findByText('Helpdesk HELP')).toBeInTheDocument()
    expect(screen.getByTestId('divergences')).toHaveTextContent('Helpdesk cannot delete comments')
  })
})

describe('QueuePanel', () => {
  it('says how many wait, how many retry, the oldest, and why the first ones wait', async () => {
    fb = setup('viewer', {
      'queue.list': () => ({
        queue: {
          total: 3,
          retrying: 1,
          oldest: '2026-01-02T00:00:00Z',
          items: [
            { side: 'a', entity: 'a1', key: 'HELP-1', title: 'Printer', pair: '1', attempts: 2, step: 'fields', reason: 'its fields failed 2 time(s); next attempt at 2026-01-03T00:00:00Z: HTTP 503', enqueued: '2026-01-02T00:00:00Z' },
            { side: 'b', entity: 'b9', attempts: 0, reason: 'new: not synced yet', enqueued: '2026-01-02T01:00:00Z' },
          ],
        },
      }),
    })
    renderAs(fb, <QueuePanel processId="p1" sideName={sideName} />)
    const said = await screen.findByTestId('queue-summary')
    expect(said).toHaveTextContent(/3 entities wait, 1 of them for a retry after failing; the oldest since 2026-01-0\d/)
    expect(said).toHaveTextContent('The first 2 are listed.')
    expect(screen.getByRole('link', { name: 'HELP-1' })).toHaveAttribute('href', '#/pairs/p1/1')
    expect(screen.getByText('new: not synced yet')).toBeInTheDocument()
    expect(fb.calls[0]).toEqual({ method: 'queue.list', params: { process: 'p1', limit: 20 } })
  })
})

describe('deletion policy in the process editor', () => {
  it('marks the peer with a field, a value and a comment, saved as options.deletes', async () => {
    const p = sampleProcess()
    fb = setup('admin', { ...processHandlers(p), 'systems.schema': (x: any) => schemaOf(x.project), 'processes.update': (x: any) => ({ process: x.process }) })
    const user = userEvent.setup()
    renderAs(fb, <ProcessesPage />)
    await user.click(await screen.findByRole('button', { name: p.name }))
    const policy = await screen.findByRole('combobox', { name: 'When an entity is deleted in A (Helpdesk HELP)' })
    await user.selectOptions(policy, 'mark')
    // The field and its values are suggested from B's schema, once read.
    await user.type(await screen.findByRole('combobox', { name: 'Field to set when marking, in B (Engineering ENG)' }), 'status')
    await user.type(await screen.findByRole('combobox', { name: 'Value to set when marking, in B (Engineering ENG)' }), 'closed')
    await user.click(screen.getByRole('button', { name: 'Save changes' }))
    await waitFor(() => expect(fb!.calls.some((c) => c.method === 'processes.update')).toBe(true))
    const saved = fb.calls.find((c) => c.method === 'processes.update')!.params.process
    expect(saved.options.deletes).toEqual({ a: { action: 'mark', field: 'status', value: 'closed', comment: '' } })
  })
})
