import { describe, expect, it } from 'vitest'
import { issueWhere, planProcessCopy, secretsToAskFor, type SystemRef } from './copy'

const support: SystemRef = { id: 's1', name: 'Support Desk', kind: 'sandbox' }
const eng: SystemRef = { id: 's2', name: 'Engineering', kind: 'redmine' }
const process = { id: 'p1', name: 'Support to engineering', a: { system: 's1', project: 'SUP' }, b: { system: 's2', project: 'ENG' } }

describe('planProcessCopy', () => {
  it('finds the systems on the target by name, case aside, and lists what is missing', () => {
    const plan = planProcessCopy(process, [support, eng], [{ id: 'x9', name: 'engineering', kind: 'redmine' }], [])
    expect(plan.sides.map((s) => [s.side, s.source?.name, s.target?.id ?? null])).toEqual([
      ['a', 'Support Desk', null],
      ['b', 'Engineering', 'x9'],
    ])
    expect(plan.missing).toEqual([support])
    expect(plan.ready).toBe(false)
    expect(plan.replaces).toBe(false)
  })

  it('is ready when both systems are there, and says when it replaces a process', () => {
    const plan = planProcessCopy(process, [support, eng], [{ ...support, id: 't1' }, { ...eng, id: 't2' }], [{ name: 'SUPPORT to engineering' }])
    expect(plan.ready).toBe(true)
    expect(plan.missing).toEqual([])
    expect(plan.replaces).toBe(true)
  })

  it('lists a system used on both sides once', () => {
    const plan = planProcessCopy({ ...process, b: { system: 's1', project: 'OPS' } }, [support], [], [])
    expect(plan.missing).toEqual([support])
  })

  it('refuses a system of the same name but another kind', () => {
    const plan = planProcessCopy(process, [support, eng], [{ ...support, id: 't1' }, { id: 't2', name: 'Engineering', kind: 'jira' }], [])
    expect(plan.sides[1].otherKind).toBe(true)
    expect(plan.ready).toBe(false)
  })

  it('says when a system of the process is gone from the source', () => {
    const plan = planProcessCopy(process, [support], [support], [])
    expect(plan.sides[1].source).toBeNull()
    expect(plan.ready).toBe(false)
  })
})

describe('issueWhere', () => {
  it.each([
    ['processes[0].a.system', 'System A'],
    ['processes[0].b.project', 'Project in B'],
    ['processes[0].types[1].fields[2].b', 'Entity types 2, field pair 3, b'],
    ['processes[0]', 'The process'],
    ['document', 'The document'],
  ])('%s is %s', (field, words) => {
    expect(issueWhere(field)).toBe(words)
  })
})

describe('secretsToAskFor', () => {
  it('lists every secret field with whether the source has it, never its value', () => {
    const fields = [
      { name: 'project', label: 'Project', type: 'string' },
      { name: 'token', label: 'API token', type: 'secret', secret: true, required: true },
      { name: 'webhookSecret', label: 'Webhook secret', type: 'secret', secret: true },
    ]
    expect(secretsToAskFor(fields, { token: { set: true } })).toEqual([
      { name: 'token', label: 'API token', required: true, setOnSource: true },
      { name: 'webhookSecret', label: 'Webhook secret', required: false, setOnSource: false },
    ])
  })
})
