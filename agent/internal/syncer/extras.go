package syncer

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
)

// extras syncs comments, attachments and links of a pair, each with its own
// id map so nothing is copied twice. cur holds the sides' versions as far
// as the item knows them: a side still at the version its extras were last
// synced at has nothing new and is not listed (every comment, attachment
// or link change moves an entity's version). Links are listed on both
// sides or neither, since a link missing from one side's list reads as
// removed.
func (c *cycle) extras(ctx context.Context, pair *Pair, tp mapping.TypePair, cur map[Side]string) error {
	if pair == nil || pair.ID == "" { // a planned create
		return nil
	}
	if !c.p.Options.Comments && !c.p.Options.Attachments && len(tp.LinkTypes) == 0 {
		return nil
	}
	list := map[Side]bool{}
	for _, s := range []Side{SideA, SideB} {
		list[s] = cur[s] == "" || c.extrasMark(tp, cur[s]) != pair.Ref(s).Extras
	}
	if !list[SideA] && !list[SideB] {
		return nil
	}
	wrote := map[Side]bool{}
	changed := false
	if c.p.Options.Comments {
		n, err := c.comments(ctx, pair, list, wrote)
		changed = changed || n
		if err != nil {
			return err
		}
	}
	if c.p.Options.Attachments {
		n, err := c.attachments(ctx, pair, list, wrote)
		changed = changed || n
		if err != nil {
			return err
		}
	}
	if len(tp.LinkTypes) > 0 {
		n, err := c.links(ctx, pair, tp, wrote)
		changed = changed || n
		if err != nil {
			return err
		}
	}
	if c.dry {
		return nil
	}
	// Synced now at the versions listed; a side Lockstep wrote to has a
	// version it does not know, so it is listed next time (once).
	for _, s := range []Side{SideA, SideB} {
		v := c.extrasMark(tp, cur[s])
		if wrote[s] {
			v = ""
		}
		if pair.Ref(s).Extras != v {
			pair.Ref(s).Extras, changed = v, true
		}
	}
	if changed {
		return c.savePair(pair)
	}
	return nil
}

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

// commentMarker ends every comment Lockstep copies: it names the original,
// so a copy is never copied back and a copy made just before a crash is
// found instead of made twice. An HTML comment stays invisible in Markdown.
var commentMarker = regexp.MustCompile(`<!-- lockstep:([ab]):([^ ]+) -->`)

// bareCommentMarker is a comment marker as connectors read it back into
// Comment.Marker, out of their system's form: "lockstep:a:123".
var bareCommentMarker = regexp.MustCompile(`^lockstep:([ab]):(\S+)$`)

// commentOrigin reads which comment a copy was made from: its Marker, as
// the contract has connectors read it back (taken out of the body), or,
// from connectors that leave it in the text, its body. ok is false for a
// comment people wrote.
func commentOrigin(cm connector.Comment) (orig string, ok bool) {
	m := bareCommentMarker.FindStringSubmatch(strings.TrimSpace(cm.Marker))
	if m == nil {
		m = commentMarker.FindStringSubmatch(cm.Marker)
	}
	if m == nil {
		m = commentMarker.FindStringSubmatch(cm.Body)
	}
	if m == nil {
		return "", false
	}
	return mapKey(Side(m[1]), m[2]), true
}

func markerOf(s Side, id string) string { return fmt.Sprintf("<!-- lockstep:%s:%s -->", s, id) }

func mapKey(s Side, id string) string { return string(s) + ":" + id }

func (c *cycle) comments(ctx context.Context, pair *Pair, need, wrote map[Side]bool) (bool, error) {
	if pair.Comments == nil {
		pair.Comments = map[string]string{}
	}
	list := map[Side][]connector.Comment{}
	for _, s := range []Side{SideA, SideB} {
		if !need[s] {
			continue
		}
		cs, err := c.con[s].Comments(ctx, connector.Ref{ID: pair.Ref(s).ID, Key: pair.Ref(s).Key})
		if err != nil {
			return false, fmt.Errorf("list comments of %s: %w", pair.Ref(s).Key, err)
		}
		list[s] = cs
		var authors []connector.User
		for _, cm := range cs {
			if _, copied := commentOrigin(cm); !copied {
				authors = append(authors, cm.Author)
			}
		}
		c.seeUsers(s, authors)
	}
	changed := false
	// Adopt copies whose map entry was lost (crash between add and save).
	for _, s := range []Side{SideA, SideB} {
		for _, cm := range list[s] {
			if orig, copied := commentOrigin(cm); copied {
				if pair.Comments[orig] == "" {
					pair.Comments[orig] = mapKey(s, cm.ID)
					pair.Comments[mapKey(s, cm.ID)] = orig
					changed = true
				}
			}
		}
	}
	for _, s := range []Side{SideA, SideB} {
		t := s.Other()
		for _, cm := range list[s] {
			if _, copied := commentOrigin(cm); copied || pair.Comments[mapKey(s, cm.ID)] != "" {
				continue
			}
			author := cm.Author.Name
			if author == "" {
				author = cm.Author.Email
			}
			body := fmt.Sprintf("**%s** wrote in %s:\n\n%s\n\n%s", author, pair.Ref(s).Key, strings.TrimSpace(cm.Body), markerOf(s, cm.ID))
			if c.dry {
				c.plan = append(c.plan, PlanItem{Action: "comment", Side: t, Key: pair.Ref(t).Key, Detail: "comment " + cm.ID + " from " + pair.Ref(s).Key})
				continue
			}
			added, err := c.con[t].AddComment(ctx, connector.Ref{ID: pair.Ref(t).ID, Key: pair.Ref(t).Key}, connector.NewComment{Body: body, Author: cm.Author, Marker: markerOf(s, cm.ID)})
			if err != nil {
				return changed, fmt.Errorf("copy comment %s to %s: %w", cm.ID, pair.Ref(t).Key, err)
			}
			pair.Comments[mapKey(s, cm.ID)] = mapKey(t, added.ID)
			pair.Comments[mapKey(t, added.ID)] = mapKey(s, cm.ID)
			changed, wrote[t] = true, true
			c.run.Counts.Commented++
			// Save at once: the map is what stops a second copy.
			if err := c.savePair(pair); err != nil {
				return changed, err
			}
			c.log.Info().Str("entity_key", pair.Ref(t).Key).Str("comment", cm.ID).Msg("copied comment")
		}
	}
	return changed, nil
}

func (c *cycle) attachments(ctx context.Context, pair *Pair, need, wrote map[Side]bool) (bool, error) {
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
		t := s.Other()
		for _, a := range list[s] {
			if pair.Attachments[mapKey(s, a.ID)] != "" {
				continue
			}
			// A copy uploaded just before a crash has the same name and
			// size and no map entry: adopt it.
			if twin := unmappedTwin(pair, t, list[t], a); twin != "" {
				pair.Attachments[mapKey(s, a.ID)] = mapKey(t, twin)
				pair.Attachments[mapKey(t, twin)] = mapKey(s, a.ID)
				changed = true
				continue
			}
			log := c.log.With().Str("entity_key", pair.Ref(s).Key).Str("attachment_id", a.ID).Str("attachment_name", a.Name).Int64("attachment_size", a.Size).Logger()
			if max := c.p.Options.MaxAttachmentBytes; max > 0 && a.Size > max {
				log.Warn().Int64("limit", max).Msg("attachment over the size limit: not copied")
				c.run.Counts.Skipped++
				continue
			}
			if c.dry {
				c.plan = append(c.plan, PlanItem{Action: "attach", Side: t, Key: pair.Ref(t).Key, Detail: fmt.Sprintf("%s (%d bytes) from %s", a.Name, a.Size, pair.Ref(s).Key)})
				continue
			}
			body, err := c.con[s].Download(ctx, connector.Ref{ID: pair.Ref(s).ID}, a)
			if err != nil {
				return changed, fmt.Errorf("download attachment %s: %w", a.Name, err)
			}
			up, err := c.con[t].Upload(ctx, connector.Ref{ID: pair.Ref(t).ID, Key: pair.Ref(t).Key}, a.Name, a.ContentType, a.Size, body)
			body.Close()
			if errors.Is(err, errors.ErrUnsupported) {
				// The other system holds no files and is set to leave
				// them out: skipped, once, and not asked again.
				log.Warn().Str("peer_key", pair.Ref(t).Key).Err(err).Msg("attachment not copied: the other system cannot hold files")
				pair.Attachments[mapKey(s, a.ID)] = skippedAttachment
				changed = true
				c.run.Counts.Skipped++
				if err := c.savePair(pair); err != nil {
					return changed, err
				}
				continue
			}
			if err != nil {
				return changed, fmt.Errorf("upload attachment %s to %s: %w", a.Name, pair.Ref(t).Key, err)
			}
			pair.Attachments[mapKey(s, a.ID)] = mapKey(t, up.ID)
			pair.Attachments[mapKey(t, up.ID)] = mapKey(s, a.ID)
			changed, wrote[t] = true, true
			c.run.Counts.Attached++
			if err := c.savePair(pair); err != nil {
				return changed, err
			}
			log.Info().Str("peer_key", pair.Ref(t).Key).Msg("copied attachment")
		}
	}
	return changed, nil
}

// skippedAttachment is the id map's entry of an attachment the other side
// refused to hold (errors.ErrUnsupported): it is not tried again.
const skippedAttachment = "-"

func unmappedTwin(pair *Pair, t Side, list []connector.Attachment, a connector.Attachment) string {
	for _, b := range list {
		if b.Name == a.Name && b.Size == a.Size && pair.Attachments[mapKey(t, b.ID)] == "" {
			return b.ID
		}
	}
	return ""
}

// links mirrors typed links between paired entities. A link is copied when
// its target is paired too; a link Lockstep copied is removed from the other
// side when it disappears from one.
func (c *cycle) links(ctx context.Context, pair *Pair, tp mapping.TypePair, wrote map[Side]bool) (bool, error) {
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
				peer, err := c.e.pairOf(c.p.ID, s, target)
				if err != nil || peer == nil {
					continue // the target is not synced (yet): linked when it is
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
					if err := c.removeLink(ctx, pair, s, typeS, target); err != nil {
						return changed, err
					}
					delete(pair.Links, sig)
					changed, wrote[s] = true, true
					continue
				}
				if c.dry {
					c.plan = append(c.plan, PlanItem{Action: "link", Side: t, Key: pair.Ref(t).Key, Detail: typeT + " " + peer.Ref(t).Key})
					continue
				}
				if err := c.con[t].AddLink(ctx, connector.Ref{ID: pair.Ref(t).ID, Key: pair.Ref(t).Key}, connector.Link{Type: typeT, Target: connector.Ref{ID: tTarget, Key: peer.Ref(t).Key}}); err != nil {
					return changed, fmt.Errorf("link %s to %s: %w", pair.Ref(t).Key, peer.Ref(t).Key, err)
				}
				pair.Links[sig], changed, wrote[t] = true, true, true
				c.run.Counts.Linked++
				c.log.Info().Str("entity_key", pair.Ref(t).Key).Str("relation_type", typeT).Str("peer_key", peer.Ref(t).Key).Msg("copied link")
			}
		}
	}
	return changed, nil
}

func (c *cycle) removeLink(ctx context.Context, pair *Pair, s Side, typ, target string) error {
	if c.dry {
		c.plan = append(c.plan, PlanItem{Action: "unlink", Side: s, Key: pair.Ref(s).Key, Detail: typ + " " + target})
		return nil
	}
	if err := c.con[s].RemoveLink(ctx, connector.Ref{ID: pair.Ref(s).ID}, connector.Link{Type: typ, Target: connector.Ref{ID: target}}); err != nil {
		return fmt.Errorf("remove link %s from %s: %w", typ, pair.Ref(s).Key, err)
	}
	c.run.Counts.Linked++
	return nil
}

// linkSig names a synced link the same way from both sides.
func linkSig(lp mapping.LinkTypePair, s Side, sTarget, tTarget string) string {
	a, b := sTarget, tTarget
	if s == SideB {
		a, b = tTarget, sTarget
	}
	return lp.A + "|" + a + "|" + b
}
