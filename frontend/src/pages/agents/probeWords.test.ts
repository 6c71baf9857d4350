import { describe, expect, it } from 'vitest'
import { probeWords } from './probeWords'

describe('probeWords', () => {
  it.each([
    [{ kind: 'unavailable', message: 'probe wss://127.0.0.1:8080/v1/ws: tls: first record does not look like a TLS handshake' }, 'not over TLS', 'Check the port'],
    [{ kind: 'invalid', message: 'parse "wss://exa mple": invalid character " " in host name' }, 'not an agent address', 'host and port'],
    [{ kind: 'unavailable', message: 'probe wss://127.0.0.1:1/v1/ws: dial tcp 127.0.0.1:1: connect: connection refused' }, 'Nothing is listening', 'running'],
    [{ kind: 'unavailable', message: 'dial tcp: lookup agent.invalid: no such host' }, 'host name could not be found', 'spelling'],
    [{ kind: 'timeout', message: 'dial tcp 10.0.0.1:7443: i/o timeout' }, 'No answer', 'firewall'],
    [{ kind: 'unavailable', message: 'read tcp 127.0.0.1:50000->127.0.0.1:7443: read: connection reset by peer' }, 'was cut', 'stopped or restarted'],
    ['connect to other: open WebSocket to agent: connect to agent 127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection refused', 'Nothing is listening', 'running'],
  ])('%j', (err, problem, tryThis) => {
    const w = probeWords(err)
    expect(w.problem).toContain(problem)
    expect(w.tryThis).toContain(tryThis)
    expect(w.detail).toBe(typeof err === 'string' ? err : err.message)
  })
})

import { compareFingerprint } from './FingerprintCheck'

describe('compareFingerprint', () => {
  const fp = '0123456789abcdef'.repeat(4)
  it.each([
    ['', ''],
    [fp, 'same'],
    [fp.toUpperCase().match(/.{4}/g)!.join(' '), 'same'],
    [fp.match(/.{2}/g)!.join(':'), 'same'],
    ['f' + fp.slice(1), 'differs'],
    ['0123', 'malformed'],
  ])('%s is %s', (pasted, want) => expect(compareFingerprint(pasted, fp)).toBe(want))
})
