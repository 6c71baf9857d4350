import { useState } from 'react'
import { call, errorKind, errorMessage } from '../../api/bridge'
import { issuesOf, type Issue } from '../../api/issues'
import { useAgentEvents } from '../../state/events'
import { useCall } from '../../state/async'
import { useCan } from '../../state/session'
import { Alert, Badge, Button, ConfirmDialog, Dialog, EmptyState, Field, HealthBadge, Loading, Page, Table, formatDate, savedAnywayText, useNotify } from '../../ui'
import { SystemForm, type SystemPayload } from './SystemForm'
import type { Kind, System, SystemsTestResult } from '../../api/generated/types'

type Editing = { kind: Kind; system?: System }

// notNotified ends the notice of a save the agent kept as saved anyway
// (lastTest.savedAnyway): the administrator saw the failure, so the
// agent's notifications leave it out.
const notNotified = ': it shows as failing, and no notification is sent for that failure.'

// SystemsPage lists the configured work systems and creates, edits, tests
// and deletes them; forms come from each kind's schema.
export function SystemsPage() {
  const notify = useNotify()
  const kinds = useCall('systems.kinds')
  const systems = useCall('systems.list')
  const mayEdit = useCan('systems.create')
  const mayTest = useCan('systems.test')
  const [picking, setPicking] = useState(false)
  const [pickKind, setPickKind] = useState('')
  const [editing, setEditing] = useState<Editing | null>(null)
  const [saveError, setSaveError] = useState('')
  const [saveIssues, setSaveIssues] = useState<Issue[]>([])
  const [busy, setBusy] = useState('')
  const [tests, setTests] = useState<Record<string, SystemsTestResult | { error: string }>>({})
  const [deleting, setDeleting] = useState<System | null>(null)
  // A save whose connection test failed waits for the administrator:
  // save anyway, or fix the form.
  const [untested, setUntested] = useState<{ payload: SystemPayload; result: SystemsTestResult } | null>(null)

  useAgentEvents(['ConfigChanged', 'HealthChanged'], (e) => {
    if (e.data?.kind === 'system') void systems.reload()
  }, () => void systems.reload())

  const kindList = kinds.data?.kinds ?? []
  const kindOf = (k: string) => kindList.find((x) => x.kind === k)
  const list = systems.data?.systems ?? []

  async function save(p: SystemPayload, tested = false) {
    if (!editing) return
    setBusy('save')
    setSaveError('')
    setSaveIssues([])
    setUntested(null)
    try {
      if (!tested && mayTest) {
        // Test first: a wrong token or a missing project is said now,
        // not by the first run.
        const draft = editing.system
          ? { id: editing.system.id, url: p.url, settings: p.settings, ...(Object.keys(p.secrets).length ? { secrets: p.secrets } : {}) }
          : { kind: editing.kind.kind, name: p.name, url: p.url, settings: p.settings, secrets: p.secrets }
        // The test advises; only the agent's field errors (the same a save
        // would report) stop here. A test that cannot run does not block.
        const r = await call('systems.test', draft).catch((e) => {
          if (errorKind(e) === 'invalid') throw e
          return null
        })
        if (r && !r.ok) {
          setUntested({ payload: p, result: r })
          return
        }
      }
      if (editing.system) {
        const s = editing.system
        const saved = await call('systems.update', {
          id: s.id,
          ...(p.name !== s.name ? { name: p.name } : {}),
          ...(p.url !== s.url ? { url: p.url } : {}),
          settings: p.settings,
          ...(Object.keys(p.secrets).length ? { secrets: p.secrets } : {}),
        })
        // A test shown from before the edit is of what was there: the
        // agent's last test (the form's, when it saved what was tested)
        // and health say how the saved system is.
        setTests(({ [s.id]: _, ...rest }) => rest)
        const kept = saved?.system?.lastTest
        notify('success', kept?.ok ? `Saved ${p.name}; its connection test passed.` : kept?.savedAnyway ? `Saved ${p.name} despite its failing connection test${notNotified}` : `Saved ${p.name}`)
      } else {
        const created = await call('systems.create', { name: p.name, kind: editing.kind.kind, url: p.url, settings: p.settings, secrets: p.secrets })
        // The agent keeps the form's test when it saved what was tested;
        // one that did not (an older agent) is tested now, so the new
        // system's health and last test are known at once.
        if (mayTest && created?.system?.id && !created.system.lastTest) void call('systems.test', { id: created.system.id }).then(() => systems.reload(), () => {})
        notify('success', tested ? `Created ${p.name} without a working connection test${created?.system?.lastTest?.savedAnyway ? notNotified : '.'}` : `Created ${p.name}; its connection test passed.`)
      }
      setEditing(null)
      await systems.reload()
    } catch (e) {
      setSaveIssues(issuesOf(e))
      setSaveError(errorMessage(e))
    } finally {
      setBusy('')
    }
  }

  async function test(s: System) {
    setBusy(`test:${s.id}`)
    try {
      const r = await call('systems.test', { id: s.id })
      setTests((t) => ({ ...t, [s.id]: r }))
      void systems.reload()
    } catch (e) {
      setTests((t) => ({ ...t, [s.id]: { error: errorMessage(e) } }))
    } finally {
      setBusy('')
    }
  }

  async function remove(s: System) {
    setBusy(`delete:${s.id}`)
    try {
      await call('systems.delete', { id: s.id })
      setDeleting(null)
      notify('success', `Deleted ${s.name}`)
      await systems.reload()
    } catch (e) {
      notify('error', `Could not delete ${s.name}: ${errorMessage(e)}`)
    } finally {
      setBusy('')
    }
  }

  function startCreate() {
    setSaveError('')
    setSaveIssues([])
    setPickKind(kindList[0]?.kind ?? '')
    setPicking(true)
  }

  return (
    <Page
      title="Systems"
      subtitle="The work systems Lockstep connects to, with the credentials it uses for each."
      actions={
        mayEdit && (
          <Button variant="primary" onClick={startCreate} disabled={!kindList.length}>
            Add system
          </Button>
        )
      }
    >
      {systems.error ? (
        <Alert kind="error" title="Could not load the systems">
          {errorMessage(systems.error)}
        </Alert>
      ) : systems.loading && !systems.data ? (
        <Loading />
      ) : (
        <Table
          rows={list}
          rowKey={(s) => s.id}
          empty={
            <EmptyState title="No systems yet" action={mayEdit && <Button variant="primary" onClick={startCreate}>Add system</Button>}>
              {mayEdit ? 'Add the work systems you want to keep in sync: their address and the credentials Lockstep should use.' : 'An administrator adds systems; you will see them here.'}
            </EmptyState>
          }
          columns={[
            {
              key: 'name',
              header: 'System',
              render: (s) => (
                <div className="system-cell">
                  <strong>{s.name}</strong>
                  <span className="muted small">{kindOf(s.kind)?.title ?? s.kind}</span>
                  <span className="mono small break">{s.url}</span>
                </div>
              ),
            },
            {
              key: 'secrets',
              header: 'Credentials',
              render: (s) => {
                const entries = Object.entries(s.secrets ?? {})
                if (!entries.length) return <span className="muted">none</span>
                const refused = credentialsRefused(s)
                return entries.map(([k, v]) => (
                  <Badge key={k} tone={!v.set ? 'neutral' : refused ? 'bad' : 'good'}>
                    {(kindOf(s.kind)?.fields?.find((f) => f.name === k)?.label ?? k) + (!v.set ? ': not set' : refused ? ': refused' : ': set')}
                  </Badge>
                ))
              },
            },
            { key: 'health', header: 'Health', render: (s) => <HealthCell system={s} result={tests[s.id]} /> },
            {
              key: 'actions',
              header: <span className="sr-only">Actions</span>,
              className: 'actions',
              render: (s) => (
                <>
                  {mayTest && (
                    <Button className="btn-small" busy={busy === `test:${s.id}`} onClick={() => test(s)} aria-label={`Test connection to ${s.name}`}>
                      Test
                    </Button>
                  )}
                  {mayEdit && kindOf(s.kind) && (
                    <Button
                      className="btn-small"
                      onClick={() => {
                        setSaveError('')
                        setSaveIssues([])
                        setEditing({ kind: kindOf(s.kind)!, system: s })
                      }}
                      aria-label={`Edit ${s.name}`}
                    >
                      Edit
                    </Button>
                  )}
                  {mayEdit && (
                    <Button className="btn-small" variant="ghost" onClick={() => setDeleting(s)} aria-label={`Delete ${s.name}`}>
                      Delete
                    </Button>
                  )}
                </>
              ),
            },
          ]}
        />
      )}

      <Dialog
        open={picking}
        title="Add a system"
        onClose={() => setPicking(false)}
        footer={
          <>
            <Button onClick={() => setPicking(false)}>Cancel</Button>
            <Button
              variant="primary"
              disabled={!pickKind}
              onClick={() => {
                setPicking(false)
                setEditing({ kind: kindOf(pickKind)! })
              }}
            >
              Continue
            </Button>
          </>
        }
      >
        <Field label="Kind of system" help="The form asks for the settings and credentials this kind needs.">
          <select value={pickKind} onChange={(e) => setPickKind(e.target.value)} data-autofocus>
            {kindList.map((k) => (
              <option key={k.kind} value={k.kind}>
                {k.title}
              </option>
            ))}
          </select>
        </Field>
      </Dialog>

      <Dialog open={editing !== null} title={editing?.system ? `Edit ${editing.system.name}` : `New ${editing?.kind.title ?? ''} system`} onClose={() => setEditing(null)} wide>
        {editing && (
          <SystemForm
            key={editing.system?.id ?? editing.kind.kind}
            kind={editing.kind}
            system={editing.system}
            busy={busy === 'save'}
            error={saveError}
            issues={saveIssues}
            onSubmit={(p) => void save(p)}
            onCancel={() => setEditing(null)}
            notice={
              untested && (
                <Alert
                  kind="warning"
                  title="The connection test failed"
                  actions={
                    <>
                      <Button onClick={() => void save(untested.payload, true)}>{editing.system ? 'Save anyway' : 'Create anyway'}</Button>
                      <Button variant="ghost" onClick={() => setUntested(null)}>
                        Keep editing
                      </Button>
                    </>
                  }
                >
                  <div data-testid="save-test-failure">
                    <p>{untested.result.problem || 'The system did not accept the connection.'}</p>
                    {untested.result.action && <p>What to do: {untested.result.action}</p>}
                    <details className="health-detail">
                      <summary>Details</summary>
                      <code>{untested.result.message}</code>
                    </details>
                  </div>
                </Alert>
              )
            }
          />
        )}
      </Dialog>

      <ConfirmDialog
        open={deleting !== null}
        title={`Delete ${deleting?.name ?? ''}?`}
        message="Lockstep forgets this system and destroys its stored credentials. Processes that use it stop working. Nothing in the system itself is changed."
        confirmLabel="Delete system"
        danger
        busy={busy.startsWith('delete:')}
        onConfirm={() => deleting && remove(deleting)}
        onCancel={() => setDeleting(null)}
      />
    </Page>
  )
}

// credentialsRefused says whether the system's credentials were refused,
// by its runs or by its last connection test: "set" would be a lie then.
function credentialsRefused(s: System): boolean {
  const h = s.health
  if (!h || h.state !== 'failing') return false
  return h.cause === 'unauthorized' || (h.cause === 'test' && !!s.lastTest && !s.lastTest.ok && /credentials|401/i.test(s.lastTest.problem ?? s.lastTest.message))
}

// HealthCell shows the system's health (its processes' runs and its last
// test) and the last connection test, kept by the agent across reloads.
// A system saved despite its failing test says so, and that nobody is
// notified of that failure; once newer evidence (a run) judges it, the
// test still says it was saved anyway.
function HealthCell({ system, result }: { system: System; result?: SystemsTestResult | { error: string } }) {
  const last = result && !('error' in result) ? result : system.lastTest
  const acknowledged = savedAnywayText(system.health, system.lastTest)
  const savedAnyway = !acknowledged && last === system.lastTest && system.lastTest?.savedAnyway
  return (
    <div className="state-cell">
      <HealthBadge health={system.health} />
      {system.health && system.health.state !== 'ok' && system.health.problem && <div className="small health-problem">{system.health.problem}</div>}
      {acknowledged && (
        <div className="small muted" data-testid="health-acknowledged">
          {acknowledged}
        </div>
      )}
      {result && 'error' in result ? (
        <span className="small bad-text">The test could not run: {result.error}</span>
      ) : last ? (
        <span data-testid="test-result" className="small">
          {last.ok ? 'OK' : 'Failed'} · tested {formatDate(last.at)} · {last.latencyMs} ms
          {savedAnyway && ` · saved anyway${system.lastTest?.actor ? ` by ${system.lastTest.actor}` : ''}`}
          {last.ok && last.message && <div className="muted">{last.message}</div>}
          {!last.ok && !system.health?.problem && last.problem && <div>{last.problem}</div>}
        </span>
      ) : (
        <span className="muted small">Never tested</span>
      )}
    </div>
  )
}
