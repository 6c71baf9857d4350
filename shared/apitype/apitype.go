// Package apitype holds the params and results of the agent's methods and
// the payloads of its notifications (PROTOCOL.md). Both sides ignore unknown
// fields, so adding an optional field keeps protocol version 1.
package apitype

import (
	"encoding/json"
	"time"
)

// Secret is a credential travelling from the client to the agent. It prints
// as [redacted] through fmt so it cannot slip into a log line by accident;
// JSON carries the value, because the agent has to receive it. The agent
// never sends one back: responses carry SecretState instead.
type Secret string

func (Secret) String() string   { return "[redacted]" }
func (Secret) GoString() string { return "[redacted]" }

// Reveal returns the value.
func (s Secret) Reveal() string { return string(s) }

// HelloParams opens a session; it must be the first call.
type HelloParams struct {
	Protocol int    `json:"protocol"`
	Client   string `json:"client"`
}

// HelloResult describes the agent.
type HelloResult struct {
	Protocol   int    `json:"protocol"`
	Agent      string `json:"agent"`
	InstanceID string `json:"instanceId"`
	EventSeq   uint64 `json:"eventSeq"`
}

// LoginParams are an account's credentials.
type LoginParams struct {
	Username string `json:"username"`
	Password Secret `json:"password"`
}

// Account is an account as the API shows it: never a hash.
type Account struct {
	ID          string     `json:"id"`
	Username    string     `json:"username"`
	Role        string     `json:"role"`
	CreatedAt   time.Time  `json:"createdAt"`
	LastLoginAt *time.Time `json:"lastLoginAt,omitempty"`
	Locked      bool       `json:"locked"`
	LockedUntil *time.Time `json:"lockedUntil,omitempty"`
}

// LoginResult carries the session token, shown once.
type LoginResult struct {
	Token     Secret    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
	Account   Account   `json:"account"`
}

// ResumeParams resume a session after a reconnect.
type ResumeParams struct {
	Token Secret `json:"token"`
}

// AccountResult wraps one account.
type AccountResult struct {
	Account Account `json:"account"`
}

// License is the license summary agent.info carries.
type License struct {
	State     string     `json:"state"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

// AgentInfo describes the running agent.
type AgentInfo struct {
	Version    string    `json:"version"`
	InstanceID string    `json:"instanceId"`
	StartedAt  time.Time `json:"startedAt"`
	DataDir    string    `json:"dataDir"`
	License    License   `json:"license"`
}

// HostInfo is the host snapshot (bytes as integers).
type HostInfo struct {
	OS              string   `json:"os"`
	Platform        string   `json:"platform"`
	PlatformVersion string   `json:"platformVersion"`
	Kernel          string   `json:"kernel"`
	Arch            string   `json:"arch"`
	Hostname        string   `json:"hostname"`
	CPUModel        string   `json:"cpuModel"`
	CPUCores        int      `json:"cpuCores"`
	CPUPercent      float64  `json:"cpuPercent"`
	MemTotal        uint64   `json:"memTotal"`
	MemAvailable    uint64   `json:"memAvailable"`
	Threads         int      `json:"threads"`
	Goroutines      int      `json:"goroutines"`
	RSS             uint64   `json:"rss"`
	DiskFree        uint64   `json:"diskFree"`
	UptimeSeconds   int64    `json:"uptimeSeconds"`
	Errors          []string `json:"errors,omitempty"`
}

// IDParams name one record.
type IDParams struct {
	ID string `json:"id"`
}

// Empty carries nothing.
type Empty struct{}

// RawEvent is an event payload before the client decodes it by type.
type RawEvent = json.RawMessage
