package syncer

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// The pair lifecycle belongs to the administrator: look at a pair and its
// pending work, read both sides' current values of held fields, resolve
// them field by field, unpair, relink, recreate a deleted peer, apply a
// deletion policy, and adopt pairs that already exist on both sides. Every
// change is audited with its actor.

// The pair views (shared/apitype).
type (
	// Pending is an entity of a pair waiting in the queue.
	Pending = apitype.Pending
	// PairView is a pair with its pending work and its state in words.
	PairView = apitype.PairView
	// FieldValues are both sides' current values of one field pair.
	FieldValues = apitype.FieldValues
	// Brief names an entity in an adoption's answer.
	Brief = apitype.Brief
	// AdoptMatch is one pair found.
	AdoptMatch = apitype.AdoptMatch
	// AdoptAmbiguity is a value (or key) matching more than one entity.
	AdoptAmbiguity = apitype.AdoptAmbiguity
	// AdoptResult says what an adoption found and did.
	AdoptResult = apitype.AdoptResult
	// QueueEntry is one entity waiting to be worked.
	QueueEntry = apitype.QueueEntry
	// QueueView is a process's queue.
	QueueView = apitype.QueueView
)

// PairValues reads both entities of a pair now and returns every mapped
// field's values. They go to the administrator who asked and nowhere else:
// never stored, never logged.
func (e *Engine) PairValues(ctx context.Context, proc, id string) ([]FieldValues, error) {
	p, err := e.procs.Get(proc)
	if err != nil {
		return nil, err
	}
	pair, err := e.views.PairDetail(proc, id)
	if err != nil {
		return nil, err
	}
	ent := map[Side]connector.Entity{}
	for _, s := range []Side{SideA, SideB} {
		con, err := e.open(p.End(s).System)
		if err != nil {
			return nil, fmt.Errorf("open system %s: %w", p.End(s).System, err)
		}
		if ent[s], err = con.Get(ctx, connector.Ref{ID: pair.Ref(s).ID, Key: pair.Ref(s).Key}); err != nil {
			return nil, fmt.Errorf("read %s: %w", pair.Ref(s).Key, err)
		}
	}
	tp, ok := p.TypePairOf(SideA, ent[SideA].Type)
	if !ok {
		return nil, fmt.Errorf("%s is of type %q, which the process does not sync: %w", pair.A.Key, ent[SideA].Type, ErrPermanent)
	}
	inB, _ := mapping.Apply(tp, mapping.AtoB, ent[SideA], p.Users)
	inA, _ := mapping.Apply(tp, mapping.BtoA, ent[SideB], p.Users)
	held := map[string]bool{}
	for _, k := range pair.Held {
		held[k] = true
	}
	var out []FieldValues
	for _, fp := range tp.Fields {
		out = append(out, FieldValues{Field: fieldKey(fp), A: ent[SideA].Fields[fp.A], B: ent[SideB].Fields[fp.B],
			InB: inB[fp.B], InA: inA[fp.A], Held: held[fieldKey(fp)],
			Same: mapping.Hash(inB[fp.B]) == mapping.Hash(ent[SideB].Fields[fp.B])})
	}
	return out, nil
}

// ResolveFields settles held fields one by one: each named field takes the
// named side's value on the next run. The resolution is audited.
func (e *Engine) ResolveFields(actor, proc, id string, choice map[string]Side) error {
	if len(choice) == 0 {
		return &ValidationError{Errors: []FieldError{{Field: "fields", Message: "name at least one held field and the side that wins it"}}}
	}
	for f, s := range choice {
		if s != SideA && s != SideB {
			return &ValidationError{Errors: []FieldError{{Field: "fields." + f, Message: "must be a or b"}}}
		}
	}
	// A worker working the pair writes back the pair it read when its
	// item settles, which would drop the resolution: it is made once no
	// worker has the pair in hand.
	defer e.holdPair(id)()
	err := e.d.Store.Update(func(tx *store.Tx) error {
		var p Pair
		if err := tx.Get(keyPair(proc, id), &p); err != nil {
			return fmt.Errorf("pair %s: %w", id, ErrNotFound)
		}
		held := map[string]bool{}
		for _, k := range p.Held {
			held[k] = true
		}
		for f := range choice {
			if !held[f] {
				return &ValidationError{Errors: []FieldError{{Field: "fields." + f, Message: "is not held on this pair (held: " + strings.Join(p.Held, ", ") + ")"}}}
			}
		}
		if p.Resolve == nil {
			p.Resolve = map[string]Side{}
		}
		var rest []string
		for _, k := range p.Held {
			if s, ok := choice[k]; ok {
				p.Resolve[k] = s
			} else {
				rest = append(rest, k)
			}
		}
		// The state stays held until a run writes the chosen values; the
		// fields not chosen yet stay held after it.
		if err := putPairRecordTx(tx, &p); err != nil {
			return err
		}
		var side Side = SideA
		for _, s := range choice {
			side = s
		}
		if err := wakeTx(tx, proc, QueueItem{Side: side, Entity: p.Ref(side).ID}, e.d.Now()); err != nil {
			return err
		}
		return e.auditPair(tx, actor, "pairs.resolve", p, map[string]any{"resolved": choice, "stillHeld": rest})
	})
	if err == nil {
		// Other open views of the pair learn of the choice now, not at the
		// run that writes it.
		e.pairChanged(proc, id, "resolved")
	}
	return err
}

// Resolve settles every held field of a pair for one side.
func (e *Engine) Resolve(actor, proc, pairID, winner string) error {
	if winner != "a" && winner != "b" {
		return &ValidationError{Errors: []FieldError{{Field: "winner", Message: "must be a or b"}}}
	}
	p, err := e.views.PairDetail(proc, pairID)
	if err != nil {
		return err
	}
	choice := map[string]Side{}
	for _, k := range p.Held {
		choice[k] = Side(winner)
	}
	if len(choice) == 0 {
		return &ValidationError{Errors: []FieldError{{Field: "pair", Message: "has no held fields"}}}
	}
	return e.ResolveFields(actor, proc, pairID, choice)
}

func (e *Engine) auditPair(tx *store.Tx, actor, action string, p Pair, diff any) error {
	if e.d.Audit == nil {
		return nil
	}
	_, err := e.d.Audit.AppendTx(tx, audit.Entry{Actor: actor, Action: action,
		Target: fmt.Sprintf("pair:%s (%s <-> %s) of process:%s", p.ID, keyOrID(p.A), keyOrID(p.B), p.Process), Result: audit.Success, Diff: diff})
	return err
}

// Unpair stops syncing pairs: each pair is removed and both of its
// entities are excluded, so neither is synced, adopted by its marker or
// copied again until an administrator relinks it.
func (e *Engine) Unpair(actor, proc string, ids []string) (int, error) {
	if len(ids) == 0 {
		return 0, &ValidationError{Errors: []FieldError{{Field: "pairs", Message: "name at least one pair"}}}
	}
	n := 0
	err := e.d.Store.Update(func(tx *store.Tx) error {
		n = 0
		for _, id := range ids {
			var p Pair
			if err := tx.Get(keyPair(proc, id), &p); err != nil {
				return fmt.Errorf("pair %s: %w", id, ErrNotFound)
			}
			if err := e.unpairTx(tx, actor, p); err != nil {
				return err
			}
			if err := e.auditPair(tx, actor, "pairs.unpair", p, nil); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err == nil {
		for _, id := range ids {
			e.pairChanged(proc, id, "unpaired")
		}
	}
	return n, err
}

// unpairTx removes a pair and excludes both of its entities.
func (e *Engine) unpairTx(tx *store.Tx, actor string, p Pair) error {
	if err := deletePairTx(tx, &p); err != nil {
		return err
	}
	now := e.d.Now().UTC()
	for _, s := range []Side{SideA, SideB} {
		id := p.Ref(s).ID
		for _, k := range []string{keyQueue(p.Process, s, id), keyParked(p.Process, s, id)} {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		if err := tx.Put(keyExcluded(p.Process, s, id), Exclusion{Actor: actor, At: now, Peer: p.Ref(s.Other()).ID}); err != nil {
			return err
		}
	}
	return nil
}

// Recreate is the way out of a pair whose entity was deleted: the pair goes,
// and the survivor is queued to have a new peer made on the next run.
func (e *Engine) Recreate(actor, proc, id string) error {
	err := e.d.Store.Update(func(tx *store.Tx) error {
		var p Pair
		if err := tx.Get(keyPair(proc, id), &p); err != nil {
			return fmt.Errorf("pair %s: %w", id, ErrNotFound)
		}
		if p.State != PairDeleted || p.Gone == "" {
			return &ValidationError{Errors: []FieldError{{Field: "pair", Message: "neither of its entities was deleted: only a deleted one can be recreated"}}}
		}
		if err := deletePairTx(tx, &p); err != nil {
			return err
		}
		survivor := p.Gone.Other()
		if err := tx.Delete(keyExcluded(proc, survivor, p.Ref(survivor).ID)); err != nil {
			return err
		}
		// Forget the deleted entity's marker, or the survivor would find
		// it again and take the deletion for its answer.
		if err := forgetMarkerTx(tx, proc, p.Gone, p.Ref(p.Gone).ID); err != nil {
			return err
		}
		if err := wakeTx(tx, proc, QueueItem{Side: survivor, Entity: p.Ref(survivor).ID}, e.d.Now()); err != nil {
			return err
		}
		return e.auditPair(tx, actor, "pairs.recreate", p, map[string]any{"recreate": keyOrID(*p.Ref(p.Gone))})
	})
	if err == nil {
		e.pairChanged(proc, id, "recreate")
		e.Trigger(proc, "recreate")
	}
	return err
}

// ApplyDeletion applies a deletion policy now to a pair whose entity was
// deleted (mirror deletes the survivor, mark marks it; ignore leaves it).
func (e *Engine) ApplyDeletion(ctx context.Context, actor, proc, id string, action DeleteAction) error {
	switch action {
	case DeleteIgnore, DeleteMirror, DeleteMark:
	default:
		return &ValidationError{Errors: []FieldError{{Field: "action", Message: "must be ignore, mirror or mark"}}}
	}
	p, err := e.procs.Get(proc)
	if err != nil {
		return err
	}
	pair, err := e.views.PairDetail(proc, id)
	if err != nil {
		return err
	}
	if pair.State != PairDeleted || pair.Gone == "" {
		return &ValidationError{Errors: []FieldError{{Field: "pair", Message: "neither of its entities was deleted"}}}
	}
	if action == DeleteMark {
		if pol := p.OnDelete(pair.Gone); pol.Action != DeleteMark {
			return &ValidationError{Errors: []FieldError{{Field: "action", Message: "mark needs the process's deletion policy for that side to say what to set (options.deletes)"}}}
		}
	}
	defer e.lockRuns(proc)()
	pol := p.OnDelete(pair.Gone)
	pol.Action = action
	if pair.Gone == SideA {
		p.Options.Deletes.A = pol
	} else {
		p.Options.Deletes.B = pol
	}
	c := &cycle{e: e, p: &p, con: map[Side]connector.Connector{}, schemas: &schemaCache{}}
	c.log = e.d.Log.With().Str("process", p.ID).Str("run", "applyDeletion").Logger()
	for _, s := range []Side{SideA, SideB} {
		if c.con[s], err = e.open(p.End(s).System); err != nil {
			return fmt.Errorf("open system %s: %w", p.End(s).System, err)
		}
	}
	p2 := pair.Pair
	p2.State = PairSynced // gone() acts only on a pair not yet deleted
	if err := c.gone(ctx, &p2, pair.Gone); err != nil {
		if ferr := c.flushPairs(); ferr != nil {
			return errors.Join(err, ferr)
		}
		return err
	}
	return c.commit(func(tx *store.Tx) error {
		return e.auditPair(tx, actor, "pairs.applyDeletion", pair.Pair, map[string]any{"action": action})
	})
}

// Relink pairs entity a (of side A) with entity b (of side B), each named
// by id or key. Pairs either had are removed; the entities they paired
// with are excluded (and named in the answer) so nothing is copied again
// behind the administrator's back. The new pair takes both as they are:
// later changes flow.
func (e *Engine) Relink(ctx context.Context, actor, proc, a, b string) (PairView, []string, error) {
	p, err := e.procs.Get(proc)
	if err != nil {
		return PairView{}, nil, err
	}
	ent := map[Side]connector.Entity{}
	for _, x := range []struct {
		s   Side
		ref string
	}{{SideA, a}, {SideB, b}} {
		if strings.TrimSpace(x.ref) == "" {
			return PairView{}, nil, &ValidationError{Errors: []FieldError{{Field: string(x.s), Message: "is required: an id or key of side " + string(x.s)}}}
		}
		con, err := e.open(p.End(x.s).System)
		if err != nil {
			return PairView{}, nil, fmt.Errorf("open system %s: %w", p.End(x.s).System, err)
		}
		got, err := readRef(ctx, con, x.ref)
		if errors.Is(err, connector.ErrNotFound) {
			return PairView{}, nil, &ValidationError{Errors: []FieldError{{Field: string(x.s), Message: fmt.Sprintf("no entity %q in side %s", x.ref, x.s)}}}
		}
		if err != nil {
			return PairView{}, nil, fmt.Errorf("read %s: %w", x.ref, err)
		}
		ent[x.s] = got
	}
	tp, ok := p.TypePairOf(SideA, ent[SideA].Type)
	if tp2, ok2 := p.TypePairOf(SideB, ent[SideB].Type); !ok || !ok2 || tp.A != tp2.A || tp.B != tp2.B {
		return PairView{}, nil, &ValidationError{Errors: []FieldError{{Field: "b", Message: fmt.Sprintf("types %s and %s are not a type pair of the process", ent[SideA].Type, ent[SideB].Type)}}}
	}
	var orphans []string
	np := newPair(proc, ent[SideA], ent[SideB], tp, e.d.Now().UTC())
	err = e.d.Store.Update(func(tx *store.Tx) error {
		orphans = nil
		for _, s := range []Side{SideA, SideB} {
			old, err := pairInTx(tx, proc, s, ent[s].ID)
			if err != nil {
				return err
			}
			if old == nil {
				continue
			}
			if err := deletePairTx(tx, old); err != nil {
				return err
			}
			o := s.Other()
			if other := old.Ref(o); other.ID != ent[o].ID {
				if err := tx.Put(keyExcluded(proc, o, other.ID), Exclusion{Actor: actor, At: e.d.Now().UTC(), Peer: ent[s].ID}); err != nil {
					return err
				}
				orphans = append(orphans, keyOrID(*other))
			}
		}
		for _, s := range []Side{SideA, SideB} {
			if err := tx.Delete(keyExcluded(proc, s, ent[s].ID)); err != nil {
				return err
			}
		}
		if err := e.registerTx(tx, np); err != nil {
			return err
		}
		return e.auditPair(tx, actor, "pairs.relink", *np, map[string]any{"excluded": orphans})
	})
	if err != nil {
		return PairView{}, nil, err
	}
	e.pairChanged(proc, np.ID, "relinked")
	v, err := e.views.PairDetail(proc, np.ID)
	return v, orphans, err
}

// readRef reads an entity by id, else by key.
func readRef(ctx context.Context, con connector.Connector, ref string) (connector.Entity, error) {
	got, err := con.Get(ctx, connector.Ref{ID: ref})
	if errors.Is(err, connector.ErrNotFound) || errors.Is(err, connector.ErrInvalid) {
		got, err = con.Get(ctx, connector.Ref{Key: ref})
	}
	return got, err
}

// newPair is a pair of two existing entities taken as they are: in sync.
func newPair(proc string, a, b connector.Entity, tp mapping.TypePair, now time.Time) *Pair {
	p := &Pair{ID: newID(), Process: proc, State: PairSynced, A: refOf(a), B: refOf(b), Fields: map[string]Base{}, CreatedAt: now, LastSyncedAt: now}
	for _, fp := range tp.Fields {
		p.Fields[fieldKey(fp)] = Base{A: mapping.Hash(a.Fields[fp.A]), B: mapping.Hash(b.Fields[fp.B])}
	}
	return p
}

// pairInTx is pairOf inside a transaction.
func pairInTx(tx *store.Tx, proc string, s Side, entity string) (*Pair, error) {
	id, err := tx.GetRaw(keyIndex(proc, s, entity))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p Pair
	if err := tx.Get(keyPair(proc, string(id)), &p); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	return &p, nil
}

// AdoptRequest says how to find pairs that already exist on both sides:
// a CSV of key pairs (one "<a key>,<b key>" per line), or a field of each
// side whose values match (MatchA, MatchB, e.g. title and title).
type AdoptRequest struct {
	CSV    string `json:"csv,omitempty"`
	MatchA string `json:"matchA,omitempty"`
	MatchB string `json:"matchB,omitempty"`
	DryRun bool   `json:"dryRun"`
}

func briefOf(e connector.Entity) Brief { return Brief{ID: e.ID, Key: e.Key, Title: e.Title} }

// maxAdoptScan bounds the entities an adoption reads per side.
const maxAdoptScan = 200000

// Adopt links entities that already exist on both sides. A dry run lists
// the matches, the ambiguities and what is unmatched, and writes nothing;
// otherwise every unambiguous match becomes a pair (taken as in sync) and
// the adoption is audited.
func (e *Engine) Adopt(ctx context.Context, actor, proc string, req AdoptRequest) (AdoptResult, error) {
	res := AdoptResult{DryRun: req.DryRun, Matches: []AdoptMatch{}, Ambiguous: []AdoptAmbiguity{}, UnmatchedA: []Brief{}, UnmatchedB: []Brief{},
		AlreadyPaired: []AdoptMatch{}, Problems: []string{}}
	byCSV := strings.TrimSpace(req.CSV) != ""
	if byCSV == (req.MatchA != "" || req.MatchB != "") {
		return res, &ValidationError{Errors: []FieldError{{Field: "csv", Message: "give either a CSV of key pairs or the fields to match (matchA and matchB)"}}}
	}
	if !byCSV && (req.MatchA == "" || req.MatchB == "") {
		return res, &ValidationError{Errors: []FieldError{{Field: "matchB", Message: "matching needs a field of each side"}}}
	}
	if len(req.CSV) > 8<<20 {
		return res, &ValidationError{Errors: []FieldError{{Field: "csv", Message: "is larger than 8 MiB"}}}
	}
	p, err := e.procs.Get(proc)
	if err != nil {
		return res, err
	}
	all := map[Side][]connector.Entity{}
	for _, s := range []Side{SideA, SideB} {
		if all[s], err = e.scan(ctx, &p, s); err != nil {
			return res, err
		}
	}
	var matches []AdoptMatch
	pick := map[string]connector.Entity{}
	if byCSV {
		matches, err = adoptByCSV(req.CSV, all, &res, pick)
	} else {
		matches = adoptByField(req.MatchA, req.MatchB, all, &res, pick)
	}
	if err != nil {
		return res, err
	}
	paired := map[string]bool{}
	for _, m := range matches {
		a, b := pick["a/"+m.A.ID], pick["b/"+m.B.ID]
		pa, err := e.pairOf(proc, SideA, a.ID)
		if err != nil {
			return res, err
		}
		pb, err := e.pairOf(proc, SideB, b.ID)
		if err != nil {
			return res, err
		}
		if pa != nil || pb != nil {
			res.AlreadyPaired = append(res.AlreadyPaired, m)
			continue
		}
		tp, ok := p.TypePairOf(SideA, a.Type)
		if tp2, ok2 := p.TypePairOf(SideB, b.Type); !ok || !ok2 || tp.B != tp2.B {
			res.Problems = append(res.Problems, fmt.Sprintf("%s (%s) and %s (%s) are not a type pair of the process", a.Key, a.Type, b.Key, b.Type))
			continue
		}
		res.Matches = append(res.Matches, m)
		paired["a/"+a.ID], paired["b/"+b.ID] = true, true
		if req.DryRun {
			continue
		}
		np := newPair(proc, a, b, tp, e.d.Now().UTC())
		already := false
		if err := e.d.Store.Update(func(tx *store.Tx) error {
			// Looked at again in the transaction: a run may have paired
			// either entity since the look above (a create registered).
			// Read here, their index entries make this transaction and
			// such a registration conflict if they overlap: the later to
			// commit runs again and sees the other's pair.
			already = false
			for _, s := range []Side{SideA, SideB} {
				if old, err := pairInTx(tx, proc, s, np.Ref(s).ID); err != nil {
					return err
				} else if old != nil {
					already = true
					return nil
				}
			}
			for _, s := range []Side{SideA, SideB} {
				if err := tx.Delete(keyExcluded(proc, s, np.Ref(s).ID)); err != nil {
					return err
				}
			}
			return e.registerTx(tx, np)
		}); err != nil {
			return res, fmt.Errorf("adopt %s and %s: %w", a.Key, b.Key, err)
		}
		if already {
			res.Matches = res.Matches[:len(res.Matches)-1]
			res.AlreadyPaired = append(res.AlreadyPaired, m)
			continue
		}
		res.Adopted++
	}
	if !req.DryRun && res.Adopted > 0 && e.d.Audit != nil {
		mode := "csv"
		if !byCSV {
			mode = "match " + req.MatchA + " = " + req.MatchB
		}
		if err := e.d.Store.Update(func(tx *store.Tx) error {
			_, err := e.d.Audit.AppendTx(tx, audit.Entry{Actor: actor, Action: "pairs.adopt", Target: "process:" + p.ID + " (" + p.Name + ")",
				Result: audit.Success, Diff: map[string]any{"mode": mode, "adopted": res.Adopted, "ambiguous": len(res.Ambiguous)}})
			return err
		}); err != nil {
			return res, err
		}
	}
	if !req.DryRun && res.Adopted > 0 {
		e.pairChanged(proc, "", "adopted")
	}
	return res, nil
}

// scan reads every entity of side s's project, for an adoption.
func (e *Engine) scan(ctx context.Context, p *Process, s Side) ([]connector.Entity, error) {
	con, err := e.open(p.End(s).System)
	if err != nil {
		return nil, fmt.Errorf("open system %s: %w", p.End(s).System, err)
	}
	var out []connector.Entity
	cursor := ""
	for {
		page, err := con.Changes(ctx, p.End(s).Project, time.Time{}, cursor)
		if err != nil {
			return nil, fmt.Errorf("list side %s: %w", s, err)
		}
		for _, ent := range page.Entities {
			if _, ok := p.TypePairOf(s, ent.Type); ok {
				out = append(out, ent)
			}
		}
		if len(out) > maxAdoptScan {
			return nil, fmt.Errorf("side %s holds more than %d entities: adopt them with a CSV in parts: %w", s, maxAdoptScan, ErrPermanent)
		}
		if page.Cursor == "" || page.Cursor == cursor {
			break
		}
		cursor = page.Cursor
	}
	// Changes may repeat an entity (overlapping pages): keep the last.
	seen := map[string]int{}
	var uniq []connector.Entity
	for _, ent := range out {
		if i, ok := seen[ent.ID]; ok {
			uniq[i] = ent
			continue
		}
		seen[ent.ID] = len(uniq)
		uniq = append(uniq, ent)
	}
	return uniq, nil
}

// adoptByCSV reads "<a key>,<b key>" lines (a header line naming the sides
// is skipped).
func adoptByCSV(text string, all map[Side][]connector.Entity, res *AdoptResult, pick map[string]connector.Entity) ([]AdoptMatch, error) {
	find := func(s Side, ref string) (connector.Entity, bool) {
		ref = strings.TrimSpace(ref)
		for _, e := range all[s] {
			if strings.EqualFold(e.Key, ref) || e.ID == ref {
				return e, true
			}
		}
		return connector.Entity{}, false
	}
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord, r.TrimLeadingSpace, r.Comment = -1, true, '#'
	usedA, usedB := map[string]int{}, map[string]int{}
	var rows []AdoptMatch
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, &ValidationError{Errors: []FieldError{{Field: "csv", Message: err.Error()}}}
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) != 2 {
			res.Problems = append(res.Problems, fmt.Sprintf("line %d: want two keys, side A's and side B's, not %d fields", line, len(rec)))
			continue
		}
		a, okA := find(SideA, rec[0])
		b, okB := find(SideB, rec[1])
		if line == 1 && !okA && !okB {
			continue // a header
		}
		if !okA || !okB {
			missing := []string{}
			if !okA {
				missing = append(missing, fmt.Sprintf("%q in side A", rec[0]))
			}
			if !okB {
				missing = append(missing, fmt.Sprintf("%q in side B", rec[1]))
			}
			res.Problems = append(res.Problems, fmt.Sprintf("line %d: no entity %s", line, strings.Join(missing, " and ")))
			continue
		}
		pick["a/"+a.ID], pick["b/"+b.ID] = a, b
		usedA[a.ID]++
		usedB[b.ID]++
		rows = append(rows, AdoptMatch{A: briefOf(a), B: briefOf(b)})
	}
	// A key named on two lines is ambiguous: none of its lines is adopted.
	var out []AdoptMatch
	amb := map[string]*AdoptAmbiguity{}
	for _, m := range rows {
		switch {
		case usedA[m.A.ID] > 1:
			add(amb, m.A.Key, m)
		case usedB[m.B.ID] > 1:
			add(amb, m.B.Key, m)
		default:
			out = append(out, m)
		}
	}
	for _, k := range sortedKeys(amb) {
		res.Ambiguous = append(res.Ambiguous, *amb[k])
	}
	return out, nil
}

func add(amb map[string]*AdoptAmbiguity, key string, m AdoptMatch) {
	a := amb[key]
	if a == nil {
		a = &AdoptAmbiguity{Match: key}
		amb[key] = a
	}
	a.A = appendBrief(a.A, m.A)
	a.B = appendBrief(a.B, m.B)
}

func appendBrief(list []Brief, b Brief) []Brief {
	for _, x := range list {
		if x.ID == b.ID {
			return list
		}
	}
	return append(list, b)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// matchValue is a field's value as adoption compares it: text trimmed and
// case-folded, anything else as its JSON.
func matchValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.ToLower(strings.Join(strings.Fields(x), " "))
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// adoptByField pairs the entities whose fields hold the same value, one
// on each side; a value held by several on a side is ambiguous.
func adoptByField(fa, fb string, all map[Side][]connector.Entity, res *AdoptResult, pick map[string]connector.Entity) []AdoptMatch {
	group := func(s Side, f string) map[string][]connector.Entity {
		g := map[string][]connector.Entity{}
		for _, e := range all[s] {
			v := e.Fields[f]
			if f == "title" && v == nil {
				v = e.Title
			}
			if k := matchValue(v); k != "" {
				g[k] = append(g[k], e)
			}
		}
		return g
	}
	ga, gb := group(SideA, fa), group(SideB, fb)
	var out []AdoptMatch
	matchedA, matchedB := map[string]bool{}, map[string]bool{}
	for _, k := range sortedKeys(ga) {
		as, bs := ga[k], gb[k]
		if len(bs) == 0 {
			continue
		}
		for _, e := range as {
			matchedA[e.ID] = true
		}
		for _, e := range bs {
			matchedB[e.ID] = true
		}
		if len(as) > 1 || len(bs) > 1 {
			amb := AdoptAmbiguity{Match: k}
			for _, e := range as {
				amb.A = append(amb.A, briefOf(e))
			}
			for _, e := range bs {
				amb.B = append(amb.B, briefOf(e))
			}
			res.Ambiguous = append(res.Ambiguous, amb)
			continue
		}
		pick["a/"+as[0].ID], pick["b/"+bs[0].ID] = as[0], bs[0]
		out = append(out, AdoptMatch{A: briefOf(as[0]), B: briefOf(bs[0])})
	}
	for _, e := range all[SideA] {
		if !matchedA[e.ID] {
			res.UnmatchedA = append(res.UnmatchedA, briefOf(e))
		}
	}
	for _, e := range all[SideB] {
		if !matchedB[e.ID] {
			res.UnmatchedB = append(res.UnmatchedB, briefOf(e))
		}
	}
	return out
}

// forgetMarkerTx drops the marker index entries of entity id of side s.
func forgetMarkerTx(tx *store.Tx, proc string, s Side, id string) error {
	var keys []string
	prefix := "mark/" + proc + "/" + string(s) + "/"
	if err := tx.Scan(prefix, "", func(k string, v []byte) error {
		if string(v) == id {
			keys = append(keys, k)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
