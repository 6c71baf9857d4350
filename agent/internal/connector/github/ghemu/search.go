package ghemu

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// searchIssues is GET /search/issues: the q syntax's terms and quoted
// phrases, matched without case in the title and body (in:title, in:body
// narrow it), and the qualifiers repo:, is:issue, is:pr, is:open,
// is:closed, state: and type:. It searches the index, which lags behind
// writes by Options.SearchLag ("eventually consistent"); results come best
// match first, which here is the most recently updated.
func (e *Emu) searchIssues(w http.ResponseWriter, r *http.Request, _ *User) {
	q := r.URL.Query().Get("q")
	var terms, repos []string
	var in []string
	kind, state := "", ""
	free := 0
	for _, tok := range tokens(q) {
		key, val, qualified := strings.Cut(tok, ":")
		if strings.HasPrefix(tok, `"`) {
			qualified = false
		}
		switch {
		case qualified && key == "repo":
			repos = append(repos, strings.ToLower(val))
		case qualified && (key == "is" || key == "type"):
			switch val {
			case "issue", "pr", "pull-request":
				kind = val
			case "open", "closed":
				state = val
			}
		case qualified && key == "state":
			state = val
		case qualified && key == "in":
			in = strings.Split(val, ",")
		default:
			t := strings.ToLower(strings.Trim(tok, `"`))
			free += len(t)
			terms = append(terms, t)
		}
	}
	if free > 256 {
		writeValidation(w, fieldError{Resource: "Search", Code: "invalid", Field: "q", Message: "The search is longer than 256 characters."})
		return
	}
	if len(in) == 0 {
		in = []string{"title", "body"}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, name := range repos {
		if e.repos[name] == nil {
			writeValidation(w, fieldError{Resource: "Search", Code: "invalid", Field: "q",
				Message: "The listed users and repositories cannot be searched either because the resources do not exist or you do not have permission to view them."})
			return
		}
	}
	var found []*issue
	for _, is := range e.issues {
		snap := e.index(is)
		if is.deleted || snap == nil {
			continue
		}
		if len(repos) > 0 && !slices.Contains(repos, strings.ToLower(is.repo.fullName())) {
			continue
		}
		if kind == "issue" && snap.pull || (kind == "pr" || kind == "pull-request") && !snap.pull || state != "" && snap.state != state {
			continue
		}
		var text string
		for _, f := range in {
			switch f {
			case "title":
				text += " " + strings.ToLower(snap.title)
			case "body":
				text += " " + strings.ToLower(snap.body)
			}
		}
		if !slices.ContainsFunc(terms, func(t string) bool { return !strings.Contains(text, t) }) {
			found = append(found, is)
		}
	}
	slices.SortFunc(found, func(a, b *issue) int {
		if c := b.updated.Compare(a.updated); c != 0 {
			return c
		}
		return int(b.id - a.id)
	})
	perPage, page, ok := e.pageOf(w, r)
	if !ok {
		return
	}
	from, to := paginate(w, r, e.apiURL("/search/issues"), len(found), perPage, page)
	items := []any{}
	for _, is := range found[from:to] {
		j := e.issueJSON(is)
		j["score"] = 1.0
		items = append(items, j)
	}
	writeGet(w, r, map[string]any{"total_count": len(found), "incomplete_results": false, "items": items}, time.Time{})
}

// tokens splits a search query at spaces, keeping quoted phrases whole
// (with their quotes).
func tokens(q string) []string {
	var out []string
	var b strings.Builder
	quoted := false
	for _, r := range q {
		switch {
		case r == '"':
			quoted = !quoted
			b.WriteRune(r)
		case r == ' ' && !quoted:
			if b.Len() > 0 {
				out = append(out, b.String())
				b.Reset()
			}
		default:
			b.WriteRune(r)
		}
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}
