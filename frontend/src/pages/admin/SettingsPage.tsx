import { useEffect, useState } from 'react'
import { call, errorMessage } from '../../api/bridge'
import type { NotificationEmail, Notifications, NotificationTestOutcome, NotificationWebhook, SettingsSetParams } from '../../api/generated/types'
import { issuesOf, type Issue } from '../../api/issues'
import { useCall } from '../../state/async'
import { Alert, Button, Field, Loading, Page, formatDate, useNotify } from '../../ui'
import { SecretInput, type SecretChange } from '../systems/SecretInput'
import { metricsTokenProblem } from './metricsToken'

// SettingsPage edits the agent's runtime settings, its notifications to
// administrators and the opt-in telemetry, showing the exact body telemetry
// would send.
export function SettingsPage() {
  return (
    <Page title="Settings" subtitle="Changes apply at once and are recorded in the audit log.">
      <AgentSettings />
      <NotificationSettings />
      <TelemetrySettings />
    </Page>
  )
}

function AgentSettings() {
  const notify = useNotify()
  const current = useCall('settings.get')
  const [form, setForm] = useState<{ origins: string; logLevel: string; logRetentionDays: string; supportRetentionHours: string; runRetentionDays: string; runRetentionRuns: string; publicUrl: string } | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  // The metrics token is write-only: the agent says only whether one is
  // set; the form holds what the administrator typed, until saved.
  const [token, setToken] = useState<SecretChange>({ mode: 'keep' })
  const [tokenError, setTokenError] = useState('')

  useEffect(() => {
    const s = current.data?.settings
    if (s)
      setForm({
        origins: (s.origins ?? []).join('\n'),
        logLevel: s.logLevel,
        logRetentionDays: String(s.logRetentionDays),
        supportRetentionHours: String(s.supportRetentionHours),
        // Absent on agents older than the setting.
        runRetentionDays: String(s.runRetentionDays ?? ''),
        runRetentionRuns: String(s.runRetentionRuns ?? ''),
        publicUrl: s.publicUrl,
      })
  }, [current.data])

  if (current.error) return <Alert kind="error" title="Could not read the settings">{errorMessage(current.error)}</Alert>
  if (!form || !current.data) return <Loading />
  const s = current.data.settings

  async function save() {
    if (!form) return
    const origins = form.origins.split('\n').map((o) => o.trim()).filter(Boolean)
    const p: SettingsSetParams = {}
    if (origins.join('\n') !== (s.origins ?? []).join('\n')) p.origins = origins
    if (form.logLevel !== s.logLevel) p.logLevel = form.logLevel
    if (Number(form.logRetentionDays) !== s.logRetentionDays) p.logRetentionDays = Number(form.logRetentionDays)
    if (Number(form.supportRetentionHours) !== s.supportRetentionHours) p.supportRetentionHours = Number(form.supportRetentionHours)
    if (s.runRetentionDays !== undefined && Number(form.runRetentionDays) !== s.runRetentionDays) p.runRetentionDays = Number(form.runRetentionDays)
    if (s.runRetentionRuns !== undefined && Number(form.runRetentionRuns) !== s.runRetentionRuns) p.runRetentionRuns = Number(form.runRetentionRuns)
    if (form.publicUrl.trim() !== s.publicUrl) p.publicUrl = form.publicUrl.trim()
    if (token.mode === 'replace') {
      // Checked here as the agent checks it, so a typo is named at the
      // field before anything is sent.
      const problem = metricsTokenProblem(token.value)
      setTokenError(problem ?? '')
      if (problem) return
      p.metricsToken = token.value
    } else if (token.mode === 'clear') p.metricsToken = ''
    if (!Object.keys(p).length) {
      notify('info', 'Nothing changed')
      return
    }
    setBusy(true)
    setError('')
    setTokenError('')
    try {
      current.setData(await call('settings.set', p))
      setToken({ mode: 'keep' })
      notify('success', p.metricsToken === undefined ? 'Settings saved' : p.metricsToken ? 'Settings saved; the metrics token was set' : 'Settings saved; the metrics token was removed: /metrics answers 404')
    } catch (e) {
      const issue = issuesOf(e).find((i) => i.field === 'metricsToken')
      if (issue) setTokenError(issue.message)
      else setError(errorMessage(e))
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
        {s.runRetentionDays !== undefined && (
          <Field label="Keep sync runs for (days)" help="Older run records are deleted, so years of polling do not fill the store.">
            <input type="number" min={1} value={form.runRetentionDays} onChange={(e) => set('runRetentionDays', e.target.value)} />
          </Field>
        )}
        {s.runRetentionRuns !== undefined && (
          <Field label="Keep at most this many runs per process" help="The newest are kept; at least 500.">
            <input type="number" min={500} value={form.runRetentionRuns} onChange={(e) => set('runRetentionRuns', e.target.value)} />
          </Field>
        )}
        <Field label="Public URL" help="How work systems reach this agent for webhooks, e.g. https://sync.example.com:7443. Empty: polling only.">
          <input value={form.publicUrl} onChange={(e) => set('publicUrl', e.target.value)} placeholder="https://" />
        </Field>
        <Field label="Allowed browser origins" help="One per line. Only needed for browser-based clients; the desktop app is always allowed.">
          <textarea rows={3} value={form.origins} onChange={(e) => set('origins', e.target.value)} />
        </Field>
        {/* Absent on agents older than the setting. */}
        {s.metricsToken && (
          <SecretInput
            label="Metrics token"
            isSet={s.metricsToken.set}
            change={token}
            onChange={(c) => {
              setToken(c)
              setTokenError('')
            }}
            help="The bearer token Prometheus sends to GET /metrics on this agent's address: at least 16 characters, no spaces (e.g. the output of openssl rand -hex 32). Without one, /metrics answers 404. Stored encrypted; never shown again, so keep it where Prometheus reads it."
            error={tokenError || null}
          />
        )}
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
  const current = useCall('telemetry.get')
  const preview = useCall('telemetry.preview')
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
      current.setData(await call('telemetry.set', { enabled, endpoint: endpoint.trim() }))
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

// The agent's notification settings (notifications.get/set). Secrets are
// write-only: the agent answers passwordSet/urlSet, never the values.

const notifyEvents: { id: string; label: string }[] = [
  { id: 'parked', label: 'A pair is parked after a permanent error' },
  { id: 'failing', label: 'A process or system starts failing (and works again)' },
  { id: 'license', label: 'The license nears expiry, expires or has too many users' },
  { id: 'crash', label: 'The agent restarted after an unclean shutdown' },
]

// The form keeps typed secrets apart: empty means "keep what is stored".
type WebhookForm = NotificationWebhook & { key: string; newUrl: string }
type NotifyForm = {
  enabled: boolean
  events: string[]
  minInterval: string
  email: Omit<NotificationEmail, 'port' | 'to' | 'password'> & { port: string; to: string; newPassword: string; clearPassword: boolean }
  webhooks: WebhookForm[]
}

let webhookKeys = 0

function toForm(n: Notifications): NotifyForm {
  const e = n.email
  return {
    enabled: n.enabled,
    events: n.events ?? [],
    minInterval: String(n.minIntervalMinutes),
    email: { enabled: e.enabled, host: e.host, port: String(e.port || ''), security: e.security || 'starttls', allowSelfSigned: e.allowSelfSigned, username: e.username, passwordSet: e.passwordSet, from: e.from, to: (e.to ?? []).join(', '), newPassword: '', clearPassword: false },
    webhooks: (n.webhooks ?? []).map((w) => ({ ...w, key: `w${++webhookKeys}`, newUrl: '' })),
  }
}

// fromForm is what notifications.set gets: secrets only when typed (or a
// password cleared on purpose).
function fromForm(f: NotifyForm): Notifications {
  const e = f.email
  const email: NotificationEmail = { enabled: e.enabled, host: e.host.trim(), port: Number(e.port) || 0, security: e.security, allowSelfSigned: e.allowSelfSigned, username: e.username.trim(), from: e.from.trim(), to: e.to.split(/[\s,;]+/).filter(Boolean) }
  if (e.newPassword) email.password = e.newPassword
  else if (e.clearPassword) email.password = ''
  return {
    enabled: f.enabled,
    events: f.events,
    minIntervalMinutes: Number(f.minInterval) || 0,
    email,
    webhooks: f.webhooks.map((w) => {
      const out: NotificationWebhook = { name: w.name.trim(), format: w.format, enabled: w.enabled }
      if (w.id) out.id = w.id
      if (w.newUrl.trim()) out.url = w.newUrl.trim()
      return out
    }),
  }
}

function NotificationSettings() {
  const notify = useNotify()
  const current = useCall('notifications.get')
  const [form, setForm] = useState<NotifyForm | null>(null)
  const [busy, setBusy] = useState(false)
  const [testing, setTesting] = useState(false)
  const [error, setError] = useState('')
  const [issues, setIssues] = useState<Issue[]>([])
  const [outcomes, setOutcomes] = useState<NotificationTestOutcome[] | null>(null)

  useEffect(() => {
    if (current.data) setForm(toForm(current.data.settings))
  }, [current.data])

  if (current.error) return <Alert kind="error" title="Could not read the notification settings">{errorMessage(current.error)}</Alert>
  if (!form || !current.data) return <Loading />
  const issue = (field: string) => issues.find((i) => i.field === field)?.message

  async function save() {
    if (!form) return
    setBusy(true)
    setError('')
    setIssues([])
    try {
      current.setData(await call('notifications.set', fromForm(form)))
      notify('success', 'Notification settings saved')
    } catch (e) {
      setError(errorMessage(e))
      setIssues(issuesOf(e))
    } finally {
      setBusy(false)
    }
  }

  async function test() {
    setTesting(true)
    setError('')
    setOutcomes(null)
    try {
      const r = await call('notifications.test', {})
      setOutcomes(r.results ?? [])
    } catch (e) {
      setError(errorMessage(e))
    } finally {
      setTesting(false)
    }
  }

  const setEmail = (patch: Partial<NotifyForm['email']>) => setForm({ ...form, email: { ...form.email, ...patch } })
  const setHook = (key: string, patch: Partial<WebhookForm>) => setForm({ ...form, webhooks: form.webhooks.map((w) => (w.key === key ? { ...w, ...patch } : w)) })
  const toggleEvent = (id: string, on: boolean) => setForm({ ...form, events: on ? [...form.events, id] : form.events.filter((e) => e !== id) })
  const e = form.email

  return (
    <section className="card" aria-labelledby="notifications">
      <h2 id="notifications">Notifications</h2>
      <div className="form">
        <p className="muted">Messages name processes, systems, entity keys and error classes only: never a field's value or a secret. Notices are gathered, and each channel gets at most one message per interval.</p>
        <Field label="Send notifications" inline>
          <input type="checkbox" checked={form.enabled} onChange={(ev) => setForm({ ...form, enabled: ev.target.checked })} />
        </Field>
        <fieldset>
          <legend>Notify when</legend>
          {notifyEvents.map((ev) => (
            <Field key={ev.id} label={ev.label} inline>
              <input type="checkbox" checked={form.events.includes(ev.id)} onChange={(x) => toggleEvent(ev.id, x.target.checked)} />
            </Field>
          ))}
        </fieldset>
        <Field label="At most one message per channel every (minutes)" error={issue('minIntervalMinutes')}>
          <input type="number" min={1} max={1440} value={form.minInterval} onChange={(ev) => setForm({ ...form, minInterval: ev.target.value })} />
        </Field>

        <fieldset>
          <legend>Email</legend>
          <Field label="Send email" inline>
            <input type="checkbox" checked={e.enabled} onChange={(ev) => setEmail({ enabled: ev.target.checked })} />
          </Field>
          <Field label="SMTP server" error={issue('email.host')}>
            <input value={e.host} onChange={(ev) => setEmail({ host: ev.target.value })} placeholder="smtp.example.com" />
          </Field>
          <Field label="Port" error={issue('email.port')}>
            <input type="number" min={1} max={65535} value={e.port} onChange={(ev) => setEmail({ port: ev.target.value })} />
          </Field>
          <Field label="Security" error={issue('email.security')}>
            <select value={e.security} onChange={(ev) => setEmail({ security: ev.target.value })}>
              <option value="starttls">STARTTLS (port 587)</option>
              <option value="tls">TLS (port 465)</option>
              <option value="none">None (a relay on this machine only)</option>
            </select>
          </Field>
          <Field label="Accept a self-signed server certificate" inline>
            <input type="checkbox" checked={e.allowSelfSigned} onChange={(ev) => setEmail({ allowSelfSigned: ev.target.checked })} />
          </Field>
          <Field label="User name" error={issue('email.username')}>
            <input value={e.username} onChange={(ev) => setEmail({ username: ev.target.value })} autoComplete="off" />
          </Field>
          <Field label="Password" error={issue('email.password')} help={e.passwordSet ? 'A password is stored. Type a new one to replace it.' : 'Stored encrypted; it is never shown again.'}>
            <input type="password" value={e.newPassword} onChange={(ev) => setEmail({ newPassword: ev.target.value, clearPassword: false })} autoComplete="new-password" placeholder={e.passwordSet ? '••••••••' : ''} />
          </Field>
          {e.passwordSet && (
            <Field label="Remove the stored password" inline>
              <input type="checkbox" checked={e.clearPassword} onChange={(ev) => setEmail({ clearPassword: ev.target.checked, newPassword: '' })} />
            </Field>
          )}
          <Field label="From" error={issue('email.from')}>
            <input value={e.from} onChange={(ev) => setEmail({ from: ev.target.value })} placeholder="lockstep@example.com" />
          </Field>
          <Field label="To" error={issue('email.to') ?? issues.find((i) => i.field.startsWith('email.to['))?.message} help="One or more addresses, separated by commas.">
            <input value={e.to} onChange={(ev) => setEmail({ to: ev.target.value })} placeholder="ops@example.com" />
          </Field>
        </fieldset>

        <fieldset>
          <legend>Webhooks</legend>
          {form.webhooks.length === 0 && <p className="muted">No webhooks.</p>}
          {form.webhooks.map((w, i) => (
            <div key={w.key} className="webhook" data-testid="webhook">
              <Field label={`Name of webhook ${i + 1}`} error={issue(`webhooks[${i}].name`)}>
                <input value={w.name} onChange={(ev) => setHook(w.key, { name: ev.target.value })} />
              </Field>
              <Field label={`Format of webhook ${i + 1}`} error={issue(`webhooks[${i}].format`)}>
                <select value={w.format || 'json'} onChange={(ev) => setHook(w.key, { format: ev.target.value })}>
                  <option value="json">Lockstep JSON</option>
                  <option value="slack">Slack</option>
                  <option value="teams">Microsoft Teams</option>
                </select>
              </Field>
              <Field label={`URL of webhook ${i + 1}`} error={issue(`webhooks[${i}].url`)} help={w.urlSet ? `A URL to ${w.host} is stored. Type a new one to replace it.` : 'Stored encrypted: it carries the receiver\'s token.'}>
                <input type="password" value={w.newUrl} onChange={(ev) => setHook(w.key, { newUrl: ev.target.value })} autoComplete="off" placeholder="https://" />
              </Field>
              <Field label={`Use webhook ${i + 1}`} inline>
                <input type="checkbox" checked={w.enabled} onChange={(ev) => setHook(w.key, { enabled: ev.target.checked })} />
              </Field>
              <Button variant="danger" onClick={() => setForm({ ...form, webhooks: form.webhooks.filter((x) => x.key !== w.key) })}>
                Remove webhook {i + 1}
              </Button>
            </div>
          ))}
          <Button onClick={() => setForm({ ...form, webhooks: [...form.webhooks, { key: `w${++webhookKeys}`, name: '', format: 'json', enabled: true, newUrl: '' }] })}>Add webhook</Button>
        </fieldset>

        {(current.data.channels ?? []).length > 0 && (
          <dl className="kv" data-testid="notify-channels">
            {(current.data.channels ?? []).map((c) => (
              <div key={c.channel}>
                <dt>{c.name}</dt>
                <dd>
                  {c.lastSentAt ? `last sent ${formatDate(c.lastSentAt)}` : 'nothing sent yet'}
                  {c.pending > 0 && `, ${c.pending} waiting`}
                  {c.lastError && ` — last error: ${c.lastError}`}
                </dd>
              </div>
            ))}
          </dl>
        )}
        {outcomes && (
          <ul className="test-results" data-testid="notify-test-results">
            {outcomes.map((o) => (
              <li key={o.channel}>
                {o.name}: {o.ok ? 'sent' : `failed: ${o.error}`}
              </li>
            ))}
          </ul>
        )}
        {error && (
          <Alert kind="error" title="Notifications">
            {error}
          </Alert>
        )}
        <div className="form-actions">
          <Button variant="primary" busy={busy} onClick={save}>
            Save notifications
          </Button>
          <Button busy={testing} onClick={test}>
            Send a test message
          </Button>
        </div>
        <p className="muted">The test message goes to the saved channels: save your changes first.</p>
      </div>
    </section>
  )
}
