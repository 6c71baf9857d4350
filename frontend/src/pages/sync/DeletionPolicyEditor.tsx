// The deletion policy per side of a process: what becomes of an entity's
// peer when the entity is deleted. Ignore keeps it (the pair says deleted
// until someone chooses a way out), mirror deletes it too, mark sets a
// field of it and adds a comment.
import { SelectCell, TextCell } from './controls'
import { useSideSchema, valuesOf } from './schema'
import type { DeleteAction, DeletePolicy, Deletes, Side } from '../../api/generated/types'

export function DeletionPolicyEditor({ value, onChange, sideName }: { value: Deletes | undefined; onChange: (d: Deletes | undefined) => void; sideName: (s: Side) => string }) {
  const set = (s: Side, pol: DeletePolicy | undefined) => {
    const next: Deletes = { ...value }
    if (pol) next[s] = pol
    else delete next[s]
    onChange(next.a || next.b ? next : undefined)
  }
  return (
    <div className="delete-policies">
      {(['a', 'b'] as Side[]).map((s) => (
        <SidePolicy key={s} side={s} value={value?.[s]} sideName={sideName} onChange={(pol) => set(s, pol)} />
      ))}
    </div>
  )
}

function SidePolicy({ side, value, sideName, onChange }: { side: Side; value: DeletePolicy | undefined; sideName: (s: Side) => string; onChange: (p: DeletePolicy | undefined) => void }) {
  const peer: Side = side === 'a' ? 'b' : 'a'
  const schema = useSideSchema(peer)
  const action = (value?.action || 'ignore') as DeleteAction
  const path = `options.deletes.${side}`
  const fields = schema.state === 'ready' ? schema.schema.fields.filter((f) => !f.readOnly).map((f) => ({ value: f.name, label: f.label })) : []
  const values = value?.field ? valuesOf(schema, '', value.field).map((v) => ({ value: v })) : []
  const options: { value: DeleteAction; label: string }[] = [
    { value: 'ignore', label: `Keep its peer in ${sideName(peer)} (the pair shows it deleted)` },
    { value: 'mirror', label: `Delete its peer in ${sideName(peer)} too` },
    { value: 'mark', label: `Mark its peer in ${sideName(peer)}` },
  ]
  const label = `When an entity is deleted in ${sideName(side)}`
  return (
    <fieldset className="delete-policy">
      <legend>{label}</legend>
      <SelectCell<DeleteAction>
        path={`${path}.action`}
        label={label}
        value={action}
        options={options}
        onChange={(a) => onChange(a === 'ignore' ? undefined : a === 'mirror' ? { action: 'mirror' } : { action: 'mark', field: value?.field ?? '', value: value?.value ?? '', comment: value?.comment ?? '' })}
      />
      {action === 'mark' && (
        <div className="grid-2">
          <label>
            Field to set in {sideName(peer)}
            <TextCell path={`${path}.field`} label={`Field to set when marking, in ${sideName(peer)}`} value={value?.field ?? ''} options={fields} placeholder="e.g. status" onChange={(field) => onChange({ ...value, field })} />
          </label>
          <label>
            Value to set
            <TextCell path={`${path}.value`} label={`Value to set when marking, in ${sideName(peer)}`} value={value?.value ?? ''} options={values} placeholder="e.g. closed" onChange={(v) => onChange({ ...value, value: v })} />
          </label>
          <label className="span-2">
            Comment to add ({'{key}'} and {'{system}'} name the deleted entity)
            <TextCell
              path={`${path}.comment`}
              label={`Comment to add when marking, in ${sideName(peer)}`}
              value={value?.comment ?? ''}
              placeholder="The linked item {key} in {system} was deleted."
              onChange={(comment) => onChange({ ...value, comment })}
            />
          </label>
        </div>
      )}
    </fieldset>
  )
}
