package sandbox

import (
	"cmp"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Store holds the sandbox's data in memory. Every method is safe for
// concurrent use and returns copies, so callers never share the store's
// slices or maps. Methods return *Error for refused operations.
type Store struct {
	mu   sync.RWMutex
	now  func() time.Time
	last time.Time // the last timestamp handed out; see tick

	seq      sequences
	users    map[string]User
	userIDs  []string // registration order
	projects map[string]*projectState
	projKeys []string
	items    map[int64]*item
	keys     map[string]int64 // "HELP-3" -> item id
	links    map[int64]*linkRec
	attIndex map[int64]int64 // attachment id -> item id
	webhooks map[int64]Webhook

	blobs     blobStore
	maxUpload int64

	// serveToken is the token Serve generated, kept so a restarted demo
	// sandbox answers to the token its systems were configured with.
	serveToken string

	// changed, when set, hears of every committed change after the lock is
	// released: the server marks the snapshot dirty and queues webhooks.
	changed func([]change)
}

type sequences struct {
	Item, Comment, Attachment, Link, Remote, Webhook int64
}

type projectState struct {
	Project
	counter int64
	// order holds the project's items ascending by (Updated, ID). Every
	// change stamps an item with a server-wide maximum time, so a changed
	// item always moves to the end: pages never miss it.
	order []*item
	// deleted holds the project's deleted items, oldest first.
	deleted []Tombstone
}

type item struct {
	Item
	comments    []Comment
	attachments []Attachment
	remote      []RemoteLink
	links       []int64 // ids of linkRec touching this item
}

// linkRec is a typed link stored once, from From's point of view.
type linkRec struct {
	ID   int64  `json:"id"`
	From int64  `json:"from"`
	Type string `json:"type"`
	To   int64  `json:"to"`
}

// change is one committed event for webhooks and persistence.
type change struct {
	event string // item.created, item.updated; "" only marks the data dirty
	ref   ItemRef
	time  time.Time
	// hook and unhook tell the webhook dispatcher about subscriptions.
	hook   *Webhook
	unhook int64
}

func newStore(now func() time.Time, blobs blobStore, maxUpload int64) *Store {
	return &Store{
		now: now, blobs: blobs, maxUpload: maxUpload,
		users: map[string]User{}, projects: map[string]*projectState{},
		items: map[int64]*item{}, keys: map[string]int64{}, links: map[int64]*linkRec{},
		attIndex: map[int64]int64{}, webhooks: map[int64]Webhook{},
	}
}

// tick returns the time stamped on a change: the clock truncated to a
// microsecond, but always strictly after the previous stamp. A clock that
// stalls or steps back therefore never lets "updated since" miss a change.
// Callers hold the write lock.
func (s *Store) tick() time.Time {
	t := s.now().UTC().Truncate(time.Microsecond)
	if !t.After(s.last) {
		t = s.last.Add(time.Microsecond)
	}
	s.last = t
	return t
}

// commit reports changes; callers invoke it after releasing the lock.
func (s *Store) commit(ch []change) {
	if len(ch) > 0 && s.changed != nil {
		s.changed(ch)
	}
}

// touch stamps a changed item, bumps its version and moves it to the end of
// its project's order. Callers hold the write lock.
func (s *Store) touch(it *item, event string) change {
	p := s.projects[it.Project]
	if i := orderIndex(p.order, it.Updated, it.ID); i < len(p.order) && p.order[i] == it {
		p.order = slices.Delete(p.order, i, i+1)
	}
	it.Updated = s.tick()
	it.Version++
	p.order = append(p.order, it)
	return change{event: event, ref: ItemRef{ID: it.ID, Key: it.Key, Project: it.Project}, time: it.Updated}
}

// orderIndex is the first position whose (Updated, ID) is >= (t, id).
func orderIndex(order []*item, t time.Time, id int64) int {
	return sort.Search(len(order), func(i int) bool {
		o := order[i]
		return o.Updated.After(t) || (o.Updated.Equal(t) && o.ID >= id)
	})
}

var (
	projectKeyRe = regexp.MustCompile(`^[A-Z][A-Z0-9]{1,9}$`)
	fieldNameRe  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,49}$`)
	userIDRe     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)
)

// AddUser registers a user; an existing id is a conflict.
func (s *Store) AddUser(u User) (User, error) {
	u.ID = strings.TrimSpace(u.ID)
	if !userIDRe.MatchString(u.ID) {
		return User{}, invalid("id", "must be 1-64 letters, digits or ._@-")
	}
	if strings.TrimSpace(u.Name) == "" {
		u.Name = u.ID
	}
	s.mu.Lock()
	if _, dup := s.users[u.ID]; dup {
		s.mu.Unlock()
		return User{}, conflict("user %s already exists", u.ID)
	}
	s.users[u.ID] = u
	s.userIDs = append(s.userIDs, u.ID)
	s.mu.Unlock()
	s.commit([]change{{}})
	return u, nil
}

// Users lists users in registration order.
func (s *Store) Users() []User {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]User, 0, len(s.userIDs))
	for _, id := range s.userIDs {
		out = append(out, s.users[id])
	}
	return out
}

// User returns one user.
func (s *Store) User(id string) (User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.users[id]
	if !ok {
		return User{}, notFound("user %s not found", id)
	}
	return u, nil
}

// CreateProject adds a project. Empty Types and Statuses take the defaults.
func (s *Store) CreateProject(p Project) (Project, error) {
	p = p.clone()
	if !projectKeyRe.MatchString(p.Key) {
		return Project{}, invalid("key", "must be 2-10 upper-case letters or digits, starting with a letter")
	}
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" || len(p.Name) > 100 {
		return Project{}, invalid("name", "must be 1-100 characters")
	}
	if len(p.Types) == 0 {
		p.Types = slices.Clone(DefaultTypes)
	}
	for _, t := range p.Types {
		if !slices.Contains(DefaultTypes, t) {
			return Project{}, invalid("types", "%q is not one of %s", t, strings.Join(DefaultTypes, ", "))
		}
	}
	if len(p.Statuses) == 0 {
		p.Statuses = slices.Clone(DefaultStatuses)
	}
	for _, st := range p.Statuses {
		if !fieldNameRe.MatchString(st) {
			return Project{}, invalid("statuses", "%q must be lower-case letters, digits and _", st)
		}
	}
	seen := map[string]bool{}
	for i, f := range p.CustomFields {
		if !fieldNameRe.MatchString(f.Name) || seen[f.Name] {
			return Project{}, invalid("customFields", "field %d: name %q must be unique lower-case letters, digits and _", i, f.Name)
		}
		seen[f.Name] = true
		switch f.Type {
		case FieldString, FieldNumber, FieldBool:
		case FieldEnum:
			if len(f.Values) == 0 {
				return Project{}, invalid("customFields", "enum field %s needs values", f.Name)
			}
		default:
			return Project{}, invalid("customFields", "field %s: type %q is not string, number, bool or enum", f.Name, f.Type)
		}
		if f.Label == "" {
			p.CustomFields[i].Label = f.Name
		}
	}
	if p.CustomFields == nil {
		p.CustomFields = []FieldDef{}
	}
	s.mu.Lock()
	if _, dup := s.projects[p.Key]; dup {
		s.mu.Unlock()
		return Project{}, conflict("project %s already exists", p.Key)
	}
	s.projects[p.Key] = &projectState{Project: p}
	s.projKeys = append(s.projKeys, p.Key)
	s.mu.Unlock()
	s.commit([]change{{}})
	return p.clone(), nil
}

// Projects lists projects in creation order.
func (s *Store) Projects() []Project {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Project, 0, len(s.projKeys))
	for _, k := range s.projKeys {
		out = append(out, s.projects[k].Project.clone())
	}
	return out
}

// Project returns one project.
func (s *Store) Project(key string) (Project, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.projects[key]
	if !ok {
		return Project{}, notFound("project %s not found", key)
	}
	return p.Project.clone(), nil
}

// AddWebhook subscribes url to a project's item events.
func (s *Store) AddWebhook(w Webhook) (Webhook, error) {
	if err := checkURL("url", w.URL, true); err != nil {
		return Webhook{}, err
	}
	if w.Secret == "" {
		return Webhook{}, invalid("secret", "is required: deliveries are signed with it")
	}
	if len(w.Secret) > 256 {
		return Webhook{}, invalid("secret", "is longer than 256 characters")
	}
	s.mu.Lock()
	if _, ok := s.projects[w.Project]; !ok {
		s.mu.Unlock()
		return Webhook{}, invalid("project", "project %q not found", w.Project)
	}
	s.seq.Webhook++
	w.ID = s.seq.Webhook
	w.Created = s.tick()
	s.webhooks[w.ID] = w
	s.mu.Unlock()
	s.commit([]change{{hook: &w}})
	return w, nil
}

// RemoveWebhook deletes a subscription.
func (s *Store) RemoveWebhook(id int64) error {
	s.mu.Lock()
	if _, ok := s.webhooks[id]; !ok {
		s.mu.Unlock()
		return notFound("webhook %d not found", id)
	}
	delete(s.webhooks, id)
	s.mu.Unlock()
	s.commit([]change{{unhook: id}})
	return nil
}

// Webhooks lists subscriptions by id, secrets included (the server strips
// them from API answers).
func (s *Store) Webhooks() []Webhook {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Webhook, 0, len(s.webhooks))
	for _, w := range s.webhooks {
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b Webhook) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
