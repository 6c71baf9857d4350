import { useState } from 'react'
import { callAgent, errorMessage } from '../../api/bridge'
import { issuesOf, type Issue } from '../../api/issues'
import { Alert, Button, Loading } from '../../ui'
import { SystemForm, type SystemPayload } from '../systems/SystemForm'
import type { SystemsTestResult } from '../../api/generated/types'
import { findByName, secretsToAskFor } from './copy'
import { useAgentCall } from './useAgentCall'

export type Copied = { name: string; test: SystemsTestResult | null; testError: string }

// CopySystemForm copies one system from the source agent to the target: the
// target's form for that kind, filled with the source's name, address and
// settings. Secrets are never read from the source (the API never returns
// them): the form asks for each again, as for a new system.
export function CopySystemForm({ source, target, systemId, onDone, onCancel }: {
  source: string
  target: string
  systemId: string
  onDone: (c: Copied) => void
  onCancel: () => void
}) {
  const sys = useAgentCall(source, 'systems.get', { id: systemId })
  const kinds = useAgentCall(target, 'systems.kinds')
  const existing = useAgentCall(target, 'systems.list')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  const [issues, setIssues] = useState<Issue[]>([])

  const loadError = sys.error ?? kinds.error ?? existing.error
  if (loadError) {
    return (
      <Alert kind="error" title="Could not read what the copy needs">
        {errorMessage(loadError)}
      </Alert>
    )
  }
  if (!sys.data || !kinds.data || !existing.data) return <Loading />
  const src = sys.data.system
  const offered = (kinds.data.kinds ?? []).find((k) => k.kind === src.kind)
  if (!offered) {
    return (
      <>
        <Alert kind="error" title={`${target} cannot hold a system of the kind of ${src.name}`}>
          {target} offers no {src.kind} systems (its version or its license does not allow them), so {src.name} cannot be copied there.
        </Alert>
        <div className="form-actions">
          <Button onClick={onCancel}>Back</Button>
        </div>
      </>
    )
  }
  const kind = { ...offered, fields: offered.fields ?? [] }
  const clash = findByName(existing.data.systems ?? [], src.name)
  const secrets = secretsToAskFor(kind.fields, src.secrets)

  async function submit(p: SystemPayload) {
    setBusy(true)
    setError('')
    setIssues([])
    try {
      const created = await callAgent(target, 'systems.create', { name: p.name, kind: src.kind, url: p.url, settings: p.settings, secrets: p.secrets })
      // The copy's connection test, kept by the target as the system's last
      // test, says at once whether the secrets typed work from there.
      let test: SystemsTestResult | null = null
      let testError = ''
      try {
        test = await callAgent(target, 'systems.test', { id: created.system.id })
      } catch (e) {
        testError = errorMessage(e)
      }
      onDone({ name: created.system.name, test, testError })
    } catch (e) {
      setIssues(issuesOf(e))
      setError(errorMessage(e))
    } finally {
      setBusy(false)
    }
  }

  return (
    <div className="copy-system" data-testid="copy-system-form">
      <p className="muted">
        A copy of <strong>{src.name}</strong> from {source}, created on {target} with the same address and settings.
      </p>
      {clash && (
        <Alert kind="warning" title={`${target} already has a system named ${clash.name}`}>
          A process copied to {target} will use that one. To copy this one too, give it another name.
        </Alert>
      )}
      {secrets.length > 0 && (
        <Alert kind="info" title="Enter the secrets again">
          Secrets are not copied: no agent ever gives them out. Enter {secrets.length === 1 ? 'it' : 'them'} for {target}:{' '}
          {secrets.map((s, i) => (
            <span key={s.name}>
              {i > 0 && ', '}
              {s.label} ({s.setOnSource ? `set on ${source}` : `not set on ${source}`})
            </span>
          ))}
          .
        </Alert>
      )}
      <SystemForm
        key={`${source}/${systemId}/${target}`}
        kind={kind}
        system={{ ...src, id: '', secrets: null }}
        busy={busy}
        error={error}
        issues={issues}
        onSubmit={(p) => void submit(p)}
        onCancel={onCancel}
        submitLabel={`Copy to ${target}`}
      />
    </div>
  )
}

// CopiedNote says what a system copy did, with its connection test.
export function CopiedNote({ copied, target }: { copied: Copied; target: string }) {
  const t = copied.test
  if (t && t.ok) {
    return (
      <Alert kind="success" title={`Copied ${copied.name} to ${target}`}>
        Its connection test from {target} passed.
      </Alert>
    )
  }
  return (
    <Alert kind="warning" title={`Copied ${copied.name} to ${target}, but its connection test did not pass`}>
      <p>{t ? t.problem || t.message : `The test could not run: ${copied.testError}`}</p>
      {t?.action && <p>What to do: {t.action}</p>}
      <p>Fix it on {target}'s Systems page.</p>
    </Alert>
  )
}
