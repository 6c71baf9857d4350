package support

import (
	"context"
	"io"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/job"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// Manager defaults.
const (
	DefaultRetention     = job.DefaultRetention
	DefaultMaxKept       = job.DefaultMaxKept
	DefaultSweepInterval = job.DefaultSweepInterval
)

// Options configure a Manager.
type Options struct {
	// Dir holds the packages while they are built and kept; it is created
	// 0700 and must be the Manager's alone: leftovers of an earlier run
	// (support-*.zip, .support-*.zip.partial) are deleted at start.
	Dir     string
	Sources Sources
	// Retention is how long a finished package is kept (DefaultRetention
	// if zero); SetRetention changes it later.
	Retention time.Duration
	// MaxKept bounds the finished packages on disk (DefaultMaxKept if
	// zero); the oldest goes first. Packages hold whole log files, so a
	// bound on their number is a bound on disk use.
	MaxKept int
	// SweepInterval is how often Serve looks for expired packages.
	SweepInterval time.Duration
	// Now is the clock for retention (time.Now if nil); also the manifest's
	// clock when Sources.Now is nil.
	Now func() time.Time
	// Progress hears of each finished part and of the end of a build. It is
	// called on the build's goroutine and must not block.
	Progress func(apitype.SupportProgress)
}

// Manager runs support package builds as jobs (support.create, .status,
// .download): one build at a time, in the background, kept for a retention
// period and downloaded in chunks.
type Manager struct {
	*job.Manager
	src Sources
}

// statusScrubber scrubs job error messages, which reach the desktop app.
var statusScrubber = NewScrubber(nil)

// NewManager prepares dir and returns a Manager.
func NewManager(o Options) (*Manager, error) {
	if o.Sources.Now == nil {
		o.Sources.Now = o.Now
	}
	jm, err := job.New(job.Options{
		Dir: o.Dir, Name: "support", Ext: ".zip", Noun: "support package",
		Retention: o.Retention, MaxKept: o.MaxKept, SweepInterval: o.SweepInterval, Now: o.Now,
		Scrub: statusScrubber.Scrub,
		Progress: func(p job.Progress) {
			if o.Progress != nil {
				o.Progress(apitype.SupportProgress{ID: p.ID, State: p.State, Part: p.Part, Percent: p.Percent})
			}
		},
	})
	if err != nil {
		return nil, err
	}
	return &Manager{Manager: jm, src: o.Sources}, nil
}

// Create starts a build and returns its id (128 random bits, hex). The
// build does not belong to ctx, which is the request's: it runs until done
// or until Close. While a build runs, Create returns that build's id rather
// than an error: a second click on "create" joins the build in progress,
// and there is never more than one build reading the logs and the store.
func (m *Manager) Create(ctx context.Context) (string, error) {
	src := m.src
	return m.Start(ctx, func(ctx context.Context, w io.Writer, progress func(string, int)) error {
		_, err := build(ctx, w, src, progress)
		return err
	}, true)
}
