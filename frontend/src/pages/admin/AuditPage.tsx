import { useState, type FormEvent } from 'react'
import { call, errorMessage } from '../../api/bridge'
import type { AuditListParams, AuditRecord, AuditVerifyResult } from '../../api/generated/types'
import { Alert, Badge, Button, DateTime, Field, Loading, Page, Table, EmptyState, dateFormatHint, formatDate, parseDate } from '../../ui'
import { changeLines } from './change'
import { sessionEnd } from './sessionEnd'
import { useAsync, usePaged } from '../../state'
import { listProcesses, listSystems } from '../sync/api'

type Names = Map<string, string>

// targetText reads a record's target ("system:<id> (<name>)") as the kind
// and the name, the id only as a secondary detail.
function Target({ target, names }: { target: string; names: Names }) {
  const m = /^([a-z]+):(\S+)(?: \((.*)\))?$/.exec(target)
  if (!m) return <>{target}</>
  const [, kind, id, named] = m
  const name = named || names.get(id)
  if (!name) {
    // Nothing named (a support package, a deleted system): the kind in
    // words and the id as a detail.
    return (
      <span>
        {kind} <span className="muted small mono">{id}</span>
      </span>
    )
  }
  return (
    <span>
      {kind} <strong>{name}</strong> <span className="muted small mono">{id}</span>
    </span>
  )
}

// withNames puts names in place of the ids of systems and processes in a
// changed value ({project: HELP, system: Helpdesk}).
function withNames(text: string | undefined, names: Names): string | undefined {
  if (!text || names.size === 0) return text
  return text.replace(/\b[0-9a-f]{16}\b/g, (id) => names.get(id) ?? id)
}

// The From and To filters are typed as the app shows a moment
// (2027-01-05 05:46:23, local time), not in a browser's date input, which
// shows the browser's locale (01/05/2027) beside the app's one format.
type Filter = { actor: string; action: string; since: string; until: string }
type Problems = { since?: string; until?: string }

const empty: Filter = { actor: '', action: '', since: '', until: '' }

// moments reads the From and To filters: From from the first moment of what
// it names, To to the last (To 2027-01-05 takes in that whole day). What
// cannot be read, or a To before its From, is a problem named at its field.
function moments(f: Filter): { since?: Date; until?: Date; problems: Problems } {
  const out: { since?: Date; until?: Date; problems: Problems } = { problems: {} }
  if (f.since.trim()) {
    const r = parseDate(f.since)
    if (r.ok) out.since = r.date
    else out.problems.since = r.error
  }
  if (f.until.trim()) {
    const r = parseDate(f.until, { end: true })
    if (r.ok) out.until = r.date
    else out.problems.until = r.error
  }
  if (out.since && out.until && out.until < out.since) out.problems.until = `To is before From (${formatDate(out.since.toISOString())}): no record could match.`
  return out
}

function params(f: Filter, cursor = ''): AuditListParams {
  const { since, until } = moments(f)
  return {
    ...(f.actor ? { actor: f.actor } : {}),
    ...(f.action ? { action: f.action } : {}),
    ...(since ? { since: since.toISOString() } : {}),
    ...(until ? { until: until.toISOString() } : {}),
    ...(cursor ? { cursor } : {}),
    limit: 100,
  }
}

// AuditPage reads the hash-chained audit trail, newest first, and verifies the chain.
export function AuditPage() {
  const [form, setForm] = useState<Filter>(empty)
  const [applied, setApplied] = useState<Filter>(empty)
  const [problems, setProblems] = useState<Problems>({})
  const [busy, setBusy] = useState('')
  const [verifyError, setVerifyError] = useState('')
  const [verify, setVerify] = useState<AuditVerifyResult | null>(null)
  // Only the answer to the latest filter (or page) is shown (state/latest.ts).
  const paged = usePaged(async (f: Filter, cursor: string) => {
    const r = await call('audit.list', params(f, cursor))
    return { items: r.records ?? [], cursor: r.cursor }
  }, applied)
  const records = paged.items ?? null
  const { cursor } = paged
  const error = paged.error ? errorMessage(paged.error) : verifyError
  const names = useAsync(async () => {
    const [ss, ps] = await Promise.all([listSystems().catch(() => []), listProcesses().catch(() => [])])
    return new Map<string, string>([...ss.map((s): [string, string] => [s.id, s.name]), ...ps.map((p): [string, string] => [p.process.id, p.process.name])])
  }, [])
  const nameMap = names.data ?? new Map<string, string>()

  async function runVerify() {
    setBusy('verify')
    try {
      setVerifyError('')
      setVerify(await call('audit.verify'))
    } catch (e) {
      setVerifyError(errorMessage(e))
    } finally {
      setBusy('')
    }
  }

  function submit(e: FormEvent) {
    e.preventDefault()
    // A filter that cannot be read is not applied: the list stays as it was.
    const found = moments(form).problems
    setProblems(found)
    if (found.since || found.until) return
    if (JSON.stringify(form) === JSON.stringify(applied)) void paged.reload()
    else setApplied(form)
  }
  // Editing a moment takes its problem away until the next Apply.
  const setMoment = (k: 'since' | 'until', v: string) => {
    setForm({ ...form, [k]: v })
    setProblems((p) => ({ ...p, [k]: undefined, ...(k === 'since' ? { until: undefined } : {}) }))
  }

  return (
    <Page
      title="Audit"
      subtitle="Every login, how each session ended, and every configuration change, in a hash-chained log that cannot be altered unnoticed."
      actions={
        <Button onClick={runVerify} busy={busy === 'verify'}>
          Verify chain
        </Button>
      }
    >
      {verify &&
        (verify.ok ? (
          <Alert kind="success" title="The audit chain is intact">
            {verify.records.toLocaleString()} records checked.
          </Alert>
        ) : (
          <Alert kind="error" title="The audit chain is broken">
            {verify.brokenAt !== undefined && <>At record {verify.brokenAt}. </>}
            {verify.problem} Keep a copy of the data directory and contact support: the log was changed outside Lockstep.
          </Alert>
        ))}
      <form className="filters" onSubmit={submit} role="search" aria-label="Audit filters">
        <Field label="Actor">
          <input value={form.actor} onChange={(e) => setForm({ ...form, actor: e.target.value })} placeholder="username" className="filter-short" />
        </Field>
        <Field label="Action">
          <input value={form.action} onChange={(e) => setForm({ ...form, action: e.target.value })} placeholder="systems.update" className="filter-method" />
        </Field>
        <MomentField label="From" value={form.since} error={problems.since} onChange={(v) => setMoment('since', v)} />
        <MomentField label="To" value={form.until} error={problems.until} onChange={(v) => setMoment('until', v)} />
        <Button type="submit" variant="primary" busy={paged.loading && records !== null}>
          Apply
        </Button>
        <Button
          onClick={() => {
            setForm(empty)
            setApplied(empty)
            setProblems({})
          }}
        >
          Reset
        </Button>
      </form>
      <span id="audit-date-form" className="sr-only">
        Year first, as the table shows a time: 2027-01-05 05:46:23. The time, or its seconds, may be left out.
      </span>
      {error && (
        <Alert kind="error" title="Could not read the audit log">
          {error}
        </Alert>
      )}
      {records === null ? (
        <Loading />
      ) : (
        <Table
          rows={records}
          rowKey={(r) => r.seq}
          empty={<EmptyState title="No audit records match">{JSON.stringify(applied) === JSON.stringify(empty) ? 'Nothing has been recorded yet.' : 'Widen the filters or reset them.'}</EmptyState>}
          columns={[
            { key: 'seq', header: '#', className: 'num' },
            { key: 'time', header: 'Time', render: (r) => <DateTime value={r.time} /> },
            { key: 'actor', header: 'Actor' },
            { key: 'action', header: 'Action', render: (r) => <Action record={r} /> },
            { key: 'target', header: 'Target', className: 'audit-target-cell', render: (r) => <Target target={r.target} names={nameMap} /> },
            { key: 'diff', header: 'Change', className: 'audit-change-cell', render: (r) => <Change record={r} names={nameMap} /> },
          ]}
        />
      )}
      {cursor && (
        <div>
          <Button onClick={() => void paged.more()} busy={paged.loadingMore} disabled={paged.loading}>
            Load older records
          </Button>
        </div>
      )}
    </Page>
  )
}

// MomentField is the From or To filter: a moment typed as the app shows
// one, described by the hint after the form.
function MomentField({ label, value, error, onChange }: { label: string; value: string; error?: string; onChange: (v: string) => void }) {
  return (
    <Field label={label} error={error}>
      <input
        type="text"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        placeholder={dateFormatHint}
        className="filter-date"
        autoComplete="off"
        spellCheck={false}
        aria-describedby="audit-date-form"
      />
    </Field>
  )
}

// Action is a record's method (processes.activate) and its result. The
// name may break only after a dot, never inside a word, so the column stays
// narrow enough for the table to fit a small window.
function Action({ record }: { record: AuditRecord }) {
  const parts = record.action.split('.')
  return (
    <div className="audit-action-cell">
      <span className="mono audit-action">
        {parts.map((p, i) => (i < parts.length - 1 ? [`${p}.`, <wbr key={i} />] : p))}
      </span>
      <Badge tone={resultTone(record)}>{record.result}</Badge>
    </div>
  )
}

// resultTone colours a record's result: a session that timed out, expired
// or was evicted ended as sessions do, which is no failure.
function resultTone(r: AuditRecord): 'good' | 'bad' | 'neutral' {
  if (r.result === 'ok' || r.result === 'success') return 'good'
  return r.action === 'session.end' ? 'neutral' : 'bad'
}

// Change lists a record's changed fields, one a line: field: old → new; a
// session's end is told in words instead, with its moments.
function Change({ record, names }: { record: AuditRecord; names: Names }) {
  const ended = sessionEnd(record)
  if (ended) {
    return (
      <div className="audit-session-end">
        <p>{ended.summary}</p>
        <ul className="audit-change">
          {ended.session && (
            <li>
              <span className="audit-field">Session:</span> <span className="mono">{ended.session}</span>
            </li>
          )}
          {ended.loggedInAt && (
            <li>
              <span className="audit-field">Logged in:</span> <DateTime value={ended.loggedInAt} />
            </li>
          )}
          {ended.lastUsedAt && (
            <li>
              <span className="audit-field">Last call:</span> <DateTime value={ended.lastUsedAt} />
            </li>
          )}
          {ended.endedAt && (
            <li>
              <span className="audit-field">Ended:</span> <DateTime value={ended.endedAt} />
            </li>
          )}
        </ul>
      </div>
    )
  }
  const lines = changeLines(record.diff).map((l) => ({ ...l, before: withNames(l.before, names), after: withNames(l.after, names) }))
  if (lines.length === 0) return null
  return (
    <ul className="audit-change">
      {lines.map((l, i) => (
        <li key={i}>
          {l.field && <span className="audit-field">{l.field}:</span>}{' '}
          {l.before !== undefined && (
            <>
              <span className="audit-before">{l.before}</span> <span aria-label="changed to">→</span>{' '}
            </>
          )}
          {l.after !== undefined ? <span className="audit-after">{l.after}</span> : l.before !== undefined && <span className="muted">(removed)</span>}
        </li>
      ))}
    </ul>
  )
}
