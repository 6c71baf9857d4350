import { useAppInfo, type InfoLoader } from './appInfo'
import { AgentsEmptyState } from './components/AgentsEmptyState'
import { Sidebar } from './components/Sidebar'

export default function App({ loadInfo }: { loadInfo?: InfoLoader }) {
  const info = useAppInfo(loadInfo)
  return (
    <div className="shell">
      <Sidebar info={info} />
      <main className="content">
        <header className="page-header">
          <h1>Agents</h1>
        </header>
        <AgentsEmptyState />
      </main>
    </div>
  )
}
