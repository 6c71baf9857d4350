// The process filter of the pairs, runs and errors pages, and the process
// field of the dialogs that act on one process's pairs.
import { Field } from '../../ui'
import type { Process, ProcessSummary } from './api'

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

// ProcessField chooses the process a dialog acts on.
export function ProcessField({ processes, value, onChange }: { processes: Process[]; value: string; onChange: (id: string) => void }) {
  return (
    <Field label="Sync process">
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        {processes.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
          </option>
        ))}
      </select>
    </Field>
  )
}
