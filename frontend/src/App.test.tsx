import { render, screen } from '@testing-library/react'
import { describe, expect, it, vi } from 'vitest'
import App from './App'

describe('App shell', () => {
  it('shows the agents empty state and the version from Go', async () => {
    const loadInfo = vi.fn().mockResolvedValue({ name: 'Lockstep', version: '1.2.3' })
    render(<App loadInfo={loadInfo} />)

    expect(screen.getByRole('heading', { name: 'No agents yet — add one by URL' })).toBeVisible()
    expect(screen.getByRole('navigation', { name: 'Main' })).toHaveTextContent('Agents')
    expect(screen.getByRole('link', { name: 'Agents' })).toHaveAttribute('aria-current', 'page')
    expect(await screen.findByText('Lockstep 1.2.3')).toBeInTheDocument()
    expect(loadInfo).toHaveBeenCalledTimes(1)
  })

  it('still renders when the Go bindings are missing (plain browser)', async () => {
    // Real generated binding: window.go is undefined outside Wails, so it throws.
    render(<App />)

    expect(screen.getByRole('heading', { name: 'Agents', level: 1 })).toBeInTheDocument()
    // Give the rejected promise a turn; the footer must stay empty, not crash.
    await new Promise((r) => setTimeout(r, 0))
    expect(screen.getByTestId('app-version').textContent?.trim()).toBe('')
  })
})
