import { describe, expect, it } from 'vitest'
import type { FleetEvent } from '../../state/fleet'
import { cornerNotice } from '../../state/fleet'
import { noticeOf } from './notices'

// ev builds an event as the agent sends it; data may be partial, as older agents' is.
const ev = (type: string, data: unknown): FleetEvent => ({ agent: 'east', sub: 's', seq: 1, time: '2027-01-01T00:00:00Z', type, data }) as FleetEvent
const names = (id: string) => ({ p1: 'Support to engineering' })[id]

describe('noticeOf', () => {
  it('says a process fails, with its problem', () => {
    const n = noticeOf(ev('HealthChanged', { kind: 'process', id: 'p1', name: 'Support to engineering', health: { state: 'failing', problem: 'Engineering refused the credentials' }, previous: 'ok' }), names)
    expect(n).toEqual({ tone: 'bad', text: 'Process Support to engineering: failing — Engineering refused the credentials' })
  })

  it('says a system works again, and nothing for one that was never judged', () => {
    expect(noticeOf(ev('HealthChanged', { kind: 'system', name: 'Engineering', health: { state: 'ok' }, previous: 'failing' }), names)?.text).toBe('System Engineering works again')
    expect(noticeOf(ev('HealthChanged', { kind: 'system', name: 'Engineering', health: { state: 'ok' }, previous: '' }), names)).toBeNull()
    expect(noticeOf(ev('HealthChanged', { kind: 'system', name: 'Engineering', health: { state: 'ok' }, previous: 'unknown' }), names)).toBeNull()
  })

  it('says nothing of a system not judged yet (just created, or given new credentials)', () => {
    expect(noticeOf(ev('HealthChanged', { kind: 'system', name: 'Engineering', health: { state: 'unknown' }, previous: 'failing' }), names)).toBeNull()
  })

  it('says a system saved despite its failing test fails, and that no notification is sent for it', () => {
    const entered = ev('HealthChanged', { kind: 'system', name: 'Engineering', health: { state: 'failing', problem: 'Engineering refused the credentials', acknowledged: true }, previous: 'unknown', acknowledged: true })
    expect(noticeOf(entered, names)).toEqual({
      tone: 'bad',
      text: 'System Engineering: failing — Engineering refused the credentials (saved despite a failing connection test: no notification is sent for it)',
    })
    const ended = ev('HealthChanged', { kind: 'system', name: 'Engineering', health: { state: 'ok' }, previous: 'failing', acknowledged: true })
    expect(noticeOf(ended, names)?.text).toBe('System Engineering works again')
  })

  it('names the process of a failed entity by name, never by id', () => {
    const n = noticeOf(ev('PairFailed', { process: 'p1', key: 'SUP-4', title: 'Printer jam', step: 'fields', error: 'status: no value maps to ENG' }), names)
    expect(n?.text).toBe('Support to engineering: SUP-4 (Printer jam) failed at fields: status: no value maps to ENG')
    const unknown = noticeOf(ev('PairFailed', { process: 'p-77', key: 'SUP-5' }), names)
    expect(unknown?.text).toBe('A process: SUP-5 failed')
    expect(unknown?.text).not.toContain('p-77')
  })

  it('tells of runs that changed something, not of idle ones', () => {
    expect(noticeOf(ev('RunFinished', { process: 'p1', counts: { created: 2, updated: 1, failed: 0 } }), names)?.text).toBe('Support to engineering: run finished, 2 created, 1 updated')
    expect(noticeOf(ev('RunFinished', { process: 'p1', counts: { created: 0 } }), names)).toBeNull()
    expect(noticeOf(ev('RunFinished', { process: 'p1', counts: {}, errors: [{ message: 'x' }] }), names)).toEqual({ tone: 'warn', text: 'Support to engineering: run finished, 1 error' })
  })

  it('says license changes', () => {
    expect(noticeOf(ev('LicenseChanged', { state: 'expiring', message: '30 days left' }), names)).toEqual({ tone: 'warn', text: 'License: Valid, expiring soon — 30 days left' })
  })

  it('leaves configuration changes to the pages', () => {
    expect(noticeOf(ev('ConfigChanged', { kind: 'process', id: 'p1', action: 'update' }), names)).toBeNull()
  })
})

describe('cornerNotice', () => {
  it('names the agent first, in the fleet page\'s words, with a kind by tone', () => {
    expect(cornerNotice(ev('HealthChanged', { kind: 'process', name: 'Orders', health: { state: 'failing', problem: 'Shop refused the credentials' }, previous: 'ok' }))).toEqual({
      kind: 'error',
      text: 'east: Process Orders: failing — Shop refused the credentials',
    })
    expect(cornerNotice(ev('HealthChanged', { kind: 'system', name: 'Shop', health: { state: 'ok' }, previous: 'failing' }))).toEqual({ kind: 'success', text: 'east: System Shop works again' })
    expect(cornerNotice(ev('LicenseChanged', { state: 'expiring', message: '30 days left' }))?.kind).toBe('info')
  })

  it('leaves out what the agent does not notify: a failure saved anyway, and its end', () => {
    expect(cornerNotice(ev('HealthChanged', { kind: 'system', name: 'Shop', health: { state: 'failing', problem: 'Shop refused the credentials', acknowledged: true }, previous: '', acknowledged: true }))).toBeNull()
    expect(cornerNotice(ev('HealthChanged', { kind: 'system', name: 'Shop', health: { state: 'ok' }, previous: 'failing', acknowledged: true }))).toBeNull()
    // A failure nobody acknowledged is news as ever.
    expect(cornerNotice(ev('HealthChanged', { kind: 'system', name: 'Shop', health: { state: 'failing', problem: 'Shop refused the credentials' }, previous: 'ok' }))?.kind).toBe('error')
  })

  it('says nothing of a process deactivated: it stopped, its health did not change', () => {
    expect(cornerNotice(ev('HealthChanged', { kind: 'process', name: 'Orders', health: { state: 'inactive' }, previous: 'failing' }))).toBeNull()
    expect(noticeOf(ev('HealthChanged', { kind: 'process', name: 'Orders', health: { state: 'inactive' }, previous: 'ok' }), names)).toBeNull()
  })

  it('leaves failed entities and runs to the fleet page', () => {
    expect(cornerNotice(ev('PairFailed', { process: 'p1', key: 'SUP-4' }))).toBeNull()
    expect(cornerNotice(ev('RunFinished', { process: 'p1', counts: { created: 2 } }))).toBeNull()
  })
})
