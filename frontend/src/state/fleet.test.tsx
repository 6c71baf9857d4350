import { act, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import type { ConnStatus } from '../api/bridge'
import { agentStatus, fakeBridge, held, type FakeBridge, type Held } from '../test/fakeBridge'
import { NotifyProvider } from '../ui'
import { FleetProvider, useFleet } from './fleet'
import { ConnectionProvider } from './session'

// These tests hold the bridge's answers by hand and let them arrive in the
// order that hurts: after events that are newer than they are. Nothing
// waits for a time.

let fb: FakeBridge | undefined
afterEach(() => {
  fb?.restore()
  fb = undefined
})

const agent = agentStatus

// Probe shows what the fleet holds: each agent's state and version, and
// the events it delivered, in the order they came.
function Probe() {
  const { agents, events, reload } = useFleet()
  return (
    <>
      <ul aria-label="agents">
        {agents.map((a) => (
          <li key={a.profile}>
            {a.profile}: {a.state} {a.session ? 'signed in' : 'signed out'} {a.agent}
          </li>
        ))}
      </ul>
      <ul aria-label="events">
        {events.map((e) => (
          <li key={`${e.agent}-${e.sub}-${e.seq}`}>
            {e.agent} {e.sub} {e.seq}
          </li>
        ))}
      </ul>
      <button onClick={() => void reload()}>reload</button>
    </>
  )
}

function renderFleet(f: FakeBridge) {
  return render(
    <NotifyProvider>
      <ConnectionProvider initial={f.status}>
        <FleetProvider>
          <Probe />
        </FleetProvider>
      </ConnectionProvider>
    </NotifyProvider>,
  )
}

const row = (name: string) => screen.getAllByRole('listitem').find((li) => li.textContent?.startsWith(`${name}:`))

describe('the fleet list against agent:state', () => {
  // heldLists renders the fleet with every list answer held: at start,
  // Agents is answers[0] and ConnectAll answers[1]; more follow as asked.
  function heldLists() {
    const answers: Held<ConnStatus[]>[] = []
    const ask = () => {
      const h = held<ConnStatus[]>()
      answers.push(h)
      return h.promise
    }
    fb = fakeBridge({}, { Agents: ask, ConnectAll: ask }, east)
    renderFleet(fb)
    return answers
  }
  const east = agent('east', 'loggedIn')

  it('keeps an agent state event that is newer than a list answer asked before it', async () => {
    const answers = heldLists()
    // Agents answers first: west is connected, nobody signed in yet.
    await act(async () => answers[0].resolve([east, agent('west', 'connected')]))
    await waitFor(() => expect(row('west')).toHaveTextContent('west: connected signed out'))
    // Someone signs in to west: the bridge says so...
    act(() => fb!.emit('agent:state', agent('west', 'loggedIn')))
    expect(row('west')).toHaveTextContent('west: loggedIn signed in')
    // ...and then ConnectAll's answer, asked at start, arrives, made before
    // the sign-in (east's newer version is news no event told).
    await act(async () => answers[1].resolve([agent('east', 'loggedIn', { agent: 'lockstep-agent/1.3.0' }), agent('west', 'connected')]))
    expect(row('west')).toHaveTextContent('west: loggedIn signed in')
    expect(row('east')).toHaveTextContent('east: loggedIn signed in lockstep-agent/1.3.0')
  })

  it('takes a list asked after the event, whatever it says', async () => {
    const answers = heldLists()
    await act(async () => answers[0].resolve([east, agent('west', 'loggedIn')]))
    await act(async () => answers[1].resolve([east, agent('west', 'loggedIn')]))
    act(() => fb!.emit('agent:state', agent('west', 'loggedIn')))
    // Asked after the event: west has since lost its session.
    act(() => screen.getByRole('button', { name: 'reload' }).click())
    await act(async () => answers[2].resolve([east, agent('west', 'sessionExpired')]))
    expect(row('west')).toHaveTextContent('west: sessionExpired signed out')
  })

  it('keeps the state of an agent first heard of from an event over an older answer', async () => {
    const answers = heldLists()
    await act(async () => answers[0].resolve([east]))
    // west is added and signed in: unknown, so the list is asked again
    // (answers[2]); ConnectAll's answer (answers[1]), made before, then
    // names west still connecting.
    act(() => fb!.emit('agent:state', agent('west', 'loggedIn')))
    expect(answers).toHaveLength(3)
    await act(async () => answers[1].resolve([east, agent('west', 'connecting')]))
    expect(row('west')).toHaveTextContent('west: loggedIn signed in')
    await act(async () => answers[2].resolve([east, agent('west', 'loggedIn')]))
    expect(row('west')).toHaveTextContent('west: loggedIn signed in')
  })
})

describe('the fleet stream of an agent whose session ends and returns while subscribing', () => {
  // westReturns renders the fleet with east and west signed in, west's
  // subscriptions held; west loses its session and signs in again while
  // its first subscription is asked for, so a second is asked for.
  async function westReturns() {
    const east = agent('east', 'loggedIn')
    const subs: Held<string>[] = []
    const unsubscribed: string[] = []
    fb = fakeBridge(
      {},
      {
        Agents: async () => [east, agent('west', 'loggedIn')],
        ConnectAll: async () => [east, agent('west', 'loggedIn')],
        SubscribeAgentEvents: (name: string) => {
          if (name !== 'west') return Promise.resolve(`fleet-${name}`)
          const h = held<string>()
          subs.push(h)
          return h.promise
        },
        Unsubscribe: async (id: string) => void unsubscribed.push(id),
      },
      east,
    )
    renderFleet(fb)
    await waitFor(() => expect(subs).toHaveLength(1))
    act(() => fb!.emit('agent:state', agent('west', 'sessionExpired')))
    act(() => fb!.emit('agent:state', agent('west', 'loggedIn')))
    expect(subs).toHaveLength(2)
    return { subs, unsubscribed }
  }
  const batch = (sub: string, seq: number) => ({ sub, profile: 'west', events: [{ sub, seq, time: '', type: 'RunFinished', data: {} }] })

  // The answers arrive in either order. The live stream is the second:
  // the first ended with the session it belonged to.
  it.each([
    ['the first answer first', [0, 1]],
    ['the second answer first', [1, 0]],
  ])('keeps the newest subscription and cancels the older one, %s', async (_name, order) => {
    const { subs, unsubscribed } = await westReturns()
    const ids = ['west-1', 'west-2']
    for (const i of order) await act(async () => subs[i].resolve(ids[i]))
    expect(unsubscribed).toEqual(['west-1'])
    act(() => {
      fb!.emit('events:batch', batch('west-1', 1))
      fb!.emit('events:batch', batch('west-2', 2))
    })
    const heard = screen.getByRole('list', { name: 'events' })
    expect(heard).toHaveTextContent('west west-2 2')
    expect(heard).not.toHaveTextContent('west-1')
  })

  it('keeps the newer subscription when the older one is refused after it was asked', async () => {
    const { subs, unsubscribed } = await westReturns()
    // The first was refused (its session had ended): the second stays the
    // one under way, and no third is asked for on the next change.
    await act(async () => subs[0].reject({ kind: 'unauthenticated', message: 'Sign in first.' }))
    act(() => fb!.emit('agent:state', agent('east', 'loggedIn', { agent: 'lockstep-agent/1.3.0' })))
    expect(subs).toHaveLength(2)
    await act(async () => subs[1].resolve('west-2'))
    expect(unsubscribed).toEqual([])
    act(() => fb!.emit('events:batch', batch('west-2', 3)))
    expect(screen.getByRole('list', { name: 'events' })).toHaveTextContent('west west-2 3')
  })
})
