package sandbox

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// maxJSONBody bounds JSON request bodies; attachments have their own limit.
const maxJSONBody = 1 << 20

type handlerFunc func(w http.ResponseWriter, r *http.Request, tok Token)

// methods maps HTTP methods to handlers for one path. Routing on the path
// alone (not "GET /path") lets the sandbox answer a wrong method with a
// JSON 405 like the rest of its errors.
type methods map[string]handlerFunc

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	api := func(path string, m methods) { s.route(mux, path, true, m) }
	admin := func(path string, m methods) { s.route(mux, path, false, m) }

	api("/api/myself", methods{"GET": s.getMyself})
	api("/api/users", methods{"GET": s.listUsers})
	api("/api/projects", methods{"GET": s.listProjects, "POST": s.createProject})
	api("/api/projects/{key}", methods{"GET": s.getProject})
	api("/api/projects/{key}/schema", methods{"GET": s.getSchema})
	api("/api/items", methods{"GET": s.listItems, "POST": s.createItem})
	api("/api/items/{id}", methods{"GET": s.getItem, "PATCH": s.patchItem, "DELETE": s.deleteItem})
	api("/api/items/{id}/comments", methods{"GET": s.listComments, "POST": s.addComment})
	api("/api/items/{id}/comments/{cid}", methods{"PATCH": s.editComment, "DELETE": s.deleteComment})
	api("/api/items/{id}/attachments", methods{"GET": s.listAttachments, "POST": s.uploadAttachment})
	api("/api/attachments/{aid}", methods{"GET": s.getAttachment, "DELETE": s.deleteAttachment})
	api("/api/attachments/{aid}/content", methods{"GET": s.downloadAttachment})
	api("/api/items/{id}/links", methods{"GET": s.listLinks, "POST": s.addLink, "DELETE": s.removeLinkByQuery})
	api("/api/items/{id}/links/{lid}", methods{"DELETE": s.removeLink})
	api("/api/items/{id}/remotelinks", methods{"GET": s.listRemoteLinks, "POST": s.putRemoteLink})
	api("/api/items/{id}/remotelinks/{rid}", methods{"DELETE": s.deleteRemoteLink})
	api("/api/webhooks", methods{"GET": s.listWebhooks, "POST": s.addWebhook})
	api("/api/webhooks/{wid}", methods{"DELETE": s.removeWebhook})
	admin("/admin/knobs", methods{"GET": s.getKnobs, "PUT": s.setKnobs, "PATCH": s.setKnobs, "POST": s.setKnobs})
	admin("/admin/stats", methods{"GET": s.getStats, "DELETE": s.resetStats})

	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			s.stats.request("unknown", http.StatusNotFound, false)
		}
		writeError(w, notFound("no endpoint %s", r.URL.Path))
	})
	return mux
}

// route wraps a path's handlers in what every request goes through, in
// the order a real service applies it: latency, authentication, rate
// limits, injected faults, permission, then the handler.
func (s *Server) route(mux *http.ServeMux, path string, api bool, m methods) {
	allow := make([]string, 0, len(m))
	for meth := range m {
		allow = append(allow, meth)
	}
	slices.Sort(allow)
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		injected := false
		if api {
			// Counted as the answer starts, before the client can read
			// it: a test that reads the stats after its call returns
			// sees that call.
			route := r.Method + " " + path
			rec.onAnswer = func(status int) { s.stats.request(route, status, injected) }
			defer rec.answered()
			if d := s.guard.delay(); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-r.Context().Done():
					t.Stop()
					rec.status = 499 // the client left; nginx's name for it
					return
				case <-t.C:
				}
			}
		}
		tok, ok := s.authenticate(r)
		if !ok {
			rec.Header().Set("WWW-Authenticate", `Bearer realm="sandbox"`)
			writeError(rec, &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: "missing or unknown bearer token"})
			return
		}
		if api {
			v := s.guard.admit(s.opts.Now())
			v.write(rec.Header())
			if v.limited {
				writeError(rec, &Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited, Message: "rate limit exceeded; retry after the Retry-After seconds"})
				return
			}
			if st := s.guard.fault(); st != 0 {
				injected = true
				writeError(rec, &Error{Status: st, Code: CodeUnavailable, Message: "injected fault: the request was not processed"})
				return
			}
		}
		h, ok := m[r.Method]
		if !ok && r.Method == http.MethodHead {
			h, ok = m[http.MethodGet]
		}
		if !ok {
			rec.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(rec, &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethod, Message: r.Method + " is not supported here"})
			return
		}
		if tok.ReadOnly && r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeError(rec, &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: "this token is read-only"})
			return
		}
		h(rec, r, tok)
	})
}

func (s *Server) authenticate(r *http.Request) (Token, bool) {
	scheme, value, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return Token{}, false
	}
	return s.token(strings.TrimSpace(value))
}

// recorder remembers the status for the counters.
type recorder struct {
	http.ResponseWriter
	status   int
	wrote    bool
	onAnswer func(status int) // called once, before the first byte goes out
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status = code
		r.answered()
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.answered()
	}
	return r.ResponseWriter.Write(b)
}

// answered marks the answer as started and reports it once; deferred, it
// also reports answers that never wrote (a client that left).
func (r *recorder) answered() {
	if r.wrote {
		return
	}
	r.wrote = true
	if r.onAnswer != nil {
		r.onAnswer(r.status)
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v) // a failed write means the client left
}

// writeError sends {"error":{...}}; anything but an *Error is a bug and
// is answered 500 without detail.
func writeError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = internal("internal error")
	}
	writeJSON(w, e.Status, map[string]*Error{"error": e})
}

// decode reads a JSON body strictly: unknown members are a 400 naming them,
// so a client's typo fails loudly instead of being ignored.
func decode(w http.ResponseWriter, r *http.Request, v any) *Error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if dec.More() {
			return invalid("body", "holds more than one JSON value")
		}
		return nil
	}
	var mbe *http.MaxBytesError
	var ute *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return tooLarge("request body is larger than %d bytes", maxJSONBody)
	case errors.As(err, &ute):
		field := ute.Field
		if field == "" {
			field = "body"
		}
		return invalid(field, "must be %s", jsonKind(ute.Type.Kind().String()))
	case errors.Is(err, io.EOF):
		return invalid("body", "is empty; a JSON object is required")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return invalid(name, "is not a known field")
	default:
		return invalid("body", "is not valid JSON: %v", err)
	}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "map", "struct":
		return "an object"
	case "bool":
		return "true or false"
	default:
		return "a number"
	}
}
