import { afterEach, describe, expect, it, vi } from 'vitest'
import { formatDate, parseDate } from './format'

// read is the moment parseDate read, or the error it gave, as text to compare.
function read(text: string, end = false): string {
  const r = parseDate(text, { end })
  return r.ok ? `${formatDate(r.date.toISOString())}.${String(r.date.getMilliseconds()).padStart(3, '0')}` : `error: ${r.error}`
}

describe('parseDate', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  it('takes a year below 100 as that year, not 19yy', () => {
    const r = parseDate('0050-03-01 10:00')
    expect(r.ok && [r.date.getFullYear(), r.date.getMonth(), r.date.getDate(), r.date.getHours()]).toEqual([50, 2, 1, 10])
  })

  it('reads back what formatDate shows, in local time', () => {
    for (const iso of ['2027-01-05T05:46:23Z', '2030-12-31T23:59:59Z', '2026-02-28T00:00:00Z']) {
      const shown = formatDate(iso)
      const r = parseDate(shown)
      expect(r.ok && r.date.toISOString()).toBe(new Date(iso).toISOString())
    }
  })

  it('takes what is left out as the start of it, or with end as the end of it', () => {
    const cases: [string, string, string][] = [
      ['2027-01-05 05:46:23', '2027-01-05 05:46:23.000', '2027-01-05 05:46:23.000'],
      ['2027-01-05 05:46', '2027-01-05 05:46:00.000', '2027-01-05 05:46:59.999'],
      ['2027-01-05', '2027-01-05 00:00:00.000', '2027-01-05 23:59:59.999'],
      ['  2027-1-5 5:46 ', '2027-01-05 05:46:00.000', '2027-01-05 05:46:59.999'],
      ['2027-01-05T05:46:23', '2027-01-05 05:46:23.000', '2027-01-05 05:46:23.000'],
      ['2028-02-29', '2028-02-29 00:00:00.000', '2028-02-29 23:59:59.999'],
      ['2000-02-29', '2000-02-29 00:00:00.000', '2000-02-29 23:59:59.999'],
    ]
    for (const [text, start, end] of cases) {
      expect(read(text), text).toBe(start)
      expect(read(text, true), text).toBe(end)
    }
  })

  it('says precisely what is wrong', () => {
    const form = 'Write it as 2027-01-05 05:46:23 (year first; the time, or its seconds, may be left out).'
    const cases: [string, string][] = [
      ['', `Enter a date. ${form}`],
      ['01/05/2027 05:46 AM', `"01/05/2027 05:46 AM" puts the day or month first. ${form}`],
      ['5.1.2027', `"5.1.2027" puts the day or month first. ${form}`],
      ['yesterday', `"yesterday" is not a date and time. ${form}`],
      ['2027-01-05 05:46:23 PM', `"2027-01-05 05:46:23 PM" is not a date and time. ${form}`],
      ['2027-13-01', 'Month 13 does not exist: a month is 01 to 12.'],
      ['2027-00-10', 'Month 00 does not exist: a month is 01 to 12.'],
      ['2027-02-29', '2027-02-29 does not exist: February 2027 has 28 days.'],
      ['2100-02-29', '2100-02-29 does not exist: February 2100 has 28 days.'],
      ['2027-04-31 10:00', '2027-04-31 does not exist: April 2027 has 30 days.'],
      ['2027-01-05 24:00', 'Hour 24 does not exist: an hour is 00 to 23.'],
      ['2027-01-05 05:60', 'Minute 60 does not exist: a minute is 00 to 59.'],
      ['2027-01-05 05:46:61', 'Second 61 does not exist: a second is 00 to 59.'],
    ]
    for (const [text, error] of cases) expect(read(text), text).toBe(`error: ${error}`)
  })

  it('refuses a time the clocks skip when summer time begins', () => {
    // Node reads TZ again when it changes: a zone whose clocks skip an hour.
    vi.stubEnv('TZ', 'Europe/Berlin')
    expect(read('2027-03-28 02:30')).toBe("error: 2027-03-28 02:30 does not exist in this computer's time zone: the clocks skip it (summer time begins).")
    expect(read('2027-03-28 03:30')).toBe('2027-03-28 03:30:00.000')
    // The hour that comes twice when it ends is read (as its first time).
    expect(read('2027-10-31 02:30')).toBe('2027-10-31 02:30:00.000')
  })
})
