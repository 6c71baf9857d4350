import { cloneElement, isValidElement, useId, type ReactElement, type ReactNode } from 'react'

type ControlProps = {
  id?: string
  'aria-describedby'?: string
  'aria-invalid'?: boolean
  'aria-required'?: boolean
}

export type FieldProps = {
  label: ReactNode
  // error is shown under the control and announced; it marks the control invalid.
  error?: string | null
  help?: ReactNode
  required?: boolean
  // inline puts a checkbox before its label.
  inline?: boolean
  className?: string
  children: ReactElement<ControlProps>
}

// Field labels one control and ties its help and error text to it, so a
// screen reader reads them with the control.
export function Field({ label, error, help, required, inline, className, children }: FieldProps) {
  const auto = useId()
  const child = isValidElement(children) ? children : null
  const id = child?.props.id ?? auto
  const helpId = help ? `${id}-help` : undefined
  const errorId = error ? `${id}-error` : undefined
  const describedBy = [child?.props['aria-describedby'], helpId, errorId].filter(Boolean).join(' ') || undefined
  const control = child
    ? cloneElement(child, {
        id,
        'aria-describedby': describedBy,
        'aria-invalid': error ? true : undefined,
        'aria-required': required || undefined,
      })
    : children
  const text = (
    <label htmlFor={id} className="field-label">
      {label}
      {required && <span className="required" aria-hidden="true"> *</span>}
    </label>
  )
  return (
    <div className={['field', inline ? 'field-inline' : '', error ? 'field-error' : '', className].filter(Boolean).join(' ')}>
      {inline ? (
        <div className="field-row">
          {control}
          {text}
        </div>
      ) : (
        <>
          {text}
          {control}
        </>
      )}
      {help && (
        <div id={helpId} className="field-help">
          {help}
        </div>
      )}
      {error && (
        <div id={errorId} className="field-error-text" role="alert">
          {error}
        </div>
      )}
    </div>
  )
}
