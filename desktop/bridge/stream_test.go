package bridge

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/lockstep-sync/lockstep/shared/apitype"
)

func logLines(n int, tag string) []apitype.LogLine {
	out := make([]apitype.LogLine, n)
	for i := range out {
		out[i] = apitype.LogLine{Level: "info", Component: "test", Message: fmt.Sprintf("%s %d", tag, i)}
	}
	return out
}

func (r *recorder) logBatches(t *testing.T, sub string) []LogsBatch {
	t.Helper()
	var out []LogsBatch
	for _, raw := range r.Named(EventLogsBatch) {
		var b LogsBatch
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Fatal(err)
		}
		if b.Sub == sub {
			out = append(out, b)
		}
	}
	return out
}

// One notification of 1000 lines reaches the UI as batches of at most 200,
// in order, with nothing lost.
func TestLogsAreBatchedAtMost200(t *testing.T) {
	f := newFixture(t)
	f.login(t)
	id, err := f.app.SubscribeLogs(apitype.LogsSubscribeParams{MinLevel: "info"})
	if err != nil {
		t.Fatal(err)
	}
	f.agent.PublishLog(logLines(1000, "line")...)
	total := func() int {
		n := 0
		for _, b := range f.rec.logBatches(t, id) {
			n += len(b.Lines)
		}
		return n
	}
	f.rec.WaitFor(t, "1000 lines", func() bool { return total() >= 1000 })
	batches := f.rec.logBatches(t, id)
	if len(batches) < 5 {
		t.Fatalf("%d batches for 1000 lines; batches must not exceed 200 lines", len(batches))
	}
	next := 0
	for _, b := range batches {
		if len(b.Lines) > defaultMaxBatch || len(b.Lines) == 0 {
			t.Fatalf("batch of %d lines", len(b.Lines))
		}
		for _, l := range b.Lines {
			if want := fmt.Sprintf("line %d", next); l.Message != want {
				t.Fatalf("line %q, want %q", l.Message, want)
			}
			next++
		}
	}
	if err := f.app.Unsubscribe(id); err != nil {
		t.Fatal(err)
	}
	if err := f.app.Unsubscribe(id); err != nil {
		t.Fatalf("second unsubscribe: %v", err)
	}
}

// Small notifications are combined: what arrives between two ticks goes
// out as one batch. Flushes are driven by hand, so this is exact.
func TestBatcherCombinesAndDrops(t *testing.T) {
	var got [][]int
	var dropped []uint64
	b := newBatcher(200, 500, func(items []int, d uint64) {
		got = append(got, items)
		dropped = append(dropped, d)
	})
	for i := range 10 {
		b.add([]int{3 * i, 3*i + 1, 3*i + 2}, 0)
	}
	b.flush(true) // no full batch yet: nothing goes out before the tick
	if len(got) != 0 {
		t.Fatalf("emitted %d batches before a full one", len(got))
	}
	b.flush(false) // the tick
	if len(got) != 1 || len(got[0]) != 30 || got[0][29] != 29 {
		t.Fatalf("batches %v, want one of 30", got)
	}

	// Past the pending limit lines are dropped and counted, together with
	// what the agent reported dropped.
	got, dropped = nil, nil
	b.add(make([]int, 700), 7)
	b.flush(true)
	if len(got) != 2 {
		t.Fatalf("%d full batches, want 2 (500 kept of 700)", len(got))
	}
	b.flush(false)
	var n int
	var d uint64
	for i := range got {
		if len(got[i]) > 200 {
			t.Fatalf("batch of %d", len(got[i]))
		}
		n += len(got[i])
		d += dropped[i]
	}
	if n != 500 || d != 207 {
		t.Fatalf("kept %d dropped %d, want 500 and 207", n, d)
	}

	// Only a drop count still goes out, so the UI can say lines were lost.
	got, dropped = nil, nil
	b.add(nil, 3)
	b.flush(false)
	if len(got) != 1 || len(got[0]) != 0 || dropped[0] != 3 {
		t.Fatalf("drop-only batch: %v %v", got, dropped)
	}
	b.close()
	b.add([]int{1}, 0)
	b.flush(false)
	if len(got) != 1 {
		t.Fatal("a closed batcher emitted")
	}
}

func TestEventsBatchedAndResync(t *testing.T) {
	f := newFixture(t)
	f.login(t)
	id, err := f.app.SubscribeEvents([]string{apitype.EventConfigChanged})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		f.agent.PublishEvent(apitype.EventConfigChanged, apitype.ConfigChanged{Kind: "system", ID: fmt.Sprint(i), Action: "update"})
	}
	var seqs []uint64
	collect := func() {
		seqs = seqs[:0]
		for _, raw := range f.rec.Named(EventEventsBatch) {
			var b EventsBatch
			if err := json.Unmarshal(raw, &b); err != nil {
				t.Fatal(err)
			}
			if b.Sub != id || len(b.Events) == 0 || len(b.Events) > defaultMaxBatch {
				t.Fatalf("batch %s", raw)
			}
			for _, e := range b.Events {
				seqs = append(seqs, e.Seq)
			}
		}
	}
	f.rec.WaitFor(t, "30 events", func() bool { collect(); return len(seqs) >= 30 })
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Fatalf("events out of order: %v", seqs)
		}
	}

	// The agent forgets its ring while the connection is down: the client
	// cannot resume, and the UI is told to reload.
	f.agent.ForgetEvents()
	f.agent.PublishEvent(apitype.EventConfigChanged, apitype.ConfigChanged{Kind: "system", Action: "delete"})
	f.agent.DropConnections()
	f.agent.PublishEvent(apitype.EventConfigChanged, apitype.ConfigChanged{Kind: "system", Action: "delete"})
	f.agent.ForgetEvents()
	f.rec.WaitFor(t, "events:resync", func() bool {
		for _, raw := range f.rec.Named(EventEventsResync) {
			var r Resync
			_ = json.Unmarshal(raw, &r)
			if r.Sub == id {
				return true
			}
		}
		return false
	})
}

func TestStreamsEndWithLogoutAndNeedAConnection(t *testing.T) {
	f := newFixture(t)
	if _, err := f.app.SubscribeLogs(apitype.LogsSubscribeParams{}); kindOf(err) != KindNotConnected {
		t.Fatalf("subscribe before connect: %v", err)
	}
	f.login(t)
	if _, err := f.app.SubscribeLogs(apitype.LogsSubscribeParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.SubscribeEvents(nil); err != nil {
		t.Fatal(err)
	}
	if n := f.app.streamCount(); n != 2 {
		t.Fatalf("%d streams", n)
	}
	if err := f.app.Logout(); err != nil {
		t.Fatal(err)
	}
	if n := f.app.streamCount(); n != 0 {
		t.Fatalf("%d streams after logout", n)
	}
	if _, err := f.app.SubscribeLogs(apitype.LogsSubscribeParams{}); kindOf(err) != "unauthorized" {
		t.Fatalf("subscribe after logout: %v", err)
	}
}
