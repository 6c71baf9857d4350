import { describe, expect, it } from 'vitest'
import { parseUserCsv } from './usercsv'

// The agent's golden files (agent/internal/mapping/testdata/usercsv): each
// NAME.csv with what reading it gives, NAME.json. The agent's reader passes
// the same files (usercsv_test.go), except that it returns no entries for a
// file with errors where this one previews the good rows.
const dir = '../../../../agent/internal/mapping/testdata/usercsv/'
const csv = import.meta.glob('../../../../agent/internal/mapping/testdata/usercsv/*.csv', { query: '?raw', import: 'default', eager: true }) as Record<string, string>
const json = import.meta.glob('../../../../agent/internal/mapping/testdata/usercsv/*.json', { import: 'default', eager: true }) as Record<string, unknown>

describe('parseUserCsv reads the golden files as the agent does', () => {
  const names = Object.keys(csv).map((p) => p.slice(dir.length, -'.csv'.length))
  it('finds them', () => {
    expect(names.length).toBeGreaterThanOrEqual(20)
  })
  for (const name of names) {
    it(name, () => {
      const want = json[`${dir}${name}.json`]
      expect(want, `${name}.json`).toBeDefined()
      expect(parseUserCsv(csv[`${dir}${name}.csv`])).toEqual(want)
    })
  }
})
