import { useState, type FormEvent } from 'react'
import { bridge, errorKind, errorMessage, type ConnStatus, type Profile, type ProbeResult } from '../../api/bridge'
import { AgentsEmptyState } from '../../components/AgentsEmptyState'
import { stateWords } from '../../shell/ConnectionBadge'
import { navigate } from '../../shell/route'
import { useAsync } from '../../state/async'
import { useFleet } from '../../state/fleet'
import { useConnection } from '../../state/session'
import { Alert, Badge, Button, ConfirmDialog, Dialog, Field, Loading, Page, formatFingerprint, useNotify } from '../../ui'
import { probeWords } from './probeWords'
import { ReachProblem } from './ReachProblem'
import { FingerprintCheck } from './FingerprintCheck'

type Adding = { step: 'form' } | { step: 'verify'; name: string; probe: ProbeResult }
type Repin = { profile: Profile; probe: ProbeResult | null; error: unknown }

// AgentsPage manages connection profiles: add one by URL with an explicit
// fingerprint comparison, connect, switch to and disconnect each (every
// agent keeps its own connection and session), and handle a key that changed.
export function AgentsPage() {
  const { status, apply, refresh } = useConnection()
  const fleet = useFleet()
  const notify = useNotify()
  const profiles = useAsync(() => bridge().ListProfiles(), [])
  const [adding, setAdding] = useState<Adding | null>(null)
  const [busy, setBusy] = useState('')
  const [mismatch, setMismatch] = useState<string | null>(null)
  const [repin, setRepin] = useState<Repin | null>(null)
  const [removing, setRemoving] = useState<Profile | null>(null)

  const list = profiles.data ?? []
  // Each agent's connection: the current one's as the shell has it, the
  // others' as the fleet follows them.
  const stateOf = (name: string): ConnStatus | undefined => (status.profile === name ? status : fleet.agents.find((a) => a.profile === name))
  // The refused profile: from a Connect that just failed, the current
  // agent's state, or any agent whose key was refused when it was dialled.
  const refused =
    mismatch ??
    (status.state === 'fingerprintMismatch' ? status.profile : null) ??
    fleet.agents.find((a) => a.state === 'fingerprintMismatch' && list.some((p) => p.name === a.profile))?.profile ??
    null

  async function connect(name: string) {
    setBusy(`connect:${name}`)
    setMismatch(null)
    try {
      await apply(bridge().Connect(name))
      navigate('dashboard')
    } catch (e) {
      if (errorKind(e) === 'fingerprint_mismatch') setMismatch(name)
      else {
        const words = probeWords(e)
        notify('error', `Could not connect to ${name}: ${words.problem} ${words.tryThis}`)
      }
      await refresh()
    } finally {
      setBusy('')
    }
  }

  async function disconnect(name: string) {
    setBusy(`disconnect:${name}`)
    try {
      await bridge().Disconnect(name)
      await refresh()
    } catch (e) {
      notify('error', `Could not disconnect: ${errorMessage(e)}`)
    } finally {
      setBusy('')
    }
  }

  async function pin(name: string, probe: ProbeResult) {
    setBusy('pin')
    try {
      await bridge().SaveProfile({ name, url: probe.url, fingerprint: probe.fingerprint })
      setAdding(null)
      setRepin(null)
      setMismatch(null)
      await profiles.reload()
      await connect(name)
    } catch (e) {
      notify('error', `Could not save the agent: ${errorMessage(e)}`)
    } finally {
      setBusy('')
    }
  }

  async function checkNewKey(profile: Profile) {
    setRepin({ profile, probe: null, error: null })
    try {
      const probe = await bridge().ProbeAgent(profile.url)
      setRepin({ profile, probe, error: null })
    } catch (e) {
      setRepin({ profile, probe: null, error: e })
    }
  }

  async function remove(p: Profile) {
    setBusy(`remove:${p.name}`)
    try {
      await bridge().DeleteProfile(p.name)
      setRemoving(null)
      await profiles.reload()
      await fleet.reload()
      await refresh()
    } catch (e) {
      notify('error', `Could not remove ${p.name}: ${errorMessage(e)}`)
    } finally {
      setBusy('')
    }
  }

  const refusedProfile = list.find((p) => p.name === refused)

  return (
    <Page
      title="Agents"
      subtitle="The Lockstep agents this app administers. Each is pinned to the key it showed when you added it."
      actions={
        <Button variant="primary" onClick={() => setAdding({ step: 'form' })}>
          Add agent
        </Button>
      }
    >
      {refused && (
        <Alert kind="error" title={`${refused} presented a different key — the app refused to connect`}>
          <p>The agent's certificate key no longer matches the fingerprint you pinned. Your password was not sent. This can mean:</p>
          <ul>
            <li>the agent was reinstalled or its data directory recreated, or its key was rotated on purpose;</li>
            <li>or someone between you and the agent is intercepting the connection (a man-in-the-middle attack).</li>
          </ul>
          <p>
            Ask whoever runs the agent whether it was reinstalled or its key rotated, and have them run <code>lockstep-agent fingerprint</code> on the server.
            Pin the new key only if that output matches what this app now sees.
          </p>
          {refusedProfile && (
            <div className="alert-actions">
              <Button onClick={() => checkNewKey(refusedProfile)}>Check the new fingerprint</Button>
            </div>
          )}
        </Alert>
      )}

      {profiles.loading && !profiles.data ? (
        <Loading />
      ) : profiles.error ? (
        <Alert kind="error" title="Could not read the saved agents">
          {errorMessage(profiles.error)}
        </Alert>
      ) : list.length === 0 ? (
        <AgentsEmptyState />
      ) : (
        <ul className="agent-list" aria-label="Saved agents">
          {list.map((p) => {
            const st = stateOf(p.name)
            const isCurrent = status.profile === p.name && status.state !== 'closed'
            // Connected (or reconnecting by itself): it can be switched to
            // and disconnected; otherwise it needs a Connect.
            const live = !!st && st.state !== 'closed' && st.state !== 'fingerprintMismatch' && !(st.state === 'disconnected' && !st.session && !isCurrent)
            return (
              <li key={p.name} className="card agent-row">
                <div className="grow">
                  <h3>{p.name}</h3>
                  <div className="muted mono">{p.url}</div>
                  <div className="muted mono" title="Pinned key fingerprint">
                    {formatFingerprint(p.fingerprint).slice(0, 39)}…
                  </div>
                </div>
                {isCurrent && <Badge tone="info">current</Badge>}
                {st && st.state !== 'closed' && <StateBadge status={st} />}
                {live && !isCurrent && (
                  <Button variant="primary" busy={busy === `connect:${p.name}`} onClick={() => connect(p.name)} aria-label={`Open ${p.name}`}>
                    Open
                  </Button>
                )}
                {live ? (
                  <Button busy={busy === `disconnect:${p.name}`} onClick={() => disconnect(p.name)} aria-label={`Disconnect ${p.name}`}>
                    Disconnect
                  </Button>
                ) : (
                  <Button variant="primary" busy={busy === `connect:${p.name}`} onClick={() => connect(p.name)} aria-label={`Connect to ${p.name}`}>
                    Connect
                  </Button>
                )}
                <Button variant="ghost" onClick={() => setRemoving(p)} aria-label={`Remove ${p.name}`}>
                  Remove
                </Button>
              </li>
            )
          })}
        </ul>
      )}

      <Dialog open={adding !== null} title="Add an agent" onClose={() => setAdding(null)} wide>
        {adding?.step === 'form' && <AddAgentForm names={list.map((p) => p.name)} onProbed={(name, probe) => setAdding({ step: 'verify', name, probe })} onCancel={() => setAdding(null)} />}
        {adding?.step === 'verify' && (
          <FingerprintCheck url={adding.probe.url} fingerprint={adding.probe.fingerprint} busy={busy === 'pin'} onConfirm={() => pin(adding.name, adding.probe)} onCancel={() => setAdding(null)} />
        )}
      </Dialog>

      <Dialog open={repin !== null} title={`New key of ${repin?.profile.name ?? ''}`} onClose={() => setRepin(null)} wide>
        {repin && !repin.probe && !repin.error && <Loading label="Reading the agent's key…" />}
        {repin?.error ? <ReachProblem error={repin.error} /> : null}
        {repin?.probe && (
          <>
            <Alert kind="warning" title="Compare before you trust">
              Previously pinned: <span className="mono">{formatFingerprint(repin.profile.fingerprint)}</span>
            </Alert>
            <FingerprintCheck
              url={repin.probe.url}
              fingerprint={repin.probe.fingerprint}
              busy={busy === 'pin'}
              confirmLabel="Pin the new fingerprint and connect"
              onConfirm={() => pin(repin.profile.name, repin.probe!)}
              onCancel={() => setRepin(null)}
            />
          </>
        )}
      </Dialog>

      <ConfirmDialog
        open={removing !== null}
        title={`Remove ${removing?.name ?? ''}?`}
        message="The app forgets this agent and its pinned key. The agent itself and its data are not touched."
        confirmLabel="Remove"
        danger
        busy={busy.startsWith('remove:')}
        onConfirm={() => removing && remove(removing)}
        onCancel={() => setRemoving(null)}
      />
    </Page>
  )
}

function StateBadge({ status }: { status: ConnStatus }) {
  const look = stateWords(status)
  return (
    <span data-testid="agent-state" data-state={status.state}>
      <Badge tone={look.tone === 'idle' ? 'neutral' : look.tone}>{look.text}</Badge>
    </span>
  )
}

function AddAgentForm({ names, onProbed, onCancel }: { names: string[]; onProbed: (name: string, p: ProbeResult) => void; onCancel: () => void }) {
  const [name, setName] = useState('')
  const [url, setUrl] = useState('')
  const [busy, setBusy] = useState(false)
  // What the probe failed with, said in words by ReachProblem.
  const [error, setError] = useState<unknown>(null)
  const nameTaken = names.includes(name.trim())

  async function submit(e: FormEvent) {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      onProbed(name.trim(), await bridge().ProbeAgent(url.trim()))
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }

  return (
    <form className="form" onSubmit={submit}>
      <Field label="Name" required help="How this agent is listed, e.g. Production" error={nameTaken ? 'An agent with this name exists; pick another name.' : null}>
        <input value={name} onChange={(e) => setName(e.target.value)} data-autofocus />
      </Field>
      <Field label="Agent URL" required help="The agent's address and port, e.g. https://sync.example.internal:7443">
        <input value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://host:7443" inputMode="url" />
      </Field>
      {error !== null && <ReachProblem error={error} />}
      <div className="form-actions">
        <Button type="submit" variant="primary" busy={busy} disabled={!name.trim() || !url.trim() || nameTaken}>
          Fetch fingerprint
        </Button>
        <Button onClick={onCancel}>Cancel</Button>
      </div>
    </form>
  )
}
