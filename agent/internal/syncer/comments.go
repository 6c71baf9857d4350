package syncer

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
)

// commentMarker finds a marker left in a comment's body: by copies made
// before connectors read markers back, and by systems that keep it there.
var commentMarker = regexp.MustCompile(`<!-- (lockstep:[^ ]+) -->`)

// commentMarkerOf is the marker a comment carries, if any: a comment with
// one is Lockstep's (a copy, or a note it added), never copied.
func commentMarkerOf(cm connector.Comment) string {
	if cm.Marker != "" {
		return cm.Marker
	}
	if m := commentMarker.FindStringSubmatch(cm.Body); m != nil {
		return m[1]
	}
	return ""
}

// copyMarker names the original a comment copy was made from:
// "lockstep:<side>:<comment id>".
func copyMarker(s Side, id string) string { return connector.MarkerPrefix + string(s) + ":" + id }

// originOf reads a copy marker back.
func originOf(marker string) (Side, string, bool) {
	rest, ok := strings.CutPrefix(marker, connector.MarkerPrefix)
	if !ok {
		return "", "", false
	}
	side, id, ok := strings.Cut(rest, ":")
	if !ok || (side != string(SideA) && side != string(SideB)) || id == "" {
		return "", "", false
	}
	return Side(side), id, true
}

// commentBody is what a comment's copy says: who wrote it where, and the
// original's text.
func commentBody(pair *Pair, s Side, cm connector.Comment) string {
	author := cm.Author.Name
	if author == "" {
		author = cm.Author.Email
	}
	return fmt.Sprintf("**%s** wrote in %s:\n\n%s", author, pair.Ref(s).Key, strings.TrimSpace(cm.Body))
}

// comments copies new comments each way, and mirrors edits and deletions
// of originals to their copies where the system allows it (a divergence is
// recorded on the pair where it does not).
//
// A comment carrying a copy marker is Lockstep's copy of the original the
// marker names, on the other side. A copy whose original is on the other
// entity is adopted if its map entry was lost (a crash between add and
// save, or the pair lost and found again by its marker). A copy mapped
// before whose original is gone lost its original: it goes too. A copy of
// a comment the other entity never held (made for another pair, before a
// pair was lost or relinked) is the only trace of what it says: it is
// copied over as this entity's own, never dropped.
func (c *cycle) comments(ctx context.Context, pair *Pair, need map[Side]bool, wrote *written) (bool, error) {
	if pair.Comments == nil {
		pair.Comments = map[string]string{}
	}
	if pair.CommentSums == nil {
		pair.CommentSums = map[string]string{}
	}
	l, err := c.listComments(ctx, pair, need)
	if err != nil {
		return false, err
	}
	changed, lost, own := adoptCopies(pair, l)
	for _, orig := range lost {
		side, id, _ := strings.Cut(orig, ":")
		n, err := c.deleteCopy(ctx, pair, Side(side), id, wrote)
		changed = changed || n
		if err != nil {
			return changed, err
		}
	}
	for _, s := range []Side{SideA, SideB} {
		if !l.listed[s] {
			continue
		}
		for _, cm := range l.list[s] {
			n, err := c.followComment(ctx, pair, s, cm, own, wrote)
			changed = changed || n
			if err != nil {
				return changed, err
			}
		}
		n, err := c.dropCopiesOfDeleted(ctx, pair, s, l.present(s), wrote)
		changed = changed || n
		if err != nil {
			return changed, err
		}
	}
	return changed, nil
}

// commentLists are the comments of a pair's sides this item listed.
type commentLists struct {
	list   map[Side][]connector.Comment
	listed map[Side]bool
}

// present is the set of side s's comment ids.
func (l commentLists) present(s Side) map[string]bool {
	out := map[string]bool{}
	for _, cm := range l.list[s] {
		out[cm.ID] = true
	}
	return out
}

// listComments lists the comments of each side that changed (need), or
// that this run made (to adopt what a create left unmapped), and of the
// other side of any copy not mapped to its original, which is settled
// against that side's list even if that side did not change.
func (c *cycle) listComments(ctx context.Context, pair *Pair, need map[Side]bool) (commentLists, error) {
	l := commentLists{list: map[Side][]connector.Comment{}, listed: map[Side]bool{}}
	read := func(s Side) error {
		if l.listed[s] {
			return nil
		}
		l.listed[s] = true
		if c.newPeers[freshKey(s, pair.Ref(s).ID)] {
			return nil // made by this run: it holds nothing yet
		}
		cs, err := c.con[s].Comments(ctx, connector.Ref{ID: pair.Ref(s).ID, Key: pair.Ref(s).Key})
		if err != nil {
			return fmt.Errorf("list comments of %s: %w", pair.Ref(s).Key, err)
		}
		l.list[s] = cs
		var authors []connector.User
		for _, cm := range cs {
			if commentMarkerOf(cm) == "" {
				authors = append(authors, cm.Author)
			}
		}
		c.seeUsers(s, authors)
		return nil
	}
	for _, s := range []Side{SideA, SideB} {
		if need[s] || c.newPeers[freshKey(s, pair.Ref(s).ID)] {
			if err := read(s); err != nil {
				return l, err
			}
		}
	}
	for _, s := range []Side{SideA, SideB} {
		for _, cm := range l.list[s] {
			if os, oid, ok := originOf(commentMarkerOf(cm)); ok && os != s && pair.Comments[mapKey(os, oid)] != mapKey(s, cm.ID) {
				if err := read(os); err != nil {
					return l, err
				}
			}
		}
	}
	return l, nil
}

// adoptCopies decides what each copy listed is, against its original's
// side: a copy of an original still there is mapped to it (adopted, if its
// map entry was lost); a mapped copy whose original is gone is lost, and
// goes too; any other copy is of a comment the other entity never held,
// so it is this entity's own, to be copied over. A copy whose original's
// side was not listed is left as it is.
func adoptCopies(pair *Pair, l commentLists) (changed bool, lost []string, own map[string]bool) {
	own = map[string]bool{}
	present := map[Side]map[string]bool{SideA: l.present(SideA), SideB: l.present(SideB)}
	for _, s := range []Side{SideA, SideB} {
		for _, cm := range l.list[s] {
			os, oid, ok := originOf(commentMarkerOf(cm))
			if !ok || os == s || !l.listed[os] {
				continue // not a copy, or its original's side not read now
			}
			orig, copyKey := mapKey(os, oid), mapKey(s, cm.ID)
			switch {
			case present[os][oid]:
				if pair.Comments[orig] == "" {
					pair.Comments[orig], pair.Comments[copyKey] = copyKey, orig
					changed = true
				}
			case pair.Comments[orig] == copyKey:
				lost = append(lost, orig)
			default:
				own[copyKey] = true
			}
		}
	}
	return changed, lost, own
}

// followComment carries one comment of side s to the other side: a new
// original is copied, an edited one's copy edited; a comment Lockstep
// wrote (a copy, or a note) is left alone unless it is own, the copy of a
// comment the other entity never held.
func (c *cycle) followComment(ctx context.Context, pair *Pair, s Side, cm connector.Comment, own map[string]bool, wrote *written) (bool, error) {
	k := mapKey(s, cm.ID)
	if commentMarkerOf(cm) != "" && !own[k] {
		return false, nil // Lockstep's own: a copy or a note
	}
	sum := mapping.Hash(strings.TrimSpace(cm.Body))
	if pair.Comments[k] == "" {
		return c.copyComment(ctx, pair, s, cm, sum, wrote)
	}
	switch old := pair.CommentSums[k]; {
	case old == "":
		// Copied before edits were followed: this is its base.
		pair.CommentSums[k] = sum
		return true, nil
	case old != sum:
		return c.editCopy(ctx, pair, s, cm, sum, wrote)
	}
	return false, nil
}

// copyComment copies a new original comment of side s to the other side.
func (c *cycle) copyComment(ctx context.Context, pair *Pair, s Side, cm connector.Comment, sum string, wrote *written) (bool, error) {
	t := s.Other()
	k := mapKey(s, cm.ID)
	var added connector.Comment
	sent, err := c.apply(ctx, write{
		entry: PlanItem{Action: "comment", Side: t, Entity: pair.Ref(t).ID, Key: pair.Ref(t).Key, Detail: "comment " + cm.ID + " from " + pair.Ref(s).Key},
		send: func(ctx context.Context) (err error) {
			added, err = c.con[t].AddComment(ctx, connector.Ref{ID: pair.Ref(t).ID, Key: pair.Ref(t).Key},
				connector.NewComment{Body: commentBody(pair, s, cm), Author: cm.Author, Marker: copyMarker(s, cm.ID)})
			return err
		},
	})
	if !sent {
		return false, err // planned, or the pending saves failed
	}
	if err != nil {
		return false, fmt.Errorf("copy comment %s to %s: %w", cm.ID, pair.Ref(t).Key, err)
	}
	pair.Comments[k] = mapKey(t, added.ID)
	pair.Comments[mapKey(t, added.ID)] = k
	pair.CommentSums[k] = sum
	wrote.note(t, added.Moved)
	c.run.Counts.Commented++
	// The map is what stops a second copy: saved before the next write
	// (deferred.go); a crash before then finds the copy by its marker.
	if err := c.savePair(pair); err != nil {
		return true, err
	}
	c.log.Info().Str("entity_key", pair.Ref(t).Key).Str("comment", cm.ID).Msg("copied comment")
	return true, nil
}

// dropCopiesOfDeleted deletes the copies of side s's originals gone from
// its list (present): they were deleted.
func (c *cycle) dropCopiesOfDeleted(ctx context.Context, pair *Pair, s Side, present map[string]bool, wrote *written) (bool, error) {
	changed := false
	for k := range pair.CommentSums {
		side, id, _ := strings.Cut(k, ":")
		if Side(side) != s || present[id] {
			continue
		}
		n, err := c.deleteCopy(ctx, pair, s, id, wrote)
		changed = changed || n
		if err != nil {
			return changed, err
		}
	}
	return changed, nil
}

// deleteCopy deletes the copy of an original comment that was deleted.
func (c *cycle) deleteCopy(ctx context.Context, pair *Pair, s Side, id string, wrote *written) (bool, error) {
	ed, ok := ability[connector.CommentEditor](c.con[s.Other()])
	var del func(context.Context, connector.Ref, string) error
	if ok {
		del = ed.DeleteComment
	}
	return c.deleteCopyOf(ctx, pair, s, id, wrote, copyKind{noun: "comment", deletedIn: "in", logKey: "comment",
		ids: pair.Comments, forget: func(k string) { delete(pair.CommentSums, k) }, del: del})
}

// editCopy carries an original comment's new text to its copy.
func (c *cycle) editCopy(ctx context.Context, pair *Pair, s Side, cm connector.Comment, sum string, wrote *written) (bool, error) {
	t := s.Other()
	k := mapKey(s, cm.ID)
	_, copyID, _ := strings.Cut(pair.Comments[k], ":")
	ed, ok := ability[connector.CommentEditor](c.con[t])
	if !ok {
		c.diverge(pair, fmt.Sprintf("comment %s was edited in %s; %s cannot edit comments, so its copy in %s keeps the old text", cm.ID, pair.Ref(s).Key, c.systemName(t), pair.Ref(t).Key))
		pair.CommentSums[k] = sum
		return true, c.savePair(pair)
	}
	var edited connector.Comment
	sent, err := c.apply(ctx, write{
		entry: PlanItem{Action: "comment-edit", Side: t, Entity: pair.Ref(t).ID, Key: pair.Ref(t).Key, Detail: "comment " + copyID + " from " + pair.Ref(s).Key},
		send: func(ctx context.Context) (err error) {
			edited, err = ed.UpdateComment(ctx, connector.Ref{ID: pair.Ref(t).ID, Key: pair.Ref(t).Key}, copyID,
				connector.NewComment{Body: commentBody(pair, s, cm), Author: cm.Author, Marker: copyMarker(s, cm.ID)})
			return err
		},
	})
	if !sent {
		return false, err // planned, or the pending saves failed
	}
	if errors.Is(err, connector.ErrNotFound) {
		c.diverge(pair, fmt.Sprintf("comment %s was edited in %s, but its copy in %s was deleted", cm.ID, pair.Ref(s).Key, pair.Ref(t).Key))
	} else if err != nil {
		return false, fmt.Errorf("edit the copy of comment %s in %s: %w", cm.ID, pair.Ref(t).Key, err)
	} else {
		wrote.note(t, edited.Moved)
		c.run.Counts.Commented++
		c.log.Info().Str("entity_key", pair.Ref(t).Key).Str("comment", cm.ID).Msg("copied a comment's edit")
	}
	pair.CommentSums[k] = sum
	return true, c.savePair(pair)
}
