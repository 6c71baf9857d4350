package logging

import (
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// logTypical writes the typical sync line the hot-path goal is stated for.
func logTypical(log *zerolog.Logger) {
	log.Info().
		Str(FieldProcess, "p1").
		Str(FieldRun, "r9").
		Str(FieldSystem, "helpdesk").
		Str(FieldEntityID, "123").
		Str(FieldEntityKey, "HD-1").
		Str(FieldEntityTitle, "Printer on fire").
		Msg("updated entity")
}

func benchLog(b *testing.B, log zerolog.Logger) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		logTypical(&log)
	}
}

// BenchmarkBareZerolog is the baseline: the same line with a timestamp and
// a component, encoded by zerolog and discarded.
func BenchmarkBareZerolog(b *testing.B) {
	log := zerolog.New(io.Discard).With().Timestamp().Str(FieldComponent, "sync").Logger()
	benchLog(b, log)
}

// drainer empties a subscription the way a forwarder would: wake on Ready,
// let a batch gather, drain.
func drainer(b *testing.B, sub *Subscription, batch time.Duration) (received, dropped *atomic.Uint64, stop func()) {
	b.Helper()
	received, dropped = new(atomic.Uint64), new(atomic.Uint64)
	var wg sync.WaitGroup
	wg.Go(func() {
		for range sub.Ready() {
			time.Sleep(batch)
			lines, lost := sub.Drain()
			received.Add(uint64(len(lines)))
			dropped.Add(lost)
		}
	})
	return received, dropped, func() {
		sub.Close()
		wg.Wait()
	}
}

func newBenchLogging(b *testing.B) *Logging {
	b.Helper()
	l, err := New(Options{Dir: b.TempDir(), Level: zerolog.InfoLevel})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = l.Close() })
	return l
}

// BenchmarkAllSinks: file, ring and a tap with one subscriber drained by a
// goroutine in 1 ms batches.
func BenchmarkAllSinks(b *testing.B) {
	l := newBenchLogging(b)
	sub := l.Tap().Subscribe(Filter{MinLevel: zerolog.InfoLevel}, MaxQueueLen, 0)
	_, dropped, stop := drainer(b, sub, time.Millisecond)
	benchLog(b, l.Logger("sync"))
	b.StopTimer()
	stop()
	b.ReportMetric(float64(dropped.Load()+sub.Dropped())/float64(b.N), "dropped/op")
}

// BenchmarkNoSubscriber and BenchmarkStalledSubscriber compare the logging
// cost with and without a subscriber that never reads (its queue is full
// after 16 lines, so it only counts drops).
func BenchmarkNoSubscriber(b *testing.B) {
	l := newBenchLogging(b)
	benchLog(b, l.Logger("sync"))
}

func BenchmarkStalledSubscriber(b *testing.B) {
	l := newBenchLogging(b)
	l.Tap().Subscribe(Filter{}, 16, 0)
	benchLog(b, l.Logger("sync"))
}

// BenchmarkTapDelivery measures lines per second delivered to one
// subscriber that drains as fast as it can, without a file sink.
func BenchmarkTapDelivery(b *testing.B) {
	l, err := New(Options{Level: zerolog.InfoLevel})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	sub := l.Tap().Subscribe(Filter{Process: "p1"}, MaxQueueLen, 0)
	received, dropped, stop := drainer(b, sub, 0)
	log := l.Logger("sync")
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		logTypical(&log)
	}
	// Wait for the reader to catch up with what it was not told it lost.
	for received.Load()+dropped.Load()+sub.Dropped() < uint64(b.N) && time.Since(start) < time.Minute {
		time.Sleep(100 * time.Microsecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	got := received.Load()
	stop()
	b.ReportMetric(float64(got)/elapsed.Seconds(), "lines/s")
	b.ReportMetric(float64(uint64(b.N)-got)/float64(b.N), "dropped/op")
}
