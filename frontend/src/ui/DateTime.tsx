import { formatDate } from './format'

// DateTime shows a moment as formatDate does (2027-01-05 05:46:23), kept
// on one line: in a table a date broken over lines ("2027-" "01-05") is
// hard to read, and it is never wider than a column should be.
export function DateTime({ value }: { value: string | null | undefined }) {
  const text = formatDate(value)
  if (text === '—' || !value) return <>{text}</>
  return (
    <time className="datetime" dateTime={value}>
      {text}
    </time>
  )
}
