import type { ComponentType } from 'react'
import { useAppInfo, type InfoLoader } from './appInfo'
import { bridge, errorMessage } from './api/bridge'
import { Sidebar } from './components/Sidebar'
import { AccountsPage } from './pages/admin/AccountsPage'
import { AuditPage } from './pages/admin/AuditPage'
import { LicensePage } from './pages/admin/LicensePage'
import { SettingsPage } from './pages/admin/SettingsPage'
import { SupportPage } from './pages/admin/SupportPage'
import { AgentsPage } from './pages/agents/AgentsPage'
import { FleetPage } from './pages/fleet/FleetPage'
import { LoginPage } from './pages/LoginPage'
import { DashboardPage } from './pages/dashboard/DashboardPage'
import { LogsPage } from './pages/logs/LogsPage'
import { SystemsPage } from './pages/systems/SystemsPage'
import { ErrorsPage, PairsPage, ProcessesPage, RunsPage } from './pages/sync'
import { AgentSwitcher } from './shell/AgentSwitcher'
import { ConnectionBadge } from './shell/ConnectionBadge'
import { navItems } from './shell/nav'
import { navigate, useRoute, type PageId } from './shell/route'
import { useTheme } from './shell/theme'
import { can } from './api/generated/roles'
import { useEffect, useRef, type MouseEvent } from 'react'
import { FleetProvider } from './state/fleet'
import { ConnectionProvider, isLive, isOffline, useConnection, useSession } from './state/session'
import { Button, EmptyState, NotifyProvider, formatDate, useNotify } from './ui'

// The agent pages by route. Agents and Fleet are not here: they work without
// a current agent.
const agentPages: Partial<Record<PageId, ComponentType>> = {
  dashboard: DashboardPage,
  systems: SystemsPage,
  processes: ProcessesPage,
  pairs: PairsPage,
  runs: RunsPage,
  errors: ErrorsPage,
  logs: LogsPage,
  audit: AuditPage,
  accounts: AccountsPage,
  license: LicensePage,
  settings: SettingsPage,
  support: SupportPage,
}

export default function App({ loadInfo }: { loadInfo?: InfoLoader }) {
  return (
    <NotifyProvider>
      <ConnectionProvider>
        <FleetProvider>
          <Shell loadInfo={loadInfo} />
        </FleetProvider>
      </ConnectionProvider>
    </NotifyProvider>
  )
}

function Shell({ loadInfo }: { loadInfo?: InfoLoader }) {
  const info = useAppInfo(loadInfo)
  const route = useRoute()
  const { status, refresh, offlineSince } = useConnection()
  const session = useSession()
  const notify = useNotify()
  const [theme, cycleTheme] = useTheme()
  const role = session?.role ?? null
  const offline = isOffline(status)

  // Signing in lands on the dashboard when the page left open is one this
  // role may not see (a viewer after an admin, say). Only a sign-in at the
  // login form does: a page opened by its URL says why it is refused.
  const before = useRef(status.state)
  useEffect(() => {
    const atLogin = before.current === 'connected' || before.current === 'sessionExpired'
    before.current = status.state
    if (!session || !atLogin) return
    const item = navItems.find((n) => n.id === route)
    if (item?.needs && !can(session.role, item.needs)) navigate('dashboard')
  }, [session, status.state, route])

  // The skip link moves the focus to the page; with routes in the hash, a
  // plain #main-content link would navigate away instead.
  const skip = (e: MouseEvent) => {
    e.preventDefault()
    document.getElementById('main-content')?.focus()
  }

  async function logout() {
    try {
      await bridge().Logout()
    } catch (e) {
      notify('error', `Could not sign out: ${errorMessage(e)}`)
    }
    await refresh()
  }

  return (
    <div className="shell">
      <a className="skip-link" href="#main-content" onClick={skip}>
        Skip to content
      </a>
      <Sidebar info={info} current={route} role={role} available={(id) => id === 'agents' || id === 'fleet' || id in agentPages} />
      <div className="main">
        <header className="topbar">
          <AgentSwitcher />
          <ConnectionBadge status={status} />
          <span className="topbar-spacer" />
          {session && (
            <span className="topbar-user" data-testid="session-user">
              {session.username} · {session.role}
            </span>
          )}
          <Button variant="ghost" className="btn-small" onClick={cycleTheme} aria-label={`Theme: ${theme}. Change theme`} title="Change theme">
            {theme === 'dark' ? '☾ Dark' : theme === 'light' ? '☀ Light' : '◐ System'}
          </Button>
          {session && (
            <Button className="btn-small" onClick={logout}>
              Sign out
            </Button>
          )}
        </header>
        {offline && route !== 'agents' && route !== 'fleet' && (
          <div className="offline-banner" role="status" data-testid="offline">
            <strong>The agent {status.profile} is unreachable{offlineSince ? ` since ${formatDate(offlineSince)}` : ''}.</strong> What this page shows was loaded before and may be out of date; actions are disabled until the agent is back. Lockstep reconnects by itself.
          </div>
        )}
        <main className={offline ? 'content stale' : 'content'} id="main-content" tabIndex={-1}>
          {route === 'agents' ? (
            <AgentsPage />
          ) : route === 'fleet' ? (
            <FleetPage />
          ) : (
            <fieldset className="page-fieldset" disabled={offline}>
              {/* A page per agent: switching agents loads the page afresh. */}
              <AgentRoute key={status.profile} route={route} />
            </fieldset>
          )}
        </main>
      </div>
    </div>
  )
}

// AgentRoute shows an agent page once someone is signed in; before that it
// says what is missing: a connection, or a login.
function AgentRoute({ route }: { route: PageId }) {
  const { status } = useConnection()
  const session = useSession()
  if (!session) {
    if (isLive(status) || status.state === 'sessionExpired') return <LoginPage />
    return (
      <EmptyState
        title="Not connected to an agent"
        action={
          <Button variant="primary" onClick={() => navigate('agents')}>
            Go to Agents
          </Button>
        }
      >
        {status.state === 'fingerprintMismatch'
          ? 'The agent presented a different key and the app refused to connect. The Agents page explains what to check.'
          : 'Connect to an agent on the Agents page, then sign in.'}
      </EmptyState>
    )
  }
  const item = navItems.find((n) => n.id === route)
  if (item?.needs && !can(session.role, item.needs)) {
    return (
      <EmptyState title={`${item.label} is not available to your role`}>
        You are signed in as {session.username} ({session.role}). Ask an administrator if you need this page.
      </EmptyState>
    )
  }
  const Component = agentPages[route]
  if (!Component) return <EmptyState title="Page not found">Pick a page from the menu.</EmptyState>
  return <Component />
}
