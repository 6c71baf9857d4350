import { useId } from 'react'
import { Badge, Button } from '../../ui'

// SecretChange is what the form will send for one secret: keep (omit it),
// replace with a new value, or clear (send "").
export type SecretChange = { mode: 'keep' } | { mode: 'replace'; value: string } | { mode: 'clear' }

// SecretInput is write-only: the agent never sends a secret back, so the
// field shows only whether one is set, and an input appears for a new
// value. The input is never filled from anything but the user's typing.
export function SecretInput({ inputId, label, isSet, change, onChange, required, help, error }: {
  // inputId names the input, for whoever moves the focus to it.
  inputId?: string
  label: string
  isSet: boolean
  change: SecretChange
  onChange: (c: SecretChange) => void
  required?: boolean
  help?: string
  error?: string | null
}) {
  const auto = useId()
  const id = inputId ?? auto
  const state = change.mode === 'clear' ? 'will be cleared' : change.mode === 'replace' && isSet ? 'will be replaced' : isSet ? 'set' : 'not set'
  const editing = (change.mode === 'replace' || !isSet) && change.mode !== 'clear'
  const title = (
    <>
      {label}
      {required && <span className="required" aria-hidden="true"> *</span>}
    </>
  )
  return (
    <div className={error ? 'field field-error' : 'field'}>
      {editing ? (
        <label htmlFor={id} className="field-label">
          {title}
        </label>
      ) : (
        <span className="field-label">{title}</span>
      )}
      <div className="field-row">
        <Badge tone={change.mode === 'clear' ? 'warn' : isSet ? 'good' : 'neutral'}>{state}</Badge>
        {isSet && change.mode === 'keep' && (
          <>
            <Button className="btn-small" onClick={() => onChange({ mode: 'replace', value: '' })} aria-label={`Replace ${label}`}>
              Replace
            </Button>
            {!required && (
              <Button className="btn-small" onClick={() => onChange({ mode: 'clear' })} aria-label={`Clear ${label}`}>
                Clear
              </Button>
            )}
          </>
        )}
        {isSet && change.mode !== 'keep' && (
          <Button className="btn-small" onClick={() => onChange({ mode: 'keep' })} aria-label={`Keep the current ${label}`}>
            Keep current
          </Button>
        )}
      </div>
      {editing && (
        <input
          id={id}
          type="password"
          autoComplete="new-password"
          spellCheck={false}
          placeholder={isSet ? 'New value' : 'Value'}
          value={change.mode === 'replace' ? change.value : ''}
          onChange={(e) => onChange({ mode: 'replace', value: e.target.value })}
          aria-invalid={error ? true : undefined}
          aria-describedby={[help && `${id}-help`, error && `${id}-error`].filter(Boolean).join(' ') || undefined}
        />
      )}
      {help && (
        <div id={`${id}-help`} className="field-help">
          {help}
        </div>
      )}
      {error && (
        <div id={`${id}-error`} className="field-error-text" role="alert">
          {error}
        </div>
      )}
    </div>
  )
}
