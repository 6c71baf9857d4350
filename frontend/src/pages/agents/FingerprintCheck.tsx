import { useState } from 'react'
import { Button, Field, formatFingerprint } from '../../ui'

// FingerprintCheck shows an agent's key fingerprint and pins it only after
// the administrator says they compared it with the one the server prints.
// Trust on first use is only as good as that comparison.
export function FingerprintCheck({ url, fingerprint, busy, confirmLabel = 'Pin fingerprint and connect', onConfirm, onCancel }: {
  url: string
  fingerprint: string
  busy?: boolean
  confirmLabel?: string
  onConfirm: () => void
  onCancel: () => void
}) {
  const [compared, setCompared] = useState(false)
  const [pasted, setPasted] = useState('')
  const verdict = compareFingerprint(pasted, fingerprint)
  return (
    <div className="form" data-testid="fingerprint-check">
      <p>
        The agent at <code>{url}</code> presented this key fingerprint (SHA-256 of its public key):
      </p>
      <div className="fingerprint" data-testid="fingerprint" aria-label="Agent fingerprint">
        {formatFingerprint(fingerprint)}
      </div>
      <ol className="steps">
        <li>
          On the agent's server run <code>lockstep-agent fingerprint</code>.
        </li>
        <li>Compare its output with the fingerprint above, all 64 characters.</li>
        <li>Pin it only if they are identical. If they differ, do not connect: someone may be intercepting the connection.</li>
      </ol>
      <Field
        label="Or paste what lockstep-agent fingerprint printed, to compare"
        help="64 hex digits, with or without spaces or colons."
        error={verdict === 'differs' ? 'It differs from the fingerprint the agent presented: do not connect.' : verdict === 'malformed' ? 'That is not a fingerprint: it needs 64 hex digits.' : null}
      >
        <input value={pasted} onChange={(e) => setPasted(e.target.value)} spellCheck={false} autoComplete="off" className="mono" />
      </Field>
      {verdict === 'same' && (
        <p className="good-text" role="status" data-testid="fingerprint-same">
          Identical: all 64 digits match.
        </p>
      )}
      <Field label="I compared it with the output of lockstep-agent fingerprint and it is identical" inline>
        <input type="checkbox" checked={compared} onChange={(e) => setCompared(e.target.checked)} />
      </Field>
      <div className="form-actions">
        <Button variant="primary" disabled={!compared} busy={busy} onClick={onConfirm}>
          {confirmLabel}
        </Button>
        <Button onClick={onCancel}>Cancel</Button>
      </div>
    </div>
  )
}

// compareFingerprint reads a pasted fingerprint in either form (the CLI's 64
// hex digits, or the UI's groups of four; colons allowed) and says whether
// it is the one presented.
export function compareFingerprint(pasted: string, presented: string): '' | 'same' | 'differs' | 'malformed' {
  const clean = pasted.replace(/[\s:]/g, '').toLowerCase()
  if (!clean) return ''
  if (!/^[0-9a-f]{64}$/.test(clean)) return 'malformed'
  return clean === presented.replace(/[\s:]/g, '').toLowerCase() ? 'same' : 'differs'
}
