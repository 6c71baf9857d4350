package sandbox

import (
	"cmp"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

const (
	maxComment   = 64 << 10
	maxNameLen   = 255
	maxGlobalID  = 255
	maxLinkTitle = 255
)

// Comments pages through an item's comments, oldest first: after is the
// last comment id already seen (0 for the start).
func (s *Store) Comments(idOrKey string, after int64, limit int) ([]Comment, bool, error) {
	if limit == 0 {
		limit = defaultPage
	}
	if limit < 1 || limit > maxPageSize {
		return nil, false, invalid("limit", "must be 1-%d", maxPageSize)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	it, err := s.lookup(idOrKey)
	if err != nil {
		return nil, false, err
	}
	i, _ := slices.BinarySearchFunc(it.comments, after+1, func(c Comment, id int64) int { return cmp.Compare(c.ID, id) })
	end := min(len(it.comments), i+limit)
	return slices.Clone(it.comments[i:end]), end < len(it.comments), nil
}

// AddComment adds a comment by author (a user id).
func (s *Store) AddComment(idOrKey, author, body string) (Comment, error) {
	if strings.TrimSpace(body) == "" || len(body) > maxComment {
		return Comment{}, invalid("body", "must be 1-%d bytes", maxComment)
	}
	s.mu.Lock()
	it, err := s.lookup(idOrKey)
	if err != nil {
		s.mu.Unlock()
		return Comment{}, err
	}
	s.seq.Comment++
	ch := s.touch(it, "item.updated")
	c := Comment{ID: s.seq.Comment, Item: it.ID, Author: author, Body: body, Created: ch.time, Updated: ch.time}
	it.comments = append(it.comments, c)
	c.ItemVersion = it.Version
	s.mu.Unlock()
	s.commit([]change{ch})
	return c, nil
}

// EditComment replaces a comment's body.
func (s *Store) EditComment(idOrKey string, commentID int64, body string) (Comment, error) {
	if strings.TrimSpace(body) == "" || len(body) > maxComment {
		return Comment{}, invalid("body", "must be 1-%d bytes", maxComment)
	}
	s.mu.Lock()
	it, err := s.lookup(idOrKey)
	if err != nil {
		s.mu.Unlock()
		return Comment{}, err
	}
	i := slices.IndexFunc(it.comments, func(c Comment) bool { return c.ID == commentID })
	if i < 0 {
		s.mu.Unlock()
		return Comment{}, notFound("comment %d not found on %s", commentID, it.Key)
	}
	var chs []change
	if it.comments[i].Body != body {
		ch := s.touch(it, "item.updated")
		it.comments[i].Body, it.comments[i].Updated = body, ch.time
		chs = append(chs, ch)
	}
	c := it.comments[i]
	if len(chs) > 0 {
		c.ItemVersion = it.Version
	}
	s.mu.Unlock()
	s.commit(chs)
	return c, nil
}

// Attachments lists an item's attachments, oldest first.
func (s *Store) Attachments(idOrKey string) ([]Attachment, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	it, err := s.lookup(idOrKey)
	if err != nil {
		return nil, err
	}
	return slices.Clone(it.attachments), nil
}

// AddAttachment streams content into storage and attaches it. The store
// lock is not held while content flows, so a slow upload blocks nobody.
func (s *Store) AddAttachment(idOrKey, name, contentType, author string, content io.Reader) (Attachment, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > maxNameLen || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return Attachment{}, invalid("name", "must be 1-%d printable characters", maxNameLen)
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	s.mu.Lock()
	it, err := s.lookup(idOrKey)
	if err != nil {
		s.mu.Unlock()
		return Attachment{}, err
	}
	s.seq.Attachment++
	id, itemID := s.seq.Attachment, it.ID
	s.mu.Unlock()

	size, perr := s.blobs.put(id, content, s.maxUpload)
	if perr != nil {
		return Attachment{}, perr
	}
	s.mu.Lock()
	it = s.items[itemID] // items are never deleted
	ch := s.touch(it, "item.updated")
	a := Attachment{ID: id, Item: itemID, Name: name, Size: size, ContentType: contentType, Author: author, Created: ch.time}
	it.attachments = append(it.attachments, a)
	s.attIndex[id] = itemID
	s.mu.Unlock()
	s.commit([]change{ch})
	return a, nil
}

// Attachment returns one attachment's metadata.
func (s *Store) Attachment(id int64) (Attachment, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.attachment(id)
}

func (s *Store) attachment(id int64) (Attachment, error) {
	itemID, ok := s.attIndex[id]
	if !ok {
		return Attachment{}, notFound("attachment %d not found", id)
	}
	for _, a := range s.items[itemID].attachments {
		if a.ID == id {
			return a, nil
		}
	}
	return Attachment{}, notFound("attachment %d not found", id)
}

// OpenAttachment returns an attachment and its content; the caller closes it.
func (s *Store) OpenAttachment(id int64) (Attachment, io.ReadSeekCloser, error) {
	a, err := s.Attachment(id)
	if err != nil {
		return Attachment{}, nil, err
	}
	rc, err := s.blobs.open(id)
	if err != nil {
		return Attachment{}, nil, err
	}
	return a, rc, nil
}

// Links lists an item's typed links from its point of view.
func (s *Store) Links(idOrKey string) ([]Link, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	it, err := s.lookup(idOrKey)
	if err != nil {
		return nil, err
	}
	out := make([]Link, 0, len(it.links))
	for _, lid := range it.links {
		out = append(out, s.view(s.links[lid], it.ID))
	}
	return out, nil
}

// view shows a stored link from one of its ends.
func (s *Store) view(l *linkRec, from int64) Link {
	typ, other := l.Type, l.To
	if l.From != from {
		typ, other = inverseLink[l.Type], l.From
	}
	o := s.items[other]
	return Link{ID: l.ID, Type: typ, Target: ItemRef{ID: o.ID, Key: o.Key, Project: o.Project}}
}

// AddLink links an item to target (id or key). Adding a link that exists
// (in either direction) returns it with created false: linking is
// idempotent, so clients may retry it.
func (s *Store) AddLink(idOrKey, typ, target string) (Link, bool, error) {
	if _, ok := inverseLink[typ]; !ok {
		return Link{}, false, invalid("type", "must be one of %s", strings.Join(LinkTypes, ", "))
	}
	s.mu.Lock()
	it, err := s.lookup(idOrKey)
	if err != nil {
		s.mu.Unlock()
		return Link{}, false, err
	}
	to, err := s.lookup(target)
	if err != nil {
		s.mu.Unlock()
		return Link{}, false, invalid("target", "item %q not found", target)
	}
	if to == it {
		s.mu.Unlock()
		return Link{}, false, invalid("target", "an item cannot link to itself")
	}
	for _, lid := range it.links {
		if v := s.view(s.links[lid], it.ID); v.Type == typ && v.Target.ID == to.ID {
			s.mu.Unlock()
			return v, false, nil
		}
	}
	s.seq.Link++
	l := &linkRec{ID: s.seq.Link, From: it.ID, Type: typ, To: to.ID}
	s.links[l.ID] = l
	it.links = append(it.links, l.ID)
	to.links = append(to.links, l.ID)
	chs := []change{s.touch(it, "item.updated"), s.touch(to, "item.updated")}
	v := s.view(l, it.ID)
	s.mu.Unlock()
	s.commit(chs)
	return v, true, nil
}

// RemoveLink deletes a link of the item, named by id, or by type and
// target when linkID is 0.
func (s *Store) RemoveLink(idOrKey string, linkID int64, typ, target string) error {
	s.mu.Lock()
	it, err := s.lookup(idOrKey)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	var found *linkRec
	for _, lid := range it.links {
		l := s.links[lid]
		if linkID != 0 && l.ID == linkID {
			found = l
			break
		}
		if linkID == 0 {
			v := s.view(l, it.ID)
			if v.Type == typ && (target == strconv.FormatInt(v.Target.ID, 10) || strings.EqualFold(target, v.Target.Key)) {
				found = l
				break
			}
		}
	}
	if found == nil {
		s.mu.Unlock()
		return notFound("link not found on %s", it.Key)
	}
	delete(s.links, found.ID)
	from, to := s.items[found.From], s.items[found.To]
	for _, end := range []*item{from, to} {
		end.links = slices.DeleteFunc(end.links, func(id int64) bool { return id == found.ID })
	}
	chs := []change{s.touch(from, "item.updated"), s.touch(to, "item.updated")}
	s.mu.Unlock()
	s.commit(chs)
	return nil
}

// RemoteLinks lists an item's remote links.
func (s *Store) RemoteLinks(idOrKey string) ([]RemoteLink, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	it, err := s.lookup(idOrKey)
	if err != nil {
		return nil, err
	}
	return slices.Clone(it.remote), nil
}

// PutRemoteLink adds a remote link, or updates the one with the same
// globalId (created reports which).
func (s *Store) PutRemoteLink(idOrKey string, rl RemoteLink) (RemoteLink, bool, error) {
	if err := checkRemoteLink(rl); err != nil {
		return RemoteLink{}, false, err
	}
	s.mu.Lock()
	it, err := s.lookup(idOrKey)
	if err != nil {
		s.mu.Unlock()
		return RemoteLink{}, false, err
	}
	var chs []change
	i := slices.IndexFunc(it.remote, func(r RemoteLink) bool { return rl.GlobalID != "" && r.GlobalID == rl.GlobalID })
	created := i < 0
	switch {
	case created:
		s.seq.Remote++
		ch := s.touch(it, "item.updated")
		rl.ID, rl.Created = s.seq.Remote, ch.time
		it.remote = append(it.remote, rl)
		chs = append(chs, ch)
	case it.remote[i].URL != rl.URL || it.remote[i].Title != rl.Title || it.remote[i].Relationship != rl.Relationship:
		rl.ID, rl.Created = it.remote[i].ID, it.remote[i].Created
		it.remote[i] = rl
		chs = append(chs, s.touch(it, "item.updated"))
	default:
		rl = it.remote[i]
	}
	s.mu.Unlock()
	s.commit(chs)
	return rl, created, nil
}

// DeleteRemoteLink removes a remote link by id.
func (s *Store) DeleteRemoteLink(idOrKey string, id int64) error {
	s.mu.Lock()
	it, err := s.lookup(idOrKey)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	i := slices.IndexFunc(it.remote, func(r RemoteLink) bool { return r.ID == id })
	if i < 0 {
		s.mu.Unlock()
		return notFound("remote link %d not found on %s", id, it.Key)
	}
	it.remote = slices.Delete(it.remote, i, i+1)
	ch := s.touch(it, "item.updated")
	s.mu.Unlock()
	s.commit([]change{ch})
	return nil
}

func checkRemoteLink(rl RemoteLink) *Error {
	if rl.URL == "" && rl.GlobalID == "" {
		return invalid("url", "a remote link needs a url or a globalId")
	}
	if rl.URL != "" {
		if err := checkURL("url", rl.URL, false); err != nil {
			return err
		}
	}
	if len(rl.GlobalID) > maxGlobalID {
		return invalid("globalId", "is longer than %d characters", maxGlobalID)
	}
	if len(rl.Title) > maxLinkTitle || len(rl.Relationship) > maxLinkTitle {
		return invalid("title", "is longer than %d characters", maxLinkTitle)
	}
	return nil
}

// upsertRemote adds rl or replaces the link with its globalId.
func upsertRemote(list []RemoteLink, rl RemoteLink) []RemoteLink {
	if rl.GlobalID != "" {
		if i := slices.IndexFunc(list, func(r RemoteLink) bool { return r.GlobalID == rl.GlobalID }); i >= 0 {
			rl.ID = list[i].ID
			list[i] = rl
			return list
		}
	}
	return append(list, rl)
}
