// Typed calls to the agent's sync methods (shared/protocol/methods.go); the
// agent's validation errors are read by api/issues.
import { call } from '../../api/bridge'
import type {
  AdoptRequest,
  AdoptResult,
  BulkJob,
  FieldValues,
  Pair,
  QueueView,
  Side,
  ParkedError,
  PlanItem,
  Process,
  ProcessSummary,
  Run,
  System,
  TypePair,
} from './types'

export { issueMap, issuesOf, type Issue } from '../../api/issues'

// normalize fills what the agent sends as null (Go's nil slices) so the
// editor never has to guard against it.
export function normalize(p: Process): Process {
  return {
    ...p,
    a: p.a ?? { system: '', project: '' },
    b: p.b ?? { system: '', project: '' },
    types: (p.types ?? []).map(
      (t): TypePair => ({ ...t, fields: t.fields ?? [], filters: t.filters ?? [], linkTypes: t.linkTypes ?? [] }),
    ),
    users: { ...p.users, entries: p.users?.entries ?? [] },
    options: p.options ?? blankProcess().options,
    schedule: p.schedule ?? blankProcess().schedule,
  }
}

// toDocument is what create and update send: the process minus the agent's
// own bookkeeping, with empty optional lists left out like the YAML does.
export function toDocument(p: Process): Record<string, unknown> {
  const { createdAt: _c, updatedAt: _u, ...rest } = p
  return {
    ...rest,
    types: p.types.map((t) => {
      const out: Record<string, unknown> = { ...t }
      if (!t.filters?.length) delete out.filters
      if (!t.linkTypes?.length) delete out.linkTypes
      return out
    }),
  }
}

export function blankProcess(): Process {
  return {
    id: '',
    name: '',
    a: { system: '', project: '' },
    b: { system: '', project: '' },
    types: [{ a: '', b: '', fields: [{ a: 'title', b: 'title', direction: 'both' }], filters: [], linkTypes: [] }],
    users: { entries: [], matchBy: 'auto' },
    options: {
      createInA: false,
      createInB: true,
      comments: true,
      attachments: true,
      maxAttachmentBytes: 10 * 1024 * 1024,
      writePeerKey: true,
      conflict: 'hold',
    },
    schedule: { pollSeconds: 60, webhooks: false },
    active: false,
  }
}

export async function listProcesses(): Promise<ProcessSummary[]> {
  const r = await call<{ processes: ProcessSummary[] | null }>('processes.list', {})
  return (r.processes ?? []).map((s) => ({ ...s, process: normalize(s.process) }))
}

export async function getProcess(id: string): Promise<Process> {
  const r = await call<{ process: Process }>('processes.get', { id })
  return normalize(r.process)
}

export async function saveProcess(p: Process): Promise<Process> {
  const method = p.id ? 'processes.update' : 'processes.create'
  const r = await call<{ process: Process }>(method, { process: toDocument(p) })
  return normalize(r.process)
}

export async function setActive(id: string, active: boolean): Promise<Process> {
  const r = await call<{ process: Process }>(active ? 'processes.activate' : 'processes.deactivate', { id })
  return normalize(r.process)
}

export const deleteProcess = (id: string) => call('processes.delete', { id })
export const runNow = (id: string) => call<{ accepted: boolean }>('processes.run', { id })

export async function syncEntity(id: string, side: 'a' | 'b', entity: string): Promise<Run> {
  return (await call<{ run: Run }>('processes.syncEntity', { id, side, entity })).run
}

export async function plan(id: string): Promise<PlanItem[]> {
  return (await call<{ items: PlanItem[] | null }>('processes.plan', { id })).items ?? []
}

export async function bulkSync(id: string, since: Date): Promise<BulkJob> {
  return (await call<{ job: BulkJob }>('processes.bulkSync', { id, since: since.toISOString() })).job
}

export async function exportProcesses(ids: string[]): Promise<string> {
  return (await call<{ document: string }>('processes.export', { ids })).document
}

export async function importProcesses(document: string): Promise<{ created: string[]; updated: string[] }> {
  const r = await call<{ created: string[] | null; updated: string[] | null }>('processes.import', { document })
  return { created: r.created ?? [], updated: r.updated ?? [] }
}

export async function listPairs(params: {
  process?: string
  query?: string
  cursor?: string
  limit?: number
}): Promise<{ pairs: Pair[]; cursor: string }> {
  const r = await call<{ pairs: Pair[] | null; cursor: string }>('pairs.list', params)
  return { pairs: r.pairs ?? [], cursor: r.cursor ?? '' }
}

export async function getPair(process: string, id: string): Promise<Pair> {
  return (await call<{ pair: Pair }>('pairs.get', { process, id })).pair
}

// pairValues reads both sides of a pair now. The values are for the view
// that asked and are never kept beyond it.
export async function pairValues(process: string, id: string): Promise<FieldValues[]> {
  return (await call<{ fields: FieldValues[] | null }>('pairs.values', { process, id })).fields ?? []
}

// resolveFields settles held fields one by one: field ("a|b") to the side
// whose value wins on the next run.
export const resolveFields = (process: string, id: string, fields: Record<string, Side>) => call('pairs.resolve', { process, id, fields })

export async function unpair(process: string, pairs: string[]): Promise<number> {
  return (await call<{ count: number }>('pairs.unpair', { process, pairs })).count
}

// relink pairs entity a of side A with entity b of side B (each a key or
// id); excluded names the former peers now left out of sync.
export async function relink(process: string, a: string, b: string): Promise<{ pair: Pair; excluded: string[] }> {
  const r = await call<{ pair: Pair; excluded: string[] | null }>('pairs.relink', { process, a, b })
  return { pair: r.pair, excluded: r.excluded ?? [] }
}

export const recreatePair = (process: string, id: string) => call('pairs.recreate', { process, id })
export const applyDeletion = (process: string, id: string, action: 'mirror' | 'mark' | 'ignore') => call('pairs.applyDeletion', { process, id, action })

export async function adopt(process: string, req: AdoptRequest, dryRun: boolean): Promise<AdoptResult> {
  const r = (await call<{ result: AdoptResult }>('pairs.adopt', { process, ...req, dryRun })).result
  return {
    ...r,
    matches: r.matches ?? [],
    ambiguous: (r.ambiguous ?? []).map((x) => ({ ...x, a: x.a ?? [], b: x.b ?? [] })),
    unmatchedA: r.unmatchedA ?? [],
    unmatchedB: r.unmatchedB ?? [],
    alreadyPaired: r.alreadyPaired ?? [],
    problems: r.problems ?? [],
  }
}

export async function listQueue(process: string, limit = 20): Promise<QueueView> {
  const q = (await call<{ queue: QueueView }>('queue.list', { process, limit })).queue
  return { ...q, items: q.items ?? [] }
}

export async function listRuns(process: string, limit = 50): Promise<Run[]> {
  return (await call<{ runs: Run[] | null }>('runs.list', { process, limit })).runs ?? []
}

export async function getRun(id: string): Promise<Run> {
  return (await call<{ run: Run }>('runs.get', { id })).run
}

export async function listErrors(process?: string): Promise<ParkedError[]> {
  return (await call<{ errors: ParkedError[] | null }>('errors.list', process ? { process } : {})).errors ?? []
}

export async function retryErrors(process: string, side?: 'a' | 'b', entity?: string): Promise<number> {
  const params: Record<string, string> = { process }
  if (side && entity) {
    params.side = side
    params.entity = entity
  }
  return (await call<{ retried: number }>('errors.retry', params)).retried
}

export async function listSystems(): Promise<System[]> {
  return (await call<{ systems: System[] | null }>('systems.list', {})).systems ?? []
}
