// The audit trail's "diff" in words. The agent records either a list of
// field changes ({field, before, after}, audit.Change) or, for events that
// are not edits (a license import, an expiry warning), an object of facts.
// Secrets arrive as "[redacted]" and are shown as they came.

// ChangeLine is one field of a change: before is absent for a value that
// was set where there was none, after for one that was removed.
export type ChangeLine = { field: string; before?: string; after?: string }

// changeLines reads a record's diff; anything of another shape becomes one
// line, so no record is ever shown as nothing.
export function changeLines(diff: unknown): ChangeLine[] {
  if (diff === null || diff === undefined) return []
  if (Array.isArray(diff) && diff.every(isChange)) {
    return diff.map((c) => {
      const line: ChangeLine = { field: c.field }
      if (present(c.before)) line.before = valueText(c.before)
      if (present(c.after)) line.after = valueText(c.after)
      else if (line.before !== undefined && c.after === '') line.after = '(empty)'
      return line
    })
  }
  if (typeof diff === 'object' && !Array.isArray(diff)) {
    return Object.entries(diff as Record<string, unknown>)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([field, v]) => ({ field, after: valueText(v) }))
  }
  return [{ field: '', after: valueText(diff) }]
}

function isChange(c: unknown): c is { field: string; before?: unknown; after?: unknown } {
  return typeof c === 'object' && c !== null && typeof (c as { field?: unknown }).field === 'string'
}

// present says whether a side of a change holds a value: the agent compares
// a new record with an empty one, so a create's "before" is "" or absent.
function present(v: unknown): boolean {
  return v !== null && v !== undefined && v !== ''
}

// valueText shows one value: text as it is, and a nested document (which
// the agent stores as JSON text) inline, without JSON's quotes and escapes:
// {project: SUP, system: 3f2a}.
export function valueText(v: unknown): string {
  if (typeof v === 'string') {
    const t = v.trim()
    if ((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']'))) {
      try {
        return inline(JSON.parse(t))
      } catch {
        return v
      }
    }
    return v
  }
  return inline(v)
}

function inline(v: unknown): string {
  if (v === null || v === undefined) return 'none'
  if (typeof v === 'string') return v === '' ? '""' : v
  if (Array.isArray(v)) return `[${v.map(inline).join(', ')}]`
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k}: ${inline(x)}`)
      .join(', ')}}`
  }
  return String(v)
}
