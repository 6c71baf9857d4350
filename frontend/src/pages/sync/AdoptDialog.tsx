// Adopting pairs that already exist on both sides: from a CSV of key pairs
// or by matching a field of each side. It always runs as a dry run first
// and shows what it found; only then can the operator adopt the matches.
import { useEffect, useState, type ReactNode } from 'react'
import { bridge, errorKind, errorMessage } from '../../api/bridge'
import { useLatest } from '../../state'
import { Alert, Button, Dialog, Field, Table, count } from '../../ui'
import { adopt, issuesOf } from './api'
import { ProcessField } from './ProcessPicker'
import { useSchemas, type SideSchema } from './schema'
import type { SideNamer } from './PairActions'
import type { AdoptMatch, Brief, Side } from '../../api/generated/types'
import type { AdoptRequest, AdoptResult, Process } from './api'

type Mode = 'csv' | 'match'

// How many rows of each list the result shows; the counts say the rest.
const shownRows = 100

export function AdoptDialog({
  open,
  processes,
  process: initial,
  sideName,
  onClose,
  onAdopted,
}: {
  open: boolean
  processes: Process[]
  process?: string
  sideName: SideNamer
  onClose: () => void
  onAdopted: (n: number) => void
}) {
  const [process, setProcess] = useState(initial || processes[0]?.id || '')
  const [mode, setMode] = useState<Mode>('match')
  const [csv, setCsv] = useState('')
  const [matchA, setMatchA] = useState('title')
  const [matchB, setMatchB] = useState('title')
  // The dry run's answer, for the request it answered; the adoption's.
  const [dry, setDry] = useState<{ key: string; res: AdoptResult } | null>(null)
  const [done, setDone] = useState<AdoptResult | null>(null)
  const [busy, setBusy] = useState<'' | 'dry' | 'adopt'>('')
  const [error, setError] = useState('')
  const [fileError, setFileError] = useState('')
  const latest = useLatest()
  useEffect(() => {
    // Opening (or closing) the dialog starts it afresh, not a list
    // reloading; an answer to the dialog as it was is not shown.
    latest.invalidate()
    setProcess(initial || processes[0]?.id || '')
    setDry(null)
    setDone(null)
    setError('')
    setBusy('')
  }, [open, latest])

  const proc = processes.find((p) => p.id === process)
  const schemas = useSchemas(proc?.a ?? { system: '', project: '' }, proc?.b ?? { system: '', project: '' }, open && mode === 'match' && !!proc)
  const req: AdoptRequest = mode === 'csv' ? { csv } : { matchA: matchA.trim(), matchB: matchB.trim() }
  const key = JSON.stringify([process, req])
  const ready = !!process && (mode === 'csv' ? csv.trim() !== '' : matchA.trim() !== '' && matchB.trim() !== '')
  // A dry run answers for what was asked: changing the question drops it
  // (and any answer still on its way).
  const current = dry && dry.key === key ? dry.res : null
  useEffect(() => {
    latest.invalidate()
    setBusy((b) => (b === 'dry' ? '' : b))
    setError('')
  }, [key, latest])

  const ask = async (dryRun: boolean) => {
    const mine = latest.begin()
    setBusy(dryRun ? 'dry' : 'adopt')
    setError('')
    if (dryRun) setDone(null)
    try {
      const res = await adopt(process, req, dryRun)
      if (!mine()) return
      if (dryRun) setDry({ key, res })
      else {
        setDone(res)
        setDry(null)
        onAdopted(res.adopted)
      }
    } catch (e) {
      if (!mine()) return
      const first = issuesOf(e)[0]
      setError(`${dryRun ? 'The dry run failed' : 'Nothing was adopted'}: ${first ? first.message : errorMessage(e)}`)
    } finally {
      if (mine()) setBusy('')
    }
  }

  const openFile = async () => {
    setFileError('')
    try {
      const text = await bridge().OpenTextFile('Open a CSV of key pairs', '*.csv;*.txt')
      if (text) setCsv(text)
    } catch (e) {
      if (errorKind(e) !== 'canceled') setFileError(`The file could not be read: ${errorMessage(e)}`)
    }
  }

  const nameOf = (s: Side) => (process ? sideName(process, s) : s.toUpperCase())
  const n = current?.matches.length ?? 0
  return (
    <Dialog
      open={open}
      wide
      title="Adopt existing pairs"
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>{done ? 'Close' : 'Cancel'}</Button>
          <Button variant={current ? 'secondary' : 'primary'} busy={busy === 'dry'} disabled={!ready || busy === 'adopt'} onClick={() => void ask(true)}>
            {current ? 'Dry run again' : 'Dry run'}
          </Button>
          {current && (
            <Button variant="primary" busy={busy === 'adopt'} disabled={n === 0 || busy !== ''} onClick={() => void ask(false)}>
              Adopt {count(n, 'pair')}
            </Button>
          )}
        </>
      }
    >
      <p className="muted small">
        Pairs entities that already exist on both sides, so the process syncs them instead of copying them again. Nothing is written until you adopt: a dry run shows
        what would be paired first. Adopted pairs are taken as in sync; later changes flow.
      </p>
      <fieldset className="bare stack" disabled={busy === 'adopt'}>
        {processes.length > 1 && (
          <ProcessField processes={processes} value={process} onChange={setProcess} />
        )}
        <fieldset className="choices inline">
          <legend>Find the pairs</legend>
          <label className="choice">
            <input type="radio" name="adopt-mode" checked={mode === 'match'} onChange={() => setMode('match')} />
            By matching a field
          </label>
          <label className="choice">
            <input type="radio" name="adopt-mode" checked={mode === 'csv'} onChange={() => setMode('csv')} />
            From a CSV of keys
          </label>
        </fieldset>
        {mode === 'match' ? (
          <div className="grid-2">
            <MatchField side="a" label={`Field in ${nameOf('a')}`} schema={schemas.a} value={matchA} onChange={setMatchA} />
            <MatchField side="b" label={`Field in ${nameOf('b')}`} schema={schemas.b} value={matchB} onChange={setMatchB} />
            <p className="muted small span-2">
              Entities whose values are equal (text compared without case and extra spaces) are paired. A value that more than one entity holds on a side is ambiguous
              and left for you to pair by hand.
            </p>
          </div>
        ) : (
          <div className="stack">
            <Field
              label="Key pairs"
              help={
                <>
                  One pair per line: the key (or id) in {nameOf('a')}, a comma, the key in {nameOf('b')}. A first line naming the columns and lines starting with # are
                  skipped. For example:
                  <pre className="csv-format">{example(proc)}</pre>
                </>
              }
            >
              <textarea rows={6} value={csv} onChange={(e) => setCsv(e.target.value)} spellCheck={false} className="mono" />
            </Field>
            <div className="toolbar">
              <Button onClick={() => void openFile()}>
                Open a CSV file…
              </Button>
              {fileError && <span className="field-error-text">{fileError}</span>}
            </div>
          </div>
        )}
      </fieldset>
      {error && <Alert kind="error">{error}</Alert>}
      {done && (
        <div data-testid="adopt-done" className="stack">
          <Alert kind={done.adopted ? 'success' : 'warning'} title={done.adopted ? `${count(done.adopted, 'pair')} adopted` : 'No pair was adopted'}>
            {done.adopted ? 'They are in the list of pairs now, in sync; later changes flow.' : 'What was found is below.'}
          </Alert>
          <AdoptResultView res={done} sideName={nameOf} />
        </div>
      )}
      {current && (
        <div data-testid="adopt-dry-run" className="stack">
          <h3 className="sub-title">Dry run: nothing was written</h3>
          <AdoptResultView res={current} sideName={nameOf} />
        </div>
      )}
    </Dialog>
  )
}

// example is a CSV of two key pairs in the process's own projects.
function example(p: Process | undefined): string {
  const a = p?.a.project.trim() || 'HELP'
  const b = p?.b.project.trim() || 'ENG'
  return `${a}-1,${b}-7\n${a}-2,${b}-9`
}

// MatchField picks a field of one side from its system's schema, as the
// process editor does; without a schema any name can be typed.
function MatchField({ side, label, schema, value, onChange }: { side: Side; label: string; schema: SideSchema; value: string; onChange: (v: string) => void }) {
  if (schema.state === 'ready') {
    const fields = schema.schema.fields
    const known = fields.some((f) => f.name === value)
    return (
      <Field label={label}>
        <select value={value} onChange={(e) => onChange(e.target.value)}>
          {!known && <option value={value}>{value || 'Choose a field…'}</option>}
          {fields.map((f) => (
            <option key={f.name} value={f.name}>
              {f.label && f.label !== f.name ? `${f.label} (${f.name})` : f.name}
            </option>
          ))}
        </select>
      </Field>
    )
  }
  const help = schema.state === 'loading' ? 'Reading the system’s fields…' : schema.state === 'error' ? `Its fields could not be read (${schema.message}); type the field’s name.` : undefined
  return (
    <Field label={label} help={help}>
      <input value={value} onChange={(e) => onChange(e.target.value)} autoComplete="off" data-side={side} />
    </Field>
  )
}

function EntityCell({ e }: { e: Brief }) {
  return (
    <span>
      <strong>{e.key || e.id}</strong> {e.title && <span className="muted">{e.title}</span>}
    </span>
  )
}

function Section({ title, total, children }: { title: string; total: number; children: ReactNode }) {
  return (
    <section className="adopt-section" aria-label={title}>
      <h4>
        {title} ({total.toLocaleString()})
      </h4>
      {children}
      {total > shownRows && <p className="muted small">The first {shownRows} are shown.</p>}
    </section>
  )
}

// AdoptResultView shows what an adoption (or its dry run) found: matches,
// ambiguities with their candidates, what is unmatched on each side, what
// is paired already, and CSV lines that name nothing.
export function AdoptResultView({ res, sideName }: { res: AdoptResult; sideName: (s: Side) => string }) {
  const pairColumns = [
    { key: 'a', header: `In ${sideName('a')}`, render: (m: AdoptMatch) => <EntityCell e={m.a} /> },
    { key: 'b', header: `In ${sideName('b')}`, render: (m: AdoptMatch) => <EntityCell e={m.b} /> },
  ]
  const list = (items: Brief[]) => (
    <ul className="plain-list tight">
      {items.map((e) => (
        <li key={e.id}>
          <EntityCell e={e} />
        </li>
      ))}
    </ul>
  )
  const totals: [string, number][] = [
    [res.dryRun ? 'to adopt' : 'adopted', res.dryRun ? res.matches.length : res.adopted],
    ['ambiguous', res.ambiguous.length],
    [`unmatched in ${sideName('a')}`, res.unmatchedA.length],
    [`unmatched in ${sideName('b')}`, res.unmatchedB.length],
    ['paired already', res.alreadyPaired.length],
    [res.problems.length === 1 ? 'problem' : 'problems', res.problems.length],
  ]
  return (
    <div className="adopt-result">
      <ul className="plain-totals" aria-label="What was found">
        {totals.map(([what, n]) => (
          <li key={what}>
            <strong>{n.toLocaleString()}</strong> {what}
          </li>
        ))}
      </ul>
      <Section title={res.dryRun ? 'Pairs to adopt' : 'Pairs found'} total={res.matches.length}>
        <Table
          rows={res.matches.slice(0, shownRows)}
          rowKey={(m) => `${m.a.id}|${m.b.id}`}
          caption={<span className="sr-only">Pairs to adopt</span>}
          empty={<p className="muted small">None: nothing matches one entity on each side.</p>}
          columns={pairColumns}
        />
      </Section>
      {res.ambiguous.length > 0 && (
        <Section title="Ambiguous: pair these by hand" total={res.ambiguous.length}>
          <Table
            rows={res.ambiguous.slice(0, shownRows)}
            rowKey={(x) => x.match}
            caption={<span className="sr-only">Ambiguous matches</span>}
            columns={[
              { key: 'match', header: 'Value or key', render: (x) => <span className="mono">{x.match}</span> },
              { key: 'a', header: `Candidates in ${sideName('a')}`, render: (x) => list(x.a ?? []) },
              { key: 'b', header: `Candidates in ${sideName('b')}`, render: (x) => list(x.b ?? []) },
            ]}
          />
        </Section>
      )}
      {(['a', 'b'] as Side[]).map((s) => {
        const items = s === 'a' ? res.unmatchedA : res.unmatchedB
        if (items.length === 0) return null
        return (
          <Section key={s} title={`Unmatched in ${sideName(s)}`} total={items.length}>
            {list(items.slice(0, shownRows))}
          </Section>
        )
      })}
      {res.alreadyPaired.length > 0 && (
        <Section title="Paired already (left as they are)" total={res.alreadyPaired.length}>
          <Table rows={res.alreadyPaired.slice(0, shownRows)} rowKey={(m) => `${m.a.id}|${m.b.id}`} caption={<span className="sr-only">Paired already</span>} columns={pairColumns} />
        </Section>
      )}
      {res.problems.length > 0 && (
        <Section title="Problems" total={res.problems.length}>
          <ul className="plain-list tight" data-testid="adopt-problems">
            {res.problems.slice(0, shownRows).map((p, i) => (
              <li key={i}>{p}</li>
            ))}
          </ul>
        </Section>
      )}
    </div>
  )
}
