package support

// The kind these tests configure, registered as the agent registers it.
import _ "github.com/lockstep-sync/lockstep/agent/internal/connector/jira"
