package system

// The kinds these tests configure, registered as the agent registers them.
import (
	_ "github.com/lockstep-sync/lockstep/agent/internal/connector/jira"
	_ "github.com/lockstep-sync/lockstep/agent/internal/connector/redmine"
	_ "github.com/lockstep-sync/lockstep/agent/internal/connector/sandboxconn"
)
