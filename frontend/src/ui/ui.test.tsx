import { useRef, useState } from 'react'
import { act, fireEvent, render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { Button, ConfirmDialog, Dialog, Field, HealthNote, NotifyProvider, Table, formatDate, savedAnywayText, useNotify } from '.'
import { count, formatBytes, formatDuration, formatFingerprint, formatLicenseState, licenseTone } from './format'

describe('Field', () => {
  it('labels its control and ties help and error text to it', () => {
    render(
      <Field label="Name" help="Shown in lists" error="A name is required" required>
        <input />
      </Field>,
    )
    const input = screen.getByLabelText(/Name/)
    expect(input).toHaveAttribute('aria-invalid', 'true')
    expect(input).toHaveAccessibleDescription('Shown in lists A name is required')
    expect(screen.getByRole('alert')).toHaveTextContent('A name is required')
  })
})

describe('Button', () => {
  it('is a real button that is disabled while busy', () => {
    const onClick = vi.fn()
    render(<Button busy onClick={onClick}>Save</Button>)
    const b = screen.getByRole('button', { name: 'Save' })
    expect(b).toHaveAttribute('type', 'button')
    expect(b).toBeDisabled()
    fireEvent.click(b)
    expect(onClick).not.toHaveBeenCalled()
  })
})

describe('Table', () => {
  it('renders rows, or the empty state when there are none', () => {
    const cols = [{ key: 'name', header: 'Name' }]
    const { rerender } = render(<Table columns={cols} rows={[{ name: 'a' }]} rowKey={(r) => r.name} empty={<p>Nothing yet</p>} />)
    expect(screen.getByRole('cell', { name: 'a' })).toBeInTheDocument()
    rerender(<Table columns={cols} rows={[]} rowKey={(r: { name: string }) => r.name} empty={<p>Nothing yet</p>} />)
    expect(screen.getByText('Nothing yet')).toBeInTheDocument()
    expect(screen.queryByRole('table')).toBeNull()
  })
})

describe('Dialog', () => {
  it('moves focus in, closes on Escape and gives focus back', async () => {
    const user = userEvent.setup()
    function Harness() {
      const [open, setOpen] = useStateBool()
      return (
        <>
          <button onClick={() => setOpen(true)}>Open</button>
          <Dialog open={open} title="Edit" onClose={() => setOpen(false)}>
            <input aria-label="first" data-autofocus />
          </Dialog>
        </>
      )
    }
    render(<Harness />)
    const opener = screen.getByRole('button', { name: 'Open' })
    await user.click(opener)
    expect(screen.getByRole('dialog', { name: 'Edit' })).toBeInTheDocument()
    expect(screen.getByLabelText('first')).toHaveFocus()
    await user.keyboard('{Escape}')
    expect(screen.queryByRole('dialog')).toBeNull()
    expect(opener).toHaveFocus()
  })

  it('ConfirmDialog focuses Cancel first and confirms on click', async () => {
    const user = userEvent.setup()
    const onConfirm = vi.fn()
    render(<ConfirmDialog open title="Delete system" message="Really?" danger confirmLabel="Delete" onConfirm={onConfirm} onCancel={() => {}} />)
    expect(screen.getByRole('button', { name: 'Cancel' })).toHaveFocus()
    await user.click(screen.getByRole('button', { name: 'Delete' }))
    expect(onConfirm).toHaveBeenCalledOnce()
  })
})

describe('notify', () => {
  it('shows a notice and lets it be dismissed', async () => {
    function Sender() {
      const notify = useNotify()
      return <button onClick={() => notify('error', 'Could not save')}>Send</button>
    }
    render(
      <NotifyProvider>
        <Sender />
      </NotifyProvider>,
    )
    fireEvent.click(screen.getByRole('button', { name: 'Send' }))
    expect(screen.getByText('Could not save')).toBeInTheDocument()
    fireEvent.click(screen.getByRole('button', { name: 'Dismiss' }))
    expect(screen.queryByText('Could not save')).toBeNull()
  })

  it('clears non-error notices after the timeout', () => {
    vi.useFakeTimers()
    try {
      function Sender() {
        const notify = useNotify()
        return <button onClick={() => notify('success', 'Saved')}>Send</button>
      }
      render(
        <NotifyProvider timeoutMs={1000}>
          <Sender />
        </NotifyProvider>,
      )
      fireEvent.click(screen.getByRole('button', { name: 'Send' }))
      expect(screen.getByText('Saved')).toBeInTheDocument()
      act(() => vi.advanceTimersByTime(1001))
      expect(screen.queryByText('Saved')).toBeNull()
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('notify, grouped', () => {
  function Sender({ kind = 'error' as const, sticky }: { kind?: 'error' | 'info'; sticky?: boolean }) {
    const notify = useNotify()
    const sent = useRef(0)
    const n = () => ++sent.current
    return (
      <>
        <button onClick={() => notify(kind, `west: problem ${n()}`, { group: 'agent:west', sticky, action: { label: 'See west in the fleet', href: '#/fleet/west' } })}>West</button>
        <button onClick={() => notify(kind, 'east: problem', { group: 'agent:east', sticky })}>East</button>
        <button onClick={() => notify('error', 'Could not save')}>Mine</button>
      </>
    )
  }

  it('shows one notice per group, the newest, saying how many came before it, with its link', () => {
    render(
      <NotifyProvider>
        <Sender />
      </NotifyProvider>,
    )
    for (let i = 0; i < 3; i++) fireEvent.click(screen.getByRole('button', { name: 'West' }))
    fireEvent.click(screen.getByRole('button', { name: 'East' }))
    const toasts = document.querySelectorAll('.toast')
    expect(Array.from(toasts).map((t) => t.textContent)).toEqual(['west: problem 3 (2 more before it) See west in the fleet×', 'east: problem×'])
    const link = screen.getByRole('link', { name: 'See west in the fleet' })
    expect(link).toHaveAttribute('href', '#/fleet/west')
    // Following the link dismisses the notice.
    fireEvent.click(link)
    expect(screen.queryByText(/west: problem/)).toBeNull()
    fireEvent.click(screen.getByRole('button', { name: 'West' }))
    expect(screen.getByText('west: problem 4')).toBeInTheDocument()
    expect(screen.queryByText(/more before it/)).toBeNull()
  })

  it('clears an error that is not sticky, and keeps one that is', () => {
    vi.useFakeTimers()
    try {
      render(
        <NotifyProvider timeoutMs={1000}>
          <Sender sticky={false} />
        </NotifyProvider>,
      )
      fireEvent.click(screen.getByRole('button', { name: 'West' }))
      fireEvent.click(screen.getByRole('button', { name: 'Mine' }))
      act(() => vi.advanceTimersByTime(600))
      // A notice of the group again: its clock starts again.
      fireEvent.click(screen.getByRole('button', { name: 'West' }))
      act(() => vi.advanceTimersByTime(600))
      expect(screen.getByText('west: problem 2')).toBeInTheDocument()
      act(() => vi.advanceTimersByTime(500))
      expect(screen.queryByText(/west: problem/)).toBeNull()
      expect(screen.getByText('Could not save')).toBeInTheDocument()
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('format', () => {
  it.each([
    [0, '0 B'],
    [1536, '1.5 KiB'],
    [8 * 1024 ** 3, '8.0 GiB'],
    [200 * 1024 ** 2, '200 MiB'],
  ])('formatBytes(%d) = %s', (n, want) => expect(formatBytes(n)).toBe(want))

  it.each([
    [0.2345, '235 ms'],
    [2.5, '2.5s'],
    [59, '59s'],
    [61, '1m 1s'],
    [3 * 3600 + 120, '3h 2m'],
    [90000, '1d 1h 0m'],
  ])('formatDuration(%d) = %s', (n, want) => expect(formatDuration(n)).toBe(want))

  it('groups a fingerprint in fours', () => {
    expect(formatFingerprint('0123456789abcdef')).toBe('0123 4567 89ab cdef')
  })
})

function useStateBool() {
  return useState(false)
}

describe('formatLicenseState', () => {
  it.each([
    ['valid', 'Valid', 'good'],
    ['expiring', 'Valid, expiring soon', 'warn'],
    ['grace', 'Expired, in the grace period', 'warn'],
    ['expired', 'Expired', 'bad'],
    ['missing', 'No license (evaluation)', 'warn'],
    ['invalid', 'Invalid (evaluation rules apply)', 'bad'],
  ])('names %s for people', (state, words, tone) => {
    expect(formatLicenseState(state)).toBe(words)
    expect(licenseTone(state)).toBe(tone)
  })

  it('passes a state it does not know through', () => {
    expect(formatLicenseState('suspended')).toBe('suspended')
  })
})

describe('count', () => {
  it('puts the noun in the number the count needs', () => {
    expect(count(0, 'field')).toBe('0 fields')
    expect(count(1, 'entity type')).toBe('1 entity type')
    expect(count(2, 'entity', 'entities')).toBe('2 entities')
    expect(count(1, 'entity', 'entities')).toBe('1 entity')
  })
})

describe('saved despite a failing test', () => {
  const failing = { state: 'failing', cause: 'test', problem: 'Jira prod refused the credentials.', action: 'Enter a valid API token.' }
  const test = { ok: false, message: 'HTTP 401', problem: 'Jira prod refused the credentials.', latencyMs: 40, at: '2027-01-05T05:40:00Z', actor: 'alice', savedAnyway: true }

  it('says who saved it, when the test ran, and that no notification is sent', () => {
    expect(savedAnywayText({ ...failing, acknowledged: true }, test)).toBe(
      `Saved despite a failing connection test by alice (tested ${formatDate('2027-01-05T05:40:00Z')}): no notification is sent for this failure.`,
    )
    // Without the test that says who (a process's note, an older list), the
    // reason alone.
    expect(savedAnywayText({ ...failing, acknowledged: true })).toBe('Saved despite a failing connection test: no notification is sent for this failure.')
  })

  it('says nothing of a failure nobody acknowledged, nor of a health that is not failing', () => {
    expect(savedAnywayText(failing, test)).toBeNull()
    expect(savedAnywayText({ state: 'ok', acknowledged: true }, test)).toBeNull()
    expect(savedAnywayText(null, test)).toBeNull()
  })

  it('is part of the health note, after what to do', () => {
    render(<HealthNote health={{ ...failing, acknowledged: true }} test={test} title="Jira prod: failing" />)
    const note = screen.getByTestId('health-note')
    expect(note).toHaveTextContent('What to do: Enter a valid API token.')
    expect(screen.getByTestId('health-acknowledged')).toHaveTextContent('Saved despite a failing connection test by alice')
    expect(note.textContent!.indexOf('What to do')).toBeLessThan(note.textContent!.indexOf('Saved despite'))
  })

  it('is not in the note of a failure that is notified', () => {
    render(<HealthNote health={failing} test={{ ...test, savedAnyway: false }} title="Jira prod: failing" />)
    expect(screen.getByTestId('health-note')).toBeInTheDocument()
    expect(screen.queryByTestId('health-acknowledged')).toBeNull()
  })
})
