import { errorKind, errorMessage } from '../../api/bridge'

// probeWords says in words why fetching an agent's fingerprint failed and
// what to try; the Go error chain stays for a disclosure.
export function probeWords(err: unknown): { problem: string; tryThis: string; detail: string } {
  const detail = errorMessage(err)
  const m = detail.toLowerCase()
  if (errorKind(err) === 'invalid' || m.includes('parse') || m.includes('invalid url') || m.includes('missing port')) {
    return {
      problem: 'That is not an agent address.',
      tryThis: 'Type the host and port, e.g. sync.example.internal:7443 or https://sync.example.internal:7443.',
      detail,
    }
  }
  if (m.includes('does not look like a tls handshake') || m.includes('http response') || m.includes('http server')) {
    return {
      problem: 'Something answered on that port, but not over TLS: probably a plain HTTP server or another program, not a Lockstep agent.',
      tryThis: 'Check the port: the agent listens with TLS only, on 7443 unless --listen says otherwise.',
      detail,
    }
  }
  if (m.includes('connection refused')) {
    return {
      problem: 'Nothing is listening at that address and port.',
      tryThis: 'Check that the agent is running (systemctl status lockstep-agent) and the port (7443 unless --listen says otherwise).',
      detail,
    }
  }
  if (m.includes('no such host') || m.includes('lookup ')) {
    return { problem: 'The host name could not be found.', tryThis: 'Check its spelling, or use the server’s IP address.', detail }
  }
  if (m.includes('timeout') || m.includes('deadline exceeded') || m.includes('no route') || m.includes('unreachable')) {
    return {
      problem: 'No answer from that address.',
      tryThis: 'A firewall may drop the connection, or the host is down: check that port 7443 is open from this computer.',
      detail,
    }
  }
  if (m.includes('connection reset') || m.includes('broken pipe') || m.includes('eof') || m.includes('going away')) {
    return { problem: 'The connection to the agent was cut.', tryThis: 'The agent may have stopped or restarted: check that it runs (systemctl status lockstep-agent).', detail }
  }
  if (m.includes('tls') || m.includes('certificate') || m.includes('handshake')) {
    return { problem: 'The secure connection could not be set up.', tryThis: 'Check that the address is the agent’s, not a proxy or another TLS service.', detail }
  }
  return { problem: 'The agent could not be reached.', tryThis: 'Check the address and port, and that the agent is running.', detail }
}
