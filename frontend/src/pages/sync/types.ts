// The sync engine's shapes as the agent sends them (docs/protocol.md, the JSON
// of agent/internal/syncer and agent/internal/mapping). Only the fields the
// pages read or edit are named; a process keeps any others untouched through
// an edit, so a newer agent's additions survive a save from this app.

import type { Health } from '../../ui'

export type Side = 'a' | 'b'
export type Direction = 'a_to_b' | 'b_to_a' | 'both'
export type OnMissing = '' | 'default' | 'error' | 'keep' | 'empty'
export type Conflict = 'a_wins' | 'b_wins' | 'hold'

export type End = { system: string; project: string }

export type ValuePair = { a: string; b: string }
export type ValueMap = {
  pairs: ValuePair[]
  defaultA?: string
  defaultB?: string
  onMissing?: OnMissing
}

export type TransformKind =
  | 'constant'
  | 'template'
  | 'regex'
  | 'markdown_to_html'
  | 'html_to_markdown'
  | 'markdown_to_text'
  | 'html_to_text'
export type Transform = { kind: TransformKind; value?: string; pattern?: string; replace?: string }

export type FieldPair = {
  a: string
  b: string
  direction: Direction
  valueMap?: ValueMap
  userMap?: boolean
  transformAToB?: Transform
  transformBToA?: Transform
}

export type FilterOp =
  | 'eq'
  | 'neq'
  | 'in'
  | 'not_in'
  | 'contains'
  | 'not_contains'
  | 'empty'
  | 'not_empty'
  | 'gt'
  | 'lt'
  | 'matches'
export type Filter = { side?: Side; field: string; op: FilterOp; value?: unknown }

export type LinkTypePair = { a: string; b: string }

export type TypePair = {
  a: string
  b: string
  fields: FieldPair[]
  filters?: Filter[]
  linkTypes?: LinkTypePair[]
}

export type UserRef = { id?: string; email?: string; name?: string }
export type UserEntry = { a: UserRef; b: UserRef }
export type MatchBy = '' | 'auto' | 'id' | 'email' | 'name'
export type UserMap = {
  entries: UserEntry[]
  matchBy?: MatchBy
  defaultA?: UserRef
  defaultB?: UserRef
  onMissing?: OnMissing
}

// DeleteAction is what happens to the peer of an entity deleted on one side.
export type DeleteAction = 'ignore' | 'mirror' | 'mark'
// DeletePolicy: mark sets field to value on the peer and adds comment
// ({key} and {system} name the deleted entity; empty takes a default).
export type DeletePolicy = { action?: DeleteAction | ''; field?: string; value?: string; comment?: string }
// Deletes.a is what happens to B's entity when A's is deleted; b the reverse.
export type Deletes = { a?: DeletePolicy; b?: DeletePolicy }

export type Options = {
  createInA: boolean
  createInB: boolean
  comments: boolean
  attachments: boolean
  maxAttachmentBytes: number
  writePeerKey: boolean
  conflict: Conflict | ''
  deletes?: Deletes
}

export type Schedule = { pollSeconds: number; webhooks: boolean }

export type Process = {
  id: string
  name: string
  a: End
  b: End
  types: TypePair[]
  users: UserMap
  options: Options
  schedule: Schedule
  active: boolean
  createdAt?: string
  updatedAt?: string
  [extra: string]: unknown
}

export type Counts = {
  created: number
  updated: number
  commented: number
  attached: number
  linked: number
  skipped: number
  failed: number
  conflicts: number
}

export type ConflictRecord = { pair: string; field: string; aVersion: string; bVersion: string; winner: string }
export type RunError = { side: Side | ''; entity: string; key?: string; message: string; parked: boolean; cause?: string }

export type Run = {
  id: string
  process: string
  trigger: string
  startedAt: string
  endedAt: string
  counts: Counts
  conflicts?: ConflictRecord[]
  errors?: RunError[]
  requests?: number
}

export type ProcessSummary = { process: Process; pairs: number; errors: number; lastRun?: Run; health?: Health }

export type EntityRef = { id: string; key?: string; title?: string; type?: string; url?: string; version?: string }

// Pending is one side's entity of a pair waiting in the queue: its step
// (read, fields, comments, attachments, links) and its attempts so far.
export type Pending = {
  side: Side
  entity: string
  attempts: number
  step?: string
  nextAttempt?: string
  lastError?: string
  enqueued: string
}

// A pair as pairs.list and pairs.get send it: the engine's pair with its
// pending work and its state in words (status).
export type Pair = {
  id: string
  process: string
  a: EntityRef
  b: EntityRef
  state: 'synced' | 'error' | 'held' | 'deleted' | string
  status?: string
  error?: string
  // held names the field pairs ("<a field>|<b field>") in conflict.
  held?: string[]
  // resolve holds the side chosen for held fields, applied on the next run.
  resolve?: Record<string, Side>
  // gone names the side whose entity was deleted (state deleted).
  gone?: Side | ''
  divergences?: string[]
  waitingLinks?: number
  pending?: Pending[]
  createdAt: string
  lastSyncedAt: string
}

// FieldValues are both sides' current values of one field pair, read live
// by pairs.values (never stored): inB is A's value as it would be written
// into B, inA the reverse.
export type FieldValues = { field: string; a: unknown; b: unknown; inA: unknown; inB: unknown; held: boolean; same: boolean }

// Brief names an entity in an adoption's answer.
export type Brief = { id: string; key: string; title: string }
export type AdoptMatch = { a: Brief; b: Brief }
export type AdoptAmbiguity = { match: string; a: Brief[] | null; b: Brief[] | null }
export type AdoptResult = {
  matches: AdoptMatch[]
  ambiguous: AdoptAmbiguity[]
  unmatchedA: Brief[]
  unmatchedB: Brief[]
  alreadyPaired: AdoptMatch[]
  problems: string[]
  adopted: number
  dryRun: boolean
}
// AdoptRequest is a CSV of key pairs, or a field of each side to match.
export type AdoptRequest = { csv: string } | { matchA: string; matchB: string }

// QueueEntry is one entity waiting to be worked, with why in words.
export type QueueEntry = Pending & { key?: string; title?: string; pair?: string; reason: string }
export type QueueView = { total: number; retrying: number; oldest?: string; items: QueueEntry[] }

export type ParkedError = {
  process: string
  side: Side
  entity: string
  key?: string
  title?: string
  pair?: string
  error: string
  attempts: number
  at: string
}

export type PlanAction = 'read' | 'create' | 'update' | 'comment' | 'attach' | 'link' | 'unlink' | 'hold' | 'error'
export type PlanItem = { action: PlanAction | string; side: Side; entity?: string; key?: string; title?: string; detail?: string }

export type BulkJob = {
  id: string
  process: string
  since?: string
  state: 'running' | 'done' | 'failed' | string
  total: number
  done: number
  percent?: number
  error?: string
  run?: string
}

export type System = { id: string; name: string; kind: string; url: string; health?: Health }
