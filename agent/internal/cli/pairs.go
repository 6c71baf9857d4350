package cli

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/app"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// runPairs is `pairs adopt` and `pairs unpair`, on a running agent.
func runPairs(args []string, stdio IO) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: pairs needs a subcommand: adopt or unpair", errUsage)
	}
	switch args[0] {
	case "adopt":
		return runAdopt(args[1:], stdio)
	case "unpair":
		return runUnpair(args[1:], stdio)
	}
	return fmt.Errorf("%w: pairs needs a subcommand: adopt or unpair, not %q", errUsage, args[0])
}

func runAdopt(args []string, stdio IO) error {
	var c common
	var p apitype.PairsAdoptParams
	var csvFile string
	var apply bool
	fs := newFlags("pairs adopt", stdio, &c)
	fs.StringVar(&p.Process, "process", "", "the sync process's id")
	fs.StringVar(&csvFile, "csv", "", `a CSV file of "<a key>,<b key>" lines`)
	fs.StringVar(&p.MatchA, "match-a", "", "or: the field of side A to match (e.g. title)")
	fs.StringVar(&p.MatchB, "match-b", "", "and the field of side B it must equal")
	fs.BoolVar(&apply, "apply", false, "adopt the matches (without it, a dry run lists what would be adopted)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if p.Process == "" {
		return fmt.Errorf("%w: pairs adopt needs --process", errUsage)
	}
	if csvFile != "" {
		data, err := os.ReadFile(csvFile)
		if err != nil {
			return fmt.Errorf("pairs adopt: %w", err)
		}
		p.CSV = string(data)
	}
	p.DryRun = !apply
	ctx, cancel := signalContext()
	defer cancel()
	res, err := app.AdoptPairs(ctx, c.options(stdio), p)
	if err != nil {
		return err
	}
	printAdoption(stdio, res)
	return nil
}

func printAdoption(stdio IO, res syncer.AdoptResult) {
	w := tabwriter.NewWriter(stdio.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "A\tB\tTITLE (A)")
	for _, m := range res.Matches {
		fmt.Fprintf(w, "%s\t%s\t%s\n", m.A.Key, m.B.Key, m.A.Title)
	}
	w.Flush()
	for _, a := range res.Ambiguous {
		fmt.Fprintf(stdio.Stdout, "ambiguous %q: A %s, B %s\n", a.Match, briefs(a.A), briefs(a.B))
	}
	for _, m := range res.AlreadyPaired {
		fmt.Fprintf(stdio.Stdout, "already paired: %s or %s\n", m.A.Key, m.B.Key)
	}
	for _, p := range res.Problems {
		fmt.Fprintln(stdio.Stdout, "problem:", p)
	}
	fmt.Fprintf(stdio.Stdout, "%d matches, %d ambiguous, %d unmatched in A, %d in B\n", len(res.Matches), len(res.Ambiguous), len(res.UnmatchedA), len(res.UnmatchedB))
	if res.DryRun {
		fmt.Fprintln(stdio.Stdout, "dry run: nothing was written; run again with --apply to adopt the matches")
	} else {
		fmt.Fprintf(stdio.Stdout, "%d pairs adopted\n", res.Adopted)
	}
}

func briefs(list []syncer.Brief) string {
	var out []string
	for _, b := range list {
		out = append(out, b.Key)
	}
	return strings.Join(out, " ")
}

func runUnpair(args []string, stdio IO) error {
	var c common
	var p apitype.PairsUnpairParams
	fs := newFlags("pairs unpair", stdio, &c)
	fs.StringVar(&p.Process, "process", "", "the sync process's id")
	if err := parse(fs, args); err != nil {
		return err
	}
	p.Pairs = fs.Args()
	if p.Process == "" || len(p.Pairs) == 0 {
		return fmt.Errorf("%w: pairs unpair needs --process and pair ids", errUsage)
	}
	ctx, cancel := signalContext()
	defer cancel()
	n, err := app.UnpairPairs(ctx, c.options(stdio), p)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdio.Stdout, "%d pairs unpaired: their entities are left out of sync until relinked\n", n)
	return nil
}

// runQueue is `queue`: what waits in a process's queue, and why.
func runQueue(args []string, stdio IO) error {
	var c common
	var p apitype.QueueListParams
	fs := newFlags("queue", stdio, &c)
	fs.StringVar(&p.Process, "process", "", "the sync process's id")
	fs.IntVar(&p.Limit, "limit", 50, "how many entries to show (oldest first, at most 500)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if p.Process == "" {
		return fmt.Errorf("%w: queue needs --process", errUsage)
	}
	ctx, cancel := signalContext()
	defer cancel()
	q, err := app.Queue(ctx, c.options(stdio), p)
	if err != nil {
		return err
	}
	oldest := "-"
	if !q.Oldest.IsZero() {
		oldest = q.Oldest.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(stdio.Stdout, "%d waiting, %d retrying, oldest since %s\n", q.Total, q.Retrying, oldest)
	w := tabwriter.NewWriter(stdio.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SIDE\tENTITY\tKEY\tWHY")
	for _, it := range q.Items {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", it.Side, it.Entity, it.Key, it.Reason)
	}
	return w.Flush()
}
