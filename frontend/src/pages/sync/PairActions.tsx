// What an operator does to pairs by hand: unpair (one or many), relink two
// entities (from a pair or from scratch), and take a pair whose entity was
// deleted out of its deleted state, each saying what it does before it does it.
import { useEffect, useRef, useState, type FormEvent } from 'react'
import { errorMessage } from '../../api/bridge'
import { Alert, Button, ConfirmDialog, Dialog, Field, count } from '../../ui'
import { applyDeletion, issuesOf, issueMap, listPairs, recreatePair, relink, unpair } from './api'
import { entityLabel, pairLabel, survivorOf } from './pairWords'
import { ProcessField } from './ProcessPicker'
import type { PairView as Pair, Side } from '../../api/generated/types'
import type { Process } from './api'

// SideNamer names a side of a process by its system and project.
export type SideNamer = (process: string, s: Side) => string

// UnpairDialog asks before unpairing pairs (of one process or several: one
// call per process) and says what unpairing means.
export function UnpairDialog({ pairs, onCancel, onDone }: { pairs: Pair[] | null; onCancel: () => void; onDone: (n: number) => void }) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  useEffect(() => setError(''), [pairs])
  if (!pairs) return null
  const shown = pairs.slice(0, 10)
  const confirm = async () => {
    setBusy(true)
    setError('')
    let done = 0
    try {
      const byProcess = new Map<string, string[]>()
      for (const p of pairs) byProcess.set(p.process, [...(byProcess.get(p.process) ?? []), p.id])
      for (const [process, ids] of byProcess) done += await unpair(process, ids)
      onDone(done)
    } catch (e) {
      setError(`${done ? `${count(done, 'pair')} were unpaired, then: ` : 'Nothing was unpaired: '}${errorMessage(e)}`)
    } finally {
      setBusy(false)
    }
  }
  const what = pairs.length === 1 ? pairLabel(pairs[0]) : count(pairs.length, 'pair')
  return (
    <ConfirmDialog
      open
      danger
      title={`Unpair ${what}?`}
      confirmLabel={pairs.length === 1 ? 'Unpair' : `Unpair ${count(pairs.length, 'pair')}`}
      busy={busy}
      onCancel={onCancel}
      onConfirm={confirm}
      message={
        <>
          <p>
            Both entities of {pairs.length === 1 ? 'the pair' : 'each pair'} stay as they are in their systems, but they are <strong>excluded from sync</strong>: no change flows
            between them, and neither is paired again by its marker or copied again, until you relink it.
          </p>
          <ul className="plain-list" aria-label="Pairs to unpair">
            {shown.map((p) => (
              <li key={`${p.process}/${p.id}`}>
                <strong>{pairLabel(p)}</strong> {p.a.title && <span className="muted">{p.a.title}</span>}
              </li>
            ))}
            {pairs.length > shown.length && <li className="muted">and {count(pairs.length - shown.length, 'more pair')}</li>}
          </ul>
          {error && <Alert kind="error">{error}</Alert>}
        </>
      }
    />
  )
}

// RelinkDialog pairs an entity of side A with one of side B, each named by
// its key (or id). Started from a pair it offers that pair's keys. When
// either entity has a pair now, it names the pairs that go (and the
// entities left out of sync) and asks before relinking.
export function RelinkDialog({
  open,
  processes,
  process: fixed,
  sideName,
  initial,
  onClose,
  onDone,
}: {
  open: boolean
  processes: Process[]
  process?: string
  sideName: SideNamer
  initial?: { a: string; b: string }
  onClose: () => void
  onDone: (pair: Pair, excluded: string[]) => void
}) {
  const [process, setProcess] = useState(fixed || processes[0]?.id || '')
  const [a, setA] = useState(initial?.a ?? '')
  const [b, setB] = useState(initial?.b ?? '')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  const [issues, setIssues] = useState<Record<string, string>>({})
  // The pairs that relinking would remove, for the question as it was asked.
  const [asked, setAsked] = useState<{ key: string; removes: Pair[] } | null>(null)
  useEffect(() => {
    if (!open) return
    setProcess(fixed || processes[0]?.id || '')
    setA(initial?.a ?? '')
    setB(initial?.b ?? '')
    setError('')
    setIssues({})
    setAsked(null)
    // Only opening the dialog starts it afresh, not a list reloading.
  }, [open])
  const key = JSON.stringify([process, a.trim(), b.trim()])
  const removes = asked?.key === key ? asked.removes : null
  const paired = removes?.some((p) => same(p.a, a) && same(p.b, b)) ?? false
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setBusy(true)
    setError('')
    setIssues({})
    try {
      if (!removes) {
        const found = await pairsOf(process, a.trim(), b.trim())
        if (found.length > 0) {
          setAsked({ key, removes: found })
          return
        }
      }
      const r = await relink(process, a.trim(), b.trim())
      onDone(r.pair, r.excluded)
    } catch (err) {
      const list = issuesOf(err)
      if (list.some((i) => i.field === 'a' || i.field === 'b')) setIssues(issueMap(list))
      else setError(`Nothing was relinked: ${errorMessage(err)}`)
    } finally {
      setBusy(false)
    }
  }
  const formId = 'relink-form'
  return (
    <Dialog
      open={open}
      title="Relink two entities"
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button
            type="submit"
            form={formId}
            variant={removes ? 'danger' : 'primary'}
            busy={busy}
            disabled={!process || !a.trim() || !b.trim() || paired}
          >
            {removes ? `Relink and remove ${count(removes.length, 'pair')}` : 'Relink'}
          </Button>
        </>
      }
    >
      <form id={formId} onSubmit={submit} className="stack" aria-label="Relink two entities">
        <p className="muted small">
          The two entities are paired as they are now, and later changes flow between them. A pair either of them had is removed, and its other entity is excluded from
          sync until you relink it.
        </p>
        {!fixed && (
          <ProcessField processes={processes} value={process} onChange={setProcess} />
        )}
        <Field label={`Entity in ${sideName(process, 'a')}`} help="Its key, e.g. HELP-42, or its id" error={issues.a}>
          <input value={a} onChange={(e) => setA(e.target.value)} autoComplete="off" data-autofocus />
        </Field>
        <Field label={`Entity in ${sideName(process, 'b')}`} help="Its key, e.g. ENG-7, or its id" error={issues.b}>
          <input value={b} onChange={(e) => setB(e.target.value)} autoComplete="off" />
        </Field>
        {removes &&
          (paired ? (
            <Alert kind="info" title="Paired already">
              {a.trim()} and {b.trim()} are a pair now: there is nothing to relink.
            </Alert>
          ) : (
            <Alert kind="warning" title={`Relinking removes ${count(removes.length, 'pair')}`}>
              <ul className="plain-list" aria-label="Pairs relinking removes">
                {removes.map((p) => {
                  const left = same(p.a, a) ? p.b : p.a
                  return (
                    <li key={p.id}>
                      <strong>{pairLabel(p)}</strong> goes; {entityLabel(left)} {left.title && <span className="muted">({left.title})</span>} is excluded from sync
                      until you relink it.
                    </li>
                  )
                })}
              </ul>
            </Alert>
          ))}
        {error && <Alert kind="error">{error}</Alert>}
      </form>
    </Dialog>
  )
}

// same says whether an entity is the one named by a key or id as typed.
function same(e: { id: string; key?: string }, typed: string): boolean {
  const t = typed.trim().toLowerCase()
  return t !== '' && (e.id.toLowerCase() === t || (e.key ?? '').toLowerCase() === t)
}

// pairsOf finds the pairs a relink of a and b would remove: the pair of
// entity a in side A and that of b in side B (one pair when they are
// paired with each other already). pairs.list searches keys and titles, so
// an entity named by its id alone is not found here; the agent's answer
// still names what it excluded.
async function pairsOf(process: string, a: string, b: string): Promise<Pair[]> {
  const [byA, byB] = await Promise.all([a, b].map((q) => listPairs({ process, query: q, limit: 500 })))
  const found = [...byA.pairs.filter((p) => same(p.a, a)), ...byB.pairs.filter((p) => same(p.b, b))]
  return found.filter((p, i) => found.findIndex((x) => x.id === p.id) === i)
}

type WayOut = 'unpair' | 'recreate' | 'mirror' | 'mark'

// DeletedWaysOut offers the ways out of a pair whose entity was deleted:
// dismiss the deletion (unpair, keeping the survivor), recreate the deleted
// entity, or apply a deletion policy now (mirror the delete, or mark the
// survivor as the process says). Each says what it does when chosen; the
// one that cannot be undone (deleting the survivor) asks once more.
export function DeletedWaysOut({ pair, process, sideName, onDone }: { pair: Pair; process?: Process; sideName: (s: Side) => string; onDone: (what: string) => void }) {
  const [choice, setChoice] = useState<WayOut | ''>('')
  const [confirming, setConfirming] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  // The question takes the focus from the button that asked it.
  const question = useRef<HTMLDivElement>(null)
  useEffect(() => {
    if (confirming) question.current?.querySelector('button')?.focus()
  }, [confirming])
  const s = survivorOf(pair)
  if (!s) return null
  const dead = entityLabel(s.dead)
  const alive = entityLabel(s.alive)
  const policy = process?.options.deletes?.[s.gone]
  const canMark = policy?.action === 'mark'
  const markSays = canMark
    ? [policy?.field ? `sets ${policy.field} to "${policy.value ?? ''}"` : '', 'adds a comment saying the linked item was deleted'].filter(Boolean).join(' and ')
    : ''
  const ways: { id: WayOut; label: string; what: string; disabled?: string }[] = [
    {
      id: 'unpair',
      label: `Keep ${alive}, unpair`,
      what: `Dismisses the deletion: the pair is removed, and ${alive} stays as it is in ${sideName(s.kept)}, excluded from sync until you relink it.`,
    },
    {
      id: 'recreate',
      label: `Recreate ${dead}`,
      what: `Removes the pair; the next run creates a new copy of ${alive} in ${sideName(s.gone)} and pairs them.`,
    },
    {
      id: 'mirror',
      label: `Delete ${alive} too`,
      what: `Applies the "mirror" deletion policy now: ${alive} is deleted in ${sideName(s.kept)} and the pair removed. This cannot be undone.`,
    },
    {
      id: 'mark',
      label: `Mark ${alive}`,
      what: canMark
        ? `Applies the process's "mark" policy now: ${markSays} on ${alive}.`
        : `Marks ${alive} with a field value and a comment. The process's deletion policy for ${sideName(s.gone)} does not say what to set yet: choose "mark" under Options in the process's configuration first.`,
      disabled: canMark ? undefined : 'no mark policy',
    },
  ]
  const run = async () => {
    if (!choice) return
    if (choice === 'mirror' && !confirming) {
      setConfirming(true)
      return
    }
    setBusy(true)
    setError('')
    try {
      if (choice === 'unpair') {
        await unpair(pair.process, [pair.id])
        onDone(`${pairLabel(pair)} was unpaired; ${alive} is excluded from sync until relinked.`)
      } else if (choice === 'recreate') {
        await recreatePair(pair.process, pair.id)
        onDone(`${dead} will be recreated from ${alive} on the next run.`)
      } else {
        await applyDeletion(pair.process, pair.id, choice)
        onDone(choice === 'mirror' ? `${alive} was deleted too.` : `${alive} was marked.`)
      }
    } catch (e) {
      setError(`Nothing was changed: ${errorMessage(e)}`)
    } finally {
      setBusy(false)
      setConfirming(false)
    }
  }
  const chosen = ways.find((w) => w.id === choice)
  return (
    <div className="ways-out" data-testid="ways-out">
      <fieldset className="choices" disabled={confirming || busy}>
        <legend>
          {dead} was deleted in {sideName(s.gone)}. Choose what becomes of the pair:
        </legend>
        {ways.map((w) => (
          <label key={w.id} className={w.disabled ? 'choice disabled' : 'choice'}>
            <input type="radio" name={`way-out-${pair.id}`} value={w.id} checked={choice === w.id} disabled={!!w.disabled} onChange={() => setChoice(w.id)} />
            <span>
              <strong>{w.label}</strong>{' '}
              <span className="small muted choice-what">{w.what}</span>
            </span>
          </label>
        ))}
      </fieldset>
      {error && <Alert kind="error">{error}</Alert>}
      {confirming ? (
        <div ref={question}>
          <Alert
            kind="warning"
            title={`Delete ${alive} in ${sideName(s.kept)}?`}
            actions={
              <>
                <Button onClick={() => setConfirming(false)} disabled={busy}>
                  Keep it
                </Button>
                <Button variant="danger" busy={busy} onClick={() => void run()}>
                  Delete {alive}
                </Button>
              </>
            }
          >
            {alive} {s.alive.title ? `(${s.alive.title}) ` : ''}is deleted in {sideName(s.kept)} and the pair removed. This cannot be undone.
          </Alert>
        </div>
      ) : (
        <div className="toolbar">
          <Button variant={choice === 'mirror' ? 'danger' : 'primary'} busy={busy} disabled={!choice} onClick={() => void run()}>
            {chosen ? (chosen.id === 'mirror' ? `${chosen.label}…` : chosen.label) : 'Choose a way out'}
          </Button>
        </div>
      )}
    </div>
  )
}
