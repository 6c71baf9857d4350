// What an administrator sees before connecting to any agent.
export function AgentsEmptyState() {
  return (
    <section className="empty" aria-labelledby="empty-title">
      <svg className="empty-icon" viewBox="0 0 48 48" aria-hidden="true" focusable="false">
        <rect x="8" y="9" width="32" height="12" rx="3" />
        <rect x="8" y="27" width="32" height="12" rx="3" />
        <circle cx="15" cy="15" r="1.6" />
        <circle cx="15" cy="33" r="1.6" />
      </svg>
      <h2 id="empty-title">No agents yet — add one by URL</h2>
      <p>
        Point Lockstep at an agent running on your network, for example{' '}
        <code>https://sync.example.internal:7443</code>. On first connect you will
        compare its certificate fingerprint with the output of{' '}
        <code>lockstep-agent fingerprint</code> on that server.
      </p>
    </section>
  )
}
