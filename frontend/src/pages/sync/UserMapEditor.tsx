// The process's user map: how people of A and B are matched, the entries
// (typed or imported from a CSV file) and what happens to someone unmapped.
import { useState } from 'react'
import { bridge, errorKind, errorMessage } from '../../api/bridge'
import { Alert, Button } from '../../ui'
import { SectionIssue, SelectCell, TextCell, removeAt, type PickOption } from './controls'
import { schemaOf, useSideSchema, type SideSchema } from './schema'
import type { MatchBy, OnMissing, UserEntry, UserRef } from '../../api/generated/types'
import type { UserMap } from './api'
import { parseUserCsv, type UserCsvResult } from './usercsv'

const matchOptions: { value: MatchBy; label: string }[] = [
  { value: 'auto', label: 'Account id, then email, then name' },
  { value: 'id', label: 'Account id' },
  { value: 'email', label: 'Email' },
  { value: 'name', label: 'Display name' },
]

const onMissingOptions: { value: OnMissing | ''; label: string }[] = [
  { value: '', label: 'Default if set, else keep' },
  { value: 'default', label: 'Use the default person' },
  { value: 'keep', label: 'Keep as is (the target resolves the email)' },
  { value: 'empty', label: 'Leave the field empty' },
  { value: 'error', label: 'Fail with an error' },
]

type RefKind = 'email' | 'id' | 'name'
const refKinds: { value: RefKind; label: string }[] = [
  { value: 'email', label: 'Email' },
  { value: 'id', label: 'Account id' },
  { value: 'name', label: 'Name' },
]

// Shown at once: a large organisation's map has thousands of rows, and the
// table is for checking, not reading.
const shownEntries = 100

export function refText(r?: UserRef): string {
  if (!r) return ''
  return [r.email, r.id && `id ${r.id}`, r.name].filter(Boolean).join(' · ')
}

function refKindOf(r?: UserRef): RefKind {
  if (r?.id) return 'id'
  if (r?.name && !r.email) return 'name'
  return 'email'
}

function refValue(r?: UserRef): string {
  return r ? (r[refKindOf(r)] ?? '') : ''
}

function makeRef(kind: RefKind, v: string): UserRef | undefined {
  return v.trim() === '' ? undefined : { [kind]: v.trim() }
}

// userOptions suggests a side's people as the chosen kind of reference
// names them, when the agent sent them (operators and admins only).
function userOptions(s: SideSchema, kind: RefKind): PickOption[] {
  return (schemaOf(s)?.users ?? [])
    .map((u) => ({ value: u[kind] ?? '', label: kind === 'name' ? u.email : u.name }))
    .filter((o) => o.value !== '')
}

function UserList({ id, options }: { id: string; options: PickOption[] }) {
  if (options.length === 0) return null
  return (
    <datalist id={id}>
      {options.map((o) => (
        <option key={o.value} value={o.value} label={o.label} />
      ))}
    </datalist>
  )
}

export function UserMapEditor({ value, onChange, readOnly }: { value: UserMap; onChange: (u: UserMap) => void; readOnly: boolean }) {
  const [preview, setPreview] = useState<UserCsvResult | null>(null)
  const [fileError, setFileError] = useState('')
  const [draft, setDraft] = useState<{ ak: RefKind; a: string; bk: RefKind; b: string }>({ ak: 'email', a: '', bk: 'email', b: '' })
  const entries = value.entries
  const schemaA = useSideSchema('a')
  const schemaB = useSideSchema('b')
  const optionsA = userOptions(schemaA, draft.ak)
  const optionsB = userOptions(schemaB, draft.bk)

  const importCsv = async () => {
    setFileError('')
    try {
      const text = await bridge().OpenTextFile('Import a user map', '*.csv')
      if (!text) return // the dialog was cancelled
      setPreview(parseUserCsv(text))
    } catch (e) {
      if (errorKind(e) !== 'canceled') setFileError(`The file could not be read: ${errorMessage(e)}`)
    }
  }

  const applyPreview = () => {
    if (!preview) return
    onChange({ ...value, entries: preview.entries, matchBy: preview.matchBy || value.matchBy })
    setPreview(null)
  }

  const addEntry = () => {
    const a = makeRef(draft.ak, draft.a)
    const b = makeRef(draft.bk, draft.b)
    if (!a || !b) return
    onChange({ ...value, entries: [...entries, { a, b }] })
    setDraft({ ...draft, a: '', b: '' })
  }

  return (
    <div className="user-map">
      <div className="row row-labelled">
        <label>
          Match people by
          <SelectCell path="users.matchBy" label="Match people by" value={value.matchBy || 'auto'} options={matchOptions} onChange={(matchBy) => onChange({ ...value, matchBy })} />
        </label>
        <label>
          When someone is not in the map
          <SelectCell path="users.onMissing" label="When someone is not in the map" value={value.onMissing ?? ''} options={onMissingOptions} onChange={(onMissing) => onChange({ ...value, onMissing: onMissing || undefined })} />
        </label>
        <DefaultRef path="users.defaultA" side="A" schema={schemaA} value={value.defaultA} onChange={(defaultA) => onChange({ ...value, defaultA })} />
        <DefaultRef path="users.defaultB" side="B" schema={schemaB} value={value.defaultB} onChange={(defaultB) => onChange({ ...value, defaultB })} />
      </div>
      <SectionIssue path="users" />
      <SectionIssue path="users.entries" />

      {!readOnly && (
        <div className="toolbar">
          <Button onClick={importCsv}>Import CSV…</Button>
          {entries.length > 0 && (
            <Button variant="ghost" onClick={() => onChange({ ...value, entries: [] })}>
              Remove all entries
            </Button>
          )}
          <span className="muted small">Header a,b (two emails) or some of a_id, a_email, a_name, b_id, b_email, b_name.</span>
        </div>
      )}
      {fileError && <Alert kind="error">{fileError}</Alert>}
      {preview && <CsvPreview result={preview} replacing={entries.length} onApply={applyPreview} onCancel={() => setPreview(null)} />}

      {entries.length === 0 ? (
        <p className="muted">No one is mapped. People are matched as chosen above; import a CSV when accounts differ between the systems.</p>
      ) : (
        <div className="table-wrap">
          <table className="table compact">
            <caption className="sr-only">User map entries</caption>
            <thead>
              <tr>
                <th scope="col">Person in A</th>
                <th scope="col">Person in B</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {entries.slice(0, shownEntries).map((e: UserEntry, i) => (
                <tr key={i}>
                  <td>{refText(e.a)}</td>
                  <td>{refText(e.b)}</td>
                  <td className="actions">
                    <Button variant="ghost" aria-label={`Remove user entry ${i + 1}`} onClick={() => onChange({ ...value, entries: removeAt(entries, i) })}>
                      Remove
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {entries.length > shownEntries && <p className="muted small">and {entries.length - shownEntries} more (export the process to see them all)</p>}
        </div>
      )}

      {!readOnly && (
        <div className="row add-entry" role="group" aria-label="Add a user entry">
          <select aria-label="New entry: kind in A" value={draft.ak} onChange={(e) => setDraft({ ...draft, ak: e.target.value as RefKind })}>
            {refKinds.map((k) => (
              <option key={k.value} value={k.value}>
                {k.label}
              </option>
            ))}
          </select>
          <input
            aria-label="New entry: person in A"
            placeholder="Person in A"
            value={draft.a}
            list={optionsA.length > 0 ? 'users-new-a-options' : undefined}
            onChange={(e) => setDraft({ ...draft, a: e.target.value })}
          />
          <UserList id="users-new-a-options" options={optionsA} />
          <span className="pair-arrow" aria-hidden="true">
            ↔
          </span>
          <select aria-label="New entry: kind in B" value={draft.bk} onChange={(e) => setDraft({ ...draft, bk: e.target.value as RefKind })}>
            {refKinds.map((k) => (
              <option key={k.value} value={k.value}>
                {k.label}
              </option>
            ))}
          </select>
          <input
            aria-label="New entry: person in B"
            placeholder="Person in B"
            value={draft.b}
            list={optionsB.length > 0 ? 'users-new-b-options' : undefined}
            onChange={(e) => setDraft({ ...draft, b: e.target.value })}
          />
          <UserList id="users-new-b-options" options={optionsB} />
          <Button onClick={addEntry} disabled={!draft.a.trim() || !draft.b.trim()}>
            Add entry
          </Button>
        </div>
      )}
    </div>
  )
}

function DefaultRef({ path, side, schema, value, onChange }: { path: string; side: string; schema: SideSchema; value?: UserRef; onChange: (r?: UserRef) => void }) {
  const kind = refKindOf(value)
  return (
    <label>
      Default person in {side}
      <span className="row tight">
        <SelectCell path={`${path}.kind`} label={`Default person in ${side}: kind`} className="cell-narrow" value={kind} options={refKinds} onChange={(k) => onChange(makeRef(k, refValue(value)))} />
        <TextCell path={path} label={`Default person in ${side}`} placeholder="none" value={refValue(value)} onChange={(v) => onChange(makeRef(kind, v))} options={userOptions(schema, kind)} />
      </span>
    </label>
  )
}

function CsvPreview({ result, replacing, onApply, onCancel }: { result: UserCsvResult; replacing: number; onApply: () => void; onCancel: () => void }) {
  const n = result.entries.length
  return (
    <section className="csv-preview" aria-label="CSV import">
      {result.errors.length > 0 && (
        <Alert kind="warning" title={`${result.errors.length} ${result.errors.length === 1 ? 'line' : 'lines'} of the file could not be read`}>
          <ul className="line-errors">
            {result.errors.slice(0, 50).map((e, i) => (
              <li key={i}>
                Line {e.line}: {e.message}
              </li>
            ))}
          </ul>
          {result.errors.length > 50 && <p>and {result.errors.length - 50} more.</p>}
          <p>Fix the file and import it again, or use only the lines that were read.</p>
        </Alert>
      )}
      <p>
        {n} {n === 1 ? 'entry' : 'entries'} read{result.matchBy === 'email' ? ' (matched by email)' : ''}.
        {replacing > 0 && ` They replace the ${replacing} current entries.`} Nothing changes on the agent until you save the process.
      </p>
      <div className="toolbar">
        <Button variant="primary" onClick={onApply} disabled={n === 0}>
          Use {n} {n === 1 ? 'entry' : 'entries'}
        </Button>
        <Button onClick={onCancel}>Cancel</Button>
      </div>
    </section>
  )
}
