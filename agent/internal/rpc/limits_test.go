package rpc_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// TestListLimits: every list method that takes a limit refuses one above
// its maximum with an `invalid` error that names the field and the maximum,
// and accepts the maximum itself. None may quietly answer a smaller page
// than asked for (runs.list once turned 501 into 50).
func TestListLimits(t *testing.T) {
	ag := startAgent(t)
	admin := ag.session(t, "admin", adminPassword)
	for _, m := range []struct {
		method string
		params map[string]any
		max    int
	}{
		{"runs.list", map[string]any{"process": "p1"}, 500},
		{"pairs.list", map[string]any{}, 500},
		{"audit.list", map[string]any{}, 1000},
		{"logs.query", map[string]any{}, 10000},
	} {
		t.Run(m.method, func(t *testing.T) {
			with := func(limit int) map[string]any {
				p := map[string]any{"limit": limit}
				for k, v := range m.params {
					p[k] = v
				}
				return p
			}
			for _, bad := range []int{m.max + 1, -1} {
				resp := admin.raw(m.method, with(bad))
				if kindOf(resp.Error) != protocol.KindInvalid || resp.Error.Data.Field != "limit" {
					t.Fatalf("limit %d: want invalid naming the limit, got %+v", bad, resp.Error)
				}
				if !strings.Contains(resp.Error.Message, strconv.Itoa(m.max)) {
					t.Fatalf("limit %d: the error does not name the maximum %d: %s", bad, m.max, resp.Error.Message)
				}
			}
			if resp := admin.raw(m.method, with(m.max)); resp.Error != nil {
				t.Fatalf("limit %d (the maximum) refused: %v", m.max, resp.Error)
			}
		})
	}
}
