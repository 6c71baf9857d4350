import { render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it } from 'vitest'
import { ConnectionProvider } from '../../state/session'
import { fakeBridge, loggedInStatus, type FakeBridge } from '../../test/fakeBridge'
import { SystemsPage } from './SystemsPage'
import gitlabJSON from './testdata/gitlab.kind.json'
import type { Kind, System } from '../../api/generated/types'

// The system form of the GitLab kind, generated from the schema the agent
// sends (the Go test TestDesktopKindFixture keeps this copy equal to the
// connector's spec).
const gitlabKind = gitlabJSON as Kind

let fb: FakeBridge | undefined
afterEach(() => {
  fb?.restore()
  fb = undefined
})

function setup() {
  fb = fakeBridge(
    {
      'systems.kinds': () => ({ kinds: [gitlabKind] }),
      'systems.list': () => ({ systems: [] as System[] }),
      'systems.create': (p) => ({ system: { ...p, id: 'new', secrets: {}, createdAt: '', updatedAt: '' } }),
    },
    {},
    loggedInStatus('admin'),
  )
  render(
    <ConnectionProvider>
      <SystemsPage />
    </ConnectionProvider>,
  )
}

async function openForm() {
  const user = userEvent.setup()
  await user.click((await screen.findAllByRole('button', { name: 'Add system' }))[0])
  await user.click(screen.getByRole('button', { name: 'Continue' }))
  return { user, form: screen.getByRole('form', { name: 'GitLab system' }) }
}

describe('the GitLab system form', () => {
  it('asks for the token as a write-only secret and the default project, and creates the system', async () => {
    setup()
    const { user, form } = await openForm()
    const token = within(form).getByLabelText(/^Access token/)
    expect(token).toHaveAttribute('type', 'password')
    expect(token).toHaveAccessibleDescription(/api scope/)
    expect(within(form).getByLabelText(/^Default project/)).toHaveAccessibleDescription(/numeric id or its path/)

    await user.type(within(form).getByLabelText(/^Name/), 'Engineering')
    await user.type(within(form).getByLabelText(/^URL/), 'https://gitlab.example.com')
    await user.click(within(form).getByRole('button', { name: 'Create system' }))
    expect(within(form).getByText('Access token is required.')).toBeInTheDocument()
    expect(fb!.calls.some((c) => c.method === 'systems.create')).toBe(false)

    await user.type(token, 'glpat-0123456789')
    await user.type(within(form).getByLabelText(/^Default project/), 'acme/engineering')
    await user.click(within(form).getByRole('button', { name: 'Create system' }))
    await waitFor(() => expect(fb!.calls.find((c) => c.method === 'systems.create')).toBeDefined())
    expect(fb!.calls.find((c) => c.method === 'systems.create')!.params).toEqual({
      name: 'Engineering',
      kind: 'gitlab',
      url: 'https://gitlab.example.com',
      settings: { project: 'acme/engineering', allowSelfSigned: false, requestsPerMinute: 0 },
      secrets: { token: 'glpat-0123456789' },
    })
  })

  it("shows the agent's errors at the GitLab fields they name", async () => {
    setup()
    fb!.on('systems.create', () => {
      throw {
        kind: 'invalid',
        message: 'settings.project: must be a project id or path',
        field: 'settings.project',
        issues: [
          { field: 'settings.project', message: 'must be a project id or path' },
          { field: 'secrets.token', message: 'is longer than 16 KiB' },
        ],
      }
    })
    const { user, form } = await openForm()
    await user.type(within(form).getByLabelText(/^Name/), 'Engineering')
    await user.type(within(form).getByLabelText(/^URL/), 'https://gitlab.example.com')
    await user.type(within(form).getByLabelText(/^Access token/), 'x')
    await user.type(within(form).getByLabelText(/^Default project/), 'no such thing')
    await user.click(within(form).getByRole('button', { name: 'Create system' }))

    const project = within(form).getByLabelText(/^Default project/)
    await waitFor(() => expect(project).toHaveAttribute('aria-invalid', 'true'))
    expect(project).toHaveAccessibleDescription(/must be a project id or path/)
    expect(project).toHaveFocus()
    expect(within(form).getByLabelText(/^Access token/)).toHaveAccessibleDescription(/is longer than 16 KiB/)
    expect(within(form).getByLabelText(/^Name/)).not.toHaveAttribute('aria-invalid')
  })
})
