package rpc

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/internal/alert"
	"github.com/lockstep-sync/lockstep/agent/internal/auth"
	"github.com/lockstep-sync/lockstep/agent/internal/fault"
	"github.com/lockstep-sync/lockstep/agent/internal/job"
	"github.com/lockstep-sync/lockstep/agent/internal/license"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/agent/internal/support"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
	"github.com/lockstep-sync/lockstep/agent/internal/system"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// TestDomainErrorsKeepTheirWireKinds pins what each domain's errors are
// answered with, now that toWire reads their fault kind instead of their
// type: the kind, the field, and the message (the error's own text for an
// invalid input, the whole chain otherwise).
func TestDomainErrorsKeepTheirWireKinds(t *testing.T) {
	s := &Server{log: zerolog.Nop()}
	wrap := func(err error) error { return fmt.Errorf("do the thing: %w", err) }
	cases := []struct {
		name  string
		err   error
		kind  protocol.Kind
		field string
		msg   string
	}{
		{"auth invalid", wrap(&fault.InvalidError{Field: "role", Message: "must be admin, operator or viewer"}), protocol.KindInvalid, "role", "role: must be admin, operator or viewer"},
		{"auth not found", wrap(auth.ErrNotFound), protocol.KindNotFound, "", "do the thing: account not found"},
		{"auth last admin", wrap(auth.ErrLastAdmin), protocol.KindConflict, "", "do the thing: " + auth.ErrLastAdmin.Error()},
		{"auth bad credentials", auth.ErrBadCredentials, protocol.KindUnauthorized, "", "invalid username or password"},
		{"auth locked", &auth.LockedError{RetryAfter: 3 * time.Second}, protocol.KindLockedOut, "", (&auth.LockedError{RetryAfter: 3 * time.Second}).Error()},
		{"auth busy", auth.ErrBusy, protocol.KindRateLimited, "", auth.ErrBusy.Error()},
		{"system not found", wrap(system.ErrNotFound), protocol.KindNotFound, "", "do the thing: system not found"},
		{"system name taken", system.ErrConflict, protocol.KindConflict, "", system.ErrConflict.Error()},
		{"store not found", wrap(store.ErrNotFound), protocol.KindNotFound, "", "do the thing: not found"},
		{"process not found", wrap(syncer.ErrNotFound), protocol.KindNotFound, "", "do the thing: not found"},
		{"process invalid", wrap(&syncer.ValidationError{Errors: []syncer.FieldError{{Field: "a.system", Message: "is required"}, {Field: "name", Message: "is empty"}}}),
			protocol.KindInvalid, "a.system", "invalid sync process: a.system: is required; name: is empty"},
		{"support job invalid", wrap(&support.InvalidError{Field: "offset", Reason: "must not be negative"}), protocol.KindInvalid, "offset", "invalid offset: must not be negative"},
		{"support not ready", wrap(support.ErrNotReady), protocol.KindConflict, "", "do the thing: not ready"},
		{"job busy", wrap(job.ErrBusy), protocol.KindConflict, "", "do the thing: already running"},
		{"support closed", wrap(support.ErrClosed), protocol.KindUnavailable, "", "do the thing: " + support.ErrClosed.Error()},
		{"support not found", wrap(support.ErrNotFound), protocol.KindNotFound, "", "do the thing: not found"},
		{"license file", wrap(&license.FileError{Kind: license.ErrExpired, Msg: "long ago"}), protocol.KindInvalid, "license", "license expired: long ago"},
		{"license not allowed", wrap(license.ErrNotAllowed), protocol.KindLicense, "", "do the thing: not allowed by the license"},
		{"alert test running", alert.ErrTestRunning, protocol.KindConflict, "", alert.ErrTestRunning.Error()},
		{"alert no channel", alert.ErrNoChannel, protocol.KindInvalid, "channel", alert.ErrNoChannel.Error()},
		{"forbidden", wrap(fault.New(fault.ErrForbidden, "not yours")), protocol.KindForbidden, "", "do the thing: not yours"},
		{"invalid without a field", wrap(job.ErrInvalid), protocol.KindInvalid, "", "do the thing: invalid request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := s.toWire("m", tc.err)
			if e.ErrorKind() != tc.kind || e.Message != tc.msg || e.Data.Field != tc.field {
				t.Fatalf("toWire = kind %s, field %q, message %q; want %s, %q, %q", e.ErrorKind(), e.Data.Field, e.Message, tc.kind, tc.field, tc.msg)
			}
		})
	}
	e := s.toWire("processes.create", cases[10].err)
	want := []protocol.Issue{{Field: "a.system", Message: "is required"}, {Field: "name", Message: "is empty"}}
	if !slices.Equal(e.Data.Issues, want) {
		t.Fatalf("issues %+v, want %+v", e.Data.Issues, want)
	}
	if e := s.toWire("m", errors.New("disk on fire at /var/lib/x")); e.ErrorKind() != protocol.KindInternal || e.Message == "" {
		t.Fatalf("an unknown error: %+v", e)
	}
}
