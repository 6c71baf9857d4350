// Which role may call which agent method: the Access column of
// shared/protocol/methods.go. The UI hides or disables what a role cannot do;
// the agent still enforces it.

export type Role = 'admin' | 'operator' | 'viewer'

const rank: Record<string, number> = { viewer: 1, operator: 2, admin: 3 }

const V = 1
const O = 2
const A = 3

export const methodAccess: Record<string, number> = {
  'session.logout': V,
  'session.whoami': V,
  'agent.info': V,
  'host.info': V,
  'systems.kinds': V,
  'systems.list': V,
  'systems.get': V,
  'systems.create': A,
  'systems.update': A,
  'systems.delete': A,
  'systems.test': O,
  'systems.schema': V,
  'accounts.list': A,
  'accounts.create': A,
  'accounts.update': A,
  'accounts.delete': A,
  'accounts.setPassword': A,
  'audit.list': A,
  'audit.verify': A,
  'logs.subscribe': V,
  'logs.query': V,
  'events.subscribe': V,
  'sub.cancel': V,
  'support.create': A,
  'support.status': A,
  'support.download': A,
  'settings.get': A,
  'settings.set': A,
  'processes.list': V,
  'processes.get': V,
  'processes.create': A,
  'processes.update': A,
  'processes.delete': A,
  'processes.activate': O,
  'processes.deactivate': O,
  'processes.run': O,
  'processes.syncEntity': O,
  'processes.plan': O,
  'processes.bulkSync': O,
  'processes.bulkStatus': V,
  'processes.export': V,
  'processes.import': A,
  'processes.resolve': O,
  'pairs.list': V,
  'pairs.get': V,
  'runs.list': V,
  'runs.get': V,
  'errors.list': V,
  'errors.retry': O,
  'license.get': V,
  'license.import': A,
  'telemetry.get': A,
  'telemetry.set': A,
  'telemetry.preview': A,
}

// can says whether role may call method. An unknown role or method is
// refused: the UI offers nothing it cannot vouch for.
export function can(role: string | null | undefined, method: string): boolean {
  if (!role) return false
  const have = rank[role]
  const need = methodAccess[method]
  if (!have || !need) return false
  return have >= need
}
