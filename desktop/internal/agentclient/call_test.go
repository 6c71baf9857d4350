package agentclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/desktop/internal/agentclient/fakeagent"
	"github.com/lockstep-sync/lockstep/desktop/internal/desktoptest"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// agentErr asserts err is the agent's own *protocol.Error of kind.
func agentErr(t *testing.T, err error, kind protocol.Kind) *protocol.Error {
	t.Helper()
	pe, ok := err.(*protocol.Error)
	if !ok {
		t.Fatalf("error %v (%T) is not a bare *protocol.Error", err, err)
	}
	if pe.ErrorKind() != kind {
		t.Fatalf("kind = %v (%v), want %v", pe.ErrorKind(), pe, kind)
	}
	return pe
}

func TestLoginAndTypedCalls(t *testing.T) {
	a := fakeagent.New(t)
	a.AddAccount("vera", "viewer-password", protocol.RoleViewer)
	c := dial(t, a)
	ctx := testCtx(t)

	// Before login: unauthorized, and that is not an expired session.
	_, err := Call(ctx, c, protocol.SystemsList, apitype.Empty{})
	agentErr(t, err, protocol.KindUnauthorized)
	if c.State() != StateConnected {
		t.Errorf("State = %v, want connected", c.State())
	}
	_, err = c.Login(ctx, "admin", "wrong")
	agentErr(t, err, protocol.KindUnauthorized)
	if _, ok := c.Session(); ok {
		t.Error("failed login left a session")
	}

	sess := login(t, c)
	if sess.Account.Username != "admin" || sess.ExpiresAt.IsZero() {
		t.Errorf("Session = %+v", sess)
	}
	waitState(t, c, StateLoggedIn)

	created, err := Call(ctx, c, protocol.SystemsCreate, apitype.SystemsCreateParams{
		Name: "Jira", Kind: "jira", URL: "https://jira.example", Secrets: map[string]apitype.Secret{"token": "s3cret"},
	})
	if err != nil {
		t.Fatalf("systems.create: %v", err)
	}
	if created.System.ID == "" || !created.System.Secrets["token"].Set {
		t.Errorf("created = %+v", created.System)
	}
	got, err := Call(ctx, c, protocol.SystemsGet, apitype.IDParams{ID: created.System.ID})
	if err != nil || got.System.Name != "Jira" {
		t.Errorf("systems.get = %+v, %v", got, err)
	}
	list, err := Call(ctx, c, protocol.SystemsList, apitype.Empty{})
	if err != nil || len(list.Systems) != 1 {
		t.Errorf("systems.list = %+v, %v", list, err)
	}

	_, err = Call(ctx, c, protocol.SystemsGet, apitype.IDParams{ID: "nope"})
	agentErr(t, err, protocol.KindNotFound)
	_, err = Call(ctx, c, protocol.SystemsCreate, apitype.SystemsCreateParams{Kind: "jira"})
	if pe := agentErr(t, err, protocol.KindInvalid); pe.Data.Field != "name" {
		t.Errorf("invalid field = %q", pe.Data.Field)
	}
	_, err = Call(ctx, c, protocol.SystemsCreate, apitype.SystemsCreateParams{Name: "Jira", Kind: "jira"})
	agentErr(t, err, protocol.KindConflict)
	unknown := protocol.Method[apitype.Empty, apitype.Empty]{Name: "nope.nothing", Access: protocol.Viewer}
	_, err = Call(ctx, c, unknown, apitype.Empty{})
	agentErr(t, err, protocol.KindNotFound)
	if KindOf(err) != protocol.KindNotFound {
		t.Errorf("KindOf = %v", KindOf(err))
	}

	// A viewer may read but not create.
	if _, err := c.Login(ctx, "vera", "viewer-password"); err != nil {
		t.Fatal(err)
	}
	_, err = Call(ctx, c, protocol.SystemsCreate, apitype.SystemsCreateParams{Name: "X", Kind: "jira"})
	agentErr(t, err, protocol.KindForbidden)
	if c.State() != StateLoggedIn {
		t.Errorf("forbidden changed the state to %v", c.State())
	}
}

func TestCallErrorKindsFromHandlers(t *testing.T) {
	a := fakeagent.New(t)
	kinds := []protocol.Kind{protocol.KindLicense, protocol.KindUnavailable, protocol.KindRateLimited, protocol.KindLockedOut}
	for _, k := range kinds {
		a.Handle("test."+string(k), func(context.Context, json.RawMessage) (any, error) {
			return nil, protocol.Errorf(k, "because %s", k)
		})
	}
	a.Handle("test.plain", func(context.Context, json.RawMessage) (any, error) { return nil, errors.New("boom") })
	c := dial(t, a)
	login(t, c)
	for _, k := range kinds {
		_, err := Call(testCtx(t), c, protocol.Method[apitype.Empty, apitype.Empty]{Name: "test." + string(k)}, apitype.Empty{})
		agentErr(t, err, k)
	}
	_, err := Call(testCtx(t), c, protocol.Method[apitype.Empty, apitype.Empty]{Name: "test.plain"}, apitype.Empty{})
	agentErr(t, err, protocol.KindInternal)
}

func TestCallRefusesSessionAndSubscriptionMethods(t *testing.T) {
	a := fakeagent.New(t)
	c := dial(t, a)
	if _, err := Call(testCtx(t), c, protocol.SessionLogin, apitype.LoginParams{Username: "admin", Password: "admin-password"}); err == nil {
		t.Error("Call(session.login) bypassed Login")
	}
	if _, err := Call(testCtx(t), c, protocol.SubCancel, apitype.SubCancelParams{Sub: "x"}); err == nil {
		t.Error("Call(sub.cancel) bypassed Subscription.Cancel")
	}
	if n := a.CallCount(protocol.SessionLogin.Name); n != 0 {
		t.Errorf("agent saw %d logins", n)
	}
}

// blockingMethod registers a method that waits until release is closed.
func blockingMethod(a *fakeagent.Agent, name string) (release func(), started <-chan struct{}) {
	ch := make(chan struct{})
	st := make(chan struct{}, 100)
	var once sync.Once
	a.Handle(name, func(ctx context.Context, _ json.RawMessage) (any, error) {
		st <- struct{}{}
		select {
		case <-ch:
		case <-ctx.Done():
		}
		return apitype.SystemsTestResult{OK: true, Message: "late"}, nil
	})
	return func() { once.Do(func() { close(ch) }) }, st
}

func TestCallContextCancellationAbandonsTheCall(t *testing.T) {
	a := fakeagent.New(t)
	release, started := blockingMethod(a, protocol.SystemsTest.Name)
	defer release()
	c := dial(t, a)
	login(t, c)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	// The agent answers only after release below: a Call that outlived
	// its ctx would never return.
	_, err := Call(ctx, c, protocol.SystemsTest, apitype.SystemsTestParams{ID: "sys-1"})
	if !errors.Is(err, context.DeadlineExceeded) || KindOf(err) != protocol.KindTimeout {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	<-started
	release() // the agent answers now; the answer must be discarded quietly

	info, err := Call(testCtx(t), c, protocol.AgentInfo, apitype.Empty{})
	if err != nil || info.InstanceID != a.InstanceID() {
		t.Fatalf("next call = %+v, %v", info, err)
	}
	c.mu.Lock()
	cn := c.cur
	c.mu.Unlock()
	desktoptest.Eventually(t, "no pending calls", func() bool {
		cn.mu.Lock()
		defer cn.mu.Unlock()
		return len(cn.pending) == 0
	})
	if c.State() != StateLoggedIn {
		t.Errorf("State = %v", c.State())
	}
}

func TestInFlightCallFailsWhenConnectionDrops(t *testing.T) {
	a := fakeagent.New(t)
	release, started := blockingMethod(a, protocol.SystemsTest.Name)
	defer release()
	c := dial(t, a)
	login(t, c)

	errc := make(chan error, 1)
	go func() {
		_, err := Call(testCtx(t), c, protocol.SystemsTest, apitype.SystemsTestParams{ID: "sys-1"})
		errc <- err
	}()
	<-started
	a.DropConnections()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrConnectionLost) || KindOf(err) != protocol.KindUnavailable {
			t.Fatalf("err = %v, want ErrConnectionLost", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("in-flight call did not fail when the connection dropped")
	}
	waitState(t, c, StateLoggedIn)
	if n := a.CallCount(protocol.SystemsTest.Name); n != 1 {
		t.Errorf("agent saw systems.test %d times; an in-flight call must not be re-sent", n)
	}
}

func TestConcurrentCalls(t *testing.T) {
	a := fakeagent.New(t)
	c := dial(t, a)
	login(t, c)
	ctx := testCtx(t)
	if _, err := Call(ctx, c, protocol.SystemsCreate, apitype.SystemsCreateParams{Name: "A", Kind: "jira"}); err != nil {
		t.Fatal(err)
	}

	const workers, each = 32, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if (w+i)%2 == 0 {
					res, err := Call(ctx, c, protocol.SystemsList, apitype.Empty{})
					if err == nil && len(res.Systems) != 1 {
						err = fmt.Errorf("systems.list returned %d systems", len(res.Systems))
					}
					errs <- err
				} else {
					_, err := Call(ctx, c, protocol.SystemsGet, apitype.IDParams{ID: "missing"})
					if pe, ok := err.(*protocol.Error); !ok || pe.ErrorKind() != protocol.KindNotFound {
						errs <- fmt.Errorf("systems.get: %v", err)
						continue
					}
					errs <- nil
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		err  error
		want protocol.Kind
	}{
		{nil, ""},
		{protocol.Errorf(protocol.KindConflict, "x"), protocol.KindConflict},
		{fmt.Errorf("wrapped: %w", protocol.Errorf(protocol.KindForbidden, "x")), protocol.KindForbidden},
		{fmt.Errorf("call x: %w", ErrSessionExpired), protocol.KindUnauthorized},
		{fmt.Errorf("call x: %w", context.DeadlineExceeded), protocol.KindTimeout},
		{fmt.Errorf("call x: %w", context.Canceled), protocol.KindCanceled},
		{ErrClosed, protocol.KindUnavailable},
		{fmt.Errorf("%w: read: EOF", ErrConnectionLost), protocol.KindUnavailable},
	}
	for _, tt := range tests {
		if got := KindOf(tt.err); got != tt.want {
			t.Errorf("KindOf(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestOversizedRequestIsRefusedLocally(t *testing.T) {
	a := fakeagent.New(t)
	c := dial(t, a)
	login(t, c)
	huge := strings.Repeat("x", protocol.MaxFrameAfterLogin)
	_, err := Call(testCtx(t), c, protocol.SystemsCreate, apitype.SystemsCreateParams{Name: "big", Kind: "jira", Settings: map[string]any{"blob": huge}})
	if !errors.Is(err, ErrFrameTooLarge) || KindOf(err) != protocol.KindInvalid {
		t.Fatalf("err = %v, want ErrFrameTooLarge", err)
	}
	if _, err := Call(testCtx(t), c, protocol.AgentInfo, apitype.Empty{}); err != nil || a.Connections() != 1 {
		t.Errorf("connection harmed: %v, %d connections", err, a.Connections())
	}
}

func TestResume(t *testing.T) {
	a := fakeagent.New(t)
	c := dial(t, a)
	if _, err := c.Resume(testCtx(t)); !errors.Is(err, ErrNotLoggedIn) {
		t.Errorf("Resume before login = %v", err)
	}
	login(t, c)
	s, err := c.Resume(testCtx(t))
	if err != nil || s.Account.Username != "admin" {
		t.Fatalf("Resume = %+v, %v", s, err)
	}
	a.RevokeSessions()
	_, err = c.Resume(testCtx(t))
	agentErr(t, err, protocol.KindUnauthorized)
	waitState(t, c, StateSessionExpired)
}
