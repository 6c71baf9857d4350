package bridge

import (
	"errors"
	"fmt"

	"github.com/lockstep-sync/lockstep/desktop/internal/agentclient"
	"github.com/lockstep-sync/lockstep/desktop/internal/profile"
)

// Profile is a saved agent connection (never a password).
type Profile = profile.Profile

// ProbeResult is what an agent presented on a bare TLS handshake.
type ProbeResult struct {
	URL         string `json:"url"`
	Fingerprint string `json:"fingerprint"`
}

var errNoProfiles = &Error{Kind: "internal", Message: "No profile store is configured."}

// ListProfiles returns the saved connections, sorted by name.
func (a *App) ListProfiles() ([]Profile, error) {
	if a.cfg.Profiles == nil {
		return nil, errNoProfiles
	}
	return a.cfg.Profiles.List()
}

// SaveProfile adds or replaces a profile by name, with its URL and
// fingerprint normalised the way the client dials and compares them.
func (a *App) SaveProfile(p Profile) (Profile, error) {
	if a.cfg.Profiles == nil {
		return Profile{}, errNoProfiles
	}
	u, err := agentclient.NormalizeURL(p.URL)
	if err != nil {
		return Profile{}, invalid(err)
	}
	p.URL = u
	if p.Fingerprint != "" {
		fp, err := agentclient.NormalizeFingerprint(p.Fingerprint)
		if err != nil {
			return Profile{}, invalid(err)
		}
		p.Fingerprint = fp
	}
	saved, err := a.cfg.Profiles.Save(p)
	if err != nil {
		if errors.Is(err, profile.ErrInvalid) {
			return Profile{}, invalid(err)
		}
		return Profile{}, err
	}
	return saved, nil
}

// DeleteProfile forgets a profile, disconnecting its agent first. When it
// was the current agent there is no current agent afterwards.
func (a *App) DeleteProfile(name string) error {
	if a.cfg.Profiles == nil {
		return errNoProfiles
	}
	e := a.agentOf(name, false)
	if e != nil {
		e.dial.Lock()
		defer e.dial.Unlock()
		a.closeLocked(e)
	}
	if err := a.cfg.Profiles.Delete(name); err != nil {
		return err
	}
	// A deleted agent's name and state leave the status with it.
	a.emitMu.Lock()
	defer a.emitMu.Unlock()
	a.mu.Lock()
	wasCurrent := a.current == name
	if wasCurrent {
		a.current = ""
	}
	if a.agents[name] == e {
		delete(a.agents, name)
	}
	a.mu.Unlock()
	a.emit(EventAgentState, ConnStatus{Profile: name, State: agentclient.StateClosed.String()})
	if wasCurrent {
		a.emit(EventConnState, ConnStatus{State: agentclient.StateClosed.String()})
	}
	return nil
}

// ProbeAgent does a TLS handshake only and returns the key fingerprint the
// agent presents, for the administrator to compare with `lockstep-agent
// fingerprint` before pinning it. Nothing is sent to the agent.
func (a *App) ProbeAgent(url string) (ProbeResult, error) {
	u, err := agentclient.NormalizeURL(url)
	if err != nil {
		return ProbeResult{}, invalid(err)
	}
	ctx, cancel := a.callCtx()
	defer cancel()
	fp, err := agentclient.Probe(ctx, u)
	if err != nil {
		return ProbeResult{}, fmt.Errorf("probe %s: %w", u, err)
	}
	return ProbeResult{URL: u, Fingerprint: fp}, nil
}
