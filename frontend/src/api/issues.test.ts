import { describe, expect, it } from 'vitest'
import { issueMap, issuesOf } from './issues'

describe('issuesOf', () => {
  it('uses the issues the bridge passes along', () => {
    const e = { kind: 'invalid', message: 'x', field: 'name', issues: [{ field: 'name', message: 'is required' }] }
    expect(issuesOf(e)).toEqual([{ field: 'name', message: 'is required' }])
  })

  it('splits the engine message when only the message arrived', () => {
    const e = JSON.stringify({
      kind: 'invalid',
      message: 'invalid sync process: a.system: is required; types[0].fields[2].b: field "x; y" does not exist in bug; options.conflict: must be a_wins, b_wins or hold',
    })
    expect(issuesOf(e)).toEqual([
      { field: 'a.system', message: 'is required' },
      { field: 'types[0].fields[2].b', message: 'field "x; y" does not exist in bug' },
      { field: 'options.conflict', message: 'must be a_wins, b_wins or hold' },
    ])
  })

  it('falls back to the named field, and ignores other kinds', () => {
    expect(issuesOf({ kind: 'invalid', message: 'since is required', field: 'since' })).toEqual([{ field: 'since', message: 'since is required' }])
    expect(issuesOf({ kind: 'forbidden', message: 'a.system: nope' })).toEqual([])
  })

  it("reads a system's field error, which names its field in the message", () => {
    const e = { kind: 'invalid', message: 'url: must not contain credentials; use the secret fields', field: 'url' }
    expect(issuesOf(e)).toEqual([{ field: 'url', message: 'must not contain credentials; use the secret fields' }])
    expect(issuesOf(JSON.stringify({ kind: 'invalid', message: 'settings.project: is required', field: 'settings.project' }))).toEqual([
      { field: 'settings.project', message: 'is required' },
    ])
  })

  it('keys issues by field, keeping both messages of a field named twice', () => {
    expect(issueMap([{ field: 'name', message: 'is required' }, { field: 'url', message: 'has no host' }, { field: 'name', message: 'is too long' }])).toEqual({
      name: 'is required; is too long',
      url: 'has no host',
    })
  })
})
