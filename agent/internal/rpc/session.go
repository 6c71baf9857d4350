package rpc

import (
	"context"

	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

func (s *Server) registerSession() {
	Handle(s, protocol.SessionHello, func(ctx context.Context, c *Call, p apitype.HelloParams) (apitype.HelloResult, error) {
		if p.Protocol != protocol.Version {
			e := protocol.Errorf(protocol.KindVersionMismatch, "this agent speaks protocol %d; the client asked for %d", protocol.Version, p.Protocol)
			e.Data.Supported = []int{protocol.Version}
			return apitype.HelloResult{}, e
		}
		c.conn.mu.Lock()
		c.conn.hello = true
		c.conn.mu.Unlock()
		return apitype.HelloResult{Protocol: protocol.Version, Agent: "lockstep-agent/" + s.deps.Version,
			InstanceID: s.deps.InstanceID, EventSeq: s.deps.Events.Seq()}, nil
	})
	Handle(s, protocol.SessionLogin, func(ctx context.Context, c *Call, p apitype.LoginParams) (apitype.LoginResult, error) {
		sess, err := s.deps.Auth.Login(ctx, p.Username, p.Password.Reveal(), c.Remote)
		if err != nil {
			return apitype.LoginResult{}, err
		}
		c.conn.setSession(sess.Token.Reveal(), &sess.Account)
		return apitype.LoginResult{Token: sess.Token, ExpiresAt: sess.ExpiresAt, Account: sess.Account}, nil
	})
	Handle(s, protocol.SessionResume, func(ctx context.Context, c *Call, p apitype.ResumeParams) (apitype.LoginResult, error) {
		sess, err := s.deps.Auth.Validate(p.Token.Reveal())
		if err != nil {
			return apitype.LoginResult{}, err
		}
		c.conn.setSession(p.Token.Reveal(), &sess.Account)
		// The token is not sent back: the client already holds it.
		return apitype.LoginResult{ExpiresAt: sess.ExpiresAt, Account: sess.Account}, nil
	})
	Handle(s, protocol.SessionLogout, func(ctx context.Context, c *Call, _ apitype.Empty) (apitype.Empty, error) {
		err := s.deps.Auth.Logout(c.Token, c.Remote)
		c.conn.setSession("", nil)
		// Its subscriptions end with it, as with a session ended elsewhere:
		// a logged-out connection is sent nothing more.
		c.conn.cancelSubs()
		return apitype.Empty{}, err
	})
	Handle(s, protocol.SessionWhoami, func(ctx context.Context, c *Call, _ apitype.Empty) (apitype.AccountResult, error) {
		return apitype.AccountResult{Account: *c.Account}, nil
	})
}

func (s *Server) registerAccounts() {
	Handle(s, protocol.AccountsList, func(ctx context.Context, c *Call, _ apitype.Empty) (apitype.AccountsListResult, error) {
		list, err := s.deps.Auth.List()
		return apitype.AccountsListResult{Accounts: list}, err
	})
	Handle(s, protocol.AccountsCreate, func(ctx context.Context, c *Call, p apitype.AccountsCreateParams) (apitype.AccountResult, error) {
		acc, err := s.deps.Auth.Create(c.Actor(), p.Username, p.Password.Reveal(), protocol.Role(p.Role))
		return apitype.AccountResult{Account: acc}, err
	})
	Handle(s, protocol.AccountsUpdate, func(ctx context.Context, c *Call, p apitype.AccountsUpdateParams) (apitype.AccountResult, error) {
		var role *protocol.Role
		if p.Role != nil {
			r := protocol.Role(*p.Role)
			role = &r
		}
		acc, err := s.deps.Auth.Update(c.Actor(), p.ID, role, p.Locked)
		return apitype.AccountResult{Account: acc}, err
	})
	Handle(s, protocol.AccountsDelete, func(ctx context.Context, c *Call, p apitype.IDParams) (apitype.Empty, error) {
		return apitype.Empty{}, s.deps.Auth.Delete(c.Actor(), p.ID)
	})
	Handle(s, protocol.AccountsSetPassword, func(ctx context.Context, c *Call, p apitype.AccountsSetPasswordParams) (apitype.Empty, error) {
		return apitype.Empty{}, s.deps.Auth.SetPassword(c.Actor(), p.ID, p.Password.Reveal())
	})
}
