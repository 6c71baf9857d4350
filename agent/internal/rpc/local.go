package rpc

import (
	"context"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// Local is the identity of a connection made over the local admin channel,
// as the operating system reported it: root or the agent's own account,
// which hold the data dir and its key anyway. Such a connection needs no
// login and acts as an administrator under Actor.
type Local struct {
	Actor  string // "local:root"
	Remote string // "local (uid 0)"
}

type localKey struct{}

// WithLocal marks a request as coming over the local admin channel. Only
// the channel's own HTTP server sets it (from the accepted connection);
// nothing a client sends can.
func WithLocal(ctx context.Context, l Local) context.Context {
	return context.WithValue(ctx, localKey{}, l)
}

func localFrom(ctx context.Context) (Local, bool) {
	l, ok := ctx.Value(localKey{}).(Local)
	return l, ok && l.Actor != ""
}

// admitLocal gives a channel connection its administrator identity and
// records the session in the audit trail, as a login would be.
func (s *Server) admitLocal(c *conn, l Local) {
	c.localAccount = &apitype.Account{ID: l.Actor, Username: l.Actor, Role: string(protocol.RoleAdmin), CreatedAt: time.Time{}}
	c.counted = false // no login deadline, not among the connections waiting to log in
	c.ws.SetReadLimit(protocol.MaxFrameAfterLogin)
	if _, err := s.deps.Audit.Append(audit.Entry{Actor: l.Actor, Action: "session.local", Target: "channel:admin", Result: audit.Success, Remote: l.Remote}); err != nil {
		s.log.Error().Err(err).Str("actor", l.Actor).Msg("audit a local admin session")
	}
}
