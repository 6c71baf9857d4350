import { useEffect, useState } from 'react'
import { call, errorMessage } from '../../api/bridge'
import { useCall } from '../../state/async'
import { Alert, Button, Field, Loading, Page, formatDate, useNotify } from '../../ui'

type Settings = { origins: string[] | null; logLevel: string; logRetentionDays: number; supportRetentionHours: number; publicUrl: string }
type Telemetry = { enabled: boolean; endpoint: string; lastAttemptAt?: string; lastSentAt?: string; lastError?: string }

// SettingsPage edits the agent's runtime settings and the opt-in telemetry,
// showing the exact body telemetry would send.
export function SettingsPage() {
  return (
    <Page title="Settings" subtitle="Changes apply at once and are recorded in the audit log.">
      <AgentSettings />
      <TelemetrySettings />
    </Page>
  )
}

function AgentSettings() {
  const notify = useNotify()
  const current = useCall<{ settings: Settings }>('settings.get')
  const [form, setForm] = useState<{ origins: string; logLevel: string; logRetentionDays: string; supportRetentionHours: string; publicUrl: string } | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')

  useEffect(() => {
    const s = current.data?.settings
    if (s) setForm({ origins: (s.origins ?? []).join('\n'), logLevel: s.logLevel, logRetentionDays: String(s.logRetentionDays), supportRetentionHours: String(s.supportRetentionHours), publicUrl: s.publicUrl })
  }, [current.data])

  if (current.error) return <Alert kind="error" title="Could not read the settings">{errorMessage(current.error)}</Alert>
  if (!form || !current.data) return <Loading />
  const s = current.data.settings

  async function save() {
    if (!form) return
    const origins = form.origins.split('\n').map((o) => o.trim()).filter(Boolean)
    const p: Record<string, unknown> = {}
    if (origins.join('\n') !== (s.origins ?? []).join('\n')) p.origins = origins
    if (form.logLevel !== s.logLevel) p.logLevel = form.logLevel
    if (Number(form.logRetentionDays) !== s.logRetentionDays) p.logRetentionDays = Number(form.logRetentionDays)
    if (Number(form.supportRetentionHours) !== s.supportRetentionHours) p.supportRetentionHours = Number(form.supportRetentionHours)
    if (form.publicUrl.trim() !== s.publicUrl) p.publicUrl = form.publicUrl.trim()
    if (!Object.keys(p).length) {
      notify('info', 'Nothing changed')
      return
    }
    setBusy(true)
    setError('')
    try {
      current.setData(await call<{ settings: Settings }>('settings.set', p))
      notify('success', 'Settings saved')
    } catch (e) {
      setError(errorMessage(e))
    } finally {
      setBusy(false)
    }
  }

  const set = (k: keyof typeof form, v: string) => setForm({ ...form, [k]: v })
  return (
    <section className="card" aria-labelledby="agent-settings">
      <h2 id="agent-settings">Agent</h2>
      <div className="form">
        <Field label="Log level" help="Debug and trace are verbose; use them while investigating a problem.">
          <select value={form.logLevel} onChange={(e) => set('logLevel', e.target.value)}>
            {['trace', 'debug', 'info', 'warn', 'error'].map((l) => (
              <option key={l}>{l}</option>
            ))}
          </select>
        </Field>
        <Field label="Keep log files for (days)">
          <input type="number" min={1} value={form.logRetentionDays} onChange={(e) => set('logRetentionDays', e.target.value)} />
        </Field>
        <Field label="Keep support packages for (hours)">
          <input type="number" min={1} value={form.supportRetentionHours} onChange={(e) => set('supportRetentionHours', e.target.value)} />
        </Field>
        <Field label="Public URL" help="How work systems reach this agent for webhooks, e.g. https://sync.example.com:7443. Empty: polling only.">
          <input value={form.publicUrl} onChange={(e) => set('publicUrl', e.target.value)} placeholder="https://" />
        </Field>
        <Field label="Allowed browser origins" help="One per line. Only needed for browser-based clients; the desktop app is always allowed.">
          <textarea rows={3} value={form.origins} onChange={(e) => set('origins', e.target.value)} />
        </Field>
        {error && (
          <Alert kind="error" title="Settings not saved">
            {error}
          </Alert>
        )}
        <div className="form-actions">
          <Button variant="primary" busy={busy} onClick={save}>
            Save settings
          </Button>
        </div>
      </div>
    </section>
  )
}

function TelemetrySettings() {
  const notify = useNotify()
  const current = useCall<Telemetry>('telemetry.get')
  const preview = useCall<{ body: string }>('telemetry.preview')
  const [enabled, setEnabled] = useState(false)
  const [endpoint, setEndpoint] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')

  useEffect(() => {
    if (current.data) {
      setEnabled(current.data.enabled)
      setEndpoint(current.data.endpoint)
    }
  }, [current.data])

  async function save() {
    setBusy(true)
    setError('')
    try {
      current.setData(await call<Telemetry>('telemetry.set', { enabled, endpoint: endpoint.trim() }))
      notify('success', enabled ? 'Telemetry turned on' : 'Telemetry turned off')
    } catch (e) {
      setError(errorMessage(e))
    } finally {
      setBusy(false)
    }
  }

  return (
    <section className="card" aria-labelledby="telemetry">
      <h2 id="telemetry">Telemetry</h2>
      {current.error ? (
        <Alert kind="error">{errorMessage(current.error)}</Alert>
      ) : !current.data ? (
        <Loading />
      ) : (
        <div className="form">
          <p className="muted">Off unless you turn it on. When on, the agent sends only the three facts below: its version, its instance id, and whether the users exceed the license.</p>
          <Field label="Send telemetry" inline>
            <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
          </Field>
          <Field label="Endpoint" help="Where the body is posted.">
            <input value={endpoint} onChange={(e) => setEndpoint(e.target.value)} placeholder="https://" />
          </Field>
          <div>
            <div className="field-label">Exactly what would be sent</div>
            {preview.error ? <Alert kind="error">{errorMessage(preview.error)}</Alert> : <pre className="preview" data-testid="telemetry-preview">{preview.data?.body ?? '…'}</pre>}
          </div>
          <dl className="kv">
            <dt>Last sent</dt>
            <dd>{formatDate(current.data.lastSentAt)}</dd>
            {current.data.lastError && (
              <>
                <dt>Last error</dt>
                <dd>{current.data.lastError}</dd>
              </>
            )}
          </dl>
          {error && (
            <Alert kind="error" title="Telemetry not changed">
              {error}
            </Alert>
          )}
          <div className="form-actions">
            <Button variant="primary" busy={busy} onClick={save}>
              Save telemetry
            </Button>
          </div>
        </div>
      )}
    </section>
  )
}
