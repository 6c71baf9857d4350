// The mapping editor: everything a sync process configures. The agent
// validates a save against both systems' schemas; its errors are shown at the
// field they name and the focus moves to the first one.
import { useEffect, useRef, useState, type FormEvent } from 'react'
import { errorMessage } from '../../api/bridge'
import { Alert, Button, count } from '../../ui'
import { saveProcess, issuesOf, issueMap, type Issue } from './api'
import { CheckCell, IssuesContext, SectionIssue, SelectCell, TextCell, fieldId, removeAt, replaceAt } from './controls'
import { SchemaContext, useSchemas, type SideSchema } from './schema'
import { enumGaps, type EnumGap } from './enumcheck'
import { TypePairEditor, cleanFilters } from './TypePairEditor'
import { UserMapEditor } from './UserMapEditor'
import { DeletionPolicyEditor } from './DeletionPolicyEditor'
import type { ConflictPolicy, ProcessEnd, Side, System } from '../../api/generated/types'
import type { Process } from './api'

const MiB = 1024 * 1024

const conflictOptions: { value: ConflictPolicy; label: string }[] = [
  { value: 'hold', label: 'Hold the pair for review' },
  { value: 'a_wins', label: 'A wins' },
  { value: 'b_wins', label: 'B wins' },
]

export function ProcessEditor({
  initial,
  systems,
  readOnly,
  onSaved,
  onCancel,
}: {
  initial: Process
  systems: System[]
  readOnly: boolean
  onSaved: (p: Process) => void
  onCancel?: () => void
}) {
  // base is the document the edits started from. A new initial replaces it
  // when it says something new (a save, activation, another admin's change);
  // what was typed is kept unless it is another process's: callers re-render
  // with equal but new objects whenever their lists reload, and a run
  // finishing must not wipe a form being filled in.
  const [base, setBase] = useState<Process>(initial)
  const [p, setP] = useState<Process>(initial)
  if (initial !== base) {
    const baseText = JSON.stringify(base)
    if (JSON.stringify(initial) !== baseText) {
      const editing = initial.id === base.id && JSON.stringify(p) !== baseText
      // Unsaved edits keep the fields the editor does not show in step
      // with the agent, so the comparison below sees only the edits.
      setP(editing ? { ...p, active: initial.active, createdAt: initial.createdAt, updatedAt: initial.updatedAt } : initial)
    }
    setBase(initial)
  }
  const [issues, setIssues] = useState<Issue[]>([])
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const summary = useRef<HTMLDivElement>(null)
  const dirty = JSON.stringify(p) !== JSON.stringify(base)
  // Pick-lists help whoever edits; a read-only view does not ask the systems.
  const schemas = useSchemas(p.a, p.b, !readOnly)

  // After a failed save, move the focus to the first field the agent named,
  // or to the summary when no control on the page holds it.
  useEffect(() => {
    if (issues.length === 0) return
    for (const i of issues) {
      const el = document.getElementById(fieldId(i.field))
      if (el) {
        el.focus()
        return
      }
    }
    summary.current?.focus()
  }, [issues])

  // Enum values the mapping cannot carry: warned about once per save.
  const [gapsShown, setGapsShown] = useState<EnumGap[] | null>(null)
  const save = async (e: FormEvent | null, anyway = false) => {
    e?.preventDefault()
    if (readOnly) return
    if (!anyway) {
      const found = enumGaps(p, schemas.a, schemas.b)
      if (found.length) {
        setGapsShown(found)
        return
      }
    }
    setGapsShown(null)
    setBusy(true)
    setError('')
    setIssues([])
    try {
      const doc = { ...p, types: p.types.map((t) => ({ ...t, filters: cleanFilters(t.filters ?? []) })) }
      const saved = await saveProcess(doc)
      // The agent's copy is what the form shows now, whether or not the
      // caller passes it back as initial.
      setP(saved)
      onSaved(saved)
    } catch (err) {
      const list = issuesOf(err)
      if (list.length > 0) setIssues(list)
      else setError(`The process was not saved: ${errorMessage(err)}`)
    } finally {
      setBusy(false)
    }
  }

  const systemOptions = [{ value: '', label: 'Choose a system…' }, ...systems.map((s) => ({ value: s.id, label: `${s.name} (${s.kind})` }))]
  // A process may name a system this account cannot list any more; keep it selectable.
  for (const id of [p.a.system, p.b.system]) {
    if (id && !systems.some((s) => s.id === id)) systemOptions.push({ value: id, label: `Unknown system ${id}` })
  }
  const set = (patch: Partial<Process>) => setP((cur) => ({ ...cur, ...patch }))
  const sideName = (side: Side) => {
    const end = side === 'a' ? p.a : p.b
    const sys = systems.find((x) => x.id === end.system)
    return `${side.toUpperCase()}${sys ? ` (${sys.name}${end.project.trim() ? ' ' + end.project.trim() : ''})` : ''}`
  }

  return (
    <IssuesContext.Provider value={issueMap(issues)}>
      <SchemaContext.Provider value={{ a: schemas.a, b: schemas.b }}>
        <form className="process-editor" onSubmit={save} aria-label="Sync process configuration" noValidate>
          {issues.length > 0 && (
            <div ref={summary} tabIndex={-1}>
              <Alert kind="error" title={`The agent did not accept the process: ${count(issues.length, 'problem')}`}>
                <ul>
                  {issues.map((i, n) => (
                    <li key={n}>
                      <code>{i.field}</code> {i.message}
                    </li>
                  ))}
                </ul>
                Fix the marked fields and save again.
              </Alert>
            </div>
          )}
          {error && <Alert kind="error">{error}</Alert>}
          {readOnly && <Alert kind="info">You can view this configuration; changing it needs the admin role.</Alert>}

          <fieldset disabled={readOnly || busy} className="editor-body">
            <section className="editor-section" aria-labelledby="sec-general">
              <h3 id="sec-general">Name and systems</h3>
              <div className="grid-2">
                <label className="span-2">
                  Name
                  <TextCell path="name" label="Name" placeholder="e.g. Helpdesk incidents ↔ Engineering bugs" value={p.name} onChange={(name) => set({ name })} />
                </label>
                <label>
                  System A
                  <SelectCell path="a.system" label="System A" value={p.a.system} options={systemOptions} onChange={(system) => set({ a: { ...p.a, system } })} />
                </label>
                <label>
                  System B
                  <SelectCell path="b.system" label="System B" value={p.b.system} options={systemOptions} onChange={(system) => set({ b: { ...p.b, system } })} />
                </label>
                <label>
                  Project in A
                  <TextCell path="a.project" label="Project in A" placeholder="Project key or scope, e.g. HELP" value={p.a.project} onChange={(project) => set({ a: { ...p.a, project } })} />
                </label>
                <label>
                  Project in B
                  <TextCell path="b.project" label="Project in B" placeholder="Project key or scope, e.g. ENG" value={p.b.project} onChange={(project) => set({ b: { ...p.b, project } })} />
                </label>
              </div>
              {systems.length === 0 && <p className="muted small">No systems are configured on this agent yet: add them on the Systems page first.</p>}
            </section>

            <section className="editor-section" aria-labelledby="sec-types">
              <h3 id="sec-types">Entity types and fields</h3>
              <p className="muted small">Type names of entity types, fields and link types as the systems spell them; saving checks them against each system's schema.</p>
              {!readOnly && <SchemaStatus a={schemas.a} b={schemas.b} ends={{ a: p.a, b: p.b }} systems={systems} onRefresh={schemas.refresh} />}
              <SectionIssue path="types" />
              {p.types.map((t, i) => (
                <TypePairEditor key={i} index={i} value={t} onChange={(nt) => set({ types: replaceAt(p.types, i, nt) })} onRemove={() => set({ types: removeAt(p.types, i) })} />
              ))}
              <Button onClick={() => set({ types: [...p.types, { a: '', b: '', fields: [{ a: 'title', b: 'title', direction: 'both' }], filters: [], linkTypes: [] }] })}>
                Add entity types
              </Button>
            </section>

            <section className="editor-section" aria-labelledby="sec-users">
              <h3 id="sec-users">Users</h3>
              <UserMapEditor value={p.users} readOnly={readOnly} onChange={(users) => set({ users })} />
            </section>

            <section className="editor-section" aria-labelledby="sec-options">
              <h3 id="sec-options">Options</h3>
              <div className="checks">
                <CheckCell path="options.createInA" label="Create entities in A" checked={p.options.createInA} onChange={(createInA) => set({ options: { ...p.options, createInA } })}>
                  Create new entities in A
                </CheckCell>
                <CheckCell path="options.createInB" label="Create entities in B" checked={p.options.createInB} onChange={(createInB) => set({ options: { ...p.options, createInB } })}>
                  Create new entities in B
                </CheckCell>
                <CheckCell path="options.comments" label="Sync comments" checked={p.options.comments} onChange={(comments) => set({ options: { ...p.options, comments } })}>
                  Sync comments
                </CheckCell>
                <CheckCell path="options.attachments" label="Sync attachments" checked={p.options.attachments} onChange={(attachments) => set({ options: { ...p.options, attachments } })}>
                  Sync attachments
                </CheckCell>
                <AttachmentNotes a={schemas.a} b={schemas.b} ends={{ a: p.a, b: p.b }} systems={systems} />
                <CheckCell path="options.writePeerKey" label="Write the peer's key" checked={p.options.writePeerKey} onChange={(writePeerKey) => set({ options: { ...p.options, writePeerKey } })}>
                  Write the other side's key and URL into each entity
                </CheckCell>
              </div>
              <div className="grid-2">
                <label>
                  Largest attachment (MiB, 0 for no limit)
                  <TextCell
                    path="options.maxAttachmentBytes"
                    label="Largest attachment in MiB"
                    type="number"
                    value={String(Math.round((p.options.maxAttachmentBytes / MiB) * 100) / 100)}
                    onChange={(v) => set({ options: { ...p.options, maxAttachmentBytes: Math.round(Number(v || 0) * MiB) } })}
                  />
                </label>
                <label>
                  When both sides changed a field
                  <SelectCell path="options.conflict" label="When both sides changed a field" value={p.options.conflict || 'hold'} options={conflictOptions} onChange={(conflict) => set({ options: { ...p.options, conflict } })} />
                </label>
              </div>
              <h4>Deletions</h4>
              <DeletionPolicyEditor
                value={p.options.deletes}
                sideName={sideName}
                onChange={(deletes) => {
                  const { deletes: _old, ...options } = p.options
                  set({ options: deletes ? { ...options, deletes } : options })
                }}
              />
            </section>

            <section className="editor-section" aria-labelledby="sec-schedule">
              <h3 id="sec-schedule">Schedule</h3>
              <div className="grid-2">
                <label>
                  Poll every (seconds, 5 to 86400)
                  <TextCell path="schedule.pollSeconds" label="Poll interval in seconds" type="number" value={String(p.schedule.pollSeconds)} onChange={(v) => set({ schedule: { ...p.schedule, pollSeconds: Number(v || 0) } })} />
                </label>
                <CheckCell path="schedule.webhooks" label="Use webhooks" checked={p.schedule.webhooks} onChange={(webhooks) => set({ schedule: { ...p.schedule, webhooks } })}>
                  Use webhooks where the systems offer them (polling stays on to catch lost deliveries)
                </CheckCell>
              </div>
            </section>
          </fieldset>

          {!readOnly && (
            <div className="editor-footer">
              <Button type="submit" variant="primary" busy={busy} disabled={!dirty && !!base.id}>
                {base.id ? 'Save changes' : 'Create process'}
              </Button>
              {base.id
                ? dirty && (
                    <Button onClick={() => (setP(base), setIssues([]), setError(''))} disabled={busy}>
                      Discard changes
                    </Button>
                  )
                : onCancel && (
                    <Button onClick={onCancel} disabled={busy}>
                      Cancel
                    </Button>
                  )}
              {dirty && <span className="muted small">Unsaved changes</span>}
            </div>
          )}
          {gapsShown && (
            <Alert
              kind="warning"
              title="Some values have no counterpart: the first run that meets one fails"
              actions={
                <>
                  <Button onClick={() => void save(null, true)}>Save anyway</Button>
                  <Button variant="ghost" onClick={() => setGapsShown(null)}>
                    Add the value maps
                  </Button>
                </>
              }
            >
              <ul data-testid="enum-gaps">
                {gapsShown.map((g, i) => (
                  <li key={i}>
                    {g.typeA} ↔ {g.typeB}, {g.field}: {g.values.join(', ')} ({g.from === 'a' ? 'from A' : 'from B'}) map to nothing. Add them to the value map, or set a default.
                  </li>
                ))}
              </ul>
            </Alert>
          )}
        </form>
      </SchemaContext.Provider>
    </IssuesContext.Provider>
  )
}

// SchemaStatus says where the pick-lists come from, or why a side has none:
// an unreachable system leaves the names free text, checked on save.
// AttachmentNotes says, for a side whose system cannot hold files, what the
// other side's attachments become there, as its schema tells.
function AttachmentNotes({ a, b, ends, systems }: { a: SideSchema; b: SideSchema; ends: Record<Side, ProcessEnd>; systems: System[] }) {
  const notes = (['a', 'b'] as Side[]).flatMap((side) => {
    const s = ({ a, b })[side]
    if (s.state !== 'ready' || !s.schema.attachments) return []
    const sys = systems.find((x) => x.id === ends[side].system)
    const who = `${side.toUpperCase()} (${sys?.name ?? ends[side].system})`
    const other = side === 'a' ? 'B' : 'A'
    const what =
      s.schema.attachments === 'comment'
        ? `each attachment from ${other} becomes a comment there naming the file and linking the item that has it`
        : `attachments from ${other} are left out and counted as skipped in each run`
    return [
      <li key={side}>
        {who} cannot hold files: {what}.
      </li>,
    ]
  })
  if (notes.length === 0) return null
  return (
    <ul className="muted small attachment-notes" aria-label="What becomes of attachments">
      {notes}
    </ul>
  )
}

function SchemaStatus({
  a,
  b,
  ends,
  systems,
  onRefresh,
}: {
  a: SideSchema
  b: SideSchema
  ends: Record<Side, ProcessEnd>
  systems: System[]
  onRefresh: () => void
}) {
  if (a.state === 'none' && b.state === 'none') {
    return <p className="muted small">Choose both systems and projects to get pick-lists of their entity types, fields and values.</p>
  }
  const name = (side: Side) => {
    const sys = systems.find((s) => s.id === ends[side].system)
    return `${sys?.name ?? ends[side].system} (${ends[side].project.trim()})`
  }
  const line = (side: Side, s: SideSchema) => {
    const who = `${side.toUpperCase()}: ${name(side)}`
    switch (s.state) {
      case 'loading':
        return <li key={side}>{who}: reading the schema…</li>
      case 'ready':
        return (
          <li key={side}>
            {who}: {count(s.schema.entityTypes.length, 'entity type')}, {count(s.schema.fields.length, 'field')}, {count(s.schema.linkTypes.length, 'link type')}
          </li>
        )
      default:
        return null
    }
  }
  const failed = (['a', 'b'] as Side[]).filter((side) => ({ a, b })[side].state === 'error')
  return (
    <div className="schema-status">
      <ul className="muted small" aria-label="Pick-lists" aria-live="polite">
        {line('a', a)}
        {line('b', b)}
      </ul>
      {failed.map((side) => {
        const s = ({ a, b })[side] as { state: 'error'; message: string }
        return (
          <Alert key={side} kind="warning" title={`No pick-lists for ${side.toUpperCase()}: ${name(side)} could not be read`}>
            {s.message.replace(/\.?\s*$/, '.')} Names can still be typed; saving checks them against the system.
          </Alert>
        )
      })}
      <Button onClick={onRefresh} disabled={a.state === 'loading' || b.state === 'loading'}>
        Refresh pick-lists
      </Button>
    </div>
  )
}
