import { render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it } from 'vitest'
import { ConnectionProvider } from '../../state/session'
import { fakeBridge, loggedInStatus, type FakeBridge } from '../../test/fakeBridge'
import { SystemsPage } from './SystemsPage'
import servicenowKind from './testdata/servicenow.kind.json'
import type { Kind } from '../../api/generated/types'

// The ServiceNow kind as the agent describes it (the Go test
// TestDesktopKindFixture keeps this copy equal to the connector's spec):
// the generic form must render it and place the agent's field errors.
const servicenow = servicenowKind as Kind

let fb: FakeBridge | undefined
afterEach(() => {
  fb?.restore()
  fb = undefined
})

async function openForm() {
  const user = userEvent.setup()
  fb = fakeBridge(
    {
      'systems.kinds': () => ({ kinds: [servicenow] }),
      'systems.list': () => ({ systems: [] }),
    },
    {},
    loggedInStatus('admin'),
  )
  render(
    <ConnectionProvider>
      <SystemsPage />
    </ConnectionProvider>,
  )
  await user.click((await screen.findAllByRole('button', { name: 'Add system' }))[0])
  await user.click(screen.getByRole('button', { name: 'Continue' }))
  return { user, form: screen.getByRole('form', { name: 'ServiceNow system' }) }
}

describe('the ServiceNow system form', () => {
  it('is generated from the kind: selects, defaults, and write-only secrets', async () => {
    const { form } = await openForm()
    const auth = within(form).getByLabelText(/^Authentication/)
    expect(auth).toHaveValue('basic')
    expect(within(auth).getAllByRole('option').map((o) => o.textContent)).toEqual(expect.arrayContaining(['basic', 'oauth']))
    expect(within(form).getByLabelText(/^Default table/)).toHaveValue('incident')
    expect(within(form).getByLabelText(/^Comments read from/)).toHaveValue('both')
    expect(within(form).getByLabelText(/^Comments written to/)).toHaveValue('work_notes')
    expect(within(form).getByLabelText(/^Detect new attachments/)).toBeChecked()
    for (const label of [/^Password/, /^OAuth client secret/, /^Webhook secret/]) {
      expect(within(form).getByLabelText(label)).toHaveAttribute('type', 'password')
    }
    expect(within(form).getByLabelText(/^User name/)).toHaveAccessibleDescription(/itil role/)
  })

  it("sends what was typed and shows the agent's errors at the fields they name", async () => {
    const { user, form } = await openForm()
    fb!.on('systems.create', () => {
      throw {
        kind: 'invalid',
        message: 'settings.auth: must be one of basic, oauth',
        field: 'settings.auth',
        issues: [
          { field: 'settings.writeJournal', message: 'must be one of work_notes, comments' },
          { field: 'secrets.clientSecret', message: 'is longer than 16 KiB' },
        ],
      }
    })
    await user.type(within(form).getByLabelText(/^Name/), 'Service desk')
    await user.type(within(form).getByLabelText(/^URL/), 'https://acme.service-now.com')
    await user.selectOptions(within(form).getByLabelText(/^Authentication/), 'oauth')
    await user.type(within(form).getByLabelText(/^OAuth client id/), '3f1a9c0e')
    await user.type(within(form).getByLabelText(/^OAuth client secret/), 'client-secret')
    await user.clear(within(form).getByLabelText(/^Default table/))
    await user.type(within(form).getByLabelText(/^Default table/), 'problem')
    await user.click(within(form).getByRole('button', { name: 'Create system' }))

    await waitFor(() => expect(fb!.calls.find((c) => c.method === 'systems.create')).toBeDefined())
    const sent = fb!.calls.find((c) => c.method === 'systems.create')!.params
    expect(sent).toMatchObject({
      kind: 'servicenow',
      url: 'https://acme.service-now.com',
      settings: { auth: 'oauth', clientId: '3f1a9c0e', table: 'problem', readJournals: 'both', writeJournal: 'work_notes', detectAttachments: true },
      secrets: { clientSecret: 'client-secret' },
    })
    const journal = within(form).getByLabelText(/^Comments written to/)
    await waitFor(() => expect(journal).toHaveAccessibleDescription(/must be one of work_notes, comments$/))
    expect(journal).toHaveAttribute('aria-invalid', 'true')
    expect(within(form).getByLabelText(/^OAuth client secret/)).toHaveAccessibleDescription(/is longer than 16 KiB$/)
    expect(within(form).getByLabelText(/^Default table/)).not.toHaveAttribute('aria-invalid')
  })
})
