package apitype

import "time"

// Health states of a process or a system.
const (
	HealthOK       = "ok"       // the last run (or test) worked and nothing is parked
	HealthDegraded = "degraded" // it runs, but some entities are parked or failed
	HealthFailing  = "failing"  // whole runs fail (credentials refused, unreachable, project gone)
	// HealthInactive is a process that is not active: it does not sync, so
	// it is neither healthy nor failing whatever its last runs said (a
	// process copied from another agent arrives so, with no runs at all).
	HealthInactive = "inactive"
)

// Health says how a process or a system is doing, in words an
// administrator can act on; Detail keeps the technical message.
type Health struct {
	State string `json:"state"`
	// Since is when the present state began (the first failing run of the
	// streak, the oldest parked entity); absent when ok.
	Since *time.Time `json:"since,omitempty"`
	// Problem is the last error in words, Action what to do about it.
	Problem string `json:"problem,omitempty"`
	Action  string `json:"action,omitempty"`
	// Detail is the error as the system or library reported it.
	Detail string `json:"detail,omitempty"`
	// Cause classifies the problem: unauthorized, forbidden, not_found,
	// unavailable, rate_limited, invalid, license, system_gone, parked, other.
	Cause string `json:"cause,omitempty"`
	// System is the id of the system at fault (a process's health), and
	// SystemName its name.
	System     string `json:"system,omitempty"`
	SystemName string `json:"systemName,omitempty"`
	// Parked counts entities parked after permanent failures.
	Parked int `json:"parked,omitempty"`
	// CheckedAt is when the evidence was taken: the end of the last run, or
	// the last connection test.
	CheckedAt *time.Time `json:"checkedAt,omitempty"`
	// Acknowledged marks a failure an administrator saw and saved anyway:
	// a system's last connection test, which failed, of the configuration
	// its tester then saved (the desktop's "Save anyway"). It reads
	// failing all the same; it is not notified.
	Acknowledged bool `json:"acknowledged,omitempty"`
}

// SystemTest is the last connection test of a system, kept by the agent,
// with who ran it.
type SystemTest struct {
	SystemsTestResult
	Actor string `json:"actor,omitempty"`
	// SavedAnyway: the test failed, and Actor then saved the very
	// configuration it tested (the test of a draft kept when it was
	// saved): the failure is acknowledged.
	SavedAnyway bool `json:"savedAnyway,omitempty"`
}

// HealthChanged is the payload of a HealthChanged event: a process's or a
// system's health moved to another state (or its problem changed).
type HealthChanged struct {
	Kind   string `json:"kind"` // process or system
	ID     string `json:"id"`
	Name   string `json:"name"`
	Health Health `json:"health"`
	// Previous is the state before the change ("" at the agent's start).
	Previous string `json:"previous"`
	// Acknowledged: the failing state the change enters or leaves began
	// with a failure an administrator saw and saved anyway
	// (Health.Acknowledged); notifications leave the change out.
	Acknowledged bool `json:"acknowledged,omitempty"`
}
