import { describe, expect, it } from 'vitest'
import type { ConnStatus } from '../../api/bridge'
import { attentionOf, Level, licenseProblem, processCounts, sortByAttention, type AgentRow, type ProcessRow, type Summary } from './attention'

const now = Date.parse('2027-03-01T00:00:00Z')
const session = { username: 'ann', role: 'admin', expiresAt: '2030-01-01T00:00:00Z' }

function st(profile: string, state: ConnStatus['state'], over: Partial<ConnStatus> = {}): ConnStatus {
  return { profile, url: `wss://${profile}:7443/v1/ws`, fingerprint: 'ab'.repeat(32), state, error: '', session: state === 'loggedIn' ? session : null, ...over }
}

function proc(name: string, state: string, errors = 0): ProcessRow {
  return { process: { id: `id-${name}`, name }, pairs: 1, errors, health: { state } }
}

function summary(processes: ProcessRow[], license: Summary['license'] = { state: 'valid' }): Summary {
  return { version: '1.2.0', license, processes }
}

const row = (status: ConnStatus, s?: Summary): AgentRow => ({ status, summary: s })

describe('attentionOf', () => {
  it.each([
    ['a refused key', row(st('a', 'fingerprintMismatch')), Level.Unreachable],
    ['an agent out of reach with a session', row(st('a', 'disconnected', { session })), Level.Unreachable],
    ['an agent never reached', row(st('a', 'disconnected', { error: 'connection refused' })), Level.Unreachable],
    ['a failing process', row(st('a', 'loggedIn'), summary([proc('p', 'ok'), proc('q', 'failing')])), Level.Failing],
    ['a degraded process', row(st('a', 'loggedIn'), summary([proc('p', 'degraded')])), Level.Degraded],
    ['parked entities alone', row(st('a', 'loggedIn'), summary([proc('p', 'ok', 3)])), Level.Degraded],
    ['an expired license', row(st('a', 'loggedIn'), summary([proc('p', 'ok')], { state: 'expired' })), Level.License],
    ['a license in its grace period', row(st('a', 'loggedIn'), summary([], { state: 'grace' })), Level.License],
    ['more users than licensed', row(st('a', 'loggedIn'), summary([], { state: 'valid', overLimit: true })), Level.License],
    ['an evaluation that ended', row(st('a', 'loggedIn'), summary([], { state: 'missing', evaluationEndsAt: '2027-02-01T00:00:00Z' })), Level.License],
    ['no sign-in yet', row(st('a', 'connected')), Level.Unknown],
    ['an expired session', row(st('a', 'sessionExpired')), Level.Unknown],
    ['an expiring license', row(st('a', 'loggedIn'), summary([proc('p', 'ok')], { state: 'expiring' })), Level.Notice],
    ['an evaluation under way', row(st('a', 'loggedIn'), summary([], { state: 'missing', evaluationEndsAt: '2027-04-01T00:00:00Z' })), Level.Notice],
    ['all well', row(st('a', 'loggedIn'), summary([proc('p', 'ok')])), Level.Ok],
    ['disconnected on purpose', row(st('a', 'closed')), Level.Off],
  ])('%s', (_what, r, level) => {
    expect(attentionOf(r, now).level).toBe(level)
  })

  it('says why in words', () => {
    expect(attentionOf(row(st('a', 'loggedIn'), summary([proc('p', 'failing'), proc('q', 'failing')])), now).reason).toBe('2 failing processes')
    expect(attentionOf(row(st('a', 'loggedIn'), summary([proc('p', 'degraded', 1)])), now).reason).toBe('1 degraded process, 1 parked entity')
    expect(attentionOf(row(st('a', 'disconnected')), now).reason).toBe('Unreachable')
  })

  // A process that is not active does not sync: neither healthy nor
  // failing, whatever its health says (an older agent judges a copy that
  // never ran as ok, and one deactivated while failing as failing).
  it('counts an inactive process as inactive, never healthy or failing', () => {
    const off = (name: string, state: string): ProcessRow => ({ ...proc(name, state), process: { id: `id-${name}`, name, active: false } })
    expect(processCounts([off('p', 'ok'), off('q', 'failing'), proc('r', 'inactive'), proc('s', 'ok')])).toEqual({ total: 4, failing: 0, degraded: 0, ok: 1, inactive: 3, parked: 0 })
    const copied = row(st('a', 'loggedIn'), summary([off('p', 'ok')]))
    expect(attentionOf(copied, now)).toEqual({ level: Level.Ok, tone: 'neutral', reason: 'Its process is inactive' })
    expect(attentionOf(row(st('a', 'loggedIn'), summary([off('p', 'failing'), proc('q', 'inactive')])), now).reason).toBe('Every process is inactive')
    expect(attentionOf(row(st('a', 'loggedIn'), summary([off('p', 'failing'), proc('q', 'ok')])), now)).toEqual({ level: Level.Ok, tone: 'good', reason: 'All well' })
    // Its parked entities are still there to see.
    expect(attentionOf(row(st('a', 'loggedIn'), summary([{ ...off('p', 'inactive'), errors: 2 }])), now).level).toBe(Level.Degraded)
  })

  it('names license problems', () => {
    expect(licenseProblem({ state: 'invalid' }, now)).toBe('License invalid')
    expect(licenseProblem({ state: 'valid' }, now)).toBe('')
    expect(licenseProblem(null, now)).toBe('')
  })
})

describe('sortByAttention', () => {
  it('puts unreachable, failing, degraded and license problems first, then the rest by name', () => {
    const rows = [
      row(st('ok-b', 'loggedIn'), summary([proc('p', 'ok')])),
      row(st('off', 'closed')),
      row(st('expiring', 'loggedIn'), summary([], { state: 'expiring' })),
      row(st('failing-one', 'loggedIn'), summary([proc('p', 'failing')])),
      row(st('license', 'loggedIn'), summary([], { state: 'expired' })),
      row(st('sign-in', 'connected')),
      row(st('degraded', 'loggedIn'), summary([proc('p', 'degraded')])),
      row(st('failing-two', 'loggedIn'), summary([proc('p', 'failing'), proc('q', 'failing')])),
      row(st('ok-a', 'loggedIn'), summary([proc('p', 'ok')])),
      row(st('unreachable', 'disconnected')),
      row(st('parked-many', 'loggedIn'), summary([proc('p', 'ok', 9)])),
      row(st('refused', 'fingerprintMismatch')),
    ]
    expect(sortByAttention(rows, now).map((r) => r.status.profile)).toEqual([
      'refused',
      'unreachable',
      'failing-two',
      'failing-one',
      'degraded',
      'parked-many',
      'license',
      'sign-in',
      'expiring',
      'ok-a',
      'ok-b',
      'off',
    ])
  })

  it('keeps the input untouched', () => {
    const rows = [row(st('b', 'loggedIn'), summary([])), row(st('a', 'disconnected'))]
    sortByAttention(rows, now)
    expect(rows.map((r) => r.status.profile)).toEqual(['b', 'a'])
  })
})
