// A held pair's conflict: both sides' current values of each held field,
// read live from the systems when the view opens (and on Refresh, never
// kept beyond the view), a side chosen per field, and the resolution sent
// to the agent, which audits it and applies it on the next run. Choosing a
// side overwrites the other's value, so the view says which values go
// before it sends anything.
import { useState } from 'react'
import { errorMessage } from '../../api/bridge'
import { useAsync, useCan } from '../../state'
import { Alert, Button, ConfirmDialog, Loading, Table, count } from '../../ui'
import { pairValues, resolveFields } from './api'
import { Value, fieldLabel, valueText } from './pairWords'
import type { FieldValues, PairView as Pair, Side } from '../../api/generated/types'

export function ConflictView({ pair, sideName, onResolved }: { pair: Pair; sideName: (s: Side) => string; onResolved: (message: string) => void }) {
  const canResolve = useCan('pairs.resolve')
  const canRead = useCan('pairs.values')
  const held = pair.held ?? []
  const values = useAsync(() => pairValues(pair.process, pair.id), [pair.process, pair.id], { skip: !canRead || held.length === 0 })
  const [choice, setChoice] = useState<Record<string, Side>>({})
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  const [asking, setAsking] = useState(false)
  if (held.length === 0) return null

  const byField = new Map((values.data ?? []).map((v) => [v.field, v]))
  const open = held.filter((k) => !pair.resolve?.[k])
  const chosen = Object.keys(choice).filter((k) => open.includes(k))
  const chooseAll = (s: Side) => setChoice(Object.fromEntries(open.map((k) => [k, s])))
  const resolve = async () => {
    setBusy(true)
    setError('')
    try {
      const fields = Object.fromEntries(chosen.map((k) => [k, choice[k]]))
      await resolveFields(pair.process, pair.id, fields)
      setChoice({})
      setAsking(false)
      onResolved(
        `${chosen.map((k) => `${fieldLabel(k)}: ${sideName(choice[k])}'s value`).join('; ')} will be written on the next run.` +
          (chosen.length < open.length ? ` ${stillHeld(open.length - chosen.length)}` : ''),
      )
    } catch (e) {
      setAsking(false)
      setError(`Nothing was resolved: ${errorMessage(e)}`)
    } finally {
      setBusy(false)
    }
  }

  // What choosing a side writes, when the mapping changes the value.
  const written = (v: FieldValues | undefined, s: Side) => {
    if (!v) return null
    const raw = s === 'a' ? v.a : v.b
    const into = s === 'a' ? v.inB : v.inA
    if (valueText(raw) === valueText(into)) return null
    return (
      <div className="small muted">
        written to {sideName(s === 'a' ? 'b' : 'a')} as <Value v={into} />
      </div>
    )
  }

  // overwrite says what resolving field k for side s replaces on the other side.
  const overwrite = (k: string, s: Side) => {
    const v = byField.get(k)
    const loser: Side = s === 'a' ? 'b' : 'a'
    return (
      <>
        <strong>{fieldLabel(k)}</strong> in {sideName(loser)}
        {v ? (
          <dl className="kv overwrite">
            <dt>Now</dt>
            <dd>
              <Value v={loser === 'a' ? v.a : v.b} />
            </dd>
            <dt>Becomes</dt>
            <dd>
              <Value v={s === 'a' ? v.inB : v.inA} />
              <div className="muted small">{sideName(s)}'s value</div>
            </dd>
          </dl>
        ) : (
          <>: takes {sideName(s)}'s value.</>
        )}
      </>
    )
  }

  return (
    <section className="conflict" aria-labelledby="conflict-title" data-testid="conflict">
      <div className="row spread">
        <h2 id="conflict-title" className="section-title flush">
          Conflict: {count(held.length, 'field')} changed on both sides
        </h2>
        {canRead && (
          <Button onClick={() => void values.reload()} busy={values.loading && !!values.data}>
            Refresh values
          </Button>
        )}
      </div>
      {!canRead ? (
        <Alert kind="info">
          Held: {held.map(fieldLabel).join(', ')}. Reading both sides' values and choosing which wins needs the operator role.
        </Alert>
      ) : (
        <>
          <p className="muted small">
            Both values are read from the systems now and shown only here; nothing is stored. Choose which side's value wins for each field: the agent records who chose
            and writes the value on the next run. Comments and attachments keep flowing meanwhile.
          </p>
          {values.error ? (
            <Alert kind="error" title="The current values could not be read" actions={<Button onClick={() => void values.reload()}>Try again</Button>}>
              {errorMessage(values.error)}
            </Alert>
          ) : !values.data ? (
            <Loading label="Reading both sides…" />
          ) : null}
          <Table
            rows={held}
            rowKey={(k) => k}
            caption={<span className="sr-only">Held fields with both sides' current values</span>}
            columns={[
              { key: 'field', header: 'Field', render: (k) => <strong>{fieldLabel(k)}</strong> },
              ...(['a', 'b'] as Side[]).map((s) => ({
                key: s,
                header: `Now in ${sideName(s)}`,
                render: (k: string) => {
                  const v = byField.get(k)
                  if (!values.data) return <span className="muted">…</span>
                  if (!v) return <span className="muted">not read (the field is not mapped any more)</span>
                  return (
                    <div className="value-cell" data-testid={`value-${s}`}>
                      <Value v={s === 'a' ? v.a : v.b} />
                      {written(v, s)}
                    </div>
                  )
                },
              })),
              {
                key: 'winner',
                header: 'Winner',
                render: (k: string) => {
                  const decided = pair.resolve?.[k]
                  if (decided) return <span>{sideName(decided)}'s value, on the next run</span>
                  if (!canResolve) return <span className="muted">Not chosen</span>
                  return (
                    <div role="radiogroup" aria-label={`Winner of ${fieldLabel(k)}`} className="choices inline tight">
                      {(['a', 'b'] as Side[]).map((s) => (
                        <label key={s} className="choice">
                          <input type="radio" name={`winner-${k}`} checked={choice[k] === s} onChange={() => setChoice((c) => ({ ...c, [k]: s }))} disabled={busy} />
                          {sideName(s)}
                        </label>
                      ))}
                    </div>
                  )
                },
              },
            ]}
          />
          {canResolve && open.length > 0 && (
            <div className="toolbar">
              <Button onClick={() => chooseAll('a')} disabled={busy}>
                {sideName('a')} for all
              </Button>
              <Button onClick={() => chooseAll('b')} disabled={busy}>
                {sideName('b')} for all
              </Button>
              <Button variant="primary" disabled={chosen.length === 0 || busy} onClick={() => setAsking(true)}>
                {chosen.length ? `Resolve ${count(chosen.length, 'field')}…` : 'Choose a winner per field'}
              </Button>
            </div>
          )}
          {error && <Alert kind="error">{error}</Alert>}
          <ConfirmDialog
            open={asking && chosen.length > 0}
            title={`Resolve ${count(chosen.length, 'field')}?`}
            confirmLabel={`Resolve ${count(chosen.length, 'field')}`}
            busy={busy}
            onCancel={() => setAsking(false)}
            onConfirm={() => void resolve()}
            message={
              <>
                <p>On the next run:</p>
                <ul className="plain-list" aria-label="What the resolution writes">
                  {chosen.map((k) => (
                    <li key={k}>{overwrite(k, choice[k])}</li>
                  ))}
                </ul>
                <p className="muted small">The agent records that you chose.{chosen.length < open.length ? ` ${stillHeld(open.length - chosen.length)}` : ''}</p>
              </>
            }
          />
        </>
      )}
    </section>
  )
}

function stillHeld(n: number): string {
  return `${count(n, 'field')} ${n === 1 ? 'stays' : 'stay'} held.`
}
