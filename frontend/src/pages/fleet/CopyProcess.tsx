import { useState } from 'react'
import { callAgent, errorMessage } from '../../api/bridge'
import { issuesOf, type Issue } from '../../api/issues'
import { can } from '../../api/generated/roles'
import { Alert, Badge, Button, Loading } from '../../ui'
import { issueWhere, planProcessCopy } from './copy'
import { CopyPicker } from './CopyPicker'
import { CopiedNote, CopySystemForm, type Copied } from './CopySystem'
import { useAgentCall } from './useAgentCall'

export type Signed = { name: string; role: string }

type Step =
  | { step: 'pick' }
  | { step: 'plan'; source: string; processId: string; target: string }
  | { step: 'system'; source: string; processId: string; target: string; systemId: string }
  | { step: 'done'; source: string; target: string; name: string; updated: boolean }

// CopyProcess copies one sync process from a signed-in agent to another:
// processes.export on the source, processes.import on the target, where the
// process's two systems are found by name. It says first what the target
// lacks, and copies a missing system (its secrets typed again) on the way.
export function CopyProcess({ agents, onClose, onOpen }: { agents: Signed[]; onClose: () => void; onOpen: (agent: string) => void }) {
  const [step, setStep] = useState<Step>({ step: 'pick' })
  const [copied, setCopied] = useState<Copied | null>(null)
  const back = (s: { source: string; processId: string; target: string }) => setStep({ step: 'plan', source: s.source, processId: s.processId, target: s.target })

  switch (step.step) {
    case 'pick':
      return (
        <CopyPicker
          agents={agents.map((a) => a.name)}
          label="Process"
          method="processes.list"
          list={(r) => (r.processes ?? []).map((p) => p.process)}
          none={(source) => `${source} has no sync processes.`}
          onCancel={onClose}
          onPick={(p) => setStep({ step: 'plan', source: p.source, processId: p.id, target: p.target })}
        />
      )
    case 'system':
      return (
        <CopySystemForm
          source={step.source}
          target={step.target}
          systemId={step.systemId}
          onCancel={() => back(step)}
          onDone={(c) => {
            setCopied(c)
            back(step)
          }}
        />
      )
    case 'plan':
      return (
        <Plan
          {...step}
          role={agents.find((a) => a.name === step.target)?.role ?? ''}
          copied={copied}
          onBack={() => {
            setCopied(null)
            setStep({ step: 'pick' })
          }}
          onCopySystem={(systemId) => {
            setCopied(null)
            setStep({ ...step, step: 'system', systemId })
          }}
          onDone={(name, updated) => setStep({ step: 'done', source: step.source, target: step.target, name, updated })}
        />
      )
    case 'done':
      return (
        <>
          <Alert kind="success" title={`${step.updated ? 'Updated' : 'Copied'} ${step.name} on ${step.target}`}>
            <p>
              {step.updated
                ? `${step.target} had a process of that name: it now has the configuration from ${step.source}.`
                : `${step.target} has the process now, inactive: it syncs nothing until someone activates it there.`}
            </p>
          </Alert>
          <div className="form-actions">
            <Button variant="primary" onClick={() => onOpen(step.target)}>
              Open {step.target}
            </Button>
            <Button onClick={onClose}>Close</Button>
          </div>
        </>
      )
  }
}

function Plan({ source, processId, target, role, copied, onBack, onCopySystem, onDone }: {
  source: string
  processId: string
  target: string
  role: string
  copied: Copied | null
  onBack: () => void
  onCopySystem: (systemId: string) => void
  onDone: (name: string, updated: boolean) => void
}) {
  const proc = useAgentCall(source, 'processes.get', { id: processId })
  const srcSystems = useAgentCall(source, 'systems.list')
  const dstSystems = useAgentCall(target, 'systems.list')
  const dstProcs = useAgentCall(target, 'processes.list')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  const [issues, setIssues] = useState<Issue[]>([])

  const loadError = proc.error ?? srcSystems.error ?? dstSystems.error ?? dstProcs.error
  if (loadError) {
    return (
      <>
        <Alert kind="error" title="Could not read what the copy needs">
          {errorMessage(loadError)}
        </Alert>
        <div className="form-actions">
          <Button onClick={onBack}>Back</Button>
        </div>
      </>
    )
  }
  if (!proc.data || !srcSystems.data || !dstSystems.data || !dstProcs.data) return <Loading />
  const p = proc.data.process
  const plan = planProcessCopy(
    { id: p.id, name: p.name, a: p.a ?? { system: '' }, b: p.b ?? { system: '' } },
    srcSystems.data.systems ?? [],
    dstSystems.data.systems ?? [],
    (dstProcs.data.processes ?? []).map((x) => x.process),
  )
  const mayImport = can(role, 'processes.import')
  const mayCreateSystems = can(role, 'systems.create')

  async function copy() {
    setBusy(true)
    setError('')
    setIssues([])
    try {
      const { document } = await callAgent(source, 'processes.export', { ids: [processId] })
      const res = await callAgent(target, 'processes.import', { document })
      onDone(p.name, (res.updated ?? []).length > 0)
    } catch (e) {
      setIssues(issuesOf(e))
      setError(errorMessage(e))
      void dstSystems.reload()
    } finally {
      setBusy(false)
    }
  }

  return (
    <div className="copy-plan" data-testid="copy-plan">
      <p>
        Copy <strong>{p.name}</strong> from {source} to {target}. {target} finds the process's systems by name; the copy arrives inactive.
      </p>
      {copied && <CopiedNote copied={copied} target={target} />}
      <ul className="copy-sides" aria-label="The process's systems">
        {plan.sides.map((s) => (
          <li key={s.side} data-testid={`copy-side-${s.side}`}>
            <span className="copy-side-label">System {s.side.toUpperCase()}</span>
            {!s.source ? (
              <span className="bad-text">This system no longer exists on {source}: fix the process there first.</span>
            ) : (
              <>
                <strong>{s.source.name}</strong>
                {s.target && !s.otherKind && <Badge tone="good">on {target}</Badge>}
                {s.otherKind && (
                  <span className="bad-text">
                    {target}'s {s.target!.name} is of another kind ({s.target!.kind}, here {s.source.kind}): rename one of them, or copy the process to an agent whose {s.source.name} is the same system.
                  </span>
                )}
                {!s.target && (
                  <>
                    <Badge tone="bad">missing on {target}</Badge>
                    {/* One button per system, even when both sides use it. */}
                    {mayCreateSystems && (s.side === 'a' || plan.sides[0].source?.id !== s.source.id) && (
                      <Button className="btn-small" onClick={() => onCopySystem(s.source!.id)} aria-label={`Copy ${s.source.name} to ${target}`}>
                        Copy it to {target}…
                      </Button>
                    )}
                  </>
                )}
              </>
            )}
          </li>
        ))}
      </ul>
      {plan.missing.length > 0 && (
        <Alert kind="warning" title={`${target} lacks ${plan.missing.map((m) => m.name).join(' and ')}`}>
          The import finds systems by name, and {target} has no system named {plan.missing.map((m) => m.name).join(' or ')}. Copy {plan.missing.length === 1 ? 'it' : 'them'} first: the address and settings come
          from {source}, and you enter the secrets again ({source} never gives them out). Or create {plan.missing.length === 1 ? 'it' : 'them'} on {target} under the same name.
        </Alert>
      )}
      {plan.replaces && (
        <Alert kind="warning" title={`${target} already has a process named ${p.name}`}>
          The copy replaces its configuration; its pairs and history on {target} stay.
        </Alert>
      )}
      {!mayImport && (
        <Alert kind="error" title={`Copying to ${target} needs an administrator`}>
          You are signed in to {target} as {role || 'nobody'}; sign in there as an administrator to copy a process to it.
        </Alert>
      )}
      {error && (
        <Alert kind="error" title={`${target} refused the copy`}>
          {issues.length ? (
            <ul>
              {issues.map((i, n) => (
                <li key={n}>
                  {issueWhere(i.field)}: {i.message}
                </li>
              ))}
            </ul>
          ) : (
            error
          )}
        </Alert>
      )}
      <div className="form-actions">
        <Button variant="primary" busy={busy} disabled={!plan.ready || !mayImport} onClick={() => void copy()}>
          Copy process
        </Button>
        <Button onClick={onBack}>Back</Button>
      </div>
    </div>
  )
}
