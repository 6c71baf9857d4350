// Compact form controls for the mapping editor's rows, where a visible label
// per control would crowd the grid: each control carries its name in
// aria-label and shows the agent's error for its field path right under it.
import { createContext, useContext, type ReactNode } from 'react'

// IssuesContext holds the agent's validation errors keyed by field path
// (types[0].fields[2].b), so any control can find its own.
export const IssuesContext = createContext<Record<string, string>>({})

export function useIssue(path: string): string | undefined {
  return useContext(IssuesContext)[path]
}

// issuesUnder says whether any error names path or something inside it, so a
// collapsed section can open itself to show the error.
export function useIssuesUnder(path: string): boolean {
  const all = useContext(IssuesContext)
  return Object.keys(all).some((k) => k === path || k.startsWith(path + '.') || k.startsWith(path + '['))
}

// fieldId is the DOM id of the control for a field path, so a failed save
// can move the focus to the first field the agent named.
export function fieldId(path: string): string {
  return 'pf-' + path.replace(/[^\w-]/g, '_')
}

function ErrorText({ path, error }: { path: string; error?: string }) {
  if (!error) return null
  return (
    <div id={fieldId(path) + '-error'} className="field-error-text" role="alert">
      {error}
    </div>
  )
}

type Common = { path: string; label: string; className?: string }

// PickOption is one suggestion of a pick-list: a name the system's schema
// knows, with a label saying what it is.
export type PickOption = { value: string; label?: string }

export function TextCell({
  path,
  label,
  value,
  onChange,
  placeholder,
  className,
  type = 'text',
  list,
  options,
  hint,
}: Common & {
  value: string
  onChange: (v: string) => void
  placeholder?: string
  type?: string
  list?: string
  // options become a datalist: suggestions, while any text stays allowed.
  options?: PickOption[]
  // hint is a short note under the input, e.g. the chosen field's type.
  hint?: string
}) {
  const error = useIssue(path)
  const listId = options && options.length > 0 ? fieldId(path) + '-options' : list
  const described = [error && fieldId(path) + '-error', hint && fieldId(path) + '-hint'].filter(Boolean).join(' ')
  return (
    <div className={['cell', className].filter(Boolean).join(' ')}>
      <input
        id={fieldId(path)}
        type={type}
        aria-label={label}
        aria-invalid={error ? true : undefined}
        aria-describedby={described || undefined}
        value={value}
        placeholder={placeholder}
        list={listId}
        onChange={(e) => onChange(e.target.value)}
      />
      {options && options.length > 0 && (
        <datalist id={listId}>
          {options.map((o) => (
            <option key={o.value} value={o.value} label={o.label} />
          ))}
        </datalist>
      )}
      {hint && (
        <div id={fieldId(path) + '-hint'} className="cell-hint">
          {hint}
        </div>
      )}
      <ErrorText path={path} error={error} />
    </div>
  )
}

export function SelectCell<T extends string>({
  path,
  label,
  value,
  onChange,
  options,
  className,
}: Common & { value: T; onChange: (v: T) => void; options: { value: T; label: string }[] }) {
  const error = useIssue(path)
  return (
    <div className={['cell', className].filter(Boolean).join(' ')}>
      <select
        id={fieldId(path)}
        aria-label={label}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? fieldId(path) + '-error' : undefined}
        value={value}
        onChange={(e) => onChange(e.target.value as T)}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      <ErrorText path={path} error={error} />
    </div>
  )
}

export function CheckCell({ path, label, checked, onChange, children }: Common & { checked: boolean; onChange: (v: boolean) => void; children?: ReactNode }) {
  const error = useIssue(path)
  return (
    <div className="cell cell-check">
      <label>
        <input
          id={fieldId(path)}
          type="checkbox"
          aria-label={children ? undefined : label}
          aria-invalid={error ? true : undefined}
          checked={checked}
          onChange={(e) => onChange(e.target.checked)}
        />
        {children}
      </label>
      <ErrorText path={path} error={error} />
    </div>
  )
}

// SectionIssue shows an error the agent reported for a whole list or block
// ("types: needs at least one entity-type pair").
export function SectionIssue({ path }: { path: string }) {
  const error = useIssue(path)
  if (!error) return null
  return (
    <div id={fieldId(path)} tabIndex={-1} className="field-error-text" role="alert">
      {error}
    </div>
  )
}

export function replaceAt<T>(list: T[], i: number, v: T): T[] {
  return list.map((x, j) => (j === i ? v : x))
}

export function removeAt<T>(list: T[], i: number): T[] {
  return list.filter((_, j) => j !== i)
}
