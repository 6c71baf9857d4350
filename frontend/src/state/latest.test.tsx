import { act, render, screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it } from 'vitest'
import { AuditPage } from '../pages/admin/AuditPage'
import { ErrorsPage, PairsPage, RunsPage } from '../pages/sync'
import { renderAs, sampleProcess, setup, summary } from '../pages/sync/testkit'
import type { FakeBridge } from '../test/fakeBridge'
import { useAsync } from './async'
import { Latest, usePaged } from './latest'

// Deferred answers: each call waits until the test releases it, so the
// test decides in which order the agent "answers".
type Pending = { params: any; resolve: (v: unknown) => void }
function deferred(queue: Pending[]) {
  return (params: any) => new Promise((resolve) => queue.push({ params, resolve }))
}
async function answer(p: Pending, v: unknown) {
  await act(async () => p.resolve(v))
}

let fb: FakeBridge | undefined
afterEach(() => fb?.restore())

describe('Latest', () => {
  it('lets only the newest request apply its answer', () => {
    const l = new Latest()
    const first = l.begin()
    const second = l.begin()
    expect(first()).toBe(false)
    expect(second()).toBe(true)
    l.invalidate()
    expect(second()).toBe(false)
  })
})

function PagedList({ filter, fetch }: { filter: string; fetch: (f: string, c: string) => Promise<{ items: string[]; cursor: string }> }) {
  const p = usePaged(fetch, filter)
  return (
    <div>
      <ul>{(p.items ?? []).map((i) => <li key={i}>{i}</li>)}</ul>
      {p.loading && <span>loading</span>}
      <button onClick={() => void p.more()}>more</button>
    </div>
  )
}

describe('usePaged', () => {
  it('drops a first page that answers after a newer filter’s', async () => {
    const calls: { f: string; c: string; resolve: (v: { items: string[]; cursor: string }) => void }[] = []
    const fetch = (f: string, c: string) => new Promise<{ items: string[]; cursor: string }>((resolve) => calls.push({ f, c, resolve }))
    const { rerender } = render(<PagedList filter="" fetch={fetch} />)
    rerender(<PagedList filter="p2" fetch={fetch} />)
    await waitFor(() => expect(calls).toHaveLength(2))
    // The filtered answer comes first, the earlier unfiltered one late.
    await act(async () => calls[1].resolve({ items: ['p2 pair'], cursor: '' }))
    await act(async () => calls[0].resolve({ items: ['p1 pair', 'p2 pair'], cursor: '' }))
    expect(screen.getAllByRole('listitem').map((l) => l.textContent)).toEqual(['p2 pair'])
    expect(screen.queryByText('loading')).not.toBeInTheDocument()
  })

  it('drops a further page of the previous filter', async () => {
    const calls: { f: string; c: string; resolve: (v: { items: string[]; cursor: string }) => void }[] = []
    const fetch = (f: string, c: string) => new Promise<{ items: string[]; cursor: string }>((resolve) => calls.push({ f, c, resolve }))
    const user = userEvent.setup()
    const { rerender } = render(<PagedList filter="" fetch={fetch} />)
    await waitFor(() => expect(calls).toHaveLength(1))
    await act(async () => calls[0].resolve({ items: ['a'], cursor: 'c1' }))
    await user.click(screen.getByRole('button', { name: 'more' }))
    expect(calls[1]).toMatchObject({ f: '', c: 'c1' })
    rerender(<PagedList filter="x" fetch={fetch} />)
    await waitFor(() => expect(calls).toHaveLength(3))
    await act(async () => calls[2].resolve({ items: ['x1'], cursor: '' }))
    await act(async () => calls[1].resolve({ items: ['b'], cursor: '' }))
    expect(screen.getAllByRole('listitem').map((l) => l.textContent)).toEqual(['x1'])
  })
})

function AsyncValue({ id, fetch }: { id: string; fetch: (id: string) => Promise<string> }) {
  const v = useAsync(() => fetch(id), [id])
  return <output>{v.data ?? 'none'}</output>
}

describe('useAsync', () => {
  it('drops an answer for earlier deps, and does not show their data meanwhile', async () => {
    const calls: { id: string; resolve: (v: string) => void }[] = []
    const fetch = (id: string) => new Promise<string>((resolve) => calls.push({ id, resolve }))
    const { rerender } = render(<AsyncValue id="one" fetch={fetch} />)
    await act(async () => calls[0].resolve('answer one'))
    expect(screen.getByRole('status')).toHaveTextContent('answer one')
    rerender(<AsyncValue id="two" fetch={fetch} />)
    rerender(<AsyncValue id="three" fetch={fetch} />)
    expect(screen.getByRole('status')).toHaveTextContent('none')
    await act(async () => calls[2].resolve('answer three'))
    await act(async () => calls[1].resolve('answer two'))
    expect(screen.getByRole('status')).toHaveTextContent('answer three')
  })
})

// The pages that filter or page, driven as an administrator would, with
// the agent's answers delivered out of order.
const p1 = sampleProcess()
const p2 = sampleProcess({ id: 'p2', name: 'Support ↔ Product' })
const processes = () => ({ processes: [summary(p1), summary(p2)] })
const pair = (process: string, key: string) => ({
  id: key,
  process,
  a: { id: key, key, title: `Title ${key}` },
  b: { id: `b${key}`, key: `ENG-${key}`, title: `Title ${key}` },
  state: 'synced',
  createdAt: '2026-01-01T00:00:00Z',
  lastSyncedAt: '2026-01-02T00:00:00Z',
})

describe('pages that filter, answered out of order', () => {
  it('PairsPage keeps the chosen process’s pairs when the unfiltered answer is late', async () => {
    const queue: Pending[] = []
    fb = setup('viewer', { 'processes.list': processes, 'pairs.list': deferred(queue) })
    const user = userEvent.setup()
    renderAs(fb, <PairsPage />)
    await waitFor(() => expect(queue).toHaveLength(1))
    // The picker's options come with processes.list: wait for them.
    await screen.findByRole('option', { name: 'Support ↔ Product' })
    await user.selectOptions(screen.getByLabelText('Sync process'), 'Support ↔ Product')
    await waitFor(() => expect(queue).toHaveLength(2))
    expect(queue[1].params).toMatchObject({ process: 'p2' })
    await answer(queue[1], { pairs: [pair('p2', 'SUP-1')], cursor: '' })
    await answer(queue[0], { pairs: [pair('p1', 'HELP-1'), pair('p2', 'SUP-1')], cursor: '' })
    expect(screen.getByText('SUP-1')).toBeInTheDocument()
    expect(screen.queryByText('HELP-1')).not.toBeInTheDocument()
  })

  it('ErrorsPage keeps the chosen process’s errors when the unfiltered answer is late', async () => {
    const queue: Pending[] = []
    const parked = (process: string, key: string) => ({ process, side: 'a', entity: key, key, error: 'refused', attempts: 1, at: '2026-01-05T08:00:00Z' })
    fb = setup('viewer', { 'processes.list': processes, 'errors.list': deferred(queue) })
    const user = userEvent.setup()
    renderAs(fb, <ErrorsPage />)
    await waitFor(() => expect(queue).toHaveLength(1))
    // The picker's options come with processes.list: wait for them.
    await screen.findByRole('option', { name: 'Support ↔ Product' })
    await user.selectOptions(screen.getByLabelText('Sync process'), 'Support ↔ Product')
    await waitFor(() => expect(queue.length).toBeGreaterThanOrEqual(2))
    const filtered = queue.find((q) => q.params.process === 'p2')!
    await answer(filtered, { errors: [parked('p2', 'SUP-9')] })
    for (const q of queue) if (q !== filtered) await answer(q, { errors: [parked('p1', 'HELP-9'), parked('p2', 'SUP-9')] })
    expect(screen.getByText('SUP-9')).toBeInTheDocument()
    expect(screen.queryByText('HELP-9')).not.toBeInTheDocument()
  })

  it('RunsPage keeps the chosen process’s runs when the first process’s answer is late', async () => {
    const queue: Pending[] = []
    const run = (process: string, trigger: string) => ({ id: `${process}-1`, process, trigger, startedAt: '2026-01-03T10:00:00Z', endedAt: '2026-01-03T10:00:01Z', counts: {} })
    fb = setup('viewer', { 'processes.list': processes, 'runs.list': deferred(queue) })
    const user = userEvent.setup()
    renderAs(fb, <RunsPage />)
    await waitFor(() => expect(queue).toHaveLength(1))
    // The picker's options come with processes.list: wait for them.
    await screen.findByRole('option', { name: 'Support ↔ Product' })
    await user.selectOptions(screen.getByLabelText('Sync process'), 'Support ↔ Product')
    await waitFor(() => expect(queue).toHaveLength(2))
    await answer(queue[1], { runs: [run('p2', 'webhook')] })
    await answer(queue[0], { runs: [run('p1', 'schedule')] })
    expect(screen.getByText('Webhook')).toBeInTheDocument()
    expect(screen.queryByText('Schedule')).not.toBeInTheDocument()
  })

  it('AuditPage keeps the filtered records when the unfiltered answer is late', async () => {
    const queue: Pending[] = []
    const rec = (seq: number, actor: string) => ({ seq, time: '2026-01-05T08:00:00Z', actor, action: 'session.login', target: 'x', result: 'success' })
    fb = setup('admin', { 'audit.list': deferred(queue) })
    const user = userEvent.setup()
    renderAs(fb, <AuditPage />)
    await waitFor(() => expect(queue).toHaveLength(1))
    await user.type(screen.getByLabelText('Actor'), 'bob')
    await user.click(screen.getByRole('button', { name: 'Apply' }))
    await waitFor(() => expect(queue).toHaveLength(2))
    expect(queue[1].params).toMatchObject({ actor: 'bob' })
    await answer(queue[1], { records: [rec(2, 'bob')], cursor: '' })
    await answer(queue[0], { records: [rec(1, 'ann'), rec(2, 'bob')], cursor: '' })
    expect(screen.getByText('bob')).toBeInTheDocument()
    expect(screen.queryByText('ann')).not.toBeInTheDocument()
  })
})
