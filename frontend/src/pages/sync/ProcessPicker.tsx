// The process filter of the pairs, runs and errors pages.
import type { ProcessSummary } from './types'

export function ProcessPicker({
  processes,
  value,
  onChange,
  allowAll,
}: {
  processes: ProcessSummary[]
  value: string
  onChange: (id: string) => void
  allowAll: boolean
}) {
  return (
    <label className="picker">
      <span className="sr-only">Sync process</span>
      <select aria-label="Sync process" value={value} onChange={(e) => onChange(e.target.value)}>
        {allowAll && <option value="">All processes</option>}
        {processes.map((s) => (
          <option key={s.process.id} value={s.process.id}>
            {s.process.name}
          </option>
        ))}
      </select>
    </label>
  )
}

export function processName(processes: ProcessSummary[] | undefined, id: string): string {
  return processes?.find((s) => s.process.id === id)?.process.name ?? id
}
