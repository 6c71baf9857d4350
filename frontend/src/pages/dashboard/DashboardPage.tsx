import { call, errorMessage } from '../../api/bridge'
import { useAgentEvents } from '../../state/events'
import { useAsync, useCall } from '../../state/async'
import { Alert, Badge, HealthNote, Loading, Page, count, formatBytes, formatDate, formatDuration, formatLicenseState, healthWord, licenseTone, type Health } from '../../ui'
import { BarChart } from './BarChart'
import { bucketRuns, changesOf, errorsOf, type Run } from './chart'

// unwell says whether a health needs someone's attention.
function unwell(h?: Health | null): boolean {
  return h?.state === 'failing' || h?.state === 'degraded'
}

// DashboardPage is the agent at a glance: what runs where, the license, and
// how syncing has gone lately.
export function DashboardPage() {
  const agent = useCall('agent.info')
  const host = useCall('host.info')
  const license = useCall('license.get')
  const health = useAsync(async () => {
    const { processes } = await call('processes.list')
    const list = processes ?? []
    // runs.list is per process; a dashboard over a few processes can afford one call each.
    const runs = (await Promise.all(list.map((p) => call('runs.list', { process: p.process.id, limit: 200 }).then((r): Run[] => r.runs ?? [], () => [])))).flat()
    // The systems' health is a bonus here: the card works without it.
    const systems = await call('systems.list').then((r) => r.systems, () => [])
    return { processes: list, runs, systems: systems ?? [] }
  }, [], { keep: 'dashboard.health' })

  useAgentEvents(['RunFinished', 'ConfigChanged', 'LicenseChanged', 'HealthChanged'], (e) => {
    if (e.type === 'LicenseChanged') void license.reload()
    else void health.reload()
  }, () => void health.reload())

  const procs = health.data?.processes ?? []
  const runs = health.data?.runs ?? []
  const active = procs.filter((p) => p.process.active).length
  const pairs = procs.reduce((a, p) => a + (p.pairs ?? 0), 0)
  const parked = procs.reduce((a, p) => a + (p.errors ?? 0), 0)
  const { step, buckets } = bucketRuns(runs, Date.now())
  const last = [...runs].sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt)).slice(0, 5)
  // Every process and system that is not healthy, the failing first: a
  // system can fail on its own (its connection test), with no process to say so.
  const troubled = [
    ...procs.filter((p) => unwell(p.health)).map((p) => ({ key: `p:${p.process.id}`, what: `Process ${p.process.name}`, health: p.health!, page: 'processes', test: undefined })),
    ...(health.data?.systems ?? []).filter((s) => unwell(s.health)).map((s) => ({ key: `s:${s.id}`, what: `System ${s.name}`, health: s.health!, page: 'systems', test: s.lastTest })),
  ].sort((a, b) => (a.health.state === b.health.state ? 0 : a.health.state === 'failing' ? -1 : 1))
  const failing = troubled.filter((t) => t.health.state === 'failing').length
  const degraded = troubled.length - failing

  return (
    <Page title="Dashboard" subtitle={host.data ? `${host.data.hostname} · ${agent.data?.version ?? ''}` : undefined}>
      {troubled.length > 0 && (
        <section className="card" aria-labelledby="attention">
          <h2 id="attention">Needs attention</h2>
          <ul className="plain-list" data-testid="attention">
            {troubled.map((t) => (
              <li key={t.key}>
                <HealthNote health={t.health} test={t.test} title={`${t.what}: ${healthWord(t.health).toLowerCase()}`}>
                  <p>
                    <a href={`#/${t.page}`}>Open {t.page === 'systems' ? 'Systems' : 'Processes'}</a>
                  </p>
                </HealthNote>
              </li>
            ))}
          </ul>
        </section>
      )}
      <div className="cards">
        <section className="card" aria-labelledby="sync-health">
          <h2 id="sync-health">Sync health</h2>
          {health.error ? (
            <Alert kind="error">{errorMessage(health.error)}</Alert>
          ) : health.loading && !health.data ? (
            <Loading />
          ) : (
            <dl className="kv">
              <dt>Health</dt>
              <dd data-testid="health-summary">
                {troubled.length === 0 ? (
                  <Badge tone="good">All healthy</Badge>
                ) : (
                  <>
                    {failing > 0 && <Badge tone="bad">{failing.toLocaleString()} failing</Badge>} {degraded > 0 && <Badge tone="warn">{degraded.toLocaleString()} degraded</Badge>}
                  </>
                )}
              </dd>
              <dt>Processes</dt>
              <dd data-testid="processes-count">
                <a href="#/processes">
                  {procs.length} ({active} active)
                </a>
              </dd>
              <dt>Entity pairs</dt>
              <dd>{pairs.toLocaleString()}</dd>
              <dt>Parked errors</dt>
              <dd data-testid="errors-count">
                {parked ? <Badge tone="bad">{parked}</Badge> : <Badge tone="good">0</Badge>} <a href="#/errors">Errors page</a>
              </dd>
              <dt>Last run</dt>
              <dd>{last[0] ? `${formatDate(last[0].startedAt)} (${count(changesOf(last[0].counts), 'change')}, ${count(errorsOf(last[0]), 'error')})` : 'none yet'}</dd>
            </dl>
          )}
        </section>
        <section className="card" aria-labelledby="license-card">
          <h2 id="license-card">License</h2>
          {license.error ? (
            <Alert kind="error">{errorMessage(license.error)}</Alert>
          ) : !license.data ? (
            <Loading />
          ) : (
            <dl className="kv">
              <dt>State</dt>
              <dd>
                <Badge tone={licenseTone(license.data.state)}>{formatLicenseState(license.data.state)}</Badge>
              </dd>
              <dt>Expires</dt>
              <dd>{formatDate(license.data.expiresAt)}</dd>
              <dt title="People the synced work systems name (authors, assignees, commenters), counted for the license">Work-system users</dt>
              <dd>
                {license.data.usersSeen}
                {license.data.maxUsers ? ` of ${license.data.maxUsers}` : ''}
                {license.data.overLimit && (
                  <>
                    {' '}
                    <Badge tone="bad">over the limit</Badge>
                  </>
                )}
              </dd>
            </dl>
          )}
        </section>
        <section className="card" aria-labelledby="agent-card">
          <h2 id="agent-card">Agent</h2>
          {agent.error ? (
            <Alert kind="error">{errorMessage(agent.error)}</Alert>
          ) : !agent.data ? (
            <Loading />
          ) : (
            <dl className="kv">
              <dt>Version</dt>
              <dd>{agent.data.version}</dd>
              <dt>Instance</dt>
              <dd className="mono">{agent.data.instanceId}</dd>
              <dt>Started</dt>
              <dd>{formatDate(agent.data.startedAt)}</dd>
              <dt>Data directory</dt>
              <dd className="mono">{agent.data.dataDir}</dd>
            </dl>
          )}
        </section>
        <section className="card" aria-labelledby="host-card">
          <h2 id="host-card">Host</h2>
          {host.error ? (
            <Alert kind="error">{errorMessage(host.error)}</Alert>
          ) : !host.data ? (
            <Loading />
          ) : (
            <dl className="kv" data-testid="host-info">
              <dt>OS</dt>
              <dd>
                {host.data.platform || host.data.os} {host.data.platformVersion} ({host.data.arch})
              </dd>
              <dt>Kernel</dt>
              <dd>{host.data.kernel}</dd>
              <dt>CPU</dt>
              <dd>
                {host.data.cpuModel} · {host.data.cpuCores} cores · {host.data.cpuPercent.toFixed(0)}%
              </dd>
              <dt>Memory</dt>
              <dd>
                {formatBytes(host.data.memAvailable)} free of {formatBytes(host.data.memTotal)}
              </dd>
              <dt>Agent</dt>
              <dd>
                {host.data.threads} threads · {host.data.goroutines} goroutines · {formatBytes(host.data.rss)} RSS
              </dd>
              <dt>Disk free</dt>
              <dd>{formatBytes(host.data.diskFree)}</dd>
              <dt>Uptime</dt>
              <dd>{formatDuration(host.data.uptimeSeconds)}</dd>
            </dl>
          )}
        </section>
      </div>
      <section className="card" aria-labelledby="activity">
        <h2 id="activity">Activity</h2>
        {health.error && !health.data ? (
          <p className="muted">The runs could not be loaded: {errorMessage(health.error)}</p>
        ) : !health.data ? (
          <Loading />
        ) : runs.length === 0 ? (
          <p className="muted">No sync runs yet. Create a process under Processes and activate it; its runs appear here.</p>
        ) : (
          <div className="cards charts">
            <BarChart title="Runs and synced changes" step={step} buckets={buckets} series={[{ key: 'runs', label: 'Runs', cls: 's1' }, { key: 'changes', label: 'Changes', cls: 's2' }]} />
            <BarChart title="Errors" step={step} buckets={buckets} series={[{ key: 'errors', label: 'Errors', cls: 's3' }]} />
          </div>
        )}
      </section>
    </Page>
  )
}
