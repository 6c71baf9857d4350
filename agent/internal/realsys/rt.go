package realsys

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// NewQueue creates a queue of its own for a test, named with a random
// suffix, so tests sharing the server never see each other's tickets. The
// global ticket custom field "External ID" applies to it. The queue is
// disabled when the test ends (RT never deletes queues); its tickets stay.
func (r RT) NewQueue(t testing.TB) string {
	t.Helper()
	name := "lockstep-" + strings.ToLower(rand.Text()[:10])
	var created struct {
		ID string `json:"id"`
	}
	if err := r.Do(t, http.MethodPost, "/queue", map[string]any{"Name": name, "Description": "Lockstep test " + t.Name()}, &created); err != nil {
		t.Fatalf("create RT queue %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := r.Do(t, http.MethodPut, "/queue/"+created.ID, map[string]any{"Disabled": 1}, nil); err != nil {
			t.Logf("disable RT queue %s: %v", name, err)
		}
	})
	return name
}

// Do calls REST2 as root: in (when not nil) is sent as JSON, the answer
// decoded into out (when not nil). For test set-up only.
func (r RT) Do(t testing.TB, method, path string, in, out any) error {
	t.Helper()
	// A guard against a hung server, as Redmine's client has: RT answered
	// a create in over 30 s on a machine loaded by a full make test.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(r.REST2URL, "/")+path, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "token "+r.Token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return nil
}
