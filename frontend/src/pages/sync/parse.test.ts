import { describe, expect, it } from 'vitest'
import { parseUserCsv } from './usercsv'

describe('parseUserCsv', () => {
  it('reads the two-email header and its spellings', () => {
    for (const header of ['a,b', 'emailA,emailB', 'A_EMAIL;B_EMAIL']) {
      const delim = header.includes(';') ? ';' : ','
      const r = parseUserCsv(`\uFEFF${header}\r\nann@a.example${delim}ann@b.example\r\n`)
      expect(r.errors).toEqual([])
      expect(r.matchBy).toBe(header === 'A_EMAIL;B_EMAIL' ? '' : 'email')
      expect(r.entries).toEqual([{ a: { email: 'ann@a.example' }, b: { email: 'ann@b.example' } }])
    }
  })

  it('reads the full header with quoted values', () => {
    const r = parseUserCsv('a_id,a_name,b_email\n17,"Doe, Ann",ann@b.example\n')
    expect(r.errors).toEqual([])
    expect(r.entries).toEqual([{ a: { id: '17', name: 'Doe, Ann' }, b: { email: 'ann@b.example' } }])
  })

  it('reports every bad line with its number and keeps the good ones', () => {
    const r = parseUserCsv('a,b\nann@a.example,ann@b.example\nann,ann@b.example\n,\n,bob@b.example\n"open,x\n')
    expect(r.entries).toHaveLength(1)
    expect(r.errors).toEqual([
      { line: 3, message: 'column 1 (a): "ann" is not an email address' },
      { line: 5, message: 'side a is empty: give an id, email or name' },
      { line: 6, message: 'a quoted value is never closed' },
    ])
  })

  it('refuses an unknown header', () => {
    expect(parseUserCsv('user,login\nx,y\n').errors).toEqual([{ line: 1, message: 'column 1: unknown column "user", expected a,b or some of a_id,a_email,a_name,b_id,b_email,b_name' }])
    expect(parseUserCsv('a_id,a_email\n1,x@y.z\n').errors[0].message).toBe('no column for side b: add b_id, b_email or b_name')
    expect(parseUserCsv('').errors[0].line).toBe(1)
  })
})
