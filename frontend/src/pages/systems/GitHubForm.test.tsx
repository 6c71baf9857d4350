import { render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it } from 'vitest'
import { ConnectionProvider } from '../../state/session'
import { fakeBridge, loggedInStatus, type FakeBridge } from '../../test/fakeBridge'
import { SystemsPage } from './SystemsPage'
import { githubKind } from './testdata/githubKind'

// The GitHub system form, generated from the kind exactly as the agent
// serves it (the fixture is checked against the connector's spec by a Go
// test).

let fb: FakeBridge | undefined
afterEach(() => {
  fb?.restore()
  fb = undefined
})

function setup(create: (p: any) => unknown) {
  fb = fakeBridge(
    {
      'systems.kinds': () => ({ kinds: [githubKind] }),
      'systems.list': () => ({ systems: [] }),
      'systems.create': create,
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

async function openForm(user: ReturnType<typeof userEvent.setup>) {
  await user.click((await screen.findAllByRole('button', { name: 'Add system' }))[0])
  await user.click(screen.getByRole('button', { name: 'Continue' }))
  return screen.getByRole('form', { name: 'GitHub system' })
}

describe('the GitHub system form', () => {
  it('offers the settings of the GitHub kind and sends them', async () => {
    const user = userEvent.setup()
    let sent: any
    setup((p) => {
      sent = p
      return { system: { ...p, id: 'gh1', secrets: { token: { set: true } }, createdAt: '', updatedAt: '' } }
    })
    const form = await openForm(user)
    const attachments = within(form).getByLabelText(/^Attachments from the other side/) as HTMLSelectElement
    expect(Array.from(attachments.options).map((o) => o.value).filter(Boolean)).toEqual(['comment', 'skip'])
    expect(attachments.value).toBe('comment')
    expect(within(form).getByLabelText(/^Writes per minute/)).toHaveValue(60)
    expect(within(form).getByLabelText(/^New issues and comments per hour/)).toHaveValue(500)
    const token = within(form).getByLabelText(/^Token/)
    expect(token).toHaveAttribute('type', 'password')

    await user.type(within(form).getByLabelText(/^Name/), 'GitHub acme')
    await user.type(within(form).getByLabelText(/^URL/), 'https://api.github.com')
    await user.type(within(form).getByLabelText(/^Owner/), 'acme')
    await user.type(within(form).getByLabelText(/^Repository/), 'widgets')
    await user.type(token, 'github_pat_0123456789')
    await user.selectOptions(attachments, 'skip')
    await user.click(within(form).getByRole('button', { name: 'Create system' }))

    await waitFor(() => expect(sent).toBeDefined())
    expect(sent.kind).toBe('github')
    expect(sent.settings).toMatchObject({ owner: 'acme', repository: 'widgets', attachments: 'skip', writesPerMinute: 60, contentPerHour: 500 })
    expect(sent.secrets).toEqual({ token: 'github_pat_0123456789' })
  })

  it("shows each of the agent's refusals at the GitHub field it names", async () => {
    const user = userEvent.setup()
    setup(() => {
      throw {
        kind: 'invalid',
        message: 'settings.owner: must be an organization or user name, not "acme/widgets"',
        field: 'settings.owner',
        issues: [
          { field: 'settings.owner', message: 'must be an organization or user name, not "acme/widgets"' },
          { field: 'settings.writesPerMinute', message: 'must be a whole number >= 0' },
          { field: 'secrets.token', message: 'is required' },
        ],
      }
    })
    const form = await openForm(user)
    await user.type(within(form).getByLabelText(/^Name/), 'GitHub acme')
    await user.type(within(form).getByLabelText(/^URL/), 'https://api.github.com')
    await user.type(within(form).getByLabelText(/^Owner/), 'acme/widgets')
    await user.type(within(form).getByLabelText(/^Token/), 'x')
    await user.click(within(form).getByRole('button', { name: 'Create system' }))

    const owner = within(form).getByLabelText(/^Owner/)
    await waitFor(() => expect(owner).toHaveAttribute('aria-invalid', 'true'))
    expect(owner).toHaveAccessibleDescription(/must be an organization or user name, not "acme\/widgets"$/)
    expect(owner).toHaveFocus()
    expect(within(form).getByLabelText(/^Writes per minute/)).toHaveAccessibleDescription(/must be a whole number >= 0$/)
    expect(within(form).getByLabelText(/^Token/)).toHaveAccessibleDescription(/is required$/)
    expect(within(form).getByLabelText(/^Repository/)).not.toHaveAttribute('aria-invalid')
  })
})
