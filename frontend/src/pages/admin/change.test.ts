import { describe, expect, it } from 'vitest'
import { changeLines, valueText } from './change'

describe('changeLines', () => {
  it('reads field changes: set, changed, emptied and removed', () => {
    expect(
      changeLines([
        { field: 'kind', before: '', after: 'sandbox' },
        { field: 'name', before: 'Jira', after: 'Jira prod' },
        { field: 'settings.email', before: 'bot@example.com', after: '' },
        { field: 'settings.project', before: 'OPS' },
        { field: 'active', before: false, after: true },
        { field: 'settings.requestsPerMinute', after: 100 },
      ]),
    ).toEqual([
      { field: 'kind', after: 'sandbox' },
      { field: 'name', before: 'Jira', after: 'Jira prod' },
      { field: 'settings.email', before: 'bot@example.com', after: '(empty)' },
      { field: 'settings.project', before: 'OPS' },
      { field: 'active', before: 'false', after: 'true' },
      { field: 'settings.requestsPerMinute', after: '100' },
    ])
  })

  it('shows secrets as the agent sends them: redacted', () => {
    expect(changeLines([{ field: 'secrets.token', before: '[redacted]', after: '[redacted]' }, { field: 'secrets.password', after: '[redacted]' }])).toEqual([
      { field: 'secrets.token', before: '[redacted]', after: '[redacted]' },
      { field: 'secrets.password', after: '[redacted]' },
    ])
  })

  it('shows a nested document, stored as JSON text, without quotes or escapes', () => {
    const [line] = changeLines([{ field: 'a', after: '{"project":"SUP","system":"c0c8"}' }])
    expect(line).toEqual({ field: 'a', after: '{project: SUP, system: c0c8}' })
    expect(valueText('[{"a":"incident","b":"bug","fields":[{"a":"title","b":"title"}]}]')).toBe('[{a: incident, b: bug, fields: [{a: title, b: title}]}]')
    expect(valueText('{not json')).toBe('{not json')
  })

  it('lists the facts of a record that is not an edit', () => {
    expect(changeLines({ licenseId: 'LIC-1', maxUsers: 25, allowedSystems: ['jira', 'rt'], customer: null })).toEqual([
      { field: 'licenseId', after: 'LIC-1' },
      { field: 'maxUsers', after: '25' },
      { field: 'allowedSystems', after: '[jira, rt]' },
    ])
  })

  it('shows any other value as one line and nothing for no diff', () => {
    expect(changeLines('rotated')).toEqual([{ field: '', after: 'rotated' }])
    expect(changeLines([1, 2])).toEqual([{ field: '', after: '[1, 2]' }])
    expect(changeLines(undefined)).toEqual([])
  })
})
