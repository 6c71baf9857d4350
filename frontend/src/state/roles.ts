// Which role may call which agent method: the tables generated from
// shared/protocol (`make generate`), so the UI asks what the agent enforces
// and a stale copy fails go test. The UI hides or disables what a role
// cannot do; the agent still enforces it.
export { can, type Role } from '../api/generated/roles'
export { methodAccess } from '../api/generated/methods'
