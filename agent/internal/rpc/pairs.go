package rpc

import (
	"context"

	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// registerPairs declares the pair lifecycle: look, resolve, unpair, relink,
// recreate, apply a deletion policy, adopt; and a process's queue.
func (s *Server) registerPairs() {
	eng := func() *syncer.Engine { return s.deps.Engine }
	views := func() *syncer.Views { return s.deps.Engine.Views() }
	need := func(field, v string) error {
		if v == "" {
			return protocol.Invalid(field, "%s is required", field)
		}
		return nil
	}
	pairRef := func(p apitype.PairGetParams) error {
		if err := need("process", p.Process); err != nil {
			return err
		}
		return need("id", p.ID)
	}
	Handle(s, protocol.PairsGet, func(ctx context.Context, c *Call, p apitype.PairGetParams) (apitype.PairResult, error) {
		if err := pairRef(p); err != nil {
			return apitype.PairResult{}, err
		}
		v, err := views().PairDetail(p.Process, p.ID)
		return apitype.PairResult{Pair: v}, err
	})
	Handle(s, protocol.PairsValues, func(ctx context.Context, c *Call, p apitype.PairGetParams) (apitype.PairValuesResult, error) {
		if err := pairRef(p); err != nil {
			return apitype.PairValuesResult{}, err
		}
		vals, err := eng().PairValues(ctx, p.Process, p.ID)
		if vals == nil {
			vals = []syncer.FieldValues{}
		}
		return apitype.PairValuesResult{Fields: vals}, err
	})
	Handle(s, protocol.PairsResolve, func(ctx context.Context, c *Call, p apitype.PairsResolveParams) (apitype.Empty, error) {
		if err := pairRef(apitype.PairGetParams{Process: p.Process, ID: p.ID}); err != nil {
			return apitype.Empty{}, err
		}
		return apitype.Empty{}, eng().ResolveFields(c.Actor(), p.Process, p.ID, p.Fields)
	})
	Handle(s, protocol.PairsUnpair, func(ctx context.Context, c *Call, p apitype.PairsUnpairParams) (apitype.CountResult, error) {
		if err := need("process", p.Process); err != nil {
			return apitype.CountResult{}, err
		}
		if len(p.Pairs) > 1000 {
			return apitype.CountResult{}, protocol.Invalid("pairs", "at most 1000 pairs at once")
		}
		n, err := eng().Unpair(c.Actor(), p.Process, p.Pairs)
		return apitype.CountResult{Count: n}, err
	})
	Handle(s, protocol.PairsRelink, func(ctx context.Context, c *Call, p apitype.PairsRelinkParams) (apitype.PairsRelinkResult, error) {
		if err := need("process", p.Process); err != nil {
			return apitype.PairsRelinkResult{}, err
		}
		v, excluded, err := eng().Relink(ctx, c.Actor(), p.Process, p.A, p.B)
		if excluded == nil {
			excluded = []string{}
		}
		return apitype.PairsRelinkResult{Pair: v, Excluded: excluded}, err
	})
	Handle(s, protocol.PairsRecreate, func(ctx context.Context, c *Call, p apitype.PairGetParams) (apitype.Empty, error) {
		if err := pairRef(p); err != nil {
			return apitype.Empty{}, err
		}
		return apitype.Empty{}, eng().Recreate(c.Actor(), p.Process, p.ID)
	})
	Handle(s, protocol.PairsApplyDeletion, func(ctx context.Context, c *Call, p apitype.PairsApplyDeletionParams) (apitype.Empty, error) {
		if err := pairRef(apitype.PairGetParams{Process: p.Process, ID: p.ID}); err != nil {
			return apitype.Empty{}, err
		}
		return apitype.Empty{}, eng().ApplyDeletion(ctx, c.Actor(), p.Process, p.ID, p.Action)
	})
	Handle(s, protocol.PairsAdopt, func(ctx context.Context, c *Call, p apitype.PairsAdoptParams) (apitype.PairsAdoptResult, error) {
		if err := need("process", p.Process); err != nil {
			return apitype.PairsAdoptResult{}, err
		}
		res, err := eng().Adopt(ctx, c.Actor(), p.Process, syncer.AdoptRequest{CSV: p.CSV, MatchA: p.MatchA, MatchB: p.MatchB, DryRun: p.DryRun})
		return apitype.PairsAdoptResult{Result: res}, err
	})
	Handle(s, protocol.QueueList, func(ctx context.Context, c *Call, p apitype.QueueListParams) (apitype.QueueListResult, error) {
		if err := need("process", p.Process); err != nil {
			return apitype.QueueListResult{}, err
		}
		q, err := views().Queue(p.Process, p.Limit)
		return apitype.QueueListResult{Queue: q}, err
	})
}
