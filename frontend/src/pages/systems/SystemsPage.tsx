import { useState } from 'react'
import { call, errorMessage } from '../../api/bridge'
import { issuesOf, type Issue } from '../../api/issues'
import { useAgentEvents } from '../../state/events'
import { useCall } from '../../state/async'
import { useCan } from '../../state/session'
import { Alert, Badge, Button, ConfirmDialog, Dialog, EmptyState, Field, Loading, Page, Table, useNotify } from '../../ui'
import { SystemForm, type SystemPayload } from './SystemForm'
import type { Kind, System, TestResult } from './types'

type Editing = { kind: Kind; system?: System }

// SystemsPage lists the configured work systems and creates, edits, tests
// and deletes them; forms come from each kind's schema.
export function SystemsPage() {
  const notify = useNotify()
  const kinds = useCall<{ kinds: Kind[] }>('systems.kinds')
  const systems = useCall<{ systems: System[] }>('systems.list')
  const mayEdit = useCan('systems.create')
  const mayTest = useCan('systems.test')
  const [picking, setPicking] = useState(false)
  const [pickKind, setPickKind] = useState('')
  const [editing, setEditing] = useState<Editing | null>(null)
  const [saveError, setSaveError] = useState('')
  const [saveIssues, setSaveIssues] = useState<Issue[]>([])
  const [busy, setBusy] = useState('')
  const [tests, setTests] = useState<Record<string, TestResult | { error: string }>>({})
  const [deleting, setDeleting] = useState<System | null>(null)

  useAgentEvents(['ConfigChanged'], (e) => {
    if (e.data?.kind === 'system') void systems.reload()
  }, () => void systems.reload())

  const kindList = kinds.data?.kinds ?? []
  const kindOf = (k: string) => kindList.find((x) => x.kind === k)
  const list = systems.data?.systems ?? []

  async function save(p: SystemPayload) {
    if (!editing) return
    setBusy('save')
    setSaveError('')
    setSaveIssues([])
    try {
      if (editing.system) {
        const s = editing.system
        await call('systems.update', {
          id: s.id,
          ...(p.name !== s.name ? { name: p.name } : {}),
          ...(p.url !== s.url ? { url: p.url } : {}),
          settings: p.settings,
          ...(Object.keys(p.secrets).length ? { secrets: p.secrets } : {}),
        })
        notify('success', `Saved ${p.name}`)
      } else {
        await call('systems.create', { name: p.name, kind: editing.kind.kind, url: p.url, settings: p.settings, secrets: p.secrets })
        notify('success', `Created ${p.name}. Test the connection to check its credentials.`)
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
      const r = await call<TestResult>('systems.test', { id: s.id })
      setTests((t) => ({ ...t, [s.id]: r }))
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
            { key: 'name', header: 'Name', render: (s) => <strong>{s.name}</strong> },
            { key: 'kind', header: 'Kind', render: (s) => kindOf(s.kind)?.title ?? s.kind },
            { key: 'url', header: 'URL', render: (s) => <span className="mono">{s.url}</span> },
            {
              key: 'secrets',
              header: 'Credentials',
              render: (s) => {
                const entries = Object.entries(s.secrets ?? {})
                if (!entries.length) return <span className="muted">none</span>
                return entries.map(([k, v]) => (
                  <Badge key={k} tone={v.set ? 'good' : 'neutral'}>
                    {(kindOf(s.kind)?.fields.find((f) => f.name === k)?.label ?? k) + (v.set ? ': set' : ': not set')}
                  </Badge>
                ))
              },
            },
            { key: 'test', header: 'Connection', render: (s) => <TestCell result={tests[s.id]} /> },
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
        {editing && <SystemForm key={editing.system?.id ?? editing.kind.kind} kind={editing.kind} system={editing.system} busy={busy === 'save'} error={saveError} issues={saveIssues} onSubmit={save} onCancel={() => setEditing(null)} />}
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

function TestCell({ result }: { result?: TestResult | { error: string } }) {
  if (!result) return <span className="muted">not tested</span>
  if ('error' in result) return <Badge tone="bad">Failed: {result.error}</Badge>
  return (
    <span data-testid="test-result">
      <Badge tone={result.ok ? 'good' : 'bad'}>{result.ok ? 'OK' : 'Failed'}</Badge> <span className="muted">{result.latencyMs} ms</span>
      {result.message && <div className="muted">{result.message}</div>}
    </span>
  )
}
