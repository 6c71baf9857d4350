package system

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// drafts remembers the tests of connections not saved yet (a form tested
// before Create or Update), so that saving exactly what was tested keeps
// that test as the system's last test: an administrator who fixed a token
// and saw the form's test pass sees the system reachable at once, not
// failing until a run of a process that uses it works. For a saved system
// only its latest draft test counts, once. A connection is
// known by a keyed hash of its kind, URL, settings and secrets; the key is
// random for each start of the agent, so nothing a secret could be guessed
// from is kept, and an edit made after the test (another field, another
// token) makes another hash: that test does not count.
type drafts struct {
	mu   sync.Mutex
	key  []byte
	list []draft // oldest first, at most maxDrafts
}

type draft struct {
	system string // "" for a system not created yet
	sum    [sha256.Size]byte
	test   apitype.SystemTest
}

const (
	// maxDrafts bounds what draft tests cost in memory: a form's tests
	// are a few a minute.
	maxDrafts = 32
	// draftTTL is how long a draft test counts for a save: long enough to
	// test, read the answer and save; after that, test again.
	draftTTL = 30 * time.Minute
)

func newDrafts() *drafts {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand does not fail on supported platforms
	return &drafts{key: key}
}

// connection is what a connection test depends on, in one canonical form
// (encoding/json sorts map keys; a setting stored as a number reads back
// as float64 and encodes as the int64 it was saved from).
type connection struct {
	Kind     string            `json:"kind"`
	URL      string            `json:"url"`
	Settings map[string]any    `json:"settings"`
	Secrets  map[string]string `json:"secrets"`
}

func (d *drafts) sum(cfg connector.Config) ([sha256.Size]byte, bool) {
	c := connection{Kind: cfg.Kind, URL: cfg.URL, Settings: cfg.Settings, Secrets: map[string]string{}}
	if c.Settings == nil {
		c.Settings = map[string]any{}
	}
	for k, v := range cfg.Secrets {
		if v.IsSet() {
			c.Secrets[k] = v.Reveal()
		}
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return [sha256.Size]byte{}, false // a setting JSON cannot say was never saved either
	}
	m := hmac.New(sha256.New, d.key)
	m.Write(raw)
	var out [sha256.Size]byte
	copy(out[:], m.Sum(nil))
	return out, true
}

// remember keeps the test of a draft connection of system (a saved
// system's id, or "" for one not created yet); for a saved system it
// replaces the test of its previous draft.
func (d *drafts) remember(system string, cfg connector.Config, t apitype.SystemTest) {
	sum, ok := d.sum(cfg)
	if !ok {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.list = slices.DeleteFunc(d.list, func(x draft) bool {
		return x.system == system && (system != "" || x.sum == sum)
	})
	if len(d.list) == maxDrafts {
		d.list = d.list[1:]
	}
	d.list = append(d.list, draft{system: system, sum: sum, test: t})
}

// take returns and forgets the test of exactly the connection cfg, made
// less than draftTTL before now, of system: for a saved system its latest
// draft test if that is of cfg; for "" (a system just created) any test of
// a new system's draft of cfg. Nil when there is none.
func (d *drafts) take(system string, cfg connector.Config, now time.Time) *apitype.SystemTest {
	sum, ok := d.sum(cfg)
	if !ok {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := len(d.list) - 1; i >= 0; i-- {
		x := d.list[i]
		if x.system != system || (system == "" && x.sum != sum) {
			continue
		}
		if x.sum != sum || now.Sub(x.test.At) >= draftTTL {
			return nil // the system's latest draft is of another connection, or stale
		}
		d.list = slices.Delete(d.list, i, i+1)
		return &x.test
	}
	return nil
}
