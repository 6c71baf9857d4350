// The agent's field-level validation errors, read out of a rejected bridge
// call (desktop/bridge's FormatError: {kind: "invalid", message, field,
// issues}), so that a form can show each one at the field it names.
import { errorKind, errorMessage } from './bridge'

// Issue is one invalid field: its path as the agent names it (name,
// settings.project, types[0].fields[2].b) and what is wrong with it.
export type Issue = { field: string; message: string }

// A field path as the agent writes it: name, a.system, types[0].fields[2].b.
const pathPattern = /^[A-Za-z_]\w*(\[\d+\])?(\.[A-Za-z_]\w*(\[\d+\])?)*$/

// issuesOf reads the field errors out of a rejected call. The agent sends
// them as data.issues and data.field; when the bridge passes only the
// message along, the message itself ("invalid sync process: a.system: is
// required; types[0].fields[1].b: ...", or a system's "url: must start with
// https://") is split the way the agent joined it.
export function issuesOf(e: unknown): Issue[] {
  if (errorKind(e) !== 'invalid') return []
  const obj = asObject(e)
  const data = (obj.data ?? obj) as Record<string, any>
  if (Array.isArray(data.issues) && data.issues.length > 0) {
    return data.issues
      .filter((i: any) => typeof i?.field === 'string')
      .map((i: any) => ({ field: i.field, message: String(i.message ?? '') }))
  }
  const msg = errorMessage(e)
  const body = msg.replace(/^invalid [\w ]+:\s*/, '')
  const out: Issue[] = []
  for (const part of body.split(/;\s+(?=[A-Za-z_][\w.[\]]*: )/)) {
    const cut = part.indexOf(': ')
    if (cut > 0 && pathPattern.test(part.slice(0, cut))) {
      out.push({ field: part.slice(0, cut), message: part.slice(cut + 2) })
    }
  }
  if (out.length === 0 && typeof data.field === 'string' && data.field) {
    out.push({ field: data.field, message: msg })
  }
  return out
}

// asObject reads a rejection that arrived as JSON text (the Wails error
// formatter's output) as the object it describes.
function asObject(e: unknown): Record<string, any> {
  if (typeof e === 'object' && e !== null) return e as Record<string, any>
  if (typeof e === 'string') {
    try {
      const v = JSON.parse(e)
      if (typeof v === 'object' && v !== null) return v
    } catch {
      /* plain text */
    }
  }
  return {}
}

// issueMap keys issues by field path; a path named twice keeps both messages.
export function issueMap(list: Issue[]): Record<string, string> {
  const m: Record<string, string> = {}
  for (const i of list) m[i.field] = m[i.field] ? `${m[i.field]}; ${i.message}` : i.message
  return m
}
