import type { Info } from '../appInfo'
import { Logo } from './Logo'

// Placeholder navigation: only Agents exists until the admin pages land.
export function Sidebar({ info }: { info: Info | null }) {
  return (
    <aside className="sidebar">
      <div className="brand">
        <Logo />
        <span className="brand-name">Lockstep</span>
      </div>
      <nav aria-label="Main">
        <ul>
          <li>
            <a className="nav-item active" aria-current="page" href="#agents">
              Agents
            </a>
          </li>
        </ul>
      </nav>
      <footer className="sidebar-footer" data-testid="app-version">
        {info ? `${info.name} ${info.version}` : '\u00a0'}
      </footer>
    </aside>
  )
}
