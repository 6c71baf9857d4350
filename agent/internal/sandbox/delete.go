package sandbox

import "slices"

// DeleteItem deletes an item with its comments, attachments and links, as
// real trackers do, and leaves a tombstone that lists of changes report
// (include_deleted=true) and an item.deleted webhook event.
func (s *Store) DeleteItem(idOrKey string) error {
	s.mu.Lock()
	it, err := s.lookup(idOrKey)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	p := s.projects[it.Project]
	if i := orderIndex(p.order, it.Updated, it.ID); i < len(p.order) && p.order[i] == it {
		p.order = slices.Delete(p.order, i, i+1)
	}
	delete(s.items, it.ID)
	delete(s.keys, it.Key)
	var blobs []int64
	for _, a := range it.attachments {
		delete(s.attIndex, a.ID)
		blobs = append(blobs, a.ID)
	}
	for _, lid := range it.links {
		l, ok := s.links[lid]
		if !ok {
			continue
		}
		delete(s.links, lid)
		other := l.To
		if other == it.ID {
			other = l.From
		}
		if o, ok := s.items[other]; ok {
			o.links = slices.DeleteFunc(o.links, func(id int64) bool { return id == lid })
		}
	}
	at := s.tick()
	p.deleted = append(p.deleted, Tombstone{ID: it.ID, Key: it.Key, Deleted: at})
	ch := change{event: "item.deleted", ref: ItemRef{ID: it.ID, Key: it.Key, Project: it.Project}, time: at}
	s.mu.Unlock()
	for _, id := range blobs {
		s.blobs.remove(id)
	}
	s.commit([]change{ch})
	return nil
}

// DeleteComment deletes a comment; the item counts as changed.
func (s *Store) DeleteComment(idOrKey string, commentID int64) error {
	s.mu.Lock()
	it, err := s.lookup(idOrKey)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	i := slices.IndexFunc(it.comments, func(c Comment) bool { return c.ID == commentID })
	if i < 0 {
		s.mu.Unlock()
		return notFound("comment %d not found on %s", commentID, it.Key)
	}
	it.comments = slices.Delete(it.comments, i, i+1)
	ch := s.touch(it, "item.updated")
	s.mu.Unlock()
	s.commit([]change{ch})
	return nil
}

// DeleteAttachment deletes an attachment and its content; its item counts
// as changed.
func (s *Store) DeleteAttachment(id int64) error {
	s.mu.Lock()
	itemID, ok := s.attIndex[id]
	if !ok {
		s.mu.Unlock()
		return notFound("attachment %d not found", id)
	}
	it := s.items[itemID]
	it.attachments = slices.DeleteFunc(it.attachments, func(a Attachment) bool { return a.ID == id })
	delete(s.attIndex, id)
	ch := s.touch(it, "item.updated")
	s.mu.Unlock()
	s.blobs.remove(id)
	s.commit([]change{ch})
	return nil
}
