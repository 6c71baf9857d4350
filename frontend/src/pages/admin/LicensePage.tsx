import { useState } from 'react'
import { bridge, call, errorMessage } from '../../api/bridge'
import { useCall } from '../../state/async'
import { useAgentEvents } from '../../state/events'
import { useCan } from '../../state/session'
import { Alert, Badge, Button, Loading, Page, formatDate, formatLicenseState, licenseTone, useNotify } from '../../ui'

// LicensePage shows the license the agent verified offline, and imports a new one.
export function LicensePage() {
  const license = useCall('license.get')
  const mayImport = useCan('license.import')
  const notify = useNotify()
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')

  useAgentEvents(['LicenseChanged'], () => void license.reload())

  async function importFile() {
    setError('')
    let text = ''
    try {
      text = await bridge().OpenTextFile('Import a Lockstep license', '*.lic;*.license;*.json;*.txt')
    } catch (e) {
      setError(errorMessage(e))
      return
    }
    if (!text) return // cancelled
    setBusy(true)
    try {
      license.setData(await call('license.import', { license: text }))
      notify('success', 'License imported')
    } catch (e) {
      setError(errorMessage(e))
    } finally {
      setBusy(false)
    }
  }

  const l = license.data
  return (
    <Page
      title="License"
      subtitle="Verified on this agent, offline. Nothing is sent anywhere unless telemetry is turned on in Settings."
      actions={
        mayImport && (
          <Button variant="primary" busy={busy} onClick={importFile}>
            Import license file…
          </Button>
        )
      }
    >
      {error && (
        <Alert kind="error" title="The license was not imported">
          {error}
          <p>Check that you chose the license file you received, unchanged. The current license stays in force.</p>
        </Alert>
      )}
      {license.error ? (
        <Alert kind="error" title="Could not read the license">
          {errorMessage(license.error)}
        </Alert>
      ) : !l ? (
        <Loading />
      ) : (
        <>
          {(l.warnings ?? []).map((w) => (
            <Alert key={w} kind="warning">
              {w}
            </Alert>
          ))}
          {l.overLimit && (
            <Alert kind="warning" title="More users than the license allows">
              {l.usersSeen} users were seen in synced systems; the license covers {l.maxUsers}. Contact your reseller to extend it.
            </Alert>
          )}
          <section className="card">
            <dl className="kv" data-testid="license">
              <dt>State</dt>
              <dd>
                <Badge tone={licenseTone(l.state)}>{formatLicenseState(l.state)}</Badge>
              </dd>
              {l.customer && (
                <>
                  <dt>Customer</dt>
                  <dd>{l.customer}</dd>
                </>
              )}
              {l.licenseId && (
                <>
                  <dt>License id</dt>
                  <dd className="mono">{l.licenseId}</dd>
                </>
              )}
              <dt>Expires</dt>
              <dd>{formatDate(l.expiresAt)}</dd>
              {l.evaluationEndsAt && (
                <>
                  <dt>Evaluation ends</dt>
                  <dd>{formatDate(l.evaluationEndsAt)}</dd>
                </>
              )}
              {l.graceEndsAt && (
                <>
                  <dt>Grace period ends</dt>
                  <dd>{formatDate(l.graceEndsAt)}</dd>
                </>
              )}
              <dt>Allowed systems</dt>
              <dd>{l.allowedSystems?.length ? l.allowedSystems.join(', ') : 'all kinds'}</dd>
              <dt title="People the synced work systems name (authors, assignees, commenters), counted for the license">Work-system users</dt>
              <dd>
                {l.usersSeen} seen{l.maxUsers ? ` of ${l.maxUsers} allowed` : ''}
              </dd>
            </dl>
          </section>
        </>
      )}
    </Page>
  )
}
