package sandbox

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// The data file is one JSON document, rewritten whole after changes. That is
// plenty for a demo and test system (thousands of items) and keeps the file
// readable and diffable by people.

const snapshotFormat = 1

type snapshot struct {
	Format     int           `json:"format"`
	Clock      time.Time     `json:"clock"`
	Seq        sequences     `json:"seq"`
	Users      []User        `json:"users"`
	Projects   []snapProject `json:"projects"`
	Items      []snapItem    `json:"items"`
	Links      []linkRec     `json:"links"`
	Webhooks   []Webhook     `json:"webhooks"`
	ServeToken string        `json:"serveToken,omitempty"`
}

type snapProject struct {
	Project
	Counter int64       `json:"counter"`
	Deleted []Tombstone `json:"deleted,omitempty"`
}

type snapItem struct {
	Item
	Comments    []Comment    `json:"comments,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	RemoteLinks []RemoteLink `json:"remoteLinks,omitempty"`
}

// marshal encodes the whole store.
func (s *Store) marshal() ([]byte, error) {
	s.mu.RLock()
	snap := snapshot{Format: snapshotFormat, Clock: s.last, Seq: s.seq, ServeToken: s.serveToken,
		Users: []User{}, Projects: []snapProject{}, Items: make([]snapItem, 0, len(s.items)), Links: []linkRec{}, Webhooks: []Webhook{}}
	for _, id := range s.userIDs {
		snap.Users = append(snap.Users, s.users[id])
	}
	for _, k := range s.projKeys {
		p := s.projects[k]
		snap.Projects = append(snap.Projects, snapProject{Project: p.Project, Counter: p.counter, Deleted: p.deleted})
		for _, it := range p.order {
			snap.Items = append(snap.Items, snapItem{Item: it.Item, Comments: it.comments, Attachments: it.attachments, RemoteLinks: it.remote})
		}
	}
	for _, l := range s.links {
		snap.Links = append(snap.Links, *l)
	}
	for _, w := range s.webhooks {
		snap.Webhooks = append(snap.Webhooks, w)
	}
	// Encode under the lock: the snapshot shares the store's slices.
	data, err := json.MarshalIndent(snap, "", " ")
	s.mu.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("encode sandbox data: %w", err)
	}
	return data, nil
}

// unmarshal replaces an empty store's content with a snapshot.
func (s *Store) unmarshal(data []byte) error {
	var snap snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("decode sandbox data: %w", err)
	}
	if snap.Format != snapshotFormat {
		return fmt.Errorf("decode sandbox data: format %d, want %d", snap.Format, snapshotFormat)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last, s.seq, s.serveToken = snap.Clock, snap.Seq, snap.ServeToken
	for _, u := range snap.Users {
		s.users[u.ID] = u
		s.userIDs = append(s.userIDs, u.ID)
	}
	for _, p := range snap.Projects {
		s.projects[p.Key] = &projectState{Project: p.Project, counter: p.Counter, deleted: p.Deleted}
		s.projKeys = append(s.projKeys, p.Key)
	}
	for _, si := range snap.Items {
		p, ok := s.projects[si.Project]
		if !ok {
			return fmt.Errorf("decode sandbox data: item %s of unknown project %q", si.Key, si.Project)
		}
		it := &item{Item: si.Item.clone(), comments: si.Comments, attachments: si.Attachments, remote: si.RemoteLinks}
		s.items[it.ID] = it
		s.keys[it.Key] = it.ID
		p.order = append(p.order, it)
		for _, a := range it.attachments {
			s.attIndex[a.ID] = it.ID
		}
	}
	for _, p := range s.projects {
		slices.SortFunc(p.order, func(a, b *item) int {
			return cmp.Or(a.Updated.Compare(b.Updated), cmp.Compare(a.ID, b.ID))
		})
	}
	slices.SortFunc(snap.Links, func(a, b linkRec) int { return cmp.Compare(a.ID, b.ID) })
	for _, l := range snap.Links {
		from, ok1 := s.items[l.From]
		to, ok2 := s.items[l.To]
		if !ok1 || !ok2 {
			return fmt.Errorf("decode sandbox data: link %d joins unknown items", l.ID)
		}
		s.links[l.ID] = &l
		from.links = append(from.links, l.ID)
		to.links = append(to.links, l.ID)
	}
	for _, w := range snap.Webhooks {
		s.webhooks[w.ID] = w
	}
	return nil
}

// writeFileAtomic replaces path with data so that a crash leaves either the
// old file or the new one, never a torn one: write a temporary file in the
// same directory, flush it to disk, rename it over the target.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o600)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename durable where the OS allows opening a directory;
// Windows does not, and there the rename is already journalled.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: the data file itself is synced
		d.Close()
	}
}
