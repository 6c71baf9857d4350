package syncer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
)

// decision is what an update will write, found by comparing each field
// pair with its base on both sides.
type decision struct {
	writes    map[Side]connector.Fields
	fields    map[Side][]mapping.FieldPair // the field pairs each side's writes carry
	conflicts []ConflictRecord
	held      []string // fields in conflict awaiting an administrator
	// needRead: an administrator's resolution needs a side not read yet.
	needRead bool
}

// update brings a pair's fields in line. Each field pair is compared with
// its base on both sides: a side whose hash moved changed. One changed side
// flows to the other (if the direction allows); both changed is a conflict,
// settled by the process's policy and recorded in the run. A held field
// waits for an administrator; the pair's other fields, comments and
// attachments go on syncing.
//
// The peer is what this run's poll read of it; else, when trust is set,
// its connector guards versions and nothing of the peer is pending, it is
// taken to be as last synced (its base) and written with If-Match of the
// last-synced version. A refused write means that side changed: it is read
// and the update decided again, so a change is never overwritten unseen.
// Every write that lands is recorded as the new base at once, so a later
// write of the same update being refused never makes Lockstep take its own
// write for a person's change.
func (c *cycle) update(ctx context.Context, pair *Pair, tp mapping.TypePair, s Side, src connector.Entity, trust bool) error {
	t := s.Other()
	ent := map[Side]connector.Entity{s: src}
	known := map[Side]bool{s: true}
	peerPolled := false
	for try := 0; try < 4; try++ {
		polled, stop, err := c.readSides(ctx, pair, s, ent, known, trust)
		if stop || err != nil {
			return err
		}
		peerPolled = peerPolled || polled
		d, err := decideFields(c.p, pair, tp, ent, known)
		if err != nil {
			return err
		}
		if d.needRead {
			trust = false
			continue
		}
		refused, err := c.applyFields(ctx, pair, tp, s, src, d, ent, known)
		if err != nil || pair.State == PairDeleted {
			return err
		}
		if refused != "" {
			// That side changed since it was read or last synced: read it
			// and decide again with both sides' values.
			delete(c.fresh, freshKey(refused, pair.Ref(refused).ID))
			known[refused], trust = false, false
			continue
		}
		if err := c.settleFields(pair, tp, d, ent, known); err != nil {
			return err
		}
		if peerPolled {
			// The peer's own queued change was worked here with this one.
			if c.handled == nil {
				c.handled = map[string]bool{}
			}
			c.handled[freshKey(t, pair.Ref(t).ID)] = true
		}
		return nil
	}
	return fmt.Errorf("update %s: it kept changing while being written: %w", src.Key, connector.ErrConflict)
}

// readSides reads each side of pair the update does not know yet (ent and
// known hold what it knows): as this run's poll read it, else from its
// system, unless trust lets the peer's base stand for its values. polled
// says the peer was known from the poll. A side found deleted is handled
// by the deletion policy, and the update stops.
func (c *cycle) readSides(ctx context.Context, pair *Pair, s Side, ent map[Side]connector.Entity, known map[Side]bool, trust bool) (polled, stop bool, err error) {
	t := s.Other()
	for _, side := range []Side{s, t} {
		if known[side] {
			continue
		}
		if e, ok := c.fresh[freshKey(side, pair.Ref(side).ID)]; ok && len(e.Fields) > 0 {
			ent[side], known[side] = e, true
			polled = polled || side == t
			continue
		}
		// A held pair's sides differ from its base: never trusted.
		if side == t && trust && c.trustsBases() && c.guarded(t) && pair.State != PairHeld {
			if _, ok := c.currentVersion(t, pair); ok {
				continue // trusted: its base stands for its values
			}
		}
		e, err := c.con[side].Get(ctx, connector.Ref{ID: pair.Ref(side).ID})
		if errors.Is(err, connector.ErrNotFound) {
			return polled, true, c.gone(ctx, pair, side)
		}
		if err != nil {
			return polled, true, fmt.Errorf("read %s: %w", pair.Ref(side).Key, err)
		}
		ent[side], known[side] = e, true
	}
	return polled, false, nil
}

// settleFields records an update that landed: its conflicts in the run,
// and on the pair the new base of each field, each side as read or as the
// write returned it, and what is held.
func (c *cycle) settleFields(pair *Pair, tp mapping.TypePair, d decision, ent map[Side]connector.Entity, known map[Side]bool) error {
	c.record(pair, d)
	// The new base is what each side holds now, as read or as the write
	// returned it: the next read of our own write is not a change. A side
	// not read keeps its base and its record; a held field keeps its base
	// until it is resolved.
	for _, fp := range tp.Fields {
		if k := fieldKey(fp); !slices.Contains(d.held, k) {
			pair.Fields[k] = Base{A: hashOf(pair, ent, known, SideA, fp), B: hashOf(pair, ent, known, SideB, fp)}
		}
	}
	for _, side := range []Side{SideA, SideB} {
		if known[side] {
			extras := pair.Ref(side).Extras
			*pair.Ref(side) = refOf(ent[side])
			pair.Ref(side).Extras = extras
		}
	}
	pair.Held, pair.Resolve, pair.Error, pair.LastSyncedAt = d.held, nil, "", c.now().UTC()
	pair.State = PairSynced
	if len(d.held) > 0 {
		pair.State = PairHeld
	}
	return c.savePair(pair)
}

// hashOf is the hash of side's value of a field pair: as read, or its
// base when the side was not read.
func hashOf(pair *Pair, ent map[Side]connector.Entity, known map[Side]bool, side Side, fp mapping.FieldPair) string {
	if !known[side] {
		if side == SideA {
			return pair.Fields[fieldKey(fp)].A
		}
		return pair.Fields[fieldKey(fp)].B
	}
	return mapping.Hash(ent[side].Fields[fieldOf(fp, side)])
}

// decideFields compares every field pair with its base. It reads nothing
// and writes nothing: what p says (users, the conflict policy), the pair's
// bases and what is known of each side decide.
func decideFields(p *Process, pair *Pair, tp mapping.TypePair, ent map[Side]connector.Entity, known map[Side]bool) (decision, error) {
	d := decision{writes: map[Side]connector.Fields{SideA: {}, SideB: {}}, fields: map[Side][]mapping.FieldPair{}}
	mapped := map[Side]connector.Fields{} // values to write into each side
	for _, from := range []Side{SideA, SideB} {
		if !known[from] {
			continue // unchanged: nothing flows from it
		}
		f, ferrs := mapping.Apply(tp, dirOf(from), ent[from], p.Users)
		if len(ferrs) > 0 {
			return d, fmt.Errorf("map %s: %s: %w", ent[from].Key, ferrs[0].Error(), ErrPermanent)
		}
		mapped[from.Other()] = f
	}
	write := func(to Side, fp mapping.FieldPair) {
		f := fieldOf(fp, to)
		d.writes[to][f] = mapped[to][f]
		d.fields[to] = append(d.fields[to], fp)
	}
	for _, fp := range tp.Fields {
		k := fieldKey(fp)
		base := pair.Fields[k]
		hA, hB := hashOf(pair, ent, known, SideA, fp), hashOf(pair, ent, known, SideB, fp)
		changedA, changedB := hA != base.A, hB != base.B
		held := slices.Contains(pair.Held, k)
		if w, ok := pair.Resolve[k]; ok {
			if !known[w] {
				d.needRead = true // the chosen value must be read
				return d, nil
			}
			changedA, changedB, held = w == SideA, w == SideB, false
		}
		switch {
		case !changedA && !changedB:
			if held {
				d.held = append(d.held, k)
			}
		case changedA && changedB:
			if mapping.Hash(mapped[SideB][fp.B]) == hB {
				continue // both sides changed to the same value
			}
			if held {
				d.held = append(d.held, k) // recorded when it was first held
				continue
			}
			rec := ConflictRecord{Pair: pair.ID, Field: k, AVersion: ent[SideA].Version, BVersion: ent[SideB].Version}
			switch p.Options.Conflict {
			case ConflictAWins:
				rec.Winner = "a"
				if flows(fp, SideA) {
					write(SideB, fp)
				}
			case ConflictBWins:
				rec.Winner = "b"
				if flows(fp, SideB) {
					write(SideA, fp)
				}
			default:
				rec.Winner = "held"
				d.held = append(d.held, k)
			}
			d.conflicts = append(d.conflicts, rec)
		case changedA && flows(fp, SideA):
			write(SideB, fp)
		case changedB && flows(fp, SideB):
			write(SideA, fp)
		}
	}
	return d, nil
}

// applyFields applies the decision: a field held is listed, and each
// side's writes are sent one side at a time, each write that lands
// recorded at once. It returns the side whose write was refused as changed
// since read, if one was.
func (c *cycle) applyFields(ctx context.Context, pair *Pair, tp mapping.TypePair, s Side, src connector.Entity, d decision, ent map[Side]connector.Entity, known map[Side]bool) (Side, error) {
	if len(d.held) > 0 {
		// Recorded on the pair with the rest below; a plan lists it.
		if _, err := c.apply(ctx, write{entry: PlanItem{Action: "hold", Side: s, Entity: src.ID, Key: src.Key, Title: src.Title, Detail: strings.Join(d.held, ", ")}}); err != nil {
			return "", err
		}
	}
	for _, side := range []Side{SideA, SideB} {
		if len(d.writes[side]) == 0 {
			continue
		}
		ref := pair.Ref(side)
		version := ref.Version
		if known[side] {
			version = ent[side].Version
		}
		var updated connector.Entity
		var unmapped error
		sent, err := c.apply(ctx, write{
			entry: PlanItem{Action: "update", Side: side, Entity: ref.ID, Key: ref.Key, Title: ref.Title, Detail: strings.Join(keysOf(d.writes[side]), ", ")},
			send: func(ctx context.Context) (err error) {
				values, err := c.coerce(ctx, side, d.writes[side])
				if err != nil {
					unmapped = fmt.Errorf("map into %s: %w", ref.Key, err)
					return unmapped
				}
				updated, err = c.con[side].Update(ctx, connector.Ref{ID: ref.ID, Key: ref.Key}, values, version)
				return err
			},
		})
		switch {
		case !sent:
			if err != nil {
				return "", err
			}
			continue // planned
		case unmapped != nil:
			return "", unmapped
		case errors.Is(err, connector.ErrConflict):
			return side, nil
		case errors.Is(err, connector.ErrNotFound):
			return "", c.gone(ctx, pair, side)
		case err != nil:
			return "", fmt.Errorf("update %s: %w", ref.Key, err)
		}
		// Fields are not extras: when the extras were in sync at the version
		// written over (If-Match held it), they still are.
		extras := ""
		if c.guarded(side) && version != "" && ref.Extras == c.extrasMark(tp, version) {
			extras = c.extrasMark(tp, updated.Version)
		}
		ent[side], known[side] = updated, true
		*ref = refOf(updated)
		ref.Extras = extras
		delete(c.fresh, freshKey(side, updated.ID)) // what the poll read is stale now
		// What landed is synced now, whatever happens to the next write.
		for _, fp := range d.fields[side] {
			pair.Fields[fieldKey(fp)] = Base{A: hashOf(pair, ent, known, SideA, fp), B: hashOf(pair, ent, known, SideB, fp)}
		}
		if err := c.savePair(pair); err != nil {
			return "", err
		}
		c.run.Counts.Updated++
		c.log.Info().Str("system", c.p.End(side).System).Str("entity_id", updated.ID).Str("entity_key", updated.Key).
			Str("entity_title", updated.Title).Strs("fields", keysOf(d.writes[side])).Msg("updated entity")
	}
	return "", nil
}

// record adds a decision's conflicts to the run: never silent.
func (c *cycle) record(pair *Pair, d decision) {
	for _, rec := range d.conflicts {
		c.run.Counts.Conflicts++
		c.run.Conflicts = append(c.run.Conflicts, rec)
		c.log.Warn().Str("pair", pair.ID).Str("field", rec.Field).Str("winner", rec.Winner).
			Str("a_version", rec.AVersion).Str("b_version", rec.BVersion).Msg("conflict: both sides changed the field")
	}
}

func keysOf(f connector.Fields) []string {
	out := make([]string, 0, len(f))
	for k := range f {
		out = append(out, k)
	}
	return out
}
