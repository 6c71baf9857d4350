import { useState } from 'react'
import { errorMessage } from '../../api/bridge'
import type { Method, Result } from '../../api/generated/methods'
import { Button, Field } from '../../ui'
import { useAgentCall } from './useAgentCall'

export type Pick = { source: string; id: string; target: string }

// CopyPicker chooses what to copy: one item (a process, a system) of a
// signed-in agent, and the signed-in agent to copy it to. list reads the
// items from the source agent's answer to method.
export function CopyPicker<M extends Method, T extends { id: string; name: string }>({ agents, label, method, list, none, onPick, onCancel }: {
  agents: string[]
  // label names what is copied ("Process", "System").
  label: string
  method: M
  list: (answer: NonNullable<Result<M>>) => T[]
  // none says the source has nothing to copy.
  none: (source: string) => string
  onPick: (p: Pick) => void
  onCancel: () => void
}) {
  const [source, setSource] = useState(agents[0] ?? '')
  const targets = agents.filter((a) => a !== source)
  const [target, setTarget] = useState('')
  const chosenTarget = targets.includes(target) ? target : (targets[0] ?? '')
  const answer = useAgentCall(source, method, undefined, !source)
  const items = (answer.data ? list(answer.data) : []).slice().sort((x, y) => x.name.localeCompare(y.name))
  const [id, setId] = useState('')
  const chosen = items.some((x) => x.id === id) ? id : (items[0]?.id ?? '')

  return (
    <form
      className="form"
      onSubmit={(e) => {
        e.preventDefault()
        if (chosen && chosenTarget) onPick({ source, id: chosen, target: chosenTarget })
      }}
    >
      <Field label="From agent">
        <select value={source} onChange={(e) => setSource(e.target.value)} data-autofocus>
          {agents.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </Field>
      <Field label={label} error={answer.error ? errorMessage(answer.error) : items.length === 0 && answer.data ? none(source) : null}>
        <select value={chosen} onChange={(e) => setId(e.target.value)} disabled={!items.length}>
          {items.map((x) => (
            <option key={x.id} value={x.id}>
              {x.name}
            </option>
          ))}
        </select>
      </Field>
      <Field label="To agent" error={targets.length === 0 ? 'Sign in to another agent to copy to it.' : null}>
        <select value={chosenTarget} onChange={(e) => setTarget(e.target.value)} disabled={!targets.length}>
          {targets.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </Field>
      <div className="form-actions">
        <Button type="submit" variant="primary" disabled={!chosen || !chosenTarget}>
          Continue
        </Button>
        <Button onClick={onCancel}>Cancel</Button>
      </div>
    </form>
  )
}
