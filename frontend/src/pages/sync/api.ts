// Calls to the agent's sync methods, typed by the generated method table
// (api/generated, from shared/), and the editor's view of a process: the
// agent's validation errors are read by api/issues.
import { call } from '../../api/bridge'
import type * as W from '../../api/generated/types'
import type { DeleteAction, Side } from '../../api/generated/types'

export { issueMap, issuesOf, type Issue } from '../../api/issues'

// Listed is T with its lists never null: Go sends an empty list as null,
// and the calls below make it [] so no page has to guard against it.
export type Listed<T> = { [K in keyof T]: Exclude<T[K], null> }

// The editor's view of a process: the wire's (W.Process), its lists made
// lists (normalize). Saving sends it as it is: a list is a valid list-or-null.
export type ValueMap = Listed<W.ValueMap>
export type FieldPair = Omit<W.FieldPair, 'valueMap'> & { valueMap?: ValueMap }
export type TypePair = Omit<W.TypePair, 'fields' | 'filters' | 'linkTypes'> & { fields: FieldPair[]; filters: W.Filter[]; linkTypes: W.LinkTypePair[] }
export type UserMap = Omit<W.UserMap, 'entries'> & { entries: W.UserEntry[] }
export type Process = Omit<W.Process, 'types' | 'users'> & { types: TypePair[]; users: UserMap }
export type ProcessSummary = Omit<W.ProcessSummary, 'process'> & { process: Process }

// AdoptRequest is a CSV of key pairs, or a field of each side to match.
export type AdoptRequest = { csv: string } | { matchA: string; matchB: string }
export type AdoptResult = Omit<Listed<W.AdoptResult>, 'ambiguous'> & { ambiguous: Listed<W.AdoptAmbiguity>[] }
export type QueueView = Listed<W.QueueView>

// normalize fills what the agent sends as null (Go's nil slices). A newer
// agent's fields the editor does not know are kept, so they survive a save.
export function normalize(p: W.Process): Process {
  return {
    ...p,
    a: p.a ?? { system: '', project: '' },
    b: p.b ?? { system: '', project: '' },
    types: (p.types ?? []).map(
      (t): TypePair => ({
        ...t,
        fields: (t.fields ?? []).map((f) => ({ ...f, valueMap: f.valueMap && { ...f.valueMap, pairs: f.valueMap.pairs ?? [] } })),
        filters: t.filters ?? [],
        linkTypes: t.linkTypes ?? [],
      }),
    ),
    users: { ...p.users, entries: p.users?.entries ?? [] },
    options: p.options ?? blankProcess().options,
    schedule: p.schedule ?? blankProcess().schedule,
  }
}

// toDocument is what create and update send: the process minus the agent's
// own bookkeeping, with empty optional lists left out like the YAML does.
export function toDocument(p: Process): W.Process {
  const { createdAt: _c, updatedAt: _u, ...rest } = p
  return {
    ...rest,
    types: p.types.map((t) => {
      const { filters, linkTypes, ...out }: W.TypePair = t
      return { ...out, ...(filters?.length ? { filters } : {}), ...(linkTypes?.length ? { linkTypes } : {}) }
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
  const r = await call('processes.list', {})
  return (r.processes ?? []).map((s) => ({ ...s, process: normalize(s.process) }))
}

export async function getProcess(id: string): Promise<Process> {
  const r = await call('processes.get', { id })
  return normalize(r.process)
}

export async function saveProcess(p: Process): Promise<Process> {
  const r = await call(p.id ? 'processes.update' : 'processes.create', { process: toDocument(p) })
  return normalize(r.process)
}

export async function setActive(id: string, active: boolean): Promise<Process> {
  const r = await call(active ? 'processes.activate' : 'processes.deactivate', { id })
  return normalize(r.process)
}

export const deleteProcess = (id: string) => call('processes.delete', { id })
export const runNow = (id: string) => call('processes.run', { id })

export async function syncEntity(id: string, side: Side, entity: string): Promise<W.Run> {
  return (await call('processes.syncEntity', { id, side, entity })).run
}

export async function plan(id: string): Promise<W.PlanItem[]> {
  return (await call('processes.plan', { id })).items ?? []
}

export async function bulkSync(id: string, since: Date): Promise<W.BulkJob> {
  return (await call('processes.bulkSync', { id, since: since.toISOString() })).job
}

export async function exportProcesses(ids: string[]): Promise<string> {
  return (await call('processes.export', { ids })).document
}

export async function importProcesses(document: string): Promise<{ created: string[]; updated: string[] }> {
  const r = await call('processes.import', { document })
  return { created: r.created ?? [], updated: r.updated ?? [] }
}

export async function listPairs(params: W.PairsListParams): Promise<{ pairs: W.PairView[]; cursor: string }> {
  const r = await call('pairs.list', params)
  return { pairs: r.pairs ?? [], cursor: r.cursor ?? '' }
}

export async function getPair(process: string, id: string): Promise<W.PairView> {
  return (await call('pairs.get', { process, id })).pair
}

// pairValues reads both sides of a pair now. The values are for the view
// that asked and are never kept beyond it.
export async function pairValues(process: string, id: string): Promise<W.FieldValues[]> {
  return (await call('pairs.values', { process, id })).fields ?? []
}

// resolveFields settles held fields one by one: field ("a|b") to the side
// whose value wins on the next run.
export const resolveFields = (process: string, id: string, fields: Record<string, Side>) => call('pairs.resolve', { process, id, fields })

export async function unpair(process: string, pairs: string[]): Promise<number> {
  return (await call('pairs.unpair', { process, pairs })).count
}

// relink pairs entity a of side A with entity b of side B (each a key or
// id); excluded names the former peers now left out of sync.
export async function relink(process: string, a: string, b: string): Promise<{ pair: W.PairView; excluded: string[] }> {
  const r = await call('pairs.relink', { process, a, b })
  return { pair: r.pair, excluded: r.excluded ?? [] }
}

export const recreatePair = (process: string, id: string) => call('pairs.recreate', { process, id })
export const applyDeletion = (process: string, id: string, action: DeleteAction) => call('pairs.applyDeletion', { process, id, action })

export async function adopt(process: string, req: AdoptRequest, dryRun: boolean): Promise<AdoptResult> {
  const r = (await call('pairs.adopt', { process, ...req, dryRun })).result
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
  const q = (await call('queue.list', { process, limit })).queue
  return { ...q, items: q.items ?? [] }
}

export async function listRuns(process: string, limit = 50): Promise<W.Run[]> {
  return (await call('runs.list', { process, limit })).runs ?? []
}

export async function getRun(id: string): Promise<W.Run> {
  return (await call('runs.get', { id })).run
}

export async function listErrors(process?: string): Promise<W.ParkedError[]> {
  return (await call('errors.list', process ? { process } : {})).errors ?? []
}

export async function retryErrors(process: string, side?: Side, entity?: string): Promise<number> {
  const params: W.ErrorsRetryParams = { process }
  if (side && entity) {
    params.side = side
    params.entity = entity
  }
  return (await call('errors.retry', params)).retried
}

export async function listSystems(): Promise<W.System[]> {
  return (await call('systems.list', {})).systems ?? []
}
