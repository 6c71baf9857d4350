import { can } from '../api/generated/roles'
import type { PageId } from './route'

export type NavItem = { id: PageId; label: string; section: string; needs?: string }

// needs names the agent method a page cannot work without: a role that may
// not call it does not see the page.
export const navItems: NavItem[] = [
  { id: 'agents', label: 'Agents', section: 'Connection' },
  { id: 'fleet', label: 'Fleet', section: 'Connection' },
  { id: 'dashboard', label: 'Dashboard', section: 'Overview', needs: 'agent.info' },
  { id: 'systems', label: 'Systems', section: 'Sync', needs: 'systems.list' },
  { id: 'processes', label: 'Processes', section: 'Sync', needs: 'processes.list' },
  { id: 'pairs', label: 'Entity pairs', section: 'Sync', needs: 'pairs.list' },
  { id: 'runs', label: 'Runs', section: 'Sync', needs: 'runs.list' },
  { id: 'errors', label: 'Errors', section: 'Sync', needs: 'errors.list' },
  { id: 'logs', label: 'Live logs', section: 'Monitoring', needs: 'logs.subscribe' },
  { id: 'audit', label: 'Audit', section: 'Monitoring', needs: 'audit.list' },
  { id: 'accounts', label: 'Accounts', section: 'Administration', needs: 'accounts.list' },
  { id: 'license', label: 'License', section: 'Administration', needs: 'license.get' },
  { id: 'settings', label: 'Settings', section: 'Administration', needs: 'settings.get' },
  { id: 'support', label: 'Support', section: 'Administration', needs: 'support.create' },
]

// visibleNav is what a role sees; before login (role null) every agent page
// is listed, since choosing one leads to the login form.
export function visibleNav(role: string | null): NavItem[] {
  return navItems.filter((n) => !n.needs || role === null || can(role, n.needs))
}
