// Package harness serves the desktop UI to an ordinary browser for
// Playwright tests: the built frontend over loopback HTTP, every bridge.App
// method as POST /bridge/<Method>, bridge events as Server-Sent Events, and
// a script injected into index.html that defines window.go.bridge.App and
// window.runtime the way Wails does, so the UI code runs unchanged against
// the real Go bridge and a real agent, without a display.
//
// It is a test tool: it listens on loopback only, and it is never linked
// into the desktop binary (only desktop/cmd/lockstep-harness imports it).
package harness

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/lockstep-sync/lockstep/desktop/bridge"
	"github.com/lockstep-sync/lockstep/desktop/internal/profile"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// Options configure a Server.
type Options struct {
	// Dist is the built frontend (frontend/dist); it must hold index.html.
	Dist fs.FS
	// Profiles is the profile store the bridge uses; tests give it a
	// temporary file so they never touch the user's own profiles.
	Profiles *profile.Store
	// Downloads is where save dialogs write: the file keeps the name the
	// UI suggested.
	Downloads string
	// Name and Version are what AppInfo reports.
	Name, Version string
	Logger        *slog.Logger
}

// maxRequest bounds a bridge call's arguments; the agent's own frame
// limit is 4 MiB.
const maxRequest = 8 << 20

// Server is the harness. Create it with New, serve Handler, Close at the end.
type Server struct {
	app     *bridge.App
	hub     *hub
	dlg     *dialogs
	dist    fs.FS
	index   []byte
	methods map[string]reflect.Value
	log     *slog.Logger
}

// New builds the bridge with the harness's event hub and dialogs.
func New(o Options) (*Server, error) {
	if o.Dist == nil || o.Profiles == nil || o.Downloads == "" {
		return nil, errors.New("start harness: Dist, Profiles and Downloads are required")
	}
	index, err := fs.ReadFile(o.Dist, "index.html")
	if err != nil {
		return nil, fmt.Errorf("start harness: read index.html from the frontend build (run npm --prefix frontend run build): %w", err)
	}
	if err := os.MkdirAll(o.Downloads, 0o700); err != nil {
		return nil, fmt.Errorf("start harness: create downloads dir: %w", err)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{hub: newHub(), dist: o.Dist, log: log}
	s.dlg = &dialogs{downloads: o.Downloads}
	s.app = bridge.New(bridge.Config{
		Name: o.Name, Version: o.Version,
		Profiles: o.Profiles,
		Events:   s.hub,
		Dialogs:  s.dlg,
		Logger:   log,
	})
	s.methods = boundMethods(s.app)
	s.index, err = injectShim(index)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Close disconnects the bridge and ends the event streams.
func (s *Server) Close() {
	bridge.Shutdown(s.app)
	s.hub.close()
	s.dlg.cleanup()
}

// Methods lists the bridge methods the harness serves, sorted.
func (s *Server) Methods() []string {
	out := make([]string, 0, len(s.methods))
	for n := range s.methods {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// boundMethods lists what Wails binds: every exported method of the struct.
func boundMethods(app *bridge.App) map[string]reflect.Value {
	v := reflect.ValueOf(app)
	t := v.Type()
	out := map[string]reflect.Value{}
	for i := range t.NumMethod() {
		out[t.Method(i).Name] = v.Method(i)
	}
	return out
}

// Handler serves the UI, the bridge, the event stream and the test controls.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /bridge/{method}", s.serveCall)
	mux.HandleFunc("GET /harness/events", s.hub.serve)
	mux.HandleFunc("GET /harness/shim.js", s.serveShim)
	mux.HandleFunc("POST /harness/open-file", s.dlg.serveQueueOpen)
	mux.HandleFunc("POST /harness/cancel-next-save", s.dlg.serveCancelSave)
	mux.HandleFunc("GET /harness/downloads", s.dlg.serveList)
	mux.HandleFunc("GET /", s.serveAsset)
	return guard(mux)
}

// guard refuses requests that do not come from a page on this loopback
// origin: a Host other than a loopback name (DNS rebinding) or a foreign
// Origin (another site's page posting to the bridge).
func guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		if ip := net.ParseIP(host); !(host == "localhost" || ip != nil && ip.IsLoopback()) {
			http.Error(w, "harness serves loopback only", http.StatusForbidden)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
			http.Error(w, "cross-origin request refused", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// serveCall runs one bridge method: the body is the JSON array of its
// arguments, decoded like Wails decodes them; the answer is the JSON
// result, or a 4xx with {kind, message}.
func (s *Server) serveCall(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("method")
	m, ok := s.methods[name]
	if !ok {
		writeError(w, http.StatusNotFound, &bridge.Error{Kind: string(protocol.KindNotFound), Message: fmt.Sprintf("no bridge method %q", name)})
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		// A JSON content type cannot be sent cross-origin without a
		// preflight, which the harness never answers.
		writeError(w, http.StatusUnsupportedMediaType, &bridge.Error{Kind: string(protocol.KindInvalid), Message: "send the arguments as application/json"})
		return
	}
	var args []json.RawMessage
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequest))
	if err == nil && len(bytes.TrimSpace(body)) > 0 {
		err = json.Unmarshal(body, &args)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, &bridge.Error{Kind: string(protocol.KindInvalid), Message: "arguments must be a JSON array: " + err.Error()})
		return
	}
	in, err := decodeArgs(name, m.Type(), args)
	if err != nil {
		writeError(w, http.StatusBadRequest, &bridge.Error{Kind: string(protocol.KindInvalid), Message: err.Error()})
		return
	}
	result, err := call(m, in)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, bridge.FormatError(err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := json.NewEncoder(w).Encode(result); err != nil {
		s.log.Warn("write bridge result", "method", name, "err", err)
	}
}

// decodeArgs mirrors Wails' BoundMethod.ParseArgs: the count must match,
// and each argument is unmarshalled into the parameter's type.
func decodeArgs(name string, t reflect.Type, args []json.RawMessage) ([]reflect.Value, error) {
	if len(args) != t.NumIn() {
		return nil, fmt.Errorf("received %d arguments to method '%s', expected %d", len(args), name, t.NumIn())
	}
	in := make([]reflect.Value, len(args))
	for i, a := range args {
		p := reflect.New(t.In(i))
		if err := json.Unmarshal(a, p.Interface()); err != nil {
			return nil, fmt.Errorf("argument %d of %s: %w", i+1, name, err)
		}
		in[i] = p.Elem()
	}
	return in, nil
}

var errorType = reflect.TypeFor[error]()

// call invokes m; like Wails, a trailing error result is the error and the
// first other result is the value.
func call(m reflect.Value, in []reflect.Value) (any, error) {
	out := m.Call(in)
	var result any
	for i, v := range out {
		if m.Type().Out(i) == errorType {
			if !v.IsNil() {
				return nil, v.Interface().(error)
			}
			continue
		}
		result = v.Interface()
	}
	return result, nil
}

func writeError(w http.ResponseWriter, status int, e *bridge.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(e)
}

// serveAsset serves the frontend build; index.html (and any path that is
// not a file, for client-side routes) gets the shim.
func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
	if p != "" && p != "index.html" {
		if fi, err := fs.Stat(s.dist, p); err == nil && !fi.IsDir() {
			http.ServeFileFS(w, r, s.dist, p)
			return
		}
		if path.Ext(p) != "" {
			http.NotFound(w, r)
			return
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(s.index)
}

// injectShim puts the shim's script tag first in <head>, so window.go and
// window.runtime exist before any of the app's scripts run, as in Wails.
func injectShim(index []byte) ([]byte, error) {
	tag := []byte(`<script src="/harness/shim.js"></script>`)
	lower := bytes.ToLower(index)
	i := bytes.Index(lower, []byte("<head"))
	if i < 0 {
		return nil, errors.New("start harness: index.html has no <head>")
	}
	j := bytes.IndexByte(index[i:], '>')
	if j < 0 {
		return nil, errors.New("start harness: index.html has an unterminated <head>")
	}
	at := i + j + 1
	out := make([]byte, 0, len(index)+len(tag))
	out = append(out, index[:at]...)
	out = append(out, tag...)
	return append(out, index[at:]...), nil
}

func (s *Server) serveShim(w http.ResponseWriter, _ *http.Request) {
	names, _ := json.Marshal(s.Methods())
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, strings.Replace(shimJS, "__METHODS__", string(names), 1))
}

// hub fans bridge events out to every open event stream.
type hub struct {
	mu      sync.Mutex
	clients map[chan []byte]struct{}
	closed  bool
}

// clientBuffer is how many events a slow page may lag before its stream
// is closed (EventSource then reconnects); the UI must cope with missed
// events anyway, as it must after a Wails reload.
const clientBuffer = 4096

func newHub() *hub { return &hub{clients: map[chan []byte]struct{}{}} }

// Emit implements bridge.Emitter with the payload Wails would deliver:
// listeners are called with the emitted data as arguments.
func (h *hub) Emit(event string, payload any) {
	b, err := json.Marshal(struct {
		Name string `json:"name"`
		Data []any  `json:"data"`
	}{event, []any{payload}})
	if err != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		select {
		case c <- b:
		default:
			delete(h.clients, c)
			close(c)
		}
	}
}

func (h *hub) serve(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	c := make(chan []byte, clientBuffer)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		http.Error(w, "harness closing", http.StatusServiceUnavailable)
		return
	}
	h.clients[c] = struct{}{}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		if _, ok := h.clients[c]; ok {
			delete(h.clients, c)
			close(c)
		}
		h.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	// The comment line lets EventSource fire "open" at once.
	_, _ = io.WriteString(w, ": lockstep harness\n\n")
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case b, ok := <-c:
			if !ok {
				return
			}
			if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for c := range h.clients {
		delete(h.clients, c)
		close(c)
	}
}
