package app

// The connectors this agent ships, registered by blank import: each
// registers its kind's schema and the full contract.
import (
	_ "github.com/lockstep-sync/lockstep/agent/internal/connector/azuredevops"
	_ "github.com/lockstep-sync/lockstep/agent/internal/connector/github"
	_ "github.com/lockstep-sync/lockstep/agent/internal/connector/gitlab"
	_ "github.com/lockstep-sync/lockstep/agent/internal/connector/jira"
	_ "github.com/lockstep-sync/lockstep/agent/internal/connector/redmine"
	_ "github.com/lockstep-sync/lockstep/agent/internal/connector/rt"
	_ "github.com/lockstep-sync/lockstep/agent/internal/connector/sandboxconn"
	_ "github.com/lockstep-sync/lockstep/agent/internal/connector/servicenow"
)
