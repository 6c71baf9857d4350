package agentclient

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// FingerprintMismatchError refuses an agent whose key is not the pinned one.
// Expected is empty when nothing was pinned yet (first connection).
type FingerprintMismatchError struct {
	Expected string
	Got      string
}

func (e *FingerprintMismatchError) Error() string {
	if e.Expected == "" {
		return fmt.Sprintf("refuse agent: no fingerprint pinned yet; the agent presented %s. "+
			"Compare it with the output of `lockstep-agent fingerprint` on the agent host before trusting it", e.Got)
	}
	return fmt.Sprintf("refuse agent: certificate fingerprint mismatch: expected %s, got %s. "+
		"The agent may have been reinstalled (compare with `lockstep-agent fingerprint` on the agent host), "+
		"or someone may be intercepting the connection", e.Expected, e.Got)
}

// Unpinned reports whether the refusal is a first contact rather than a change.
func (e *FingerprintMismatchError) Unpinned() bool { return e.Expected == "" }

// NormalizeFingerprint accepts a fingerprint as people copy it (upper case,
// colons, spaces) and returns the 64 lowercase hex characters.
func NormalizeFingerprint(s string) (string, error) {
	s = strings.Map(func(r rune) rune {
		if r == ':' || r == ' ' || r == '\t' || r == '-' {
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
	if len(s) != 2*sha256.Size {
		return "", fmt.Errorf("check fingerprint: want %d hex characters, got %d", 2*sha256.Size, len(s))
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", fmt.Errorf("check fingerprint: %w", err)
	}
	return s, nil
}

// spkiFingerprint is what `lockstep-agent fingerprint` prints. The SPKI, not
// the whole certificate, so renewing the certificate with the same key keeps
// the pin.
func spkiFingerprint(cs tls.ConnectionState) (string, error) {
	if len(cs.PeerCertificates) == 0 {
		return "", errors.New("agent presented no certificate")
	}
	sum := sha256.Sum256(cs.PeerCertificates[0].RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:]), nil
}

// pinnedTLSConfig trusts exactly the pinned key. Chain verification is off
// because the agent's certificate is self-signed; VerifyConnection is then
// the only check, and it runs for every handshake. seen receives the
// presented fingerprint either way, so a refusal can name it.
func pinnedTLSConfig(serverName, pinned string, seen *string) *tls.Config {
	return &tls.Config{
		ServerName:         serverName,
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true, //nolint:gosec // replaced by the SPKI pin below
		VerifyConnection: func(cs tls.ConnectionState) error {
			got, err := spkiFingerprint(cs)
			if err != nil {
				return err
			}
			*seen = got
			if pinned == "" || subtle.ConstantTimeCompare([]byte(got), []byte(pinned)) != 1 {
				return &FingerprintMismatchError{Expected: pinned, Got: got}
			}
			return nil
		},
	}
}

// dialTLS opens a TLS connection to addr and checks the pin. A refusal is
// returned as *FingerprintMismatchError even if crypto/tls wraps it.
func dialTLS(ctx context.Context, addr, pinned string) (*tls.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("parse agent address: %w", err)
	}
	var seen string
	d := tls.Dialer{Config: pinnedTLSConfig(host, pinned, &seen)}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		var mm *FingerprintMismatchError
		if errors.As(err, &mm) {
			return nil, mm
		}
		if seen != "" && seen != pinned {
			return nil, &FingerprintMismatchError{Expected: pinned, Got: seen}
		}
		return nil, fmt.Errorf("connect to agent %s: %w", addr, err)
	}
	return nc.(*tls.Conn), nil
}

// Probe connects once and returns the fingerprint the agent presents,
// without trusting it and without sending anything over the connection: the
// desktop shows it for the administrator to compare with `lockstep-agent
// fingerprint` before pinning it.
func Probe(ctx context.Context, rawURL string) (string, error) {
	u, err := normalizeURL(rawURL)
	if err != nil {
		return "", err
	}
	pu, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("probe agent: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	_, err = dialTLS(ctx, pu.Host, "")
	var mm *FingerprintMismatchError
	if errors.As(err, &mm) {
		return mm.Got, nil
	}
	if err == nil {
		// Unreachable: an empty pin never matches.
		return "", errors.New("probe agent: handshake accepted without a pin")
	}
	return "", fmt.Errorf("probe agent: %w", err)
}
