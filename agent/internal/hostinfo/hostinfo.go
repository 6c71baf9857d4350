// Package hostinfo takes a snapshot of the host and of the agent process for
// host.info and support packages (DESIGN.md, Host info), using gopsutil v4.
//
// Each fact comes from its own collector. A collector that fails or does
// not finish before the context's deadline leaves its fields zero and adds
// its error to the one Snapshot returns; the other fields are still filled.
package hostinfo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/host"
	"github.com/shirou/gopsutil/v4/mem"
	"github.com/shirou/gopsutil/v4/process"
)

// DefaultTimeout bounds a Snapshot whose context has no deadline: a statfs
// on a hung network mount or a stuck WMI query must not hang host.info.
const DefaultTimeout = 5 * time.Second

// Info is PROTOCOL.md's host.info result. Sizes are bytes.
type Info struct {
	OS              string  `json:"os"`              // runtime.GOOS: linux, windows
	Platform        string  `json:"platform"`        // distribution or product: ubuntu, Microsoft Windows Server 2022 Standard
	PlatformVersion string  `json:"platformVersion"` // 22.04, 10.0.20348 Build 20348
	Kernel          string  `json:"kernel"`          // kernel version
	Arch            string  `json:"arch"`            // the host's native architecture (uname -m), else the agent's GOARCH
	Hostname        string  `json:"hostname"`
	CPUModel        string  `json:"cpuModel"`
	CPUCores        int     `json:"cpuCores"`   // logical
	CPUPercent      float64 `json:"cpuPercent"` // whole host, 0-100, since the previous snapshot
	MemTotal        uint64  `json:"memTotal"`
	MemAvailable    uint64  `json:"memAvailable"`
	Threads         int     `json:"threads"`    // OS threads of the agent process
	Goroutines      int     `json:"goroutines"` // of the agent
	RSS             uint64  `json:"rss"`        // resident memory of the agent
	DiskFree        uint64  `json:"diskFree"`   // available to the agent on the data dir's filesystem
	UptimeSeconds   int64   `json:"uptimeSeconds"`
}

// Snapshot collects Info. dataDir selects the filesystem for DiskFree;
// startedAt is when the agent started (zero leaves UptimeSeconds zero).
//
// It returns within the context's deadline (DefaultTimeout if it has none):
// collectors still running then are abandoned, and each one that failed or
// was abandoned contributes an error, joined, to the error returned beside
// the partial Info. Info is usable whenever it is non-zero.
func Snapshot(ctx context.Context, dataDir string, startedAt time.Time) (Info, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	info := Info{OS: runtime.GOOS, Goroutines: runtime.NumGoroutine()}
	if !startedAt.IsZero() {
		info.UptimeSeconds = max(0, int64(time.Since(startedAt)/time.Second))
	}
	if err := ctx.Err(); err != nil {
		return info, fmt.Errorf("take host snapshot: %w", err)
	}
	collectors := []collector{
		{"platform", collectPlatform},
		{"kernel", collectKernel},
		{"arch", collectArch},
		{"hostname", collectHostname},
		{"cpu model", collectCPUModel},
		{"cpu cores", collectCPUCores},
		{"cpu percent", collectCPUPercent},
		{"memory", collectMemory},
		{"agent process", collectProcess},
		{"disk free", func(ctx context.Context) (func(*Info), error) { return collectDiskFree(ctx, dataDir) }},
	}
	err := collect(ctx, &info, collectors)
	return info, err
}

// collect runs the collectors concurrently until all have reported or ctx
// is done. Each reports a function that sets its fields, applied here, so an
// abandoned collector never writes to info; the channel has room for all of
// them, so a late one still finishes and exits.
func collect(ctx context.Context, info *Info, collectors []collector) error {
	type result struct {
		name string
		set  func(*Info)
		err  error
	}
	results := make(chan result, len(collectors))
	for _, c := range collectors {
		go func() {
			set, err := c.run(ctx)
			results <- result{c.name, set, err}
		}()
	}
	pending := make(map[string]bool, len(collectors))
	for _, c := range collectors {
		pending[c.name] = true
	}
	var errs []error
	for len(pending) > 0 {
		select {
		case r := <-results:
			delete(pending, r.name)
			if r.set != nil { // even with an error: it may carry part of the facts
				r.set(info)
			}
			if r.err != nil {
				errs = append(errs, fmt.Errorf("collect %s: %w", r.name, r.err))
			}
		case <-ctx.Done():
			for _, c := range collectors { // in a stable order
				if pending[c.name] {
					errs = append(errs, fmt.Errorf("collect %s: %w", c.name, ctx.Err()))
				}
			}
			return errors.Join(errs...)
		}
	}
	return errors.Join(errs...)
}

type collector struct {
	name string
	run  func(context.Context) (func(*Info), error)
}

func collectPlatform(ctx context.Context) (func(*Info), error) {
	platform, _, version, err := host.PlatformInformationWithContext(ctx)
	if err != nil {
		return nil, err
	}
	return func(i *Info) { i.Platform, i.PlatformVersion = platform, version }, nil
}

func collectKernel(ctx context.Context) (func(*Info), error) {
	v, err := host.KernelVersionWithContext(ctx)
	if err != nil {
		return nil, err
	}
	return func(i *Info) { i.Kernel = v }, nil
}

func collectArch(context.Context) (func(*Info), error) {
	arch, err := host.KernelArch()
	if err != nil || arch == "" {
		// The agent's own architecture is a fair answer and cannot fail.
		arch = runtime.GOARCH
	}
	return func(i *Info) { i.Arch = arch }, nil
}

func collectHostname(context.Context) (func(*Info), error) {
	name, err := os.Hostname()
	if err != nil {
		return nil, err
	}
	return func(i *Info) { i.Hostname = name }, nil
}

func collectCPUModel(ctx context.Context) (func(*Info), error) {
	infos, err := cpu.InfoWithContext(ctx)
	if err != nil {
		return nil, err
	}
	if len(infos) == 0 {
		return nil, errors.New("no processor reported")
	}
	return func(i *Info) { i.CPUModel = infos[0].ModelName }, nil
}

func collectCPUCores(ctx context.Context) (func(*Info), error) {
	n, err := cpu.CountsWithContext(ctx, true)
	if err != nil {
		return nil, err
	}
	return func(i *Info) { i.CPUCores = n }, nil
}

// minCPUWindow is the shortest interval a CPU percentage is measured over;
// a caller within it gets the previous value. Without it, two snapshots a
// moment apart (two dashboards polling) would report noise.
const minCPUWindow = time.Second

// lastCPU caches the last CPU percentage. gopsutil's interval-0 mode keeps
// the previous CPU times process-wide (first taken when the package loads),
// so this state is process-wide too.
var lastCPU struct {
	sync.Mutex
	at      time.Time
	percent float64
}

func collectCPUPercent(ctx context.Context) (func(*Info), error) {
	lastCPU.Lock()
	defer lastCPU.Unlock()
	if !lastCPU.at.IsZero() && time.Since(lastCPU.at) < minCPUWindow {
		p := lastCPU.percent
		return func(i *Info) { i.CPUPercent = p }, nil
	}
	// Interval 0 compares with the previous call instead of sleeping, so a
	// snapshot costs no wait.
	ps, err := cpu.PercentWithContext(ctx, 0, false)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, errors.New("no cpu percentage reported")
	}
	lastCPU.at, lastCPU.percent = time.Now(), ps[0]
	p := ps[0]
	return func(i *Info) { i.CPUPercent = p }, nil
}

func collectMemory(ctx context.Context) (func(*Info), error) {
	vm, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return nil, err
	}
	return func(i *Info) { i.MemTotal, i.MemAvailable = vm.Total, vm.Available }, nil
}

func collectProcess(ctx context.Context) (func(*Info), error) {
	p, err := process.NewProcessWithContext(ctx, int32(os.Getpid()))
	if err != nil {
		return nil, err
	}
	// Either fact is worth reporting without the other.
	var errs []error
	threads, err := p.NumThreadsWithContext(ctx)
	if err != nil {
		errs = append(errs, fmt.Errorf("count threads: %w", err))
	}
	var rss uint64
	if mi, err := p.MemoryInfoWithContext(ctx); err != nil {
		errs = append(errs, fmt.Errorf("read memory use: %w", err))
	} else if mi != nil {
		rss = mi.RSS
	}
	return func(i *Info) { i.Threads, i.RSS = int(threads), rss }, errors.Join(errs...)
}

func collectDiskFree(ctx context.Context, dir string) (func(*Info), error) {
	if dir == "" {
		return nil, errors.New("no data directory")
	}
	u, err := disk.UsageWithContext(ctx, dir)
	if err != nil {
		return nil, err
	}
	return func(i *Info) { i.DiskFree = u.Free }, nil
}
