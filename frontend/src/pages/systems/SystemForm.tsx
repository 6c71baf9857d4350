import { useState, type FormEvent } from 'react'
import { Alert, Button, Field } from '../../ui'
import { SecretInput, type SecretChange } from './SecretInput'
import type { Kind, KindField, System } from './types'

export type SystemPayload = {
  name: string
  url: string
  settings: Record<string, unknown>
  // secrets holds only what changes: a new value, or "" to clear.
  secrets: Record<string, string>
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
  for (const f of kind.fields) {
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

// SystemForm is generated from a kind's schema: one control per field, by
// type, with secrets write-only.
export function SystemForm({ kind, system, busy, error, onSubmit, onCancel }: {
  kind: Kind
  system?: System
  busy?: boolean
  error?: string
  onSubmit: (p: SystemPayload) => void
  onCancel: () => void
}) {
  const [name, setName] = useState(system?.name ?? '')
  const [url, setUrl] = useState(system?.url ?? '')
  const [values, setValues] = useState<Record<string, unknown>>(() => Object.fromEntries(kind.fields.filter((f) => !isSecret(f)).map((f) => [f.name, initialValue(f, system)])))
  const [secrets, setSecrets] = useState<Record<string, SecretChange>>({})
  const [touched, setTouched] = useState(false)
  const errs = validate(kind, name, url, values, secrets, system)
  const shown = touched ? errs : {}

  function submit(e: FormEvent) {
    e.preventDefault()
    setTouched(true)
    if (Object.keys(errs).length) return
    const settings: Record<string, unknown> = {}
    for (const f of kind.fields) {
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
        <input value={name} onChange={(e) => setName(e.target.value)} data-autofocus />
      </Field>
      <Field label="URL" required error={shown.$url} help="The base address of the system's web interface or API.">
        <input value={url} onChange={(e) => setUrl(e.target.value)} inputMode="url" placeholder="https://" />
      </Field>
      {kind.fields.map((f) =>
        isSecret(f) ? (
          <SecretInput
            key={f.name}
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
            {control(f, values[f.name], (v) => set(f.name, v))}
          </Field>
        ),
      )}
      {error && (
        <Alert kind="error" title="The agent refused the system">
          {error}
        </Alert>
      )}
      <div className="form-actions">
        <Button type="submit" variant="primary" busy={busy}>
          {system ? 'Save changes' : 'Create system'}
        </Button>
        <Button onClick={onCancel}>Cancel</Button>
      </div>
    </form>
  )
}

function control(f: KindField, v: unknown, set: (v: unknown) => void) {
  switch (f.type) {
    case 'bool':
      return <input type="checkbox" checked={!!v} onChange={(e) => set(e.target.checked)} />
    case 'int':
      return <input type="number" step={1} value={v === undefined || v === null ? '' : String(v)} onChange={(e) => set(e.target.value)} />
    case 'select':
      return (
        <select value={String(v ?? '')} onChange={(e) => set(e.target.value)}>
          {!f.required && <option value="">—</option>}
          {(f.options ?? []).map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      )
    case 'url':
      return <input type="url" value={String(v ?? '')} onChange={(e) => set(e.target.value)} placeholder="https://" />
    case 'duration':
      return <input value={String(v ?? '')} onChange={(e) => set(e.target.value)} placeholder="e.g. 30s, 5m, 1h" />
    default:
      return <input value={String(v ?? '')} onChange={(e) => set(e.target.value)} />
  }
}
