// The agent's rules for the metrics token (agent/internal/config,
// checkMetricsToken), so the form names a problem before sending: it is
// all that guards /metrics, which has no lockout, and it travels in an
// HTTP header.
export const minMetricsToken = 16
const maxMetricsTokenBytes = 1024

// metricsTokenProblem says what is wrong with a token, or null. Characters
// are counted as the agent counts them (code points); the ceiling is in
// bytes of UTF-8.
export function metricsTokenProblem(v: string): string | null {
  const bytes = new TextEncoder().encode(v).length
  if (bytes > maxMetricsTokenBytes) return `It is longer than ${maxMetricsTokenBytes} bytes (it has ${bytes}).`
  const chars = [...v].length
  if (chars < minMetricsToken) return `It is too short: it needs at least ${minMetricsToken} characters and has ${chars} (e.g. the output of openssl rand -hex 32).`
  if (/[\u0000-\u0020\u007f]/.test(v)) return 'It must not contain spaces or control characters: it travels in an HTTP header.'
  return null
}
