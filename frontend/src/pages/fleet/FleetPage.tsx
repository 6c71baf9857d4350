import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { bridge, callAgent, errorKind, errorMessage, type ConnStatus } from '../../api/bridge'
import { navigate, useSubRoute } from '../../shell/route'
import { useFleet, type FleetEvent } from '../../state/fleet'
import { Latest } from '../../state/latest'
import { sessionOf, useConnection } from '../../state/session'
import { Alert, Badge, Button, Dialog, EmptyState, Loading, Page, Table, count, formatDate, formatLicenseState, licenseTone, useNotify } from '../../ui'
import { attentionOf, lastRunOf, licenseProblem, processCounts, sortByAttention, type AgentRow, type Summary } from './attention'
import { CopyProcess, type Signed } from './CopyProcess'
import { CopyPicker } from './CopyPicker'
import { CopiedNote, CopySystemForm, type Copied } from './CopySystem'
import { noticeOf } from './notices'
import './fleet.css'

type Loaded = { summary?: Summary; error?: string }

// reloadAfter gathers an agent's events for a moment before its row is read
// again: a run parks many entities at once.
const reloadAfter = 500

// useSummaries reads, for every agent someone is signed in to, what its row
// shows (version, license, processes with their health), when the session
// starts or comes back and again after that agent's events. Each agent's
// newest answer wins (state/latest.ts).
function useSummaries(agents: ConnStatus[], onEvent: (fn: (e: FleetEvent) => void) => () => void): Record<string, Loaded> {
  const [loaded, setLoaded] = useState<Record<string, Loaded>>({})
  const latest = useRef(new Map<string, Latest>())
  const load = useCallback(async (agent: string) => {
    let l = latest.current.get(agent)
    if (!l) latest.current.set(agent, (l = new Latest()))
    const current = l.begin()
    try {
      const [info, license, procs] = await Promise.all([
        callAgent(agent, 'agent.info'),
        callAgent(agent, 'license.get'),
        callAgent(agent, 'processes.list'),
      ])
      if (current()) setLoaded((m) => ({ ...m, [agent]: { summary: { version: info.version, license, processes: procs.processes ?? [] } } }))
    } catch (e) {
      // Out of reach, what was read before stays (the row says unreachable).
      if (current() && !['not_connected', 'unavailable', 'timeout', 'canceled'].includes(errorKind(e))) setLoaded((m) => ({ ...m, [agent]: { ...m[agent], error: errorMessage(e) } }))
    }
  }, [])

  // Read each agent when its session starts, or returns after the agent
  // was out of reach; the others are not read again for it.
  const live = agents
    .filter((a) => a.state === 'loggedIn')
    .map((a) => `${a.profile}\t${a.session?.username ?? ''}`)
    .join('\n')
  const wasLive = useRef(new Set<string>())
  useEffect(() => {
    const now = new Set(live ? live.split('\n') : [])
    for (const line of now) if (!wasLive.current.has(line)) void load(line.split('\t')[0])
    wasLive.current = now
  }, [live, load])

  const timers = useRef(new Map<string, ReturnType<typeof setTimeout>>())
  useEffect(() => {
    const off = onEvent((e) => {
      if (timers.current.has(e.agent)) return
      timers.current.set(
        e.agent,
        setTimeout(() => {
          timers.current.delete(e.agent)
          void load(e.agent)
        }, reloadAfter),
      )
    })
    const pending = timers.current
    return () => {
      off()
      for (const t of pending.values()) clearTimeout(t)
      pending.clear()
      for (const l of latest.current.values()) l.invalidate()
      // What was being read is dropped: read every agent again if mounted anew.
      wasLive.current = new Set()
    }
  }, [onEvent, load])
  return loaded
}

// FleetPage shows every saved agent at once, the one that needs attention
// first: unreachable, failing, degraded, license problems. It also lists
// what every agent said lately, and copies processes and systems between
// agents.
export function FleetPage() {
  const { agents, ready, events, onEvent } = useFleet()
  const { status, apply, refresh } = useConnection()
  const notify = useNotify()
  const loaded = useSummaries(agents, onEvent)
  const [copying, setCopying] = useState<'process' | 'system' | null>(null)
  const [busy, setBusy] = useState('')

  // #/fleet/<agent> (a notice from that agent links here) points at its
  // row: marked, scrolled into view and focused, once it is listed.
  const [pointed] = useSubRoute()
  const pointedRow = useRef<HTMLDivElement>(null)
  const listed = agents.some((a) => a.profile === pointed)
  useEffect(() => {
    if (!pointed || !listed) return
    pointedRow.current?.scrollIntoView?.({ block: 'center' })
    pointedRow.current?.focus()
  }, [pointed, listed])

  const rows: AgentRow[] = useMemo(() => sortByAttention(agents.map((a) => ({ status: a, summary: loaded[a.profile]?.summary, error: loaded[a.profile]?.error }))), [agents, loaded])
  const signed: Signed[] = agents.filter((a) => a.state === 'loggedIn' && a.session).map((a) => ({ name: a.profile, role: a.session!.role }))

  async function open(a: ConnStatus) {
    setBusy(a.profile)
    try {
      await apply(bridge().Connect(a.profile))
      navigate('dashboard')
    } catch (e) {
      await refresh()
      if (errorKind(e) === 'fingerprint_mismatch') navigate('agents')
      else notify('error', `Could not connect to ${a.profile}: ${errorMessage(e)}`)
    } finally {
      setBusy('')
    }
  }

  const names = useMemo(() => {
    const m = new Map<string, Map<string, string>>()
    for (const [agent, l] of Object.entries(loaded)) m.set(agent, new Map((l.summary?.processes ?? []).map((p) => [p.process.id, p.process.name])))
    return m
  }, [loaded])
  const notices = events
    .map((e) => ({ e, n: noticeOf(e, (id) => names.get(e.agent)?.get(id)) }))
    .filter((x) => x.n)
    .slice(0, 50)

  return (
    <Page
      title="Fleet"
      subtitle="Every saved agent at once, the ones that need attention first. Each keeps its own connection and sign-in."
      actions={
        <>
          <Button onClick={() => setCopying('process')} disabled={signed.length < 2} title={signed.length < 2 ? 'Sign in to two agents to copy between them' : undefined}>
            Copy a process…
          </Button>
          <Button onClick={() => setCopying('system')} disabled={signed.length < 2} title={signed.length < 2 ? 'Sign in to two agents to copy between them' : undefined}>
            Copy a system…
          </Button>
        </>
      }
    >
      <Table
        caption="Agents by what needs attention"
        className="fleet-table"
        rows={rows}
        rowKey={(r) => r.status.profile}
        empty={
          ready ? (
            <EmptyState title="No agents yet" action={<Button variant="primary" onClick={() => navigate('agents')}>Go to Agents</Button>}>
              Add the agents you administer on the Agents page; this page then shows them all.
            </EmptyState>
          ) : (
            <Loading />
          )
        }
        columns={[
          {
            key: 'agent',
            header: 'Agent',
            render: (r) => {
              const at = attentionOf(r)
              const here = r.status.profile === pointed
              return (
                <div
                  className={here ? 'fleet-agent fleet-agent-pointed' : 'fleet-agent'}
                  data-testid="fleet-agent"
                  data-agent={r.status.profile}
                  data-level={at.level}
                  data-pointed={here || undefined}
                  ref={here ? pointedRow : undefined}
                  tabIndex={here ? -1 : undefined}
                >
                  <strong>{r.status.profile}</strong>
                  {r.status.profile === status.profile && status.state !== 'closed' && <Badge tone="info">current</Badge>}
                  <div className={`small ${at.tone === 'bad' ? 'bad-text' : at.tone === 'warn' ? 'warn-text' : 'muted'}`} data-testid="fleet-attention">
                    {at.reason}
                  </div>
                </div>
              )
            },
          },
          {
            key: 'connection',
            header: 'Connection',
            render: (r) => (
              <div className="fleet-conn">
                <ConnWords status={r.status} />
                <div className="muted small" data-testid="fleet-version">
                  {r.summary?.version ? `version ${r.summary.version}` : r.status.agent ? r.status.agent.replace(/^lockstep-agent\//, 'version ') : ''}
                </div>
              </div>
            ),
          },
          {
            key: 'license',
            header: 'License',
            render: (r) => {
              const l = r.summary?.license
              if (!l) return <span className="muted">—</span>
              const problem = licenseProblem(l)
              return (
                <span data-testid="fleet-license">
                  <Badge tone={problem ? 'bad' : licenseTone(l.state)}>{formatLicenseState(l.state)}</Badge>
                  {l.overLimit && <div className="small bad-text">More users than allowed</div>}
                </span>
              )
            },
          },
          {
            key: 'processes',
            header: 'Processes',
            render: (r) => {
              if (!r.summary) return <span className="muted">—</span>
              const c = processCounts(r.summary.processes)
              return (
                <div className="fleet-procs" data-testid="fleet-processes">
                  <span>{count(c.total, 'process', 'processes')}</span>
                  {c.failing > 0 && <Badge tone="bad">{c.failing} failing</Badge>}
                  {c.degraded > 0 && <Badge tone="warn">{c.degraded} degraded</Badge>}
                  {c.ok > 0 && c.failing === 0 && c.degraded === 0 && <Badge tone="good">{c.ok === c.total ? 'healthy' : `${c.ok} healthy`}</Badge>}
                  {c.inactive > 0 && <Badge>{c.inactive} inactive</Badge>}
                  {c.parked > 0 && <div className="small warn-text">{count(c.parked, 'parked error')}</div>}
                </div>
              )
            },
          },
          {
            key: 'run',
            header: 'Last run',
            render: (r) => {
              const last = r.summary && lastRunOf(r.summary.processes)
              if (!last) return <span className="muted">—</span>
              return (
                <div className="small">
                  {formatDate(last.run.endedAt || last.run.startedAt)}
                  <div className="muted">{last.process}</div>
                </div>
              )
            },
          },
          {
            key: 'actions',
            header: <span className="sr-only">Actions</span>,
            className: 'actions',
            render: (r) => <RowAction status={r.status} busy={busy === r.status.profile} onOpen={open} />,
          },
        ]}
      />

      <section className="fleet-notices" aria-labelledby="fleet-notices-title">
        <h2 id="fleet-notices-title">Notifications</h2>
        {notices.length === 0 ? (
          <p className="muted">Nothing yet. Health and license changes, failed entities and runs that changed something appear here as they happen, from every agent you are signed in to.</p>
        ) : (
          <ul className="notice-list" data-testid="fleet-notices">
            {notices.map(({ e, n }) => (
              <li key={`${e.agent}/${e.seq}`} className={`notice notice-${n!.tone}`} data-testid="fleet-notice" data-agent={e.agent}>
                <span className="muted small nowrap">{formatDate(e.time)}</span>
                <strong>{e.agent}</strong>
                <span>{n!.text}</span>
              </li>
            ))}
          </ul>
        )}
      </section>

      <Dialog open={copying === 'process'} title="Copy a process to another agent" onClose={() => setCopying(null)} wide>
        {copying === 'process' && (
          <CopyProcess
            agents={signed}
            onClose={() => setCopying(null)}
            onOpen={(agent) => {
              setCopying(null)
              const a = agents.find((x) => x.profile === agent)
              if (a) void open(a)
            }}
          />
        )}
      </Dialog>
      <Dialog open={copying === 'system'} title="Copy a system to another agent" onClose={() => setCopying(null)} wide>
        {copying === 'system' && <CopySystem agents={signed} onClose={() => setCopying(null)} />}
      </Dialog>
    </Page>
  )
}

// CopySystem picks a system and a target, then copies it.
function CopySystem({ agents, onClose }: { agents: Signed[]; onClose: () => void }) {
  const [pick, setPick] = useState<{ source: string; systemId: string; target: string } | null>(null)
  const [copied, setCopied] = useState<{ copied: Copied; target: string } | null>(null)
  if (copied) {
    return (
      <>
        <CopiedNote copied={copied.copied} target={copied.target} />
        <div className="form-actions">
          <Button onClick={onClose}>Close</Button>
        </div>
      </>
    )
  }
  if (!pick) {
    return (
      <CopyPicker
        agents={agents.map((a) => a.name)}
        label="System"
        method="systems.list"
        list={(r) => r.systems ?? []}
        none={(source) => `${source} has no systems.`}
        onPick={(p) => setPick({ source: p.source, systemId: p.id, target: p.target })}
        onCancel={onClose}
      />
    )
  }
  const role = agents.find((a) => a.name === pick.target)?.role ?? ''
  if (role !== 'admin') {
    return (
      <>
        <Alert kind="error" title={`Copying to ${pick.target} needs an administrator`}>
          You are signed in to {pick.target} as {role}; sign in there as an administrator to create systems on it.
        </Alert>
        <div className="form-actions">
          <Button onClick={() => setPick(null)}>Back</Button>
        </div>
      </>
    )
  }
  return <CopySystemForm {...pick} onCancel={() => setPick(null)} onDone={(c) => setCopied({ copied: c, target: pick.target })} />
}

function ConnWords({ status }: { status: ConnStatus }) {
  const words: Record<string, [string, 'good' | 'warn' | 'bad' | 'neutral']> = {
    loggedIn: [status.session ? `Signed in as ${status.session.username}` : 'Signed in', 'good'],
    connected: ['Connected, not signed in', 'warn'],
    connecting: ['Connecting…', 'neutral'],
    disconnected: [status.session ? 'Lost, reconnecting' : 'Unreachable', 'bad'],
    sessionExpired: ['Session expired', 'warn'],
    fingerprintMismatch: ['Different key: refused', 'bad'],
    closed: ['Not connected', 'neutral'],
  }
  const [text, tone] = words[status.state] ?? [status.state, 'neutral']
  return (
    <span data-testid="fleet-state" data-state={status.state} title={status.error || undefined}>
      <Badge tone={tone}>{text}</Badge>
      {status.error && status.state !== 'loggedIn' && <div className="small muted break">{status.error}</div>}
    </span>
  )
}

function RowAction({ status, busy, onOpen }: { status: ConnStatus; busy: boolean; onOpen: (s: ConnStatus) => void }) {
  const name = status.profile
  if (status.state === 'fingerprintMismatch') {
    return (
      <Button className="btn-small" onClick={() => navigate('agents')} aria-label={`Check the key of ${name}`}>
        Check key
      </Button>
    )
  }
  if (sessionOf(status)) {
    return (
      <Button className="btn-small" variant="primary" busy={busy} onClick={() => onOpen(status)} aria-label={`Open ${name}`}>
        Open
      </Button>
    )
  }
  if (status.state === 'connected' || status.state === 'sessionExpired') {
    return (
      <Button className="btn-small" variant="primary" busy={busy} onClick={() => onOpen(status)} aria-label={`Sign in to ${name}`}>
        Sign in
      </Button>
    )
  }
  return (
    <Button className="btn-small" busy={busy || status.state === 'connecting'} onClick={() => onOpen(status)} aria-label={`Connect to ${name}`}>
      Connect
    </Button>
  )
}
