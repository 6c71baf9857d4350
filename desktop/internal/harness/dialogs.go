package harness

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// dialogs stand in for the native file dialogs. A save "chooses" the
// suggested name inside the downloads dir; an open returns the next file a
// test queued with POST /harness/open-file, and cancels when none is queued.
type dialogs struct {
	downloads string

	mu         sync.Mutex
	opens      []string // queued files, oldest first
	cancelNext bool
	tmp        string // holds queued files
}

func (d *dialogs) SaveFile(_, defaultName string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cancelNext {
		d.cancelNext = false
		return "", nil
	}
	return filepath.Join(d.downloads, safeName(defaultName)), nil
}

func (d *dialogs) OpenFile(_, _ string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.opens) == 0 {
		return "", nil
	}
	p := d.opens[0]
	d.opens = d.opens[1:]
	return p, nil
}

// safeName keeps only the base name the UI suggested, so a save never
// leaves the downloads dir.
func safeName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "." || name == "/" || name == ".." || name == "" {
		return "download"
	}
	return name
}

// serveQueueOpen takes {"name", "content"} and makes the next open dialog
// return a file with that name and content.
func (d *dialogs) serveQueueOpen(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name    string `json:"name"`
		Content string `json:"content"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, maxRequest)).Decode(&req); err != nil {
		http.Error(w, "want {name, content}: "+err.Error(), http.StatusBadRequest)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.tmp == "" {
		dir, err := os.MkdirTemp("", "lockstep-harness-open")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		d.tmp = dir
	}
	// One subdirectory per queued file keeps its name without collisions.
	dir := filepath.Join(d.tmp, fmt.Sprint(len(d.opens)+1))
	for i := 1; ; i++ {
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			break
		}
		dir = filepath.Join(d.tmp, fmt.Sprintf("%d-%d", len(d.opens)+1, i))
	}
	p := filepath.Join(dir, safeName(req.Name))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if err := os.WriteFile(p, []byte(req.Content), 0o600); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	d.opens = append(d.opens, p)
	w.WriteHeader(http.StatusNoContent)
}

func (d *dialogs) serveCancelSave(w http.ResponseWriter, _ *http.Request) {
	d.mu.Lock()
	d.cancelNext = true
	d.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// download describes one saved file, for tests that check what was saved.
type download struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

func (d *dialogs) serveList(w http.ResponseWriter, _ *http.Request) {
	entries, err := os.ReadDir(d.downloads)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	out := []download{}
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue // the bridge's partial files start with a dot
		}
		f, err := os.Open(filepath.Join(d.downloads, e.Name()))
		if err != nil {
			continue
		}
		h := sha256.New()
		n, err := io.Copy(h, f)
		f.Close()
		if err != nil {
			continue
		}
		out = append(out, download{Name: e.Name(), Size: n, SHA256: hex.EncodeToString(h.Sum(nil))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func (d *dialogs) cleanup() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.tmp != "" {
		_ = os.RemoveAll(d.tmp)
		d.tmp = ""
	}
}
