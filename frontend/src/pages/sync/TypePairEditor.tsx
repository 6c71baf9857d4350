// One entity-type pair of a process: its field pairs (direction, value map,
// user map, transforms), filters and link-type pairs.
import { Button, count } from '../../ui'
import { CheckCell, SectionIssue, SelectCell, TextCell, removeAt, replaceAt, useIssuesUnder, type PickOption } from './controls'
import { findField, schemaOf, useSideSchema, valuesOf, type SideSchema } from './schema'
import type { Direction, Filter, FilterOp, LinkTypePair, OnMissing, Side, Transform, TransformKind } from '../../api/generated/types'
import type { FieldPair, TypePair, ValueMap } from './api'

export const directionOptions: { value: Direction; label: string }[] = [
  { value: 'a_to_b', label: 'A → B' },
  { value: 'b_to_a', label: 'B → A' },
  { value: 'both', label: 'Both ways' },
]

const onMissingOptions: { value: OnMissing | ''; label: string }[] = [
  { value: '', label: 'Default if set, else error' },
  { value: 'default', label: 'Use the default' },
  { value: 'error', label: 'Fail with an error' },
  { value: 'keep', label: 'Keep the value as is' },
  { value: 'empty', label: 'Clear the field' },
]

const transformOptions: { value: TransformKind | ''; label: string }[] = [
  { value: '', label: 'No transform' },
  { value: 'constant', label: 'Constant' },
  { value: 'template', label: 'Template' },
  { value: 'regex', label: 'Regex replace' },
  { value: 'markdown_to_html', label: 'Markdown → HTML' },
  { value: 'html_to_markdown', label: 'HTML → Markdown' },
  { value: 'markdown_to_text', label: 'Markdown → plain text' },
  { value: 'html_to_text', label: 'HTML → plain text' },
]

const opOptions: { value: FilterOp; label: string }[] = [
  { value: 'eq', label: 'equals' },
  { value: 'neq', label: 'does not equal' },
  { value: 'in', label: 'is one of' },
  { value: 'not_in', label: 'is none of' },
  { value: 'contains', label: 'contains' },
  { value: 'not_contains', label: 'does not contain' },
  { value: 'empty', label: 'is empty' },
  { value: 'not_empty', label: 'is not empty' },
  { value: 'gt', label: 'is greater than' },
  { value: 'lt', label: 'is less than' },
  { value: 'matches', label: 'matches regex' },
]

// The pick-lists a side's schema offers; empty while it is not read.
function nameOptions(names: string[] | undefined): PickOption[] {
  return (names ?? []).map((value) => ({ value }))
}

function fieldOptions(s: SideSchema): PickOption[] {
  return (schemaOf(s)?.fields ?? []).map((f) => ({
    value: f.name,
    label: [f.label, f.type, f.required && 'required', f.readOnly && 'read-only'].filter(Boolean).join(' · '),
  }))
}

// fieldHint says what the named field is in the side's schema, or that the
// schema does not know it (the agent would refuse it on save).
function fieldHint(s: SideSchema, name: string): string | undefined {
  if (!name || s.state !== 'ready') return undefined
  const f = findField(s, name)
  if (!f) return `Not in ${s.schema.project}'s schema`
  const n = f.values?.length ?? 0
  return [f.type, f.required && 'required', f.readOnly && 'read-only', n > 0 && count(n, 'value')].filter(Boolean).join(' · ')
}

function typeHint(s: SideSchema, name: string): string | undefined {
  if (!name || s.state !== 'ready' || s.schema.entityTypes.includes(name)) return undefined
  return `Not an entity type of ${s.schema.project}`
}

export function TypePairEditor({
  index,
  value,
  onChange,
  onRemove,
}: {
  index: number
  value: TypePair
  onChange: (t: TypePair) => void
  onRemove: () => void
}) {
  const path = `types[${index}]`
  const name = `${value.a || '?'} ↔ ${value.b || '?'}`
  const fields = value.fields
  const filters = value.filters ?? []
  const links = value.linkTypes ?? []
  const schemaA = useSideSchema('a')
  const schemaB = useSideSchema('b')
  return (
    <section className="type-pair" aria-label={`Entity types ${index + 1}: ${name}`}>
      <div className="type-pair-head">
        <TextCell path={`${path}.a`} label={`Entity type in A (pair ${index + 1})`} placeholder="Type in A, e.g. incident" value={value.a} onChange={(a) => onChange({ ...value, a })} options={nameOptions(schemaOf(schemaA)?.entityTypes)} hint={typeHint(schemaA, value.a)} />
        <span className="pair-arrow" aria-hidden="true">
          ↔
        </span>
        <TextCell path={`${path}.b`} label={`Entity type in B (pair ${index + 1})`} placeholder="Type in B, e.g. bug" value={value.b} onChange={(b) => onChange({ ...value, b })} options={nameOptions(schemaOf(schemaB)?.entityTypes)} hint={typeHint(schemaB, value.b)} />
        <Button variant="ghost" className="remove-row" onClick={onRemove} aria-label={`Remove entity types ${name}`}>
          Remove
        </Button>
      </div>
      <SectionIssue path={path} />

      <h4>Field pairs</h4>
      <SectionIssue path={`${path}.fields`} />
      {fields.length === 0 && <p className="muted">No fields are synced for these types yet. Add a field pair, e.g. title ↔ title.</p>}
      {fields.map((f, i) => (
        <FieldPairRow
          key={i}
          path={`${path}.fields[${i}]`}
          index={i}
          types={value}
          value={f}
          onChange={(nf) => onChange({ ...value, fields: replaceAt(fields, i, nf) })}
          onRemove={() => onChange({ ...value, fields: removeAt(fields, i) })}
        />
      ))}
      <Button onClick={() => onChange({ ...value, fields: [...fields, { a: '', b: '', direction: 'both' }] })}>Add field pair</Button>

      <h4>Filters</h4>
      <p className="muted small">All must match for an entity to be synced. With no filter every entity of these types is synced.</p>
      <SectionIssue path={`${path}.filters`} />
      {filters.map((f, i) => (
        <FilterRow
          key={i}
          path={`${path}.filters[${i}]`}
          index={i}
          types={value}
          value={f}
          onChange={(nf) => onChange({ ...value, filters: replaceAt(filters, i, nf) })}
          onRemove={() => onChange({ ...value, filters: removeAt(filters, i) })}
        />
      ))}
      <Button onClick={() => onChange({ ...value, filters: [...filters, { side: 'a', field: '', op: 'eq', value: '' }] })}>Add filter</Button>

      <h4>Link types</h4>
      <SectionIssue path={`${path}.linkTypes`} />
      {links.map((l, i) => (
        <div className="row" key={i}>
          <TextCell path={`${path}.linkTypes[${i}].a`} label={`Link type in A (link ${i + 1})`} placeholder="e.g. blocks" value={l.a} onChange={(a) => onChange({ ...value, linkTypes: replaceAt(links, i, { ...l, a }) })} options={nameOptions(schemaOf(schemaA)?.linkTypes)} />
          <span className="pair-arrow" aria-hidden="true">
            ↔
          </span>
          <TextCell path={`${path}.linkTypes[${i}].b`} label={`Link type in B (link ${i + 1})`} placeholder="e.g. blocks" value={l.b} onChange={(b) => onChange({ ...value, linkTypes: replaceAt(links, i, { ...l, b }) })} options={nameOptions(schemaOf(schemaB)?.linkTypes)} />
          <Button variant="ghost" className="remove-row" aria-label={`Remove link types ${i + 1}`} onClick={() => onChange({ ...value, linkTypes: removeAt(links, i) })}>
            Remove
          </Button>
        </div>
      ))}
      <Button onClick={() => onChange({ ...value, linkTypes: [...links, { a: '', b: '' } as LinkTypePair] })}>Add link types</Button>
    </section>
  )
}

function FieldPairRow({
  path,
  index,
  types,
  value,
  onChange,
  onRemove,
}: {
  path: string
  index: number
  types: { a: string; b: string }
  value: FieldPair
  onChange: (f: FieldPair) => void
  onRemove: () => void
}) {
  const schemaA = useSideSchema('a')
  const schemaB = useSideSchema('b')
  const name = `${value.a || '?'} ↔ ${value.b || '?'}`
  const label = `field pair ${index + 1} (${name})`
  const hasExtras = !!(value.valueMap || value.transformAToB || value.transformBToA)
  const vmInvalid = useIssuesUnder(`${path}.valueMap`)
  const abInvalid = useIssuesUnder(`${path}.transformAToB`)
  const baInvalid = useIssuesUnder(`${path}.transformBToA`)
  const extrasInvalid = vmInvalid || abInvalid || baInvalid
  const flowsAB = value.direction !== 'b_to_a'
  const flowsBA = value.direction !== 'a_to_b'
  return (
    <div className="field-pair" role="group" aria-label={`Field pair ${index + 1}`}>
      <div className="row">
        <TextCell path={`${path}.a`} label={`Field in A of ${label}`} placeholder="Field in A" value={value.a} onChange={(a) => onChange({ ...value, a })} options={fieldOptions(schemaA)} hint={fieldHint(schemaA, value.a)} />
        <SelectCell path={`${path}.direction`} label={`Direction of ${label}`} className="cell-narrow" value={value.direction} options={directionOptions} onChange={(direction) => onChange({ ...value, direction })} />
        <TextCell path={`${path}.b`} label={`Field in B of ${label}`} placeholder="Field in B" value={value.b} onChange={(b) => onChange({ ...value, b })} options={fieldOptions(schemaB)} hint={fieldHint(schemaB, value.b)} />
        <CheckCell path={`${path}.userMap`} label={`Map users of ${label}`} checked={!!value.userMap} onChange={(userMap) => onChange({ ...value, userMap: userMap || undefined })}>
          Users
        </CheckCell>
        <Button variant="ghost" className="remove-row" aria-label={`Remove ${label}`} onClick={onRemove}>
          Remove
        </Button>
      </div>
      <details className="field-extras" open={hasExtras || extrasInvalid || undefined}>
        <summary>Value map and transforms{hasExtras ? ' (set)' : ''}</summary>
        <ValueMapEditor
          path={`${path}.valueMap`}
          label={label}
          value={value.valueMap}
          onChange={(valueMap) => onChange({ ...value, valueMap })}
          optionsA={nameOptions(valuesOf(schemaA, types.a, value.a))}
          optionsB={nameOptions(valuesOf(schemaB, types.b, value.b))}
        />
        {flowsAB && (
          <TransformEditor path={`${path}.transformAToB`} label={`Transform A → B of ${label}`} title="Transform A → B" value={value.transformAToB} onChange={(transformAToB) => onChange({ ...value, transformAToB })} />
        )}
        {flowsBA && (
          <TransformEditor path={`${path}.transformBToA`} label={`Transform B → A of ${label}`} title="Transform B → A" value={value.transformBToA} onChange={(transformBToA) => onChange({ ...value, transformBToA })} />
        )}
      </details>
    </div>
  )
}

function ValueMapEditor({
  path,
  label,
  value,
  onChange,
  optionsA,
  optionsB,
}: {
  path: string
  label: string
  value?: ValueMap
  onChange: (v?: ValueMap) => void
  optionsA: PickOption[]
  optionsB: PickOption[]
}) {
  if (!value) {
    return (
      <div className="extras-block">
        <Button onClick={() => onChange({ pairs: [{ a: '', b: '' }] })}>Add value map</Button>
        <span className="muted small"> for fields with fixed values such as status or priority</span>
      </div>
    )
  }
  const pairs = value.pairs ?? []
  return (
    <div className="extras-block" role="group" aria-label={`Value map of ${label}`}>
      <h5>Value map</h5>
      <SectionIssue path={path} />
      {pairs.map((p, i) => (
        <div className="row" key={i}>
          <TextCell path={`${path}.pairs[${i}].a`} label={`Value in A (row ${i + 1}) of ${label}`} placeholder="Value in A" value={p.a} onChange={(a) => onChange({ ...value, pairs: replaceAt(pairs, i, { ...p, a }) })} options={optionsA} />
          <span className="pair-arrow" aria-hidden="true">
            ↔
          </span>
          <TextCell path={`${path}.pairs[${i}].b`} label={`Value in B (row ${i + 1}) of ${label}`} placeholder="Value in B" value={p.b} onChange={(b) => onChange({ ...value, pairs: replaceAt(pairs, i, { ...p, b }) })} options={optionsB} />
          <Button variant="ghost" className="remove-row" aria-label={`Remove value row ${i + 1} of ${label}`} onClick={() => onChange({ ...value, pairs: removeAt(pairs, i) })}>
            Remove
          </Button>
        </div>
      ))}
      <Button onClick={() => onChange({ ...value, pairs: [...pairs, { a: '', b: '' }] })}>Add value</Button>
      <div className="row row-labelled">
        <label>
          When no value matches
          <SelectCell path={`${path}.onMissing`} label={`When no value matches in ${label}`} value={value.onMissing ?? ''} options={onMissingOptions} onChange={(onMissing) => onChange({ ...value, onMissing: onMissing || undefined })} />
        </label>
        <label>
          Default in A
          <TextCell path={`${path}.defaultA`} label={`Default in A of ${label}`} value={value.defaultA ?? ''} onChange={(d) => onChange({ ...value, defaultA: d === '' ? undefined : d })} options={optionsA} />
        </label>
        <label>
          Default in B
          <TextCell path={`${path}.defaultB`} label={`Default in B of ${label}`} value={value.defaultB ?? ''} onChange={(d) => onChange({ ...value, defaultB: d === '' ? undefined : d })} options={optionsB} />
        </label>
      </div>
      <Button variant="ghost" onClick={() => onChange(undefined)}>
        Remove value map
      </Button>
    </div>
  )
}

function TransformEditor({ path, label, title, value, onChange }: { path: string; label: string; title: string; value?: Transform; onChange: (t?: Transform) => void }) {
  const kind = value?.kind ?? ''
  const setKind = (k: TransformKind | '') => {
    if (k === '') onChange(undefined)
    else if (k === 'constant' || k === 'template') onChange({ kind: k, value: value?.value ?? '' })
    else if (k === 'regex') onChange({ kind: k, pattern: value?.pattern ?? '', replace: value?.replace ?? '' })
    else onChange({ kind: k })
  }
  return (
    <div className="extras-block row row-labelled">
      <label>
        {title}
        <SelectCell path={`${path}.kind`} label={label} value={kind} options={transformOptions} onChange={setKind} />
      </label>
      {value && (value.kind === 'constant' || value.kind === 'template') && (
        <label className="grow">
          {value.kind === 'constant' ? 'Value' : 'Template, e.g. {{key}}: {{title}}'}
          <TextCell path={`${path}.value`} label={`${label} value`} value={value.value ?? ''} onChange={(v) => onChange({ ...value, value: v })} />
        </label>
      )}
      {value && value.kind === 'regex' && (
        <>
          <label className="grow">
            Pattern (RE2)
            <TextCell path={`${path}.pattern`} label={`${label} pattern`} value={value.pattern ?? ''} onChange={(v) => onChange({ ...value, pattern: v })} />
          </label>
          <label className="grow">
            Replace with ($1 for groups)
            <TextCell path={`${path}.replace`} label={`${label} replacement`} value={value.replace ?? ''} onChange={(v) => onChange({ ...value, replace: v })} />
          </label>
        </>
      )}
    </div>
  )
}

// filterText shows a filter's value in one text box; lists (in, not in)
// are comma-separated.
function filterText(v: unknown): string {
  if (Array.isArray(v)) return v.join(', ')
  if (v === undefined || v === null) return ''
  return String(v)
}

function filterValue(op: FilterOp, text: string): unknown {
  if (op === 'empty' || op === 'not_empty') return undefined
  if (op === 'in' || op === 'not_in') {
    return text
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
  }
  return text
}

function FilterRow({
  path,
  index,
  types,
  value,
  onChange,
  onRemove,
}: {
  path: string
  index: number
  types: { a: string; b: string }
  value: Filter
  onChange: (f: Filter) => void
  onRemove: () => void
}) {
  const label = `filter ${index + 1}`
  const side: Side = value.side ?? 'a'
  const sideSchema = useSideSchema(side)
  const single = value.op === 'eq' || value.op === 'neq' || value.op === 'contains' || value.op === 'not_contains'
  const noValue = value.op === 'empty' || value.op === 'not_empty'
  return (
    <div className="row" role="group" aria-label={`Filter ${index + 1}`}>
      <SelectCell
        path={`${path}.side`}
        label={`Side of ${label}`}
        className="cell-narrow"
        value={value.side ?? 'a'}
        options={[
          { value: 'a', label: 'In A' },
          { value: 'b', label: 'In B' },
        ]}
        onChange={(side) => onChange({ ...value, side })}
      />
      <TextCell path={`${path}.field`} label={`Field of ${label}`} placeholder="Field" value={value.field} onChange={(field) => onChange({ ...value, field })} options={fieldOptions(sideSchema)} hint={fieldHint(sideSchema, value.field)} />
      <SelectCell path={`${path}.op`} label={`Operator of ${label}`} value={value.op} options={opOptions} onChange={(op) => onChange({ ...value, op, value: filterValue(op, filterText(value.value)) })} />
      {noValue ? (
        <div className="cell" />
      ) : (
        <TextCell
          path={`${path}.value`}
          label={`Value of ${label}`}
          placeholder={value.op === 'in' || value.op === 'not_in' ? 'high, critical' : 'Value'}
          value={filterText(value.value)}
          onChange={(t) => onChange({ ...value, value: value.op === 'in' || value.op === 'not_in' ? t.split(',').map((s) => s.trimStart()) : t })}
          options={single ? nameOptions(valuesOf(sideSchema, types[side], value.field)) : undefined}
        />
      )}
      <Button variant="ghost" className="remove-row" aria-label={`Remove ${label}`} onClick={onRemove}>
        Remove
      </Button>
    </div>
  )
}

// cleanFilters trims list values typed with trailing commas before a save.
export function cleanFilters(filters: Filter[]): Filter[] {
  return filters.map((f) => ({ ...f, value: filterValue(f.op, filterText(f.value)) }))
}
