package syncer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// Webhooks push changes sooner; they never replace polling: deliveries get
// lost, so the scheduled poll still runs as the reconcile pass.

// hook is a registered webhook of one process side. Its secret is sealed
// by Deps.Seal: it authenticates deliveries, so it is a credential.
type hook struct {
	ID     string `json:"id"`
	Sealed []byte `json:"sealed"`
}

func keyHook(proc string, s Side) string { return "hook/" + proc + "/" + string(s) }

// HookPath is where a system delivers a process side's webhooks, under the
// agent's public URL.
func HookPath(proc string, s Side) string { return "/v1/hooks/" + proc + "/" + string(s) }

// registerHooks registers a webhook on each side whose connector has them.
// A failure is logged: polling alone still syncs.
func (e *Engine) registerHooks(ctx context.Context, p *Process) {
	if !p.Schedule.Webhooks || e.d.PublicURL == nil || e.d.PublicURL() == "" || e.d.Seal == nil {
		return
	}
	for _, s := range []Side{SideA, SideB} {
		con, err := e.open(p.End(s).System)
		if err != nil {
			continue
		}
		wh, ok := ability[connector.Webhooks](con)
		if !ok {
			continue
		}
		raw := make([]byte, 32)
		_, _ = rand.Read(raw)
		secret := hex.EncodeToString(raw)
		url := strings.TrimRight(e.d.PublicURL(), "/") + HookPath(p.ID, s)
		id, err := wh.RegisterWebhook(ctx, p.End(s).Project, url, secret)
		if err != nil {
			e.d.Log.Warn().Err(err).Str("process", p.ID).Str("system", p.End(s).System).Msg("webhook not registered: polling only")
			continue
		}
		sealed, err := e.d.Seal("process:"+p.ID, "hook:"+string(s), []byte(secret))
		if err == nil {
			err = e.d.Store.Put(keyHook(p.ID, s), hook{ID: id, Sealed: sealed})
		}
		if err != nil {
			e.d.Log.Error().Err(err).Str("process", p.ID).Msg("store webhook secret")
		}
	}
}

// unregisterHooks removes a process's webhooks.
func (e *Engine) unregisterHooks(ctx context.Context, p *Process) {
	for _, s := range []Side{SideA, SideB} {
		var h hook
		if err := e.d.Store.Get(keyHook(p.ID, s), &h); err != nil {
			continue
		}
		if con, err := e.open(p.End(s).System); err == nil {
			if wh, ok := ability[connector.Webhooks](con); ok {
				if err := wh.UnregisterWebhook(ctx, h.ID); err != nil {
					e.d.Log.Warn().Err(err).Str("process", p.ID).Msg("unregister webhook")
				}
			}
		}
		e.d.Store.Delete(keyHook(p.ID, s))
	}
}

// ErrHookUnauthorized means a delivery's signature did not verify.
var ErrHookUnauthorized = errors.New("webhook signature refused")

// HandleWebhook verifies a delivery for a process side, queues the entities
// it names and triggers a run. The body is bounded by the caller.
func (e *Engine) HandleWebhook(r *http.Request, proc string, s Side, body io.Reader) (int, error) {
	p, err := e.procs.Get(proc)
	if err != nil || (s != SideA && s != SideB) || !p.Active {
		return 0, fmt.Errorf("webhook for %s/%s: %w", proc, s, ErrNotFound)
	}
	var h hook
	if err := e.d.Store.Get(keyHook(proc, s), &h); err != nil {
		return 0, fmt.Errorf("webhook for %s/%s: %w", proc, s, ErrNotFound)
	}
	secret, err := e.d.Unseal("process:"+proc, "hook:"+string(s), h.Sealed)
	if err != nil {
		return 0, fmt.Errorf("webhook for %s: %w", proc, err)
	}
	con, err := e.open(p.End(s).System)
	if err != nil {
		return 0, err
	}
	wh, ok := ability[connector.Webhooks](con)
	if !ok {
		return 0, fmt.Errorf("webhook for %s: the system has no webhooks: %w", proc, ErrNotFound)
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return 0, fmt.Errorf("read webhook: %w", err)
	}
	refs, err := wh.ParseWebhook(r, raw, string(secret))
	if err != nil {
		if errors.Is(err, connector.ErrUnauthorized) {
			return 0, fmt.Errorf("%w: %v", ErrHookUnauthorized, err)
		}
		return 0, err
	}
	err = e.d.Store.Update(func(tx *store.Tx) error {
		if live, err := e.liveTx(tx, proc); err != nil {
			return err
		} else if !live {
			return fmt.Errorf("webhook for %s/%s: deleted: %w", proc, s, ErrNotFound)
		}
		for _, ref := range refs {
			if err := enqueueTx(tx, proc, QueueItem{Side: s, Entity: ref.ID}, e.d.Now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	e.Trigger(proc, "webhook")
	return len(refs), nil
}
