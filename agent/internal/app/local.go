package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/control"
	"github.com/lockstep-sync/lockstep/agent/internal/paths"
	"github.com/lockstep-sync/lockstep/agent/internal/rpc"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// serveLocal opens the local admin channel and serves the API on it until
// the returned server is shut down. Without a channel (a data dir path too
// long for a socket, say) the agent runs on and says so: the command line
// then asks for the desktop app or a stopped agent.
func (a *App) serveLocal(wg *sync.WaitGroup) *http.Server {
	log := a.logs.Logger("control")
	ln, err := control.Listen(a.layout, func(id control.Identity, err error) {
		log.Warn().Err(err).Str("actor", id.Actor()).Msg("admin channel refused a connection")
		if _, aerr := a.audit.Append(audit.Entry{Actor: id.Actor(), Action: "session.local", Target: "channel:admin",
			Result: audit.Denied, Remote: id.Remote()}); aerr != nil {
			log.Error().Err(aerr).Msg("audit a refused local connection")
		}
	})
	if err != nil {
		log.Warn().Err(err).Msg("the local admin channel is off: commands like backup and audit verify need the agent stopped")
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle(protocol.Path, a.api)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if cc, ok := c.(*control.Conn); ok {
				return rpc.WithLocal(ctx, rpc.Local{Actor: cc.Identity.Actor(), Remote: cc.Identity.Remote()})
			}
			return ctx
		},
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("admin channel stopped")
		}
	}()
	log.Info().Str("address", control.Address(a.layout)).Msg("local admin channel open")
	return srv
}

// onAgent runs fn against the running agent of o's data dir, over its
// admin channel. ran is false when no agent answers there (it is stopped):
// the caller then opens the store itself.
func onAgent(ctx context.Context, o Options, fn func(context.Context, *control.Client) error) (ran bool, err error) {
	layout, err := paths.New(o.DataDir)
	if err != nil {
		return false, err
	}
	c, err := control.Connect(ctx, layout)
	if errors.Is(err, control.ErrNotRunning) {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	defer c.Close()
	return true, fn(ctx, c)
}

// wrapRemote names the command in an error the agent returned.
func wrapRemote(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
