package rpc

import (
	"context"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// processParam is the document of processes.create and processes.update:
// required, and typed (a value of the wrong type was named by its path,
// "process.types[0].a", when the params were decoded).
func processParam(p *apitype.Process) (apitype.Process, error) {
	if p == nil {
		return apitype.Process{}, protocol.Invalid("process", "process is required")
	}
	return *p, nil
}

// planBudget is how long processes.plan works before it stops and answers
// with what it planned (its last entry says it stopped): within the call's
// time, with room to answer.
const planBudget = callTimeout - 5*time.Second

func (s *Server) registerProcesses() {
	eng := func() *syncer.Engine { return s.deps.Engine }
	procs := func() *syncer.Processes { return s.deps.Engine.Processes() }
	views := func() *syncer.Views { return s.deps.Engine.Views() }
	Handle(s, protocol.ProcessesList, func(ctx context.Context, c *Call, _ apitype.Empty) (apitype.ProcessesListResult, error) {
		list, err := procs().List()
		if err != nil {
			return apitype.ProcessesListResult{}, err
		}
		counts, _ := views().PairCounts()
		errs, _ := views().Errors("")
		perProc := map[string]int{}
		for _, e := range errs {
			perProc[e.Process]++
		}
		var health map[string]apitype.Health
		if s.deps.Health != nil {
			if snap, err := s.deps.Health.Now(); err == nil {
				health = snap.Processes
			} else {
				s.deps.Log.Warn().Err(err).Msg("judge the processes' health")
			}
		}
		out := apitype.ProcessesListResult{Processes: []apitype.ProcessSummary{}}
		for _, p := range list {
			sum := apitype.ProcessSummary{Process: p, Pairs: counts[p.ID], Errors: perProc[p.ID]}
			if h, ok := health[p.ID]; ok {
				sum.Health = &h
			}
			if runs, _ := views().Runs(p.ID, 1); len(runs) == 1 {
				sum.LastRun = &runs[0]
			}
			out.Processes = append(out.Processes, sum)
		}
		return out, nil
	})
	Handle(s, protocol.ProcessesGet, func(ctx context.Context, c *Call, p apitype.IDParams) (apitype.ProcessResult, error) {
		proc, err := procs().Get(p.ID)
		return apitype.ProcessResult{Process: proc}, err
	})
	Handle(s, protocol.ProcessesCreate, func(ctx context.Context, c *Call, p apitype.ProcessParams) (apitype.ProcessResult, error) {
		proc, err := processParam(p.Process)
		if err != nil {
			return apitype.ProcessResult{}, err
		}
		created, err := procs().Create(ctx, c.Actor(), proc)
		return apitype.ProcessResult{Process: created}, err
	})
	Handle(s, protocol.ProcessesUpdate, func(ctx context.Context, c *Call, p apitype.ProcessParams) (apitype.ProcessResult, error) {
		proc, err := processParam(p.Process)
		if err != nil {
			return apitype.ProcessResult{}, err
		}
		updated, err := procs().Update(ctx, c.Actor(), proc)
		return apitype.ProcessResult{Process: updated}, err
	})
	Handle(s, protocol.ProcessesDelete, func(ctx context.Context, c *Call, p apitype.IDParams) (apitype.Empty, error) {
		return apitype.Empty{}, procs().Delete(c.Actor(), p.ID)
	})
	Handle(s, protocol.ProcessesActivate, func(ctx context.Context, c *Call, p apitype.IDParams) (apitype.ProcessResult, error) {
		proc, err := procs().SetActive(c.Actor(), p.ID, true)
		return apitype.ProcessResult{Process: proc}, err
	})
	Handle(s, protocol.ProcessesDeactivate, func(ctx context.Context, c *Call, p apitype.IDParams) (apitype.ProcessResult, error) {
		proc, err := procs().SetActive(c.Actor(), p.ID, false)
		return apitype.ProcessResult{Process: proc}, err
	})
	Handle(s, protocol.ProcessesRun, func(ctx context.Context, c *Call, p apitype.IDParams) (apitype.RunAccepted, error) {
		return apitype.RunAccepted{Accepted: true}, eng().RunAsync(p.ID)
	})
	Handle(s, protocol.ProcessesSyncEntity, func(ctx context.Context, c *Call, p apitype.SyncEntityParams) (apitype.RunResult, error) {
		if p.Entity == "" {
			return apitype.RunResult{}, protocol.Invalid("entity", "entity is required")
		}
		run, err := eng().SyncEntity(ctx, p.ID, p.Side, p.Entity)
		return apitype.RunResult{Run: run}, err
	})
	Handle(s, protocol.ProcessesPlan, func(ctx context.Context, c *Call, p apitype.IDParams) (apitype.PlanResult, error) {
		// A dry run of a large backlog can outlast the call: it stops in
		// time for its answer, what it planned so far, to reach a client
		// that waits as long as the call may take (the desktop does).
		ctx, cancel := context.WithTimeout(ctx, planBudget)
		defer cancel()
		items, err := eng().Plan(ctx, p.ID)
		if items == nil {
			items = []syncer.PlanItem{}
		}
		return apitype.PlanResult{Items: items}, err
	})
	Handle(s, protocol.ProcessesBulkSync, func(ctx context.Context, c *Call, p apitype.BulkSyncParams) (apitype.BulkJobResult, error) {
		if p.Since.IsZero() {
			return apitype.BulkJobResult{}, protocol.Invalid("since", "since is required")
		}
		job, err := eng().Bulk(p.ID, p.Since)
		return apitype.BulkJobResult{Job: job}, err
	})
	Handle(s, protocol.ProcessesBulkStatus, func(ctx context.Context, c *Call, p apitype.IDParams) (apitype.BulkJobResult, error) {
		job, err := eng().BulkStatus(p.ID)
		return apitype.BulkJobResult{Job: job}, err
	})
	Handle(s, protocol.ProcessesExport, func(ctx context.Context, c *Call, p apitype.ExportParams) (apitype.DocumentResult, error) {
		doc, err := procs().Export(p.IDs)
		return apitype.DocumentResult{Document: string(doc)}, err
	})
	Handle(s, protocol.ProcessesImport, func(ctx context.Context, c *Call, p apitype.ImportParams) (apitype.ImportResult, error) {
		res, err := procs().Import(ctx, c.Actor(), []byte(p.Document))
		return res, err
	})
	Handle(s, protocol.ProcessesResolve, func(ctx context.Context, c *Call, p apitype.ResolveParams) (apitype.Empty, error) {
		return apitype.Empty{}, eng().Resolve(c.Actor(), p.Process, p.Pair, string(p.Winner))
	})
	Handle(s, protocol.PairsList, func(ctx context.Context, c *Call, p apitype.PairsListParams) (apitype.PairsListResult, error) {
		if err := checkLimit(p.Limit, syncer.MaxListLimit, syncer.DefaultPairsLimit); err != nil {
			return apitype.PairsListResult{}, err
		}
		pairs, next, err := views().Pairs(p.Process, p.Query, p.Cursor, p.Limit)
		if pairs == nil {
			pairs = []syncer.PairView{}
		}
		return apitype.PairsListResult{Pairs: pairs, Cursor: next}, err
	})
	Handle(s, protocol.RunsList, func(ctx context.Context, c *Call, p apitype.RunsListParams) (apitype.RunsListResult, error) {
		if p.Process == "" {
			return apitype.RunsListResult{}, protocol.Invalid("process", "process is required")
		}
		if err := checkLimit(p.Limit, syncer.MaxListLimit, syncer.DefaultRunsLimit); err != nil {
			return apitype.RunsListResult{}, err
		}
		runs, err := views().Runs(p.Process, p.Limit)
		if runs == nil {
			runs = []syncer.Run{}
		}
		return apitype.RunsListResult{Runs: runs}, err
	})
	Handle(s, protocol.RunsGet, func(ctx context.Context, c *Call, p apitype.IDParams) (apitype.RunResult, error) {
		run, err := views().GetRun(p.ID)
		return apitype.RunResult{Run: run}, err
	})
	Handle(s, protocol.ErrorsList, func(ctx context.Context, c *Call, p apitype.ErrorsListParams) (apitype.ErrorsListResult, error) {
		list, err := views().Errors(p.Process)
		if list == nil {
			list = []syncer.ParkedError{}
		}
		return apitype.ErrorsListResult{Errors: list}, err
	})
	Handle(s, protocol.ErrorsRetry, func(ctx context.Context, c *Call, p apitype.ErrorsRetryParams) (apitype.ErrorsRetryResult, error) {
		if p.Process == "" {
			return apitype.ErrorsRetryResult{}, protocol.Invalid("process", "process is required")
		}
		n, err := eng().Retry(p.Process, p.Side, p.Entity)
		return apitype.ErrorsRetryResult{Retried: n}, err
	})
}

// checkLimit refuses a page size outside 0..max, naming the maximum: a
// client asking for more than an agent gives must hear so, not receive a
// shorter page it takes for the whole list.
func checkLimit(limit, max, def int) error {
	if limit < 0 || limit > max {
		return protocol.Invalid("limit", "limit must be between 1 and %d (omit it for %d)", max, def)
	}
	return nil
}
