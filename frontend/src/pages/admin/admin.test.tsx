import { act, render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import type { ReactNode } from 'react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ConnectionProvider } from '../../state/session'
import { fakeBridge, loggedInStatus, type FakeBridge } from '../../test/fakeBridge'
import { AccountsPage } from './AccountsPage'
import { AuditPage } from './AuditPage'
import { LicensePage } from './LicensePage'
import { metricsTokenProblem } from './metricsToken'
import { SettingsPage } from './SettingsPage'
import { SupportPage } from './SupportPage'

let fb: FakeBridge | undefined
afterEach(() => {
  fb?.restore()
  fb = undefined
})
const wrap = (n: ReactNode) => render(<ConnectionProvider>{n}</ConnectionProvider>)

describe('SupportPage', () => {
  it('creates a package, follows it to ready and saves it', async () => {
    const user = userEvent.setup()
    let polls = 0
    const save = vi.fn(async () => ({ path: '/home/ann/support.zip', size: 2048, sha256: 'abc123', cancelled: false }))
    fb = fakeBridge(
      {
        'support.create': () => ({ id: 'job1' }),
        'support.status': () => (++polls < 2 ? { id: 'job1', state: 'running' } : { id: 'job1', state: 'ready', size: 2048, sha256: 'abc123' }),
      },
      { SaveSupportPackage: save, SubscribeEvents: async () => 'ev1' },
    )
    wrap(<SupportPage pollMs={5} />)
    await user.click(screen.getByRole('button', { name: 'Create support package' }))
    await act(async () => {})
    act(() => fb!.emit('events:batch', { sub: 'ev1', events: [{ sub: 'ev1', seq: 1, time: '', type: 'SupportProgress', data: { id: 'job1', state: 'running', part: 'logs', percent: 40 } }] }))
    expect(await screen.findByTestId('support-sha')).toHaveTextContent('abc123')
    expect(screen.getByTestId('support-size')).toHaveTextContent('2.0 KiB')
    await user.click(screen.getByRole('button', { name: 'Save package…' }))
    expect(save).toHaveBeenCalledWith('job1', expect.stringMatching(/^lockstep-support-.*\.zip$/))
    expect(await screen.findByTestId('support-saved')).toHaveTextContent('/home/ann/support.zip')
  })

  it('says what to do when the package fails', async () => {
    const user = userEvent.setup()
    fb = fakeBridge({ 'support.create': () => ({ id: 'j' }), 'support.status': () => ({ id: 'j', state: 'failed', error: 'disk full' }) })
    wrap(<SupportPage pollMs={5} />)
    await user.click(screen.getByRole('button', { name: 'Create support package' }))
    expect(await screen.findByText(/disk full/)).toHaveTextContent('Live logs')
  })
})

describe('LicensePage', () => {
  it('imports the text of the chosen file', async () => {
    const user = userEvent.setup()
    fb = fakeBridge(
      { 'license.get': () => ({ state: 'missing', usersSeen: 0, overLimit: false }), 'license.import': (p) => ({ state: 'valid', customer: 'Acme', usersSeen: 3, maxUsers: 50, overLimit: false, allowedSystems: ['jira', 'sandbox'], echo: p.license }) },
      { OpenTextFile: async () => 'LICENSE-TEXT' },
    )
    wrap(<LicensePage />)
    expect(await screen.findByText('No license (evaluation)')).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Import license file…' }))
    expect(await screen.findByText('Acme')).toBeInTheDocument()
    expect(fb.calls.find((c) => c.method === 'license.import')?.params).toEqual({ license: 'LICENSE-TEXT' })
    expect(screen.getByTestId('license')).toHaveTextContent('jira, sandbox')
    expect(screen.getByTestId('license')).toHaveTextContent('3 seen of 50 allowed')
  })

  it('offers no import to an operator', async () => {
    fb = fakeBridge({ 'license.get': () => ({ state: 'valid', usersSeen: 0, overLimit: false }) }, {}, loggedInStatus('operator'))
    wrap(<LicensePage />)
    expect(await screen.findByText('Valid')).toBeInTheDocument()
    expect(screen.queryByRole('button', { name: /Import/ })).toBeNull()
  })
})

describe('SettingsPage', () => {
  it('shows the exact telemetry body and saves only changed settings', async () => {
    const user = userEvent.setup()
    const body = '{"version":"1.2.0","instanceId":"i-1","overLimit":false}'
    fb = fakeBridge({
      'settings.get': () => ({ settings: { origins: [], logLevel: 'info', logRetentionDays: 14, supportRetentionHours: 24, runRetentionDays: 30, runRetentionRuns: 10000, publicUrl: '' } }),
      'settings.set': (p) => ({ settings: { origins: [], logLevel: p.logLevel ?? 'info', logRetentionDays: 14, supportRetentionHours: 24, runRetentionDays: p.runRetentionDays ?? 30, runRetentionRuns: 10000, publicUrl: '' } }),
      'telemetry.get': () => ({ enabled: false, endpoint: 'https://telemetry.example' }),
      'telemetry.preview': () => ({ body }),
      'telemetry.set': (p) => ({ ...p }),
      'notifications.get': () => ({ settings: { enabled: false, events: [], minIntervalMinutes: 5, email: { enabled: false, host: '', port: 587, security: 'starttls', allowSelfSigned: false, username: '', passwordSet: false, from: '', to: [] }, webhooks: [] }, channels: [] }),
    })
    wrap(<SettingsPage />)
    expect(await screen.findByTestId('telemetry-preview')).toHaveTextContent(body)
    await user.selectOptions(await screen.findByLabelText(/Log level/), 'debug')
    const days = screen.getByLabelText(/Keep sync runs for/)
    await user.clear(days)
    await user.type(days, '90')
    await user.click(screen.getByRole('button', { name: 'Save settings' }))
    await waitFor(() => expect(fb!.calls.find((c) => c.method === 'settings.set')?.params).toEqual({ logLevel: 'debug', runRetentionDays: 90 }))
    await user.click(screen.getByLabelText('Send telemetry'))
    await user.click(screen.getByRole('button', { name: 'Save telemetry' }))
    await waitFor(() => expect(fb!.calls.find((c) => c.method === 'telemetry.set')?.params).toEqual({ enabled: true, endpoint: 'https://telemetry.example' }))
  })
})

describe('SettingsPage notifications', () => {
  const stored = {
    settings: {
      enabled: true,
      events: ['parked', 'failing', 'license', 'crash'],
      minIntervalMinutes: 5,
      email: { enabled: true, host: 'smtp.example.com', port: 587, security: 'starttls', allowSelfSigned: false, username: 'lockstep', passwordSet: true, from: 'lockstep@example.com', to: ['ops@example.com'] },
      webhooks: [{ id: 'wh-1', name: 'Slack ops', format: 'slack', enabled: true, urlSet: true, host: 'hooks.slack.com' }],
    },
    channels: [{ channel: 'webhook:wh-1', name: 'Slack ops', lastSentAt: '2026-05-04T10:00:00Z', lastError: 'post to hooks.slack.com: the receiver answered 503', pending: 2 }],
  }
  const base = {
    'settings.get': () => ({ settings: { origins: [], logLevel: 'info', logRetentionDays: 14, supportRetentionHours: 24, publicUrl: '' } }),
    'telemetry.get': () => ({ enabled: false, endpoint: '' }),
    'telemetry.preview': () => ({ body: '{}' }),
  }

  it('keeps stored secrets unless new ones are typed, and adds a webhook', async () => {
    const user = userEvent.setup()
    fb = fakeBridge({ ...base, 'notifications.get': () => stored, 'notifications.set': (p) => ({ settings: { ...p, email: { ...p.email, passwordSet: true } }, channels: [] }) })
    wrap(<SettingsPage />)
    expect(await screen.findByText(/A password is stored/)).toBeInTheDocument()
    expect(screen.getByText(/A URL to hooks.slack.com is stored/)).toBeInTheDocument()
    expect(screen.getByTestId('notify-channels')).toHaveTextContent('2 waiting')
    expect(screen.getByTestId('notify-channels')).toHaveTextContent('answered 503')
    await user.clear(screen.getByLabelText('SMTP server'))
    await user.type(screen.getByLabelText('SMTP server'), 'mx.example')
    await user.click(screen.getByLabelText('The agent restarted after an unclean shutdown'))
    await user.click(screen.getByRole('button', { name: 'Add webhook' }))
    await user.type(screen.getByLabelText('Name of webhook 2'), 'Teams')
    await user.selectOptions(screen.getByLabelText('Format of webhook 2'), 'teams')
    await user.type(screen.getByLabelText('URL of webhook 2'), 'https://t.example/h')
    await user.click(screen.getByRole('button', { name: 'Save notifications' }))
    await waitFor(() => expect(fb!.calls.find((c) => c.method === 'notifications.set')).toBeTruthy())
    const sent = fb.calls.find((c) => c.method === 'notifications.set')!.params
    expect(sent.email).toEqual({ enabled: true, host: 'mx.example', port: 587, security: 'starttls', allowSelfSigned: false, username: 'lockstep', from: 'lockstep@example.com', to: ['ops@example.com'] })
    expect('password' in sent.email).toBe(false)
    expect(sent.events).toEqual(['parked', 'failing', 'license'])
    expect(sent.webhooks).toEqual([
      { id: 'wh-1', name: 'Slack ops', format: 'slack', enabled: true },
      { name: 'Teams', format: 'teams', enabled: true, url: 'https://t.example/h' },
    ])
  })

  it('replaces or removes the password only on purpose', async () => {
    const user = userEvent.setup()
    fb = fakeBridge({ ...base, 'notifications.get': () => stored, 'notifications.set': () => stored })
    wrap(<SettingsPage />)
    await user.type(await screen.findByLabelText('Password'), 's3cret')
    await user.click(screen.getByRole('button', { name: 'Save notifications' }))
    await waitFor(() => expect(fb!.calls.filter((c) => c.method === 'notifications.set')).toHaveLength(1))
    expect(fb.calls.filter((c) => c.method === 'notifications.set')[0].params.email.password).toBe('s3cret')
    await user.click(screen.getByLabelText('Remove the stored password'))
    await user.click(screen.getByRole('button', { name: 'Save notifications' }))
    await waitFor(() => expect(fb!.calls.filter((c) => c.method === 'notifications.set')).toHaveLength(2))
    expect(fb.calls.filter((c) => c.method === 'notifications.set')[1].params.email.password).toBe('')
  })

  it('shows the agent’s refusal at the field it names', async () => {
    const user = userEvent.setup()
    fb = fakeBridge({
      ...base,
      'notifications.get': () => stored,
      'notifications.set': () => {
        throw { kind: 'invalid', message: 'email.security: none (no encryption) is only allowed to a relay on this machine (localhost); use starttls or tls', field: 'email.security' }
      },
    })
    wrap(<SettingsPage />)
    await user.selectOptions(await screen.findByLabelText('Security'), 'none')
    await user.click(screen.getByRole('button', { name: 'Save notifications' }))
    const security = screen.getByLabelText('Security')
    await waitFor(() => expect(security).toHaveAttribute('aria-invalid', 'true'))
    expect(screen.getAllByText(/only allowed to a relay on this machine/).length).toBeGreaterThan(0)
  })

  it('sends a test message and shows what each channel did', async () => {
    const user = userEvent.setup()
    fb = fakeBridge({
      ...base,
      'notifications.get': () => stored,
      'notifications.test': () => ({
        results: [
          { channel: 'email', name: 'Email to ops@example.com', ok: true },
          { channel: 'webhook:wh-1', name: 'Slack ops', ok: false, error: 'post to hooks.slack.com: the receiver answered 404 Not Found' },
        ],
      }),
    })
    wrap(<SettingsPage />)
    await user.click(await screen.findByRole('button', { name: 'Send a test message' }))
    const results = await screen.findByTestId('notify-test-results')
    expect(results).toHaveTextContent('Email to ops@example.com: sent')
    expect(results).toHaveTextContent('Slack ops: failed: post to hooks.slack.com: the receiver answered 404 Not Found')
    expect(fb.calls.find((c) => c.method === 'notifications.test')?.params).toEqual({})
  })
})

describe('AccountsPage', () => {
  const accounts = [
    { id: '1', username: 'ann', role: 'admin', createdAt: '', locked: false },
    { id: '2', username: 'bob', role: 'viewer', createdAt: '', locked: true },
  ]
  it('protects the own account and changes another one’s role', async () => {
    const user = userEvent.setup()
    fb = fakeBridge({ 'accounts.list': () => ({ accounts }), 'accounts.update': () => ({ account: accounts[1] }) })
    wrap(<AccountsPage />)
    expect(await screen.findByRole('button', { name: 'Delete ann' })).toBeDisabled()
    expect(screen.getByRole('combobox', { name: 'Role of ann' })).toBeDisabled()
    await user.selectOptions(screen.getByRole('combobox', { name: 'Role of bob' }), 'operator')
    await waitFor(() => expect(fb!.calls.find((c) => c.method === 'accounts.update')?.params).toEqual({ id: '2', role: 'operator' }))
    expect(screen.getByRole('button', { name: 'Unlock bob' })).toBeInTheDocument()
  })

  it('creates an account with a long enough password', async () => {
    const user = userEvent.setup()
    fb = fakeBridge({ 'accounts.list': () => ({ accounts }), 'accounts.create': (p) => ({ account: { ...p, id: '3' } }) })
    wrap(<AccountsPage />)
    await user.click(await screen.findByRole('button', { name: 'Add account' }))
    const dialog = screen.getByRole('dialog')
    await user.type(within(dialog).getByLabelText(/Username/), 'carol')
    await user.type(within(dialog).getByLabelText(/Password/), 'short')
    expect(within(dialog).getByRole('button', { name: 'Create account' })).toBeDisabled()
    await user.type(within(dialog).getByLabelText(/Password/), '-but-now-long')
    await user.selectOptions(within(dialog).getByLabelText(/Role/), 'operator')
    await user.click(within(dialog).getByRole('button', { name: 'Create account' }))
    await waitFor(() => expect(fb!.calls.find((c) => c.method === 'accounts.create')?.params).toEqual({ username: 'carol', password: 'short-but-now-long', role: 'operator' }))
  })
})

describe('AuditPage', () => {
  it('shows each change as field: old → new, secrets redacted, with no JSON', async () => {
    fb = fakeBridge({
      'audit.list': () => ({
        records: [
          {
            seq: 9,
            time: '2030-01-01T00:00:00Z',
            actor: 'ann',
            action: 'systems.update',
            target: 'system:abc (Jira)',
            result: 'success',
            diff: [
              { field: 'name', before: 'Jira', after: 'Jira prod' },
              { field: 'secrets.apiToken', before: '[redacted]', after: '[redacted]' },
            ],
          },
          { seq: 8, time: '2030-01-01T00:00:00Z', actor: 'ann', action: 'processes.create', target: 'process:p1', result: 'success', diff: [{ field: 'a', after: '{"project":"SUP","system":"s1"}' }] },
        ],
        cursor: '',
      }),
    })
    wrap(<AuditPage />)
    const rows = await screen.findAllByRole('row')
    const update = rows.find((r) => r.textContent?.includes('systems.update'))!
    const lines = within(update).getAllByRole('listitem').map((li) => li.textContent)
    expect(lines).toEqual(['name: Jira → Jira prod', 'secrets.apiToken: [redacted] → [redacted]'])
    const create = rows.find((r) => r.textContent?.includes('processes.create'))!
    expect(within(create).getByRole('listitem')).toHaveTextContent('a: {project: SUP, system: s1}')
    for (const r of rows) expect(r.textContent).not.toMatch(/[\\"]/)
  })

  it('names a target without a name by its kind, shows the result with the action and keeps a moment on one line', async () => {
    fb = fakeBridge({
      'audit.list': () => ({
        records: [
          { seq: 12, time: '2030-01-01T00:00:00Z', actor: 'ann', action: 'support.create', target: 'support:0c31053e49fa8abfd6c01011dd0cf3cb', result: 'success' },
          { seq: 11, time: '2030-01-01T00:00:00Z', actor: 'eve', action: 'session.login', target: 'eve', result: 'failure' },
        ],
        cursor: '',
      }),
    })
    wrap(<AuditPage />)
    const rows = await screen.findAllByRole('row')
    const support = rows.find((r) => r.textContent?.includes('support.create'))!
    expect(within(support).getByText('0c31053e49fa8abfd6c01011dd0cf3cb').parentElement).toHaveTextContent(/^support 0c31053e49fa8abfd6c01011dd0cf3cb$/)
    expect(within(support).getByText('success')).toHaveClass('badge-good')
    expect(support.querySelector('time.datetime')).toHaveAttribute('dateTime', '2030-01-01T00:00:00Z')
    const login = rows.find((r) => r.textContent?.includes('session.login'))!
    expect(within(login).getByText('failure')).toHaveClass('badge-bad')
    expect(screen.queryByRole('columnheader', { name: 'Result' })).not.toBeInTheDocument()
  })

  it('tells how each session ended in words, with its moments, and never as a failure', async () => {
    const facts = { loggedInAt: '2030-01-01T08:00:00Z', lastUsedAt: '2030-01-01T09:10:00Z' }
    fb = fakeBridge({
      'audit.list': () => ({
        records: [
          { seq: 15, time: '2030-01-01T21:00:00Z', actor: 'ann', action: 'session.end', target: 'account:ann', result: 'expired', diff: { session: '00aa00aa00aa00aa', ...facts, lastUsedAt: '2030-01-01T19:55:00Z', endedAt: '2030-01-01T20:00:00Z' } },
          { seq: 14, time: '2030-01-01T10:00:00Z', actor: 'bob', action: 'session.end', target: 'account:bob', result: 'evicted', diff: { session: '11bb11bb11bb11bb', ...facts, endedAt: '2030-01-01T10:00:00Z', by: '22cc22cc22cc22cc' } },
          { seq: 13, time: '2030-01-01T10:00:00Z', actor: 'bob', action: 'session.login', target: 'account:bob', result: 'success', diff: { session: '22cc22cc22cc22cc' } },
          { seq: 12, time: '2030-01-01T09:45:00Z', actor: 'eve', action: 'session.end', target: 'account:eve', result: 'timeout', diff: { session: '33dd33dd33dd33dd', ...facts, endedAt: '2030-01-01T09:40:00Z' } },
        ],
        cursor: '',
      }),
    })
    wrap(<AuditPage />)
    const rows = await screen.findAllByRole('row')
    const row = (seq: number) => rows.find((r) => r.querySelector('td')?.textContent === String(seq))!

    const timeout = row(12)
    expect(timeout).toHaveTextContent('Timed out after 30 minutes without a call.')
    expect(within(timeout).getByText('33dd33dd33dd33dd')).toBeInTheDocument()
    // The end is its deadline, before the record was written (the sweep found it later).
    const moments = [...timeout.querySelectorAll('.audit-change time.datetime')].map((t) => t.getAttribute('dateTime'))
    expect(moments).toEqual(['2030-01-01T08:00:00Z', '2030-01-01T09:10:00Z', '2030-01-01T09:40:00Z'])
    expect(within(timeout).getByText('Ended:')).toBeInTheDocument()
    expect(within(timeout).getByText('timeout')).toHaveClass('badge-neutral')

    const evicted = row(14)
    expect(evicted).toHaveTextContent('Ended by a newer login (session 22cc22cc22cc22cc): the account had as many sessions as it may, and this one was the least recently used.')
    expect(within(evicted).getByText('evicted')).toHaveClass('badge-neutral')
    expect(row(13)).toHaveTextContent('session: 22cc22cc22cc22cc')

    const expired = row(15)
    expect(expired).toHaveTextContent('Expired 12 hours after its login, the longest a session lasts.')
    expect(within(expired).getByText('expired')).toHaveClass('badge-neutral')
    for (const r of rows) expect(r.textContent).not.toMatch(/[{}"\\]|loggedInAt|lastUsedAt|endedAt/)
  })

  it('reads a session end it has no words for by its result', async () => {
    fb = fakeBridge({
      'audit.list': () => ({ records: [{ seq: 3, time: '2030-01-01T10:00:00Z', actor: 'ann', action: 'session.end', target: 'account:ann', result: 'unplugged', diff: { session: '44ee44ee44ee44ee' } }], cursor: '' }),
    })
    wrap(<AuditPage />)
    expect(await screen.findByText('Ended (unplugged).')).toBeInTheDocument()
    expect(screen.getByText('44ee44ee44ee44ee')).toBeInTheDocument()
  })

  it('says what revoked a session', async () => {
    const end = (seq: number, cause: string) => ({ seq, time: '2030-01-01T10:00:00Z', actor: 'ann', action: 'session.end', target: 'account:ann', result: 'revoked', diff: { session: `55ff55ff55ff55f${seq}`, cause } })
    fb = fakeBridge({
      'audit.list': () => ({ records: [end(4, 'account locked'), end(3, 'locked out after failed logins'), end(2, 'password changed'), end(1, 'account deleted'), end(0, 'moon phase')], cursor: '' }),
    })
    wrap(<AuditPage />)
    for (const text of [
      'Ended when an administrator locked the account.',
      'Ended when the account was locked out after failed logins.',
      "Ended when the account's password was changed.",
      'Ended when the account was deleted.',
      'Revoked: moon phase.',
    ]) {
      expect(await screen.findByText(text)).toBeInTheDocument()
    }
    for (const b of screen.getAllByText('revoked')) expect(b).toHaveClass('badge-neutral')
  })

  it('lists records, filters by actor and verifies the chain', async () => {
    const user = userEvent.setup()
    fb = fakeBridge({
      'audit.list': (p) => ({ records: [{ seq: 7, time: '2030-01-01T00:00:00Z', actor: p.actor ?? 'ann', action: 'session.login', target: 'ann', result: 'ok' }], cursor: '' }),
      'audit.verify': () => ({ ok: true, records: 7 }),
    })
    wrap(<AuditPage />)
    expect(await screen.findByText('session.login')).toBeInTheDocument()
    await user.type(screen.getByLabelText('Actor'), 'bob')
    await user.click(screen.getByRole('button', { name: 'Apply' }))
    await waitFor(() => expect(fb!.calls.filter((c) => c.method === 'audit.list')[1]?.params).toEqual({ actor: 'bob', limit: 100 }))
    await user.click(screen.getByRole('button', { name: 'Verify chain' }))
    expect(await screen.findByText('The audit chain is intact')).toBeInTheDocument()
  })

  it('filters by From and To typed as the app shows a moment, a day alone taking in the whole day', async () => {
    const user = userEvent.setup()
    fb = fakeBridge({ 'audit.list': () => ({ records: [{ seq: 7, time: '2030-01-01T00:00:00Z', actor: 'ann', action: 'session.login', target: 'ann', result: 'ok' }], cursor: '' }) })
    wrap(<AuditPage />)
    await screen.findByText('session.login')
    const from = screen.getByLabelText('From')
    const to = screen.getByLabelText('To')
    // Text inputs in the app's one format, not the browser's date inputs.
    for (const input of [from, to]) {
      expect(input).toHaveAttribute('type', 'text')
      expect(input).toHaveAttribute('placeholder', 'YYYY-MM-DD HH:MM:SS')
      expect(input).toHaveAccessibleDescription(/Year first, as the table shows a time: 2027-01-05 05:46:23/)
    }
    await user.type(from, '2030-01-01 08:15')
    await user.type(to, '2030-01-02')
    await user.click(screen.getByRole('button', { name: 'Apply' }))
    await waitFor(() =>
      expect(fb!.calls.filter((c) => c.method === 'audit.list')[1]?.params).toEqual({
        since: new Date(2030, 0, 1, 8, 15, 0).toISOString(),
        until: new Date(2030, 0, 2, 23, 59, 59, 999).toISOString(),
        limit: 100,
      }),
    )
  })

  it('says what is wrong with a From or To it cannot read, at the field, and asks the agent nothing', async () => {
    const user = userEvent.setup()
    fb = fakeBridge({ 'audit.list': () => ({ records: [], cursor: '' }) })
    wrap(<AuditPage />)
    await screen.findByText('No audit records match')
    const lists = () => fb!.calls.filter((c) => c.method === 'audit.list').length
    const from = screen.getByLabelText('From')
    const to = screen.getByLabelText('To')
    await user.type(from, '01/05/2030')
    await user.type(to, '2030-02-30')
    await user.click(screen.getByRole('button', { name: 'Apply' }))
    expect(from).toHaveAttribute('aria-invalid', 'true')
    expect(from).toHaveAccessibleDescription(/"01\/05\/2030" puts the day or month first\. Write it as 2027-01-05 05:46:23/)
    expect(to).toHaveAccessibleDescription(/2030-02-30 does not exist: February 2030 has 28 days\./)
    expect(lists()).toBe(1)

    // Typing takes the field's problem away; a To before its From is one too.
    await user.clear(from)
    expect(from).not.toHaveAttribute('aria-invalid')
    await user.type(from, '2030-03-01 10:00:00')
    await user.clear(to)
    await user.type(to, '2030-02-28')
    await user.click(screen.getByRole('button', { name: 'Apply' }))
    expect(from).not.toHaveAttribute('aria-invalid')
    expect(to).toHaveAccessibleDescription(/To is before From \(2030-03-01 10:00:00\): no record could match\./)
    expect(lists()).toBe(1)

    await user.click(screen.getByRole('button', { name: 'Reset' }))
    expect(from).toHaveValue('')
    expect(to).not.toHaveAttribute('aria-invalid')
  })
})

describe('SettingsPage metrics token', () => {
  const token = 'prometheus-scrape-0123456789abcdef'
  function agentWith(set: boolean) {
    let isSet = set
    const settings = () => ({ origins: [], logLevel: 'info', logRetentionDays: 14, supportRetentionHours: 24, runRetentionDays: 30, runRetentionRuns: 10000, publicUrl: '', metricsToken: { set: isSet } })
    fb = fakeBridge({
      'settings.get': () => ({ settings: settings() }),
      'settings.set': (p) => {
        if (p.metricsToken !== undefined) isSet = p.metricsToken !== ''
        return { settings: settings() }
      },
      'telemetry.get': () => ({ enabled: false, endpoint: '' }),
      'telemetry.preview': () => ({ body: '{}' }),
      'notifications.get': () => ({ settings: { enabled: false, events: [], minIntervalMinutes: 5, email: { enabled: false, host: '', port: 587, security: 'starttls', allowSelfSigned: false, username: '', passwordSet: false, from: '', to: [] }, webhooks: [] }, channels: [] }),
    })
    wrap(<SettingsPage />)
  }
  const sets = () => fb!.calls.filter((c) => c.method === 'settings.set').map((c) => c.params)

  it('sets a token write-only, naming what is wrong with one at its field before sending', async () => {
    const user = userEvent.setup()
    agentWith(false)
    const input = await screen.findByLabelText(/^Metrics token/)
    expect(screen.getByText('not set')).toBeInTheDocument()
    expect(input).toHaveAttribute('type', 'password')
    expect(input).toHaveValue('')

    await user.type(input, 'short')
    await user.click(screen.getByRole('button', { name: 'Save settings' }))
    expect(input).toHaveAttribute('aria-invalid', 'true')
    expect(input).toHaveAccessibleDescription(/It is too short: it needs at least 16 characters and has 5/)
    await user.clear(input)
    await user.type(input, 'has a space in it here')
    await user.click(screen.getByRole('button', { name: 'Save settings' }))
    expect(input).toHaveAccessibleDescription(/must not contain spaces or control characters/)
    expect(sets()).toEqual([])

    await user.clear(input)
    await user.type(input, token)
    expect(input).not.toHaveAttribute('aria-invalid')
    await user.click(screen.getByRole('button', { name: 'Save settings' }))
    await waitFor(() => expect(sets()).toEqual([{ metricsToken: token }]))
    // Saved: the agent says "set", and the page holds the token nowhere.
    expect(await screen.findByText('set')).toBeInTheDocument()
    expect(screen.queryByLabelText(/^Metrics token/)).toBeNull()
    expect(document.body.innerHTML).not.toContain(token)
    // Saving other settings sends no token.
    await user.selectOptions(screen.getByLabelText(/Log level/), 'warn')
    await user.click(screen.getByRole('button', { name: 'Save settings' }))
    await waitFor(() => expect(sets()).toHaveLength(2))
    expect(sets()[1]).toEqual({ logLevel: 'warn' })
  })

  it('replaces and clears a token that is set, and shows the agent\'s objection at the field', async () => {
    const user = userEvent.setup()
    agentWith(true)
    await user.click(await screen.findByRole('button', { name: 'Replace Metrics token' }))
    await user.type(screen.getByLabelText(/^Metrics token/), `${token}-rotated`)
    fb!.on('settings.set', () => {
      throw { kind: 'invalid', message: 'metricsToken: is longer than 1024 bytes (it has 2000)', field: 'metricsToken' }
    })
    await user.click(screen.getByRole('button', { name: 'Save settings' }))
    await waitFor(() => expect(screen.getByLabelText(/^Metrics token/)).toHaveAccessibleDescription(/is longer than 1024 bytes/))
    expect(screen.queryByText('Settings not saved')).toBeNull()
    expect(sets()).toEqual([{ metricsToken: `${token}-rotated` }])

    await user.click(screen.getByRole('button', { name: 'Keep the current Metrics token' }))
    await user.click(screen.getByRole('button', { name: 'Clear Metrics token' }))
    expect(screen.getByText('will be cleared')).toBeInTheDocument()
    fb!.on('settings.set', () => ({ settings: { origins: [], logLevel: 'info', logRetentionDays: 14, supportRetentionHours: 24, runRetentionDays: 30, runRetentionRuns: 10000, publicUrl: '', metricsToken: { set: false } } }))
    await user.click(screen.getByRole('button', { name: 'Save settings' }))
    await waitFor(() => expect(sets()[1]).toEqual({ metricsToken: '' }))
    expect(await screen.findByText('not set')).toBeInTheDocument()
  })

  it('counts as the agent does', () => {
    expect(metricsTokenProblem('0123456789abcdef')).toBeNull()
    expect(metricsTokenProblem('é'.repeat(16))).toBeNull()
    expect(metricsTokenProblem('é'.repeat(15))).toMatch(/has 15/)
    expect(metricsTokenProblem('x'.repeat(1025))).toBe('It is longer than 1024 bytes (it has 1025).')
    expect(metricsTokenProblem('é'.repeat(513))).toBe('It is longer than 1024 bytes (it has 1026).')
    expect(metricsTokenProblem(`${'a'.repeat(16)}\t`)).toMatch(/control characters/)
    expect(metricsTokenProblem(`${'a'.repeat(16)}\u007f`)).toMatch(/control characters/)
  })
})
