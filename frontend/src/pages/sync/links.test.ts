import { describe, expect, it } from 'vitest'
import { humanLink } from './links'

describe('humanLink', () => {
  const e = { id: '42', key: 'HELP-42', url: 'http://127.0.0.1:40001/api/items/42' }
  it.each([
    ['sandbox', 'http://127.0.0.1:40999', null],
    ['redmine', 'https://redmine.example/', 'https://redmine.example/issues/42'],
    ['rt', 'https://rt.example', 'https://rt.example/Ticket/Display.html?id=42'],
    ['jira', 'https://jira.example', 'https://jira.example/browse/HELP-42'],
    ['gitlab', 'https://gitlab.example', null],
  ])('%s', (kind, url, want) => expect(humanLink(kind, url, e)).toBe(want))
  it('keeps a page URL of an unknown kind', () => {
    expect(humanLink('github', 'https://api.github.com', { id: '7', url: 'https://github.com/o/r/issues/7' })).toBe('https://github.com/o/r/issues/7')
  })
})
