package agentclient

// State is the connection's state as the UI shows it.
type State int

// States. Connecting covers dialling, the handshake and restoring the
// session; Disconnected is the wait between attempts. SessionExpired and
// FingerprintMismatch stop reconnecting: the first until Login, the second
// for good (the administrator must confirm the new key, and the app then
// dials again with the new pin).
const (
	StateDisconnected State = iota
	StateConnecting
	StateConnected
	StateLoggedIn
	StateSessionExpired
	StateFingerprintMismatch
	StateClosed
)

var stateNames = [...]string{
	StateDisconnected:        "disconnected",
	StateConnecting:          "connecting",
	StateConnected:           "connected",
	StateLoggedIn:            "loggedIn",
	StateSessionExpired:      "sessionExpired",
	StateFingerprintMismatch: "fingerprintMismatch",
	StateClosed:              "closed",
}

func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// MarshalText lets the bridge hand states to the UI as names.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
