package syncer

import (
	"fmt"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// GeneratePairs writes n synced pairs into process proc's state, each as a
// run registers it after copying an item with one comment: the pair record
// with its field bases and comment map, its entity index and list entries,
// and the marker its copy in side B carries. Side A's entities are
// "<keyA>-<i>" with title "<title> <i>", side B's "<keyB>-<i>"; pair i was
// last synced i seconds before now. It is how make bench-scale builds a
// store of a million pairs, which no benchmark could sync through systems
// in its time; an agent opening the store cannot tell them from synced ones.
func GeneratePairs(st *store.Store, proc, keyA, keyB, title string, n int, now time.Time) error {
	const batch = 200 // within Badger's transaction size at the store's 8 MB memtables
	for start := 0; start < n; start += batch {
		err := st.Update(func(tx *store.Tx) error {
			for i := start; i < min(start+batch, n); i++ {
				a := EntityRef{ID: fmt.Sprint(100000 + i), Key: fmt.Sprintf("%s-%d", keyA, i), Title: fmt.Sprintf("%s %d", title, i),
					Type: "incident", Version: "3", URL: fmt.Sprintf("https://a.example.com/%s-%d", keyA, i)}
				b := EntityRef{ID: fmt.Sprint(500000 + i), Key: fmt.Sprintf("%s-%d", keyB, i), Title: a.Title,
					Type: "bug", Version: "2", URL: fmt.Sprintf("https://b.example.com/%s-%d", keyB, i)}
				a.Extras, b.Extras = a.Version+"~00000000", b.Version+"~00000000"
				at := now.Add(-time.Duration(i) * time.Second).UTC()
				p := &Pair{ID: fmt.Sprintf("%s%08d", proc[:min(8, len(proc))], i), Process: proc, A: a, B: b, State: PairSynced,
					Fields: map[string]Base{
						"title|title":       {A: mapping.Hash(a.Title), B: mapping.Hash(b.Title)},
						"status|status":     {A: mapping.Hash("open"), B: mapping.Hash("open")},
						"priority|priority": {A: mapping.Hash("low"), B: mapping.Hash("low")},
					},
					Comments:    map[string]string{"a:" + a.ID + "1": "b:" + b.ID + "1", "b:" + b.ID + "1": "a:" + a.ID + "1"},
					CommentSums: map[string]string{"a:" + a.ID + "1": mapping.Hash("a comment")},
					CreatedAt:   at, LastSyncedAt: at}
				if err := putPairTx(tx, p); err != nil {
					return err
				}
				m := connector.Marker{System: "generated", Key: a.Key}
				if err := tx.SetRaw(keyMark(proc, SideB, m.Text()), []byte(b.ID)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("generate pairs of %s: %w", proc, err)
		}
	}
	return nil
}
