package syncer

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"strings"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// extras syncs comments, attachments and links of a pair, each with its own
// id map so nothing is copied twice, and each a step of its own. cur holds
// the sides' versions as far as the item knows them: a side still at the
// version its extras were last synced at has nothing new and is not listed
// (every comment, attachment or link change moves an entity's version).
// Links are listed on both sides or neither, since a link missing from one
// side's list reads as removed.
func (c *cycle) extras(ctx context.Context, pair *Pair, tp mapping.TypePair, cur map[Side]string) error {
	if pair == nil || pair.ID == "" || pair.State == PairDeleted { // a planned create, or gone
		return nil
	}
	if !c.p.Options.Comments && !c.p.Options.Attachments && len(tp.LinkTypes) == 0 {
		return nil
	}
	list := map[Side]bool{}
	for _, s := range []Side{SideA, SideB} {
		list[s] = cur[s] == "" || c.extrasMark(tp, cur[s]) != pair.Ref(s).Extras
	}
	// Links that wait for their target's pair are looked at whenever their
	// item is worked, whatever the versions say: the target's pair wakes
	// the item and clears its marks (awaitPair), but a worker that held
	// the item's pair meanwhile writes back the marks it had.
	waiting := pair.WaitingLinks > 0 && len(tp.LinkTypes) > 0
	listed := list[SideA] || list[SideB]
	if !listed && !waiting {
		return nil
	}
	wrote := &written{cur: map[Side]string{SideA: cur[SideA], SideB: cur[SideB]}, lost: map[Side]bool{}}
	changed := false
	steps := []struct {
		name string
		on   bool
		do   func() (bool, error)
	}{
		{stepComments, c.p.Options.Comments && listed, func() (bool, error) { return c.comments(ctx, pair, list, wrote) }},
		{stepAttachments, c.p.Options.Attachments && listed, func() (bool, error) { return c.attachments(ctx, pair, list, wrote) }},
		{stepLinks, len(tp.LinkTypes) > 0, func() (bool, error) { return c.links(ctx, pair, tp, wrote) }},
	}
	for _, st := range steps {
		if !st.on {
			continue
		}
		n, err := st.do()
		changed = changed || n
		if err != nil {
			if errors.Is(err, connector.ErrNotFound) {
				return inStep(st.name, c.goneSide(ctx, pair, err))
			}
			return inStep(st.name, err)
		}
	}
	// Synced now at the versions listed, or at those Lockstep's own
	// writes were proven to leave; a side it wrote to with an answer that
	// did not say is listed next time (once).
	for _, s := range []Side{SideA, SideB} {
		v := c.extrasMark(tp, wrote.cur[s])
		if wrote.lost[s] {
			v = ""
		} else if wrote.cur[s] != cur[s] && pair.Ref(s).Version == cur[s] {
			// Only its extras moved: the fields stand at the new version,
			// so its next poll reads it as the echo of our own write.
			pair.Ref(s).Version, changed = wrote.cur[s], true
		}
		if pair.Ref(s).Extras != v {
			pair.Ref(s).Extras, changed = v, true
		}
	}
	if changed {
		return inStep(stepLinks, c.savePair(pair))
	}
	return nil
}

// written is what an item's writes to comments, attachments and links did
// to each side's version. A write whose answer says the version it moved
// from and to (connector.Moved), from the one the item knew, leaves a
// version the item knows: nothing else changed the entity in between, so
// nothing hides behind the write and the side need not be listed again. Any
// other write leaves the side's version unknown (lost) for the rest of the
// item: another user's comment may have come just before it.
type written struct {
	cur  map[Side]string // each side's version as the item knows it
	lost map[Side]bool
}

// note records a write to side s and what its answer said of the version.
func (w *written) note(s Side, m connector.Moved) {
	if !w.lost[s] && m.From != "" && m.To != "" && m.From == w.cur[s] {
		w.cur[s] = m.To
		return
	}
	w.lost[s] = true
}

// goneSide finds which side of pair a not-found answer was about, by reading
// both, and handles its deletion; if neither is gone, cause stands.
func (c *cycle) goneSide(ctx context.Context, pair *Pair, cause error) error {
	for _, s := range []Side{SideA, SideB} {
		_, err := c.con[s].Get(ctx, connector.Ref{ID: pair.Ref(s).ID})
		if errors.Is(err, connector.ErrNotFound) {
			return c.gone(ctx, pair, s)
		}
	}
	return cause
}

// mapKey names a comment or attachment of side s in a pair's id maps.
func mapKey(s Side, id string) string { return string(s) + ":" + id }

// extrasMark is what EntityRef.Extras holds for version v: the version and
// which extras the process syncs, so turning on attachments (or a link
// type) lists every entity again instead of trusting a version whose
// attachments were never looked at.
func (c *cycle) extrasMark(tp mapping.TypePair, v string) string {
	if v == "" {
		return ""
	}
	h := fnv.New32a()
	fmt.Fprintf(h, "%t|%t", c.p.Options.Comments, c.p.Options.Attachments)
	for _, lp := range tp.LinkTypes {
		fmt.Fprintf(h, "|%s=%s", lp.A, lp.B)
	}
	return fmt.Sprintf("%s~%08x", v, h.Sum32())
}

// attachments copies new attachments each way and deletes the copies of
// deleted originals where the system allows it.
func (c *cycle) attachments(ctx context.Context, pair *Pair, need map[Side]bool, wrote *written) (bool, error) {
	if pair.Attachments == nil {
		pair.Attachments = map[string]string{}
	}
	list := map[Side][]connector.Attachment{}
	for _, s := range []Side{SideA, SideB} {
		if !need[s] {
			continue
		}
		as, err := c.con[s].Attachments(ctx, connector.Ref{ID: pair.Ref(s).ID, Key: pair.Ref(s).Key})
		if err != nil {
			return false, fmt.Errorf("list attachments of %s: %w", pair.Ref(s).Key, err)
		}
		list[s] = as
	}
	changed := false
	for _, s := range []Side{SideA, SideB} {
		if !need[s] {
			continue
		}
		t := s.Other()
		present := map[string]bool{}
		for _, a := range list[s] {
			present[a.ID] = true
			n, err := c.followAttachment(ctx, pair, s, a, list[t], need[t], wrote)
			changed = changed || n
			if err != nil {
				return changed, err
			}
		}
		// Originals gone from the list were deleted: so are their copies.
		for k := range pair.AttachmentOrigins {
			side, id, _ := strings.Cut(k, ":")
			if Side(side) != s || present[id] {
				continue
			}
			n, err := c.deleteAttachmentCopy(ctx, pair, s, id, wrote)
			changed = changed || n
			if err != nil {
				return changed, err
			}
		}
	}
	return changed, nil
}

// followAttachment carries attachment a of side s to the other side,
// unless it is mapped already: a copy made before whose map entry was lost
// (others, when listed, holds the other side's) is adopted, a file over
// the size limit is skipped, any other is copied.
func (c *cycle) followAttachment(ctx context.Context, pair *Pair, s Side, a connector.Attachment, others []connector.Attachment, listed bool, wrote *written) (bool, error) {
	t := s.Other()
	if pair.Attachments[mapKey(s, a.ID)] != "" {
		return false, nil
	}
	// A copy uploaded before a crash, or before the pair was lost, has no
	// map entry: it is the unmapped file of the same name, size and
	// content on the other side.
	twin, err := c.twin(ctx, pair, s, a, others, listed)
	if err != nil {
		return false, err
	}
	if twin != "" {
		pair.Attachments[mapKey(s, a.ID)] = mapKey(t, twin)
		pair.Attachments[mapKey(t, twin)] = mapKey(s, a.ID)
		return true, nil
	}
	log := c.log.With().Str("entity_key", pair.Ref(s).Key).Str("attachment_id", a.ID).Str("attachment_name", a.Name).Int64("attachment_size", a.Size).Logger()
	if max := c.p.Options.MaxAttachmentBytes; max > 0 && a.Size > max {
		log.Warn().Int64("limit", max).Msg("attachment over the size limit: not copied")
		c.run.Counts.Skipped++
		return false, nil
	}
	return c.copyAttachment(ctx, pair, s, a, wrote, log)
}

// copyAttachment copies attachment a of side s to the other side, streamed
// from one system to the other.
func (c *cycle) copyAttachment(ctx context.Context, pair *Pair, s Side, a connector.Attachment, wrote *written, log zerolog.Logger) (bool, error) {
	t := s.Other()
	var up connector.Attachment
	var unread error
	sent, err := c.apply(ctx, write{
		entry: PlanItem{Action: "attach", Side: t, Entity: pair.Ref(t).ID, Key: pair.Ref(t).Key, Detail: fmt.Sprintf("%s (%d bytes) from %s", a.Name, a.Size, pair.Ref(s).Key)},
		send: func(ctx context.Context) error {
			body, err := c.con[s].Download(ctx, connector.Ref{ID: pair.Ref(s).ID}, a)
			if err != nil {
				unread = fmt.Errorf("download attachment %s: %w", a.Name, err)
				return unread
			}
			defer body.Close()
			up, err = c.con[t].Upload(ctx, connector.Ref{ID: pair.Ref(t).ID, Key: pair.Ref(t).Key}, a.Name, a.ContentType, a.Size, body)
			return err
		},
	})
	switch {
	case !sent:
		return false, err // planned, or the pending saves failed
	case unread != nil:
		return false, unread
	case errors.Is(err, errors.ErrUnsupported):
		// The other system holds no files and is set to leave them out:
		// skipped, once, and not asked again.
		log.Warn().Str("peer_key", pair.Ref(t).Key).Err(err).Msg("attachment not copied: the other system cannot hold files")
		pair.Attachments[mapKey(s, a.ID)] = skippedAttachment
		c.run.Counts.Skipped++
		return true, c.savePair(pair)
	case err != nil:
		return false, fmt.Errorf("upload attachment %s to %s: %w", a.Name, pair.Ref(t).Key, err)
	}
	pair.Attachments[mapKey(s, a.ID)] = mapKey(t, up.ID)
	pair.Attachments[mapKey(t, up.ID)] = mapKey(s, a.ID)
	if pair.AttachmentOrigins == nil {
		pair.AttachmentOrigins = map[string]bool{}
	}
	pair.AttachmentOrigins[mapKey(s, a.ID)] = true
	wrote.note(t, connector.Moved{})
	c.run.Counts.Attached++
	if err := c.savePair(pair); err != nil {
		return true, err
	}
	log.Info().Str("peer_key", pair.Ref(t).Key).Msg("copied attachment")
	return true, nil
}

// skippedAttachment is the id map's entry of an attachment the other side
// refused to hold (errors.ErrUnsupported): it is not tried again.
const skippedAttachment = "-"

// twin finds an unmapped attachment in others with a's name, size and
// content: a copy whose map entry was lost. Name and size alone never
// match two files: both are read and their SHA-256 compared.
func (c *cycle) twin(ctx context.Context, pair *Pair, s Side, a connector.Attachment, others []connector.Attachment, listed bool) (string, error) {
	if !listed {
		return "", nil
	}
	t := s.Other()
	var mine []byte
	for _, b := range others {
		if b.Name != a.Name || b.Size != a.Size || pair.Attachments[mapKey(t, b.ID)] != "" {
			continue
		}
		if mine == nil {
			sum, err := c.contentSum(ctx, s, pair.Ref(s), a)
			if err != nil {
				return "", err
			}
			mine = sum
		}
		theirs, err := c.contentSum(ctx, t, pair.Ref(t), b)
		if err != nil {
			return "", err
		}
		if string(mine) == string(theirs) {
			return b.ID, nil
		}
	}
	return "", nil
}

// contentSum is the SHA-256 of an attachment's content, streamed.
func (c *cycle) contentSum(ctx context.Context, s Side, ref *EntityRef, a connector.Attachment) ([]byte, error) {
	body, err := c.con[s].Download(ctx, connector.Ref{ID: ref.ID, Key: ref.Key}, a)
	if err != nil {
		return nil, fmt.Errorf("read attachment %s of %s to compare it: %w", a.Name, ref.Key, err)
	}
	defer body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, body); err != nil {
		return nil, fmt.Errorf("read attachment %s of %s to compare it: %w", a.Name, ref.Key, err)
	}
	return h.Sum(nil), nil
}

// deleteAttachmentCopy deletes the copy of a deleted original attachment.
func (c *cycle) deleteAttachmentCopy(ctx context.Context, pair *Pair, s Side, id string, wrote *written) (bool, error) {
	d, ok := ability[connector.AttachmentDeleter](c.con[s.Other()])
	var del func(context.Context, connector.Ref, string) error
	if ok {
		del = func(ctx context.Context, ref connector.Ref, id string) error {
			return d.DeleteAttachment(ctx, ref, connector.Attachment{ID: id})
		}
	}
	return c.deleteCopyOf(ctx, pair, s, id, wrote, copyKind{noun: "attachment", deletedIn: "from", logKey: "attachment_id",
		ids: pair.Attachments, forget: func(k string) { delete(pair.AttachmentOrigins, k) }, del: del})
}

// copyKind is what differs between the copies of comments and of
// attachments, for deleting one whose original was deleted.
type copyKind struct {
	noun      string // "comment", "attachment"
	deletedIn string // "in", "from": where its original was deleted
	logKey    string
	// ids is the pair's id map; forget drops an original's other record.
	ids    map[string]string
	forget func(k string)
	// del deletes a copy by id; nil where the system cannot.
	del func(ctx context.Context, ref connector.Ref, id string) error
}

// deleteCopyOf deletes the copy of side s's original id, which was
// deleted, where the other system can (a divergence is recorded where it
// cannot), and forgets the original.
func (c *cycle) deleteCopyOf(ctx context.Context, pair *Pair, s Side, id string, wrote *written, kind copyKind) (bool, error) {
	t := s.Other()
	k := mapKey(s, id)
	copyKey := kind.ids[k]
	_, copyID, _ := strings.Cut(copyKey, ":")
	if kind.del == nil {
		c.diverge(pair, fmt.Sprintf("%s %s was deleted %s %s; %s cannot delete %ss, so its copy in %s stays", kind.noun, id, kind.deletedIn, pair.Ref(s).Key, c.systemName(t), kind.noun, pair.Ref(t).Key))
	} else if copyID != "" {
		ref := connector.Ref{ID: pair.Ref(t).ID, Key: pair.Ref(t).Key}
		sent, err := c.apply(ctx, write{
			entry: PlanItem{Action: kind.noun + "-delete", Side: t, Entity: ref.ID, Key: ref.Key, Detail: "copy " + copyID + " of deleted " + kind.noun + " " + id},
			send:  func(ctx context.Context) error { return kind.del(ctx, ref, copyID) },
		})
		if !sent {
			return false, err // planned, or the pending saves failed
		}
		if err != nil && !errors.Is(err, connector.ErrNotFound) {
			return false, fmt.Errorf("delete the copy of %s %s in %s: %w", kind.noun, id, pair.Ref(t).Key, err)
		}
		wrote.note(t, connector.Moved{})
		c.log.Info().Str("entity_key", pair.Ref(t).Key).Str(kind.logKey, id).Msg("deleted the copy of a deleted " + kind.noun)
	}
	kind.forget(k)
	delete(kind.ids, k)
	if copyKey != "" && kind.del != nil {
		delete(kind.ids, copyKey)
	}
	return true, c.savePair(pair)
}

// links mirrors typed links between paired entities. A link whose target
// has no pair yet waits for it durably (the target's pair, when made,
// queues this entity again); a link Lockstep copied is removed from the
// other side when it disappears from one.
func (c *cycle) links(ctx context.Context, pair *Pair, tp mapping.TypePair, wrote *written) (bool, error) {
	if pair.Links == nil {
		pair.Links = map[string]bool{}
	}
	have := map[Side]map[string]bool{}
	for _, s := range []Side{SideA, SideB} {
		ls, err := c.con[s].Links(ctx, connector.Ref{ID: pair.Ref(s).ID, Key: pair.Ref(s).Key})
		if err != nil {
			return false, fmt.Errorf("list links of %s: %w", pair.Ref(s).Key, err)
		}
		have[s] = map[string]bool{}
		for _, l := range ls {
			if l.Target.ID != "" {
				have[s][l.Type+"|"+l.Target.ID] = true
			}
		}
	}
	changed := false
	waiting := 0
	for _, lp := range tp.LinkTypes {
		for _, s := range []Side{SideA, SideB} {
			t := s.Other()
			typeS, typeT := lp.A, lp.B
			if s == SideB {
				typeS, typeT = lp.B, lp.A
			}
			for l := range have[s] {
				typ, target, _ := strings.Cut(l, "|")
				if typ != typeS {
					continue
				}
				peer, err := c.awaitPair(s, pair, target)
				if err != nil {
					return changed, err
				}
				if peer == nil || peer.State == PairDeleted {
					waiting++
					continue
				}
				tTarget := peer.Ref(t).ID
				sig := linkSig(lp, s, target, tTarget)
				if have[t][typeT+"|"+tTarget] {
					if !pair.Links[sig] {
						pair.Links[sig], changed = true, true
					}
					continue
				}
				if pair.Links[sig] {
					// Copied before and now gone from the other side: the
					// removal flows back.
					if removed, err := c.removeLink(ctx, pair, s, typeS, target); err != nil || !removed {
						if err != nil {
							return changed, err
						}
						continue // planned
					}
					delete(pair.Links, sig)
					changed = true
					wrote.note(s, connector.Moved{})
					continue
				}
				n, err := c.copyLink(ctx, pair, t, typeT, peer, sig, wrote)
				changed = changed || n
				if err != nil {
					return changed, err
				}
			}
		}
	}
	if pair.WaitingLinks != waiting {
		pair.WaitingLinks, changed = waiting, true
	}
	return changed, nil
}

// copyLink adds to pair's side t entity a link of type typeT to the
// target's side t entity, the pair peer; sig names the link in the pair.
// A target's peer found deleted is queued for its own item to apply the
// deletion policy to its pair: there is nothing to link to.
func (c *cycle) copyLink(ctx context.Context, pair *Pair, t Side, typeT string, peer *Pair, sig string, wrote *written) (bool, error) {
	tTarget := peer.Ref(t).ID
	sent, err := c.apply(ctx, write{
		entry: PlanItem{Action: "link", Side: t, Entity: pair.Ref(t).ID, Key: pair.Ref(t).Key, Detail: typeT + " " + peer.Ref(t).Key},
		send: func(ctx context.Context) error {
			return c.con[t].AddLink(ctx, connector.Ref{ID: pair.Ref(t).ID, Key: pair.Ref(t).Key}, connector.Link{Type: typeT, Target: connector.Ref{ID: tTarget, Key: peer.Ref(t).Key}})
		},
	})
	if !sent {
		return false, err // planned, or the pending saves failed
	}
	if errors.Is(err, connector.ErrNotFound) {
		if _, gerr := c.con[t].Get(ctx, connector.Ref{ID: tTarget}); errors.Is(gerr, connector.ErrNotFound) {
			// The deletion is the target's pair's to handle, by the
			// worker holding it: this one holds its own pair only, and
			// applying the policy here raced with a worker working the
			// target's pair (both marked the survivor, or one's save of
			// the pair dropped the other's). The deleted entity is
			// queued: its item applies the policy, under its hold.
			return false, c.recordNow(func(tx *store.Tx) error {
				return wakeTx(tx, c.p.ID, QueueItem{Side: t, Entity: tTarget}, c.now())
			})
		}
	}
	if err != nil {
		return false, fmt.Errorf("link %s to %s: %w", pair.Ref(t).Key, peer.Ref(t).Key, err)
	}
	pair.Links[sig] = true
	wrote.note(t, connector.Moved{})
	c.run.Counts.Linked++
	c.log.Info().Str("entity_key", pair.Ref(t).Key).Str("relation_type", typeT).Str("peer_key", peer.Ref(t).Key).Msg("copied link")
	return true, nil
}

// awaitPair returns the pair of a link's target on side s, or, when it has
// none yet, records durably that pair's entity waits for it and returns
// nil. The record is written before the second look, and a pair is
// registered together with waking its waiters, so whichever comes first,
// the link is made: a woken entity is queued, and its item lists the links
// of a pair with waiting links whatever its versions say (extras).
func (c *cycle) awaitPair(s Side, pair *Pair, target string) (*Pair, error) {
	peer, err := c.e.pairOf(c.p.ID, s, target)
	if err != nil || peer != nil {
		return peer, err
	}
	if err := c.recordNow(func(tx *store.Tx) error {
		// The target's own key is written too: a registration reads it
		// (wakeWaitingTx), so if both transactions overlap, the later to
		// commit conflicts and runs again, and sees the other.
		if err := tx.SetRaw(prefixWait(c.p.ID, s, target), nil); err != nil {
			return err
		}
		return tx.SetRaw(keyWait(c.p.ID, s, target, pair.Ref(s).ID), nil)
	}); err != nil {
		return nil, fmt.Errorf("record the link of %s waiting for its target: %w", pair.Ref(s).Key, err)
	}
	return c.e.pairOf(c.p.ID, s, target)
}

// removeLink removes a link Lockstep copied whose original is gone. It
// reports whether the link was removed (a dry run plans it).
func (c *cycle) removeLink(ctx context.Context, pair *Pair, s Side, typ, target string) (bool, error) {
	sent, err := c.apply(ctx, write{
		entry: PlanItem{Action: "unlink", Side: s, Entity: pair.Ref(s).ID, Key: pair.Ref(s).Key, Detail: typ + " " + target},
		send: func(ctx context.Context) error {
			return c.con[s].RemoveLink(ctx, connector.Ref{ID: pair.Ref(s).ID}, connector.Link{Type: typ, Target: connector.Ref{ID: target}})
		},
	})
	if !sent || err != nil {
		if sent {
			err = fmt.Errorf("remove link %s from %s: %w", typ, pair.Ref(s).Key, err)
		}
		return false, err
	}
	c.run.Counts.Linked++
	return true, nil
}

// linkSig names a synced link the same way from both sides.
func linkSig(lp mapping.LinkTypePair, s Side, sTarget, tTarget string) string {
	a, b := sTarget, tTarget
	if s == SideB {
		a, b = tTarget, sTarget
	}
	return lp.A + "|" + a + "|" + b
}
