import { useState, type FormEvent } from 'react'
import { call, errorMessage } from '../../api/bridge'
import type { AuditListParams, AuditRecord, AuditVerifyResult } from '../../api/generated/types'
import { Alert, Badge, Button, DateTime, Field, Loading, Page, Table, EmptyState } from '../../ui'
import { changeLines } from './change'
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

type Filter = { actor: string; action: string; since: string; until: string }

const empty: Filter = { actor: '', action: '', since: '', until: '' }

function params(f: Filter, cursor = ''): AuditListParams {
  return {
    ...(f.actor ? { actor: f.actor } : {}),
    ...(f.action ? { action: f.action } : {}),
    ...(f.since ? { since: new Date(f.since).toISOString() } : {}),
    ...(f.until ? { until: new Date(f.until).toISOString() } : {}),
    ...(cursor ? { cursor } : {}),
    limit: 100,
  }
}

// AuditPage reads the hash-chained audit trail, newest first, and verifies the chain.
export function AuditPage() {
  const [form, setForm] = useState<Filter>(empty)
  const [applied, setApplied] = useState<Filter>(empty)
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
    if (JSON.stringify(form) === JSON.stringify(applied)) void paged.reload()
    else setApplied(form)
  }

  return (
    <Page
      title="Audit"
      subtitle="Every login and configuration change, in a hash-chained log that cannot be altered unnoticed."
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
        <Field label="From">
          <input type="datetime-local" value={form.since} onChange={(e) => setForm({ ...form, since: e.target.value })} />
        </Field>
        <Field label="To">
          <input type="datetime-local" value={form.until} onChange={(e) => setForm({ ...form, until: e.target.value })} />
        </Field>
        <Button type="submit" variant="primary" busy={paged.loading && records !== null}>
          Apply
        </Button>
        <Button
          onClick={() => {
            setForm(empty)
            setApplied(empty)
          }}
        >
          Reset
        </Button>
      </form>
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
            { key: 'diff', header: 'Change', className: 'audit-change-cell', render: (r) => <Change diff={r.diff} names={nameMap} /> },
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
      <Badge tone={record.result === 'ok' || record.result === 'success' ? 'good' : 'bad'}>{record.result}</Badge>
    </div>
  )
}

// Change lists a record's changed fields, one a line: field: old → new.
function Change({ diff, names }: { diff: unknown; names: Names }) {
  const lines = changeLines(diff).map((l) => ({ ...l, before: withNames(l.before, names), after: withNames(l.after, names) }))
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
