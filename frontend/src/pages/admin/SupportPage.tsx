import { useEffect, useRef, useState } from 'react'
import { bridge, call, errorMessage, type SavedFile } from '../../api/bridge'
import type { SupportProgress, SupportStatusResult } from '../../api/generated/types'
import { useAgentEvents } from '../../state/events'
import { Alert, Button, Page, formatBytes } from '../../ui'

// SupportPage builds a diagnostic package on the agent, follows its progress
// and saves it where the administrator chooses.
export function SupportPage({ pollMs = 1000 }: { pollMs?: number }) {
  const [job, setJob] = useState<SupportStatusResult | null>(null)
  const [progress, setProgress] = useState<SupportProgress | null>(null)
  const [busy, setBusy] = useState('')
  const [error, setError] = useState('')
  const [saved, setSaved] = useState<SavedFile | null>(null)
  const jobId = useRef('')

  useAgentEvents(['SupportProgress'], (e) => {
    const p = e.data
    if (p && p.id === jobId.current) setProgress(p)
  })

  // Events give the percentage; polling the status is what settles the
  // outcome, so a lost event cannot leave the page spinning.
  useEffect(() => {
    if (!job || job.state !== 'running') return
    const t = setTimeout(async () => {
      try {
        setJob(await call('support.status', { id: job.id }))
      } catch (e) {
        setError(errorMessage(e))
        setJob({ ...job, state: 'failed', error: errorMessage(e) })
      }
    }, pollMs)
    return () => clearTimeout(t)
  }, [job, pollMs])

  async function create() {
    setBusy('create')
    setError('')
    setSaved(null)
    setProgress(null)
    try {
      const { id } = await call('support.create')
      jobId.current = id
      setJob({ id, state: 'running' })
    } catch (e) {
      setError(errorMessage(e))
    } finally {
      setBusy('')
    }
  }

  async function save() {
    if (!job) return
    setBusy('save')
    setError('')
    try {
      const f = await bridge().SaveSupportPackage(job.id, `lockstep-support-${new Date().toISOString().slice(0, 10)}.zip`)
      if (!f.cancelled) setSaved(f)
    } catch (e) {
      setError(errorMessage(e))
    } finally {
      setBusy('')
    }
  }

  const pct = job?.state === 'ready' ? 100 : (progress?.percent ?? 0)
  return (
    <Page title="Support" subtitle="A diagnostic package for the Lockstep support team.">
      <section className="card">
        <h2>What the package contains</h2>
        <p className="muted">
          Host information, connection settings with every secret redacted, accounts without password hashes, sync processes and their operational data (ids, keys, titles),
          the audit log and recent logs, with a manifest. Nothing leaves this machine until you send the file yourself.
        </p>
        <div className="form-actions">
          <Button variant="primary" onClick={create} busy={busy === 'create'} disabled={job?.state === 'running'}>
            Create support package
          </Button>
        </div>
      </section>
      {error && (
        <Alert kind="error" title="Support package problem">
          {error}
        </Alert>
      )}
      {job && (
        <section className="card card-stack" aria-labelledby="support-job" data-testid="support-job">
          <h2 id="support-job">Package {job.id}</h2>
          {job.state === 'running' && (
            <>
              <progress max={100} value={pct} aria-label="Progress" style={{ width: '100%' }} />
              <p className="muted">
                Building… {pct}%{progress?.part ? ` (${progress.part})` : ''}
              </p>
            </>
          )}
          {job.state === 'failed' && (
            <Alert kind="error" title="The package could not be built">
              {job.error || 'The agent gave no reason.'} Check the agent's log on the Live logs page, then try again.
            </Alert>
          )}
          {job.state === 'ready' && (
            <>
              <dl className="kv">
                <dt>Size</dt>
                <dd data-testid="support-size">{formatBytes(job.size)}</dd>
                <dt>SHA-256</dt>
                <dd className="mono" data-testid="support-sha">
                  {job.sha256}
                </dd>
              </dl>
              <div className="form-actions">
                <Button variant="primary" onClick={save} busy={busy === 'save'}>
                  Save package…
                </Button>
              </div>
            </>
          )}
          {saved && (
            <Alert kind="success" title="Package saved">
              <dl className="kv" data-testid="support-saved">
                <dt>File</dt>
                <dd className="mono">{saved.path}</dd>
                <dt>Size</dt>
                <dd>{formatBytes(saved.size)}</dd>
                <dt>SHA-256</dt>
                <dd className="mono">{saved.sha256}</dd>
              </dl>
              {job.sha256 && saved.sha256 && saved.sha256 !== job.sha256 && <p>The saved file’s checksum differs from the agent’s: save it again.</p>}
            </Alert>
          )}
        </section>
      )}
    </Page>
  )
}
