// Links to an entity's page in its own system, for people: built from the
// system's address as configured now (a stored URL may name a port from
// before a restart) and the kind's page for one item. A kind with no page
// for people (the sandbox has only its API) gets no link: a link that
// answers 401 with JSON helps nobody.
import type { EntityRef } from '../../api/generated/types'

type Builder = (base: string, e: EntityRef) => string | null

const pages: Record<string, Builder> = {
  redmine: (base, e) => `${base}/issues/${encodeURIComponent(e.id)}`,
  rt: (base, e) => `${base}/Ticket/Display.html?id=${encodeURIComponent(e.id)}`,
  jira: (base, e) => (e.key ? `${base}/browse/${encodeURIComponent(e.key)}` : null),
  azuredevops: (base, e) => `${base}/_workitems/edit/${encodeURIComponent(e.id)}`,
  sandbox: () => null,
}

export function humanLink(kind: string | undefined, systemURL: string | undefined, e: EntityRef): string | null {
  const base = (systemURL ?? '').replace(/\/+$/, '')
  const build = kind ? pages[kind] : undefined
  if (build) return base ? build(base, e) : null
  // A kind this table does not know: its own URL, unless it is an API's.
  if (e.url && !/\/(api|rest)\//i.test(e.url)) return e.url
  return null
}
