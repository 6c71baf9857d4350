import { useState, type FormEvent } from 'react'
import { call, errorMessage } from '../../api/bridge'
import type { Method, Params } from '../../api/generated/methods'
import type { Account } from '../../api/generated/types'
import { useCall } from '../../state/async'
import { useAgentEvents } from '../../state/events'
import { useSession } from '../../state/session'
import { Alert, Badge, Button, ConfirmDialog, DateTime, Dialog, Field, Loading, Page, Table, formatDate, useNotify } from '../../ui'

const roles = ['admin', 'operator', 'viewer']
const roleHelp = 'Admin: everything. Operator: run and manage sync, read configuration. Viewer: read only.'

// AccountsPage lets admins manage who may use the agent.
export function AccountsPage() {
  const me = useSession()
  const notify = useNotify()
  const accounts = useCall('accounts.list')
  const [creating, setCreating] = useState(false)
  const [password, setPassword] = useState<Account | null>(null)
  const [deleting, setDeleting] = useState<Account | null>(null)
  const [busy, setBusy] = useState('')

  useAgentEvents(['ConfigChanged'], (e) => e.data?.kind === 'account' && void accounts.reload(), () => void accounts.reload())

  async function act<M extends Method>(label: string, method: M, params: Params<M>, done: string) {
    setBusy(label)
    try {
      await call(method, params)
      notify('success', done)
      await accounts.reload()
      return true
    } catch (e) {
      notify('error', errorMessage(e))
      return false
    } finally {
      setBusy('')
    }
  }

  const list = accounts.data?.accounts ?? []
  return (
    <Page
      title="Accounts"
      subtitle={roleHelp}
      actions={
        <Button variant="primary" onClick={() => setCreating(true)}>
          Add account
        </Button>
      }
    >
      {accounts.error ? (
        <Alert kind="error" title="Could not load the accounts">
          {errorMessage(accounts.error)}
        </Alert>
      ) : !accounts.data ? (
        <Loading />
      ) : (
        <Table
          rows={list}
          rowKey={(a) => a.id}
          columns={[
            { key: 'username', header: 'Username', render: (a) => <strong>{a.username}</strong> },
            {
              key: 'role',
              header: 'Role',
              render: (a) => (
                <select
                  aria-label={`Role of ${a.username}`}
                  value={a.role}
                  disabled={a.username === me?.username || busy !== ''}
                  title={a.username === me?.username ? 'You cannot change your own role' : undefined}
                  onChange={(e) => act(`role:${a.id}`, 'accounts.update', { id: a.id, role: e.target.value }, `${a.username} is now ${e.target.value}`)}
                >
                  {roles.map((r) => (
                    <option key={r}>{r}</option>
                  ))}
                </select>
              ),
            },
            { key: 'last', header: 'Last login', render: (a) => <DateTime value={a.lastLoginAt} /> },
            { key: 'state', header: 'State', render: (a) => (a.locked ? <Badge tone="bad">locked{a.lockedUntil ? ` until ${formatDate(a.lockedUntil)}` : ''}</Badge> : <Badge tone="good">active</Badge>) },
            {
              key: 'actions',
              header: <span className="sr-only">Actions</span>,
              className: 'actions',
              render: (a) => (
                <>
                  <Button className="btn-small" onClick={() => act(`lock:${a.id}`, 'accounts.update', { id: a.id, locked: !a.locked }, `${a.username} ${a.locked ? 'unlocked' : 'locked'}`)} disabled={a.username === me?.username} aria-label={`${a.locked ? 'Unlock' : 'Lock'} ${a.username}`}>
                    {a.locked ? 'Unlock' : 'Lock'}
                  </Button>
                  <Button className="btn-small" onClick={() => setPassword(a)} aria-label={`Set password of ${a.username}`}>
                    Set password
                  </Button>
                  <Button className="btn-small" variant="ghost" onClick={() => setDeleting(a)} disabled={a.username === me?.username} aria-label={`Delete ${a.username}`}>
                    Delete
                  </Button>
                </>
              ),
            },
          ]}
        />
      )}
      <Dialog open={creating} title="Add an account" onClose={() => setCreating(false)}>
        <AccountForm
          busy={busy === 'create'}
          onCancel={() => setCreating(false)}
          onSubmit={async (username, pw, role) => {
            if (await act('create', 'accounts.create', { username, password: pw, role }, `Created ${username}`)) setCreating(false)
          }}
        />
      </Dialog>
      <Dialog open={password !== null} title={`Set the password of ${password?.username ?? ''}`} onClose={() => setPassword(null)}>
        {password && (
          <PasswordForm
            busy={busy === 'password'}
            onCancel={() => setPassword(null)}
            onSubmit={async (pw) => {
              if (await act('password', 'accounts.setPassword', { id: password.id, password: pw }, `Password of ${password.username} changed; their sessions were ended`)) setPassword(null)
            }}
          />
        )}
      </Dialog>
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete ${deleting?.username ?? ''}?`}
        message="The account can no longer sign in. Its past actions stay in the audit log."
        confirmLabel="Delete account"
        danger
        busy={busy === 'delete'}
        onConfirm={async () => {
          if (deleting && (await act('delete', 'accounts.delete', { id: deleting.id }, `Deleted ${deleting.username}`))) setDeleting(null)
        }}
        onCancel={() => setDeleting(null)}
      />
    </Page>
  )
}

const minPassword = 12

function AccountForm({ busy, onSubmit, onCancel }: { busy: boolean; onSubmit: (u: string, p: string, r: string) => void; onCancel: () => void }) {
  const [username, setUsername] = useState('')
  const [pw, setPw] = useState('')
  const [role, setRole] = useState('viewer')
  const short = pw.length > 0 && pw.length < minPassword
  function submit(e: FormEvent) {
    e.preventDefault()
    if (!username.trim() || pw.length < minPassword) return
    onSubmit(username.trim(), pw, role)
  }
  return (
    <form className="form" onSubmit={submit}>
      <Field label="Username" required>
        <input value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" data-autofocus />
      </Field>
      <Field label="Password" required help={`At least ${minPassword} characters.`} error={short ? `Use at least ${minPassword} characters.` : null}>
        <input type="password" value={pw} onChange={(e) => setPw(e.target.value)} autoComplete="new-password" />
      </Field>
      <Field label="Role" help={roleHelp}>
        <select value={role} onChange={(e) => setRole(e.target.value)}>
          {roles.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </Field>
      <div className="form-actions">
        <Button type="submit" variant="primary" busy={busy} disabled={!username.trim() || pw.length < minPassword}>
          Create account
        </Button>
        <Button onClick={onCancel}>Cancel</Button>
      </div>
    </form>
  )
}

function PasswordForm({ busy, onSubmit, onCancel }: { busy: boolean; onSubmit: (p: string) => void; onCancel: () => void }) {
  const [pw, setPw] = useState('')
  const [again, setAgain] = useState('')
  const mismatch = again.length > 0 && pw !== again
  return (
    <form
      className="form"
      onSubmit={(e) => {
        e.preventDefault()
        if (pw.length >= minPassword && pw === again) onSubmit(pw)
      }}
    >
      <Alert kind="info">Changing a password ends all of that account's sessions.</Alert>
      <Field label="New password" required help={`At least ${minPassword} characters.`}>
        <input type="password" value={pw} onChange={(e) => setPw(e.target.value)} autoComplete="new-password" data-autofocus />
      </Field>
      <Field label="Repeat it" required error={mismatch ? 'The passwords differ.' : null}>
        <input type="password" value={again} onChange={(e) => setAgain(e.target.value)} autoComplete="new-password" />
      </Field>
      <div className="form-actions">
        <Button type="submit" variant="primary" busy={busy} disabled={pw.length < minPassword || pw !== again}>
          Set password
        </Button>
        <Button onClick={onCancel}>Cancel</Button>
      </div>
    </form>
  )
}
