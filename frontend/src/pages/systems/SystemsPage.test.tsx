import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it } from 'vitest'
import { ConnectionProvider } from '../../state/session'
import { fakeBridge, loggedInStatus, type FakeBridge } from '../../test/fakeBridge'
import { NotifyProvider, formatDate } from '../../ui'
import { SystemsPage } from './SystemsPage'
import type { Kind, System } from '../../api/generated/types'

const jira: Kind = {
  kind: 'jira',
  title: 'Jira',
  fields: [
    { name: 'deployment', label: 'Deployment', type: 'select', options: ['cloud', 'server'], required: true, secret: false, default: 'cloud' },
    { name: 'email', label: 'Account email', type: 'string', required: false, secret: false, help: 'The account the token belongs to.' },
    { name: 'apiToken', label: 'API token', type: 'secret', required: true, secret: true },
    { name: 'allowSelfSigned', label: 'Allow a self-signed certificate', type: 'bool', required: false, secret: false, default: false },
    { name: 'requestsPerMinute', label: 'Requests per minute', type: 'int', required: false, secret: false, default: 0 },
  ],
}
const existing: System = {
  id: 'sys1',
  name: 'Jira prod',
  kind: 'jira',
  url: 'https://jira.example',
  settings: { deployment: 'server', email: 'bot@example.com', allowSelfSigned: true, requestsPerMinute: 100 },
  secrets: { apiToken: { set: true } },
  createdAt: '',
  updatedAt: '',
}

let fb: FakeBridge | undefined
afterEach(() => {
  fb?.restore()
  fb = undefined
})

function setup(role = 'admin', systems: System[] = [existing]) {
  fb = fakeBridge(
    {
      'systems.kinds': () => ({ kinds: [jira] }),
      'systems.list': () => ({ systems }),
      'systems.create': (p) => ({ system: { ...existing, ...p, id: 'new' } }),
      'systems.update': () => ({ system: existing }),
      'systems.test': () => ({ ok: true, message: 'authenticated as bot', latencyMs: 87 }),
    },
    {},
    loggedInStatus(role),
  )
  render(
    <ConnectionProvider>
      <SystemsPage />
    </ConnectionProvider>,
  )
}

describe('SystemsPage', () => {
  it('generates the form from the kind schema and creates a system', async () => {
    const user = userEvent.setup()
    setup('admin', [])
    await user.click((await screen.findAllByRole('button', { name: 'Add system' }))[0])
    await user.click(screen.getByRole('button', { name: 'Continue' }))
    const form = screen.getByRole('form', { name: 'Jira system' })
    expect(within(form).getByLabelText(/Deployment/)).toHaveValue('cloud')
    expect(within(form).getByLabelText(/Account email/)).toHaveAccessibleDescription('The account the token belongs to.')
    expect(within(form).getByLabelText(/Allow a self-signed/)).not.toBeChecked()
    expect(within(form).getByLabelText(/Requests per minute/)).toHaveAttribute('type', 'number')
    const token = within(form).getByLabelText(/^API token/)
    expect(token).toHaveAttribute('type', 'password')

    await user.click(within(form).getByRole('button', { name: 'Create system' }))
    expect(within(form).getByText('A name is required.')).toBeInTheDocument()
    expect(within(form).getByText('API token is required.')).toBeInTheDocument()
    expect(fb!.calls.some((c) => c.method === 'systems.create')).toBe(false)

    await user.type(within(form).getByLabelText(/^Name/), 'Jira cloud')
    await user.type(within(form).getByLabelText(/^URL/), 'https://acme.atlassian.net')
    await user.selectOptions(within(form).getByLabelText(/Deployment/), 'server')
    await user.type(token, 's3cret-token')
    await user.click(within(form).getByRole('button', { name: 'Create system' }))
    await waitFor(() => expect(fb!.calls.find((c) => c.method === 'systems.create')).toBeDefined())
    expect(fb!.calls.find((c) => c.method === 'systems.create')!.params).toEqual({
      name: 'Jira cloud',
      kind: 'jira',
      url: 'https://acme.atlassian.net',
      settings: { deployment: 'server', email: '', allowSelfSigned: false, requestsPerMinute: 0 },
      secrets: { apiToken: 's3cret-token' },
    })
  })

  it('never echoes a secret: edit shows set/unset and sends only a replacement', async () => {
    const user = userEvent.setup()
    setup()
    await user.click(await screen.findByRole('button', { name: 'Edit Jira prod' }))
    const dialog = screen.getByRole('dialog')
    expect(within(dialog).getByText('set')).toBeInTheDocument()
    // No input holds any secret-looking value; settings are prefilled.
    expect(dialog.querySelector('input[type=password]')).toBeNull()
    expect(within(dialog).getByLabelText(/Account email/)).toHaveValue('bot@example.com')
    for (const input of within(dialog).queryAllByDisplayValue(/./)) expect(input).not.toHaveAttribute('type', 'password')

    // Saving without touching the secret omits it (the agent keeps it).
    await user.click(within(dialog).getByRole('button', { name: 'Save changes' }))
    await waitFor(() => expect(fb!.calls.find((c) => c.method === 'systems.update')).toBeDefined())
    expect(fb!.calls.find((c) => c.method === 'systems.update')!.params).toEqual({
      id: 'sys1',
      settings: { deployment: 'server', email: 'bot@example.com', allowSelfSigned: true, requestsPerMinute: 100 },
    })
  })

  it('replaces a secret starting from an empty input', async () => {
    const user = userEvent.setup()
    setup()
    await user.click(await screen.findByRole('button', { name: 'Edit Jira prod' }))
    const dialog = screen.getByRole('dialog')
    await user.click(within(dialog).getByRole('button', { name: 'Replace API token' }))
    const input = within(dialog).getByLabelText(/^API token/)
    expect(input).toHaveValue('')
    expect(input).toHaveAttribute('type', 'password')
    await user.type(input, 'rotated')
    await user.click(within(dialog).getByRole('button', { name: 'Save changes' }))
    await waitFor(() => expect(fb!.calls.find((c) => c.method === 'systems.update')).toBeDefined())
    expect(fb!.calls.find((c) => c.method === 'systems.update')!.params.secrets).toEqual({ apiToken: 'rotated' })
  })

  it('clears an optional secret by sending an empty value', async () => {
    const user = userEvent.setup()
    const optional: Kind = { ...jira, fields: (jira.fields ?? []).map((f) => (f.name === 'apiToken' ? { ...f, required: false } : f)) }
    setup()
    fb!.on('systems.kinds', () => ({ kinds: [optional] }))
    cleanupAndRender()
    await user.click(await screen.findByRole('button', { name: 'Edit Jira prod' }))
    const dialog = screen.getByRole('dialog')
    await user.click(within(dialog).getByRole('button', { name: 'Clear API token' }))
    expect(within(dialog).getByText('will be cleared')).toBeInTheDocument()
    await user.click(within(dialog).getByRole('button', { name: 'Save changes' }))
    await waitFor(() => expect(fb!.calls.find((c) => c.method === 'systems.update')).toBeDefined())
    expect(fb!.calls.find((c) => c.method === 'systems.update')!.params.secrets).toEqual({ apiToken: '' })
  })

  it("shows the agent's field error at the field it names and focuses it", async () => {
    const user = userEvent.setup()
    setup()
    fb!.on('systems.update', () => {
      throw { kind: 'invalid', message: 'url: must not contain credentials; use the secret fields', field: 'url' }
    })
    await user.click(await screen.findByRole('button', { name: 'Edit Jira prod' }))
    const dialog = screen.getByRole('dialog')
    const url = within(dialog).getByLabelText(/^URL/)
    await user.clear(url)
    await user.type(url, 'https://bot:pw@jira.example')
    await user.click(within(dialog).getByRole('button', { name: 'Save changes' }))

    await waitFor(() => expect(url).toHaveAttribute('aria-invalid', 'true'))
    expect(url).toHaveAccessibleDescription(/must not contain credentials; use the secret fields$/)
    expect(url).toHaveFocus()
    expect(within(dialog).getByLabelText(/^Name/)).not.toHaveAttribute('aria-invalid')
    expect(within(dialog).getByText('Fix the marked fields and save again.')).toBeInTheDocument()
  })

  it('places each of several issues at its setting or secret, and lists what has no field', async () => {
    const user = userEvent.setup()
    setup('admin', [])
    fb!.on('systems.create', () => {
      throw {
        kind: 'invalid',
        message: 'settings.requestsPerMinute: must be a whole number >= 0',
        field: 'settings.requestsPerMinute',
        issues: [
          { field: 'settings.requestsPerMinute', message: 'must be a whole number >= 0' },
          { field: 'secrets.apiToken', message: 'is longer than 16 KiB' },
          { field: 'kind', message: '"jira" is not a known system kind' },
        ],
      }
    })
    await user.click((await screen.findAllByRole('button', { name: 'Add system' }))[0])
    await user.click(screen.getByRole('button', { name: 'Continue' }))
    const form = screen.getByRole('form', { name: 'Jira system' })
    await user.type(within(form).getByLabelText(/^Name/), 'Jira cloud')
    await user.type(within(form).getByLabelText(/^URL/), 'https://acme.atlassian.net')
    await user.type(within(form).getByLabelText(/^API token/), 'x')
    await user.click(within(form).getByRole('button', { name: 'Create system' }))

    const rpm = within(form).getByLabelText(/Requests per minute/)
    await waitFor(() => expect(rpm).toHaveAccessibleDescription('must be a whole number >= 0'))
    expect(rpm).toHaveFocus()
    expect(within(form).getByLabelText(/^API token/)).toHaveAccessibleDescription('is longer than 16 KiB')
    const alert = within(form).getByText('The agent refused the system').closest('.alert') as HTMLElement
    expect(within(alert).getByRole('listitem')).toHaveTextContent('kind "jira" is not a known system kind')
  })

  it('tests a connection and shows result and latency', async () => {
    setup('operator')
    fireEvent.click(await screen.findByRole('button', { name: 'Test connection to Jira prod' }))
    const cell = await screen.findByTestId('test-result')
    expect(cell).toHaveTextContent('OK')
    expect(cell).toHaveTextContent('87 ms')
    expect(cell).toHaveTextContent('authenticated as bot')
  })

  it("after a fixed token is saved as tested, shows the agent's passing test and health, not the failure shown before", async () => {
    const user = userEvent.setup()
    const refused = { ok: false, message: 'HTTP 401', problem: 'Jira prod refused the credentials.', latencyMs: 40, at: '2027-01-05T05:40:00Z' }
    const failing: System = { ...existing, lastTest: refused, health: { state: 'failing', cause: 'unauthorized', problem: 'Jira prod refused the credentials.' } }
    const passed = { ok: true, message: 'authenticated as bot', latencyMs: 87, at: '2027-01-05T05:46:23Z' }
    let listed = failing
    setup('admin', [])
    fb!.on('systems.list', () => ({ systems: [listed] }))
    // The form's draft (with the new token) passes; the saved token fails.
    fb!.on('systems.test', (p) => (p.secrets ? passed : refused))
    fb!.on('systems.update', () => {
      listed = { ...existing, lastTest: { ...passed, actor: 'admin' }, health: { state: 'ok', checkedAt: passed.at } }
      return { system: listed }
    })
    cleanupAndRender(true)

    await user.click(await screen.findByRole('button', { name: 'Test connection to Jira prod' }))
    await waitFor(() => expect(screen.getByTestId('test-result')).toHaveTextContent('Failed'))
    await user.click(screen.getByRole('button', { name: 'Edit Jira prod' }))
    const dialog = screen.getByRole('dialog')
    await user.click(within(dialog).getByRole('button', { name: 'Replace API token' }))
    await user.type(within(dialog).getByLabelText(/^API token/), 'fixed-token')
    await user.click(within(dialog).getByRole('button', { name: 'Save changes' }))

    expect(await screen.findByText('Saved Jira prod; its connection test passed.')).toBeInTheDocument()
    await waitFor(() => expect(screen.getByTestId('test-result')).toHaveTextContent('OK'))
    expect(screen.getByTestId('test-result')).toHaveTextContent('authenticated as bot')
    expect(screen.getByTestId('test-result')).not.toHaveTextContent('Failed')
    expect(screen.getByText('Healthy')).toBeInTheDocument()
    // The draft tested is what was saved; the form asks for no other test.
    const tests = fb!.calls.filter((c) => c.method === 'systems.test')
    expect(tests.map((c) => c.params)).toEqual([{ id: 'sys1' }, { id: 'sys1', url: existing.url, settings: existing.settings, secrets: { apiToken: 'fixed-token' } }])
    expect(fb!.calls.find((c) => c.method === 'systems.update')!.params.secrets).toEqual({ apiToken: 'fixed-token' })
  })

  it('says a system saved despite its failing test was saved so, by whom and when, and that nobody is notified', async () => {
    const refused = { ok: false, message: 'HTTP 401', problem: 'Jira prod refused the credentials.', latencyMs: 40, at: '2027-01-05T05:40:00Z', actor: 'alice', savedAnyway: true }
    const acknowledged: System = { ...existing, lastTest: refused, health: { state: 'failing', cause: 'test', problem: refused.problem, since: refused.at, checkedAt: refused.at, acknowledged: true } }
    // Since judged by a failing run, newer than the test: the health is the
    // run's, and only the test says it was saved anyway.
    const laterRun: System = { ...existing, id: 'sys2', name: 'Jira test', lastTest: refused, health: { state: 'failing', cause: 'unauthorized', problem: 'Jira test refused the credentials (HTTP 401).' } }
    setup('viewer', [acknowledged, laterRun])
    const rows = await screen.findAllByTestId('test-result')
    const [first, second] = rows.map((r) => r.closest('tr')!)
    expect(within(first).getByText('Failing')).toBeInTheDocument()
    expect(within(first).getByTestId('health-acknowledged')).toHaveTextContent(
      `Saved despite a failing connection test by alice (tested ${formatDate(refused.at)}): no notification is sent for this failure.`,
    )
    expect(within(first).getByTestId('test-result')).not.toHaveTextContent('saved anyway')
    expect(within(second).queryByTestId('health-acknowledged')).toBeNull()
    expect(within(second).getByTestId('test-result')).toHaveTextContent(`Failed · tested ${formatDate(refused.at)} · 40 ms · saved anyway by alice`)
  })

  it('says after "Save anyway" that the system shows as failing and that no notification is sent for it', async () => {
    const user = userEvent.setup()
    const refused = { ok: false, message: 'HTTP 401', problem: 'Jira prod refused the credentials.', latencyMs: 40, at: '2027-01-05T05:40:00Z' }
    let listed = existing
    setup('admin', [])
    fb!.on('systems.list', () => ({ systems: [listed] }))
    fb!.on('systems.test', () => refused)
    fb!.on('systems.update', () => {
      listed = { ...existing, lastTest: { ...refused, actor: 'admin', savedAnyway: true }, health: { state: 'failing', cause: 'test', problem: refused.problem, acknowledged: true } }
      return { system: listed }
    })
    cleanupAndRender(true)

    await user.click(await screen.findByRole('button', { name: 'Edit Jira prod' }))
    const dialog = screen.getByRole('dialog')
    await user.click(within(dialog).getByRole('button', { name: 'Replace API token' }))
    await user.type(within(dialog).getByLabelText(/^API token/), 'wrong-token')
    await user.click(within(dialog).getByRole('button', { name: 'Save changes' }))
    await user.click(await within(dialog).findByRole('button', { name: 'Save anyway' }))

    expect(await screen.findByText('Saved Jira prod despite its failing connection test: it shows as failing, and no notification is sent for that failure.')).toBeInTheDocument()
    expect(await screen.findByTestId('health-acknowledged')).toHaveTextContent('Saved despite a failing connection test by admin')
  })

  it('tests a created system again only when the agent did not keep the form\'s test', async () => {
    const user = userEvent.setup()
    setup('admin', [])
    fb!.on('systems.create', (p) => ({ system: { ...existing, ...p, id: 'new', lastTest: { ok: true, message: 'authenticated as bot', latencyMs: 87, at: '2027-01-05T05:46:23Z' } } }))
    cleanupAndRender(true)
    await createThroughForm(user, 'Jira cloud', 'https://acme.atlassian.net')
    expect(await screen.findByText('Created Jira cloud; its connection test passed.')).toBeInTheDocument()
    expect(fb!.calls.filter((c) => c.method === 'systems.test').map((c) => c.params.id)).toEqual([undefined])

    // An agent that kept no test: the new system is tested by its id.
    fb!.on('systems.create', (p) => ({ system: { ...existing, ...p, id: 'new2' } }))
    await createThroughForm(user, 'Jira two', 'https://two.atlassian.net')
    await waitFor(() => expect(fb!.calls.filter((c) => c.method === 'systems.test').map((c) => c.params.id)).toEqual([undefined, undefined, 'new2']))
  })

  it('hides editing from an operator and everything but reading from a viewer', async () => {
    setup('operator')
    expect(await screen.findByText('Jira prod')).toBeInTheDocument()
    expect(screen.queryByRole('button', { name: 'Add system' })).toBeNull()
    expect(screen.queryByRole('button', { name: 'Edit Jira prod' })).toBeNull()
    expect(screen.getByRole('button', { name: 'Test connection to Jira prod' })).toBeInTheDocument()
  })

  it('shows a viewer no actions', async () => {
    setup('viewer')
    expect(await screen.findByText('Jira prod')).toBeInTheDocument()
    expect(screen.queryByRole('button', { name: /Test connection|Edit|Delete|Add system/ })).toBeNull()
  })
})

// createThroughForm adds a Jira system through the form, its token typed.
async function createThroughForm(user: ReturnType<typeof userEvent.setup>, name: string, url: string) {
  await user.click((await screen.findAllByRole('button', { name: 'Add system' }))[0])
  await user.click(screen.getByRole('button', { name: 'Continue' }))
  const form = screen.getByRole('form', { name: 'Jira system' })
  await user.type(within(form).getByLabelText(/^Name/), name)
  await user.type(within(form).getByLabelText(/^URL/), url)
  await user.type(within(form).getByLabelText(/^API token/), 's3cret-token')
  await user.click(within(form).getByRole('button', { name: 'Create system' }))
}

// cleanupAndRender renders the page again, with the app's notices when
// notices is set.
function cleanupAndRender(notices = false) {
  cleanup()
  const page = (
    <ConnectionProvider>
      <SystemsPage />
    </ConnectionProvider>
  )
  render(notices ? <NotifyProvider>{page}</NotifyProvider> : page)
}
