import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react'
import type { Issue } from '../../api/issues'
import { Alert, Button, Field } from '../../ui'
import { SecretInput, type SecretChange } from './SecretInput'
import type { Kind, KindField, System } from '../../api/generated/types'

export type SystemPayload = {
  name: string
  url: string
  settings: Record<string, unknown>
  // secrets holds only what changes: a new value, or "" to clear.
  secrets: Record<string, string>
}

// fieldsOf is a kind's fields (none when the agent sends null).
function fieldsOf(kind: Kind): KindField[] {
  return kind.fields ?? []
}

function isSecret(f: KindField) {
  return f.secret || f.type === 'secret'
}

function initialValue(f: KindField, sys?: System): unknown {
  const v = sys?.settings?.[f.name]
  if (v !== undefined && v !== null) return v
  if (f.default !== undefined && f.default !== null) return f.default
  if (f.type === 'bool') return false
  if (f.type === 'select') return f.options?.[0] ?? ''
  return ''
}

// validate returns an error per field name; empty when the form can be sent.
export function validate(kind: Kind, name: string, url: string, values: Record<string, unknown>, secrets: Record<string, SecretChange>, sys?: System): Record<string, string> {
  const errs: Record<string, string> = {}
  if (!name.trim()) errs.$name = 'A name is required.'
  if (!url.trim()) errs.$url = 'The system’s address is required.'
  else if (!/^https?:\/\//i.test(url.trim())) errs.$url = 'Use a full address starting with https:// (or http:// for a local test system).'
  for (const f of fieldsOf(kind)) {
    if (isSecret(f)) {
      const c = secrets[f.name] ?? { mode: 'keep' }
      const has = c.mode === 'replace' ? c.value !== '' : c.mode === 'keep' && !!sys?.secrets?.[f.name]?.set
      if (f.required && !has) errs[f.name] = `${f.label} is required.`
      continue
    }
    const v = values[f.name]
    if (f.required && f.type !== 'bool' && (v === '' || v === undefined || v === null)) errs[f.name] = `${f.label} is required.`
    if (f.type === 'int' && v !== '' && v !== undefined && !Number.isInteger(Number(v))) errs[f.name] = `${f.label} must be a whole number.`
    if (f.type === 'url' && typeof v === 'string' && v && !/^https?:\/\//i.test(v)) errs[f.name] = `${f.label} must start with https://.`
  }
  return errs
}

// formKey is where the form shows an agent's issue: the agent names the
// name and URL as they are and each setting or secret under its group
// (settings.project, secrets.token); the form keys its own checks the same
// way. Other fields (kind, id) have no control: '' leaves them to the alert.
export function formKey(kind: Kind, field: string): string {
  if (field === 'name' || field === 'url') return `$${field}`
  const m = /^(?:settings|secrets)\.(.+)$/.exec(field)
  return m && fieldsOf(kind).some((f) => f.name === m[1]) ? m[1] : ''
}

const controlId = (key: string) => `system-field-${key.replace(/[^\w-]/g, '_')}`

// SystemForm is generated from a kind's schema: one control per field, by
// type, with secrets write-only. The agent's field errors (issues) are shown
// at their fields, and the focus moves to the first of them.
export function SystemForm({ kind, system, busy, error, issues = [], onSubmit, onCancel, notice, submitLabel }: {
  kind: Kind
  system?: System
  busy?: boolean
  error?: string
  issues?: Issue[]
  onSubmit: (p: SystemPayload) => void
  onCancel: () => void
  // notice is shown above the buttons (a failed connection test).
  notice?: ReactNode
  // submitLabel names the submit button (default: create or save).
  submitLabel?: string
}) {
  const [name, setName] = useState(system?.name ?? '')
  const [url, setUrl] = useState(system?.url ?? '')
  const [values, setValues] = useState<Record<string, unknown>>(() => Object.fromEntries(fieldsOf(kind).filter((f) => !isSecret(f)).map((f) => [f.name, initialValue(f, system)])))
  const [secrets, setSecrets] = useState<Record<string, SecretChange>>({})
  const [touched, setTouched] = useState(false)
  const errs = validate(kind, name, url, values, secrets, system)
  const agent: Record<string, string> = {}
  const unplaced: Issue[] = []
  for (const i of issues) {
    const k = formKey(kind, i.field)
    if (!k) unplaced.push(i)
    else agent[k] = agent[k] ? `${agent[k]}; ${i.message}` : i.message
  }
  // The form's own checks come first: they reflect what is typed now.
  const shown: Record<string, string> = { ...agent, ...(touched ? errs : {}) }
  const alertRef = useRef<HTMLDivElement>(null)

  useEffect(() => {
    if (issues.length === 0) return
    for (const i of issues) {
      const k = formKey(kind, i.field)
      const el = k ? document.getElementById(controlId(k)) : null
      if (el) {
        el.focus()
        return
      }
    }
    alertRef.current?.focus()
  }, [issues, kind])

  function submit(e: FormEvent) {
    e.preventDefault()
    setTouched(true)
    if (Object.keys(errs).length) return
    const settings: Record<string, unknown> = {}
    for (const f of fieldsOf(kind)) {
      if (isSecret(f)) continue
      const v = values[f.name]
      if (f.type === 'int') settings[f.name] = v === '' || v === undefined ? 0 : Number(v)
      else settings[f.name] = v
    }
    const out: Record<string, string> = {}
    for (const [k, c] of Object.entries(secrets)) {
      if (c.mode === 'replace' && c.value !== '') out[k] = c.value
      if (c.mode === 'clear') out[k] = ''
    }
    onSubmit({ name: name.trim(), url: url.trim(), settings, secrets: out })
  }

  const set = (k: string, v: unknown) => setValues((s) => ({ ...s, [k]: v }))

  return (
    <form className="form" onSubmit={submit} noValidate aria-label={`${kind.title} system`}>
      <Field label="Name" required error={shown.$name} help="How this system appears in processes and logs.">
        <input id={controlId('$name')} value={name} onChange={(e) => setName(e.target.value)} data-autofocus />
      </Field>
      <Field label="URL" required error={shown.$url} help={kind.urlHelp || "The base address of the system's web interface or API."}>
        <input id={controlId('$url')} value={url} onChange={(e) => setUrl(e.target.value)} inputMode="url" placeholder="https://" />
      </Field>
      {fieldsOf(kind).map((f) =>
        isSecret(f) ? (
          <SecretInput
            key={f.name}
            inputId={controlId(f.name)}
            label={f.label}
            help={f.help}
            required={f.required}
            isSet={!!system?.secrets?.[f.name]?.set}
            change={secrets[f.name] ?? { mode: 'keep' }}
            onChange={(c) => setSecrets((s) => ({ ...s, [f.name]: c }))}
            error={shown[f.name]}
          />
        ) : (
          <Field key={f.name} label={f.label} required={f.required} help={f.help} error={shown[f.name]} inline={f.type === 'bool'}>
            {control(f, controlId(f.name), values[f.name], (v) => set(f.name, v))}
          </Field>
        ),
      )}
      {error && (
        <div ref={alertRef} tabIndex={-1}>
          <Alert kind="error" title="The agent refused the system">
            {issues.length === 0 ? (
              error
            ) : (
              <>
                {unplaced.length > 0 && (
                  <ul>
                    {unplaced.map((i, n) => (
                      <li key={n}>
                        <code>{i.field}</code> {i.message}
                      </li>
                    ))}
                  </ul>
                )}
                {unplaced.length < issues.length && 'Fix the marked fields and save again.'}
              </>
            )}
          </Alert>
        </div>
      )}
      {notice}
      <div className="form-actions">
        <Button type="submit" variant="primary" busy={busy}>
          {submitLabel ?? (system ? 'Save changes' : 'Create system')}
        </Button>
        <Button onClick={onCancel}>Cancel</Button>
      </div>
    </form>
  )
}

function control(f: KindField, id: string, v: unknown, set: (v: unknown) => void) {
  switch (f.type) {
    case 'bool':
      return <input id={id} type="checkbox" checked={!!v} onChange={(e) => set(e.target.checked)} />
    case 'int':
      return <input id={id} type="number" step={1} value={v === undefined || v === null ? '' : String(v)} onChange={(e) => set(e.target.value)} />
    case 'select':
      return (
        <select id={id} value={String(v ?? '')} onChange={(e) => set(e.target.value)}>
          {!f.required && <option value="">—</option>}
          {(f.options ?? []).map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      )
    case 'url':
      return <input id={id} type="url" value={String(v ?? '')} onChange={(e) => set(e.target.value)} placeholder="https://" />
    case 'duration':
      return <input id={id} value={String(v ?? '')} onChange={(e) => set(e.target.value)} placeholder="e.g. 30s, 5m, 1h" />
    default:
      return <input id={id} value={String(v ?? '')} onChange={(e) => set(e.target.value)} />
  }
}
