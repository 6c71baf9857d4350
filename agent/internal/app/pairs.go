package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/lockstep-sync/lockstep/agent/internal/control"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// errNeedsAgent: the pair lifecycle reads the work systems, which only a
// running agent has open.
var errNeedsAgent = errors.New("the agent is not running: start it (the command reaches it over its local admin channel)")

// AdoptPairs runs pairs.adopt on the running agent of o's data dir.
func AdoptPairs(ctx context.Context, o Options, p apitype.PairsAdoptParams) (syncer.AdoptResult, error) {
	var res syncer.AdoptResult
	err := needAgent(ctx, o, "adopt", func(ctx context.Context, c *control.Client) error {
		out, err := control.Call(ctx, c, protocol.PairsAdopt, p)
		res = out.Result
		return err
	})
	return res, err
}

// UnpairPairs runs pairs.unpair on the running agent of o's data dir.
func UnpairPairs(ctx context.Context, o Options, p apitype.PairsUnpairParams) (int, error) {
	n := 0
	err := needAgent(ctx, o, "unpair", func(ctx context.Context, c *control.Client) error {
		out, err := control.Call(ctx, c, protocol.PairsUnpair, p)
		n = out.Count
		return err
	})
	return n, err
}

// Queue runs queue.list on the running agent of o's data dir.
func Queue(ctx context.Context, o Options, p apitype.QueueListParams) (syncer.QueueView, error) {
	var q syncer.QueueView
	err := needAgent(ctx, o, "queue", func(ctx context.Context, c *control.Client) error {
		out, err := control.Call(ctx, c, protocol.QueueList, p)
		q = out.Queue
		return err
	})
	return q, err
}

func needAgent(ctx context.Context, o Options, what string, fn func(context.Context, *control.Client) error) error {
	ran, err := onAgent(ctx, o, fn)
	if !ran && err == nil {
		return fmt.Errorf("%s: %w", what, errNeedsAgent)
	}
	return wrapRemote(what, err)
}
