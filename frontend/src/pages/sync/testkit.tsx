// Test helpers for the sync pages: a logged-in session of a chosen role, a
// fake bridge whose event subscriptions are named after their types, and
// sample documents shaped like the agent's.
import { render } from '@testing-library/react'
import type { ReactElement } from 'react'
import type { Session } from '../../api/bridge'
import { ConnectionProvider } from '../../state'
import { fakeBridge, loggedInStatus, type FakeBridge } from '../../test/fakeBridge'
import type { Process, ProcessSummary } from './api'

export function setup(role: Session['role'], handlers: Record<string, (p: any) => unknown>, overrides: Parameters<typeof fakeBridge>[1] = {}): FakeBridge {
  const status = loggedInStatus(role)
  return fakeBridge(handlers, { SubscribeEvents: async (types: string[]) => `sub:${types.join(',')}`, ...overrides }, status)
}

export function renderAs(fb: FakeBridge, ui: ReactElement) {
  return render(<ConnectionProvider initial={fb.status}>{ui}</ConnectionProvider>)
}

// emitEvents delivers agent events to the subscription made for types.
export function emitEvents(fb: FakeBridge, types: string[], events: { type: string; data: unknown }[]) {
  const sub = `sub:${types.join(',')}`
  fb.emit('events:batch', { sub, events: events.map((e, i) => ({ sub, seq: i + 1, time: '2026-01-01T00:00:00Z', ...e })) })
}

export function sampleProcess(over: Partial<Process> = {}): Process {
  return {
    id: 'p1',
    name: 'Helpdesk ↔ Engineering',
    a: { system: 's1', project: 'HELP' },
    b: { system: 's2', project: 'ENG' },
    types: [
      {
        a: 'incident',
        b: 'bug',
        fields: [
          { a: 'title', b: 'title', direction: 'both' },
          { a: 'status', b: 'state', direction: 'both', valueMap: { pairs: [{ a: 'new', b: 'open' }], onMissing: 'error' } },
        ],
        filters: [{ field: 'priority', op: 'in', value: ['high', 'critical'] }],
        linkTypes: [{ a: 'blocks', b: 'blocks' }],
      },
    ],
    users: { entries: [{ a: { email: 'ann@help.example' }, b: { id: '17' } }], matchBy: 'auto' },
    options: { createInA: false, createInB: true, comments: true, attachments: true, maxAttachmentBytes: 10485760, writePeerKey: true, conflict: 'hold' },
    schedule: { pollSeconds: 30, webhooks: false },
    active: false,
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-02T00:00:00Z',
    ...over,
  }
}

export const systems = [
  { id: 's1', name: 'Helpdesk', kind: 'sandbox', url: 'https://help.example' },
  { id: 's2', name: 'Engineering', kind: 'sandbox', url: 'https://eng.example' },
]

export function summary(p: Process, over: Partial<ProcessSummary> = {}): ProcessSummary {
  return { process: p, pairs: 12, errors: 0, ...over }
}

// processHandlers answer the calls the processes page makes for one process.
export function processHandlers(p: Process): Record<string, (params: any) => unknown> {
  return {
    'systems.list': () => ({ systems }),
    'processes.list': () => ({ processes: [summary(p)] }),
    'processes.get': () => ({ process: p }),
    'queue.list': () => ({ queue: { total: 0, retrying: 0, items: [] } }),
  }
}
