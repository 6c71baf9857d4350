// Session, roles, calls and events: the state every page shares.
export { useAsync, useCall, type AsyncState } from './async'
export { Latest, useLatest, usePaged, type Paged, type PageOf } from './latest'
export { ConnectionProvider, useConnection, useSession, sessionOf, useRole, useCan, isLive, isOffline, useOffline, useReconnects, type Connection } from './session'
export { can, type Role } from '../api/generated/roles'
export { methodAccess } from '../api/generated/methods'
export { useAgentEvents, type AgentEvent } from './events'
