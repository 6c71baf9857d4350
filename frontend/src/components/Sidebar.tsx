import type { Info } from '../appInfo'
import { visibleNav } from '../shell/nav'
import type { PageId } from '../shell/route'
import { Logo } from './Logo'

export function Sidebar({ info, current, role, available = () => true }: { info: Info | null; current: PageId; role: string | null; available?: (id: PageId) => boolean }) {
  const items = visibleNav(role).filter((n) => available(n.id))
  let section = ''
  return (
    <aside className="sidebar">
      <div className="brand">
        <Logo />
        <span className="brand-name">Lockstep</span>
      </div>
      <nav aria-label="Main">
        <ul>
          {items.map((n) => {
            const head = n.section !== section ? n.section : null
            section = n.section
            return (
              <li key={n.id}>
                {head && <div className="nav-section">{head}</div>}
                <a className={n.id === current ? 'nav-item active' : 'nav-item'} aria-current={n.id === current ? 'page' : undefined} href={`#/${n.id}`}>
                  {n.label}
                </a>
              </li>
            )
          })}
        </ul>
      </nav>
      <footer className="sidebar-footer" data-testid="app-version">
        {info ? `${info.name} ${info.version}` : '\u00a0'}
      </footer>
    </aside>
  )
}
