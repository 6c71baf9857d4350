package redmine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// Comments are the issue's journals that have notes, oldest first.
// Private notes are left out: they are for the people who may see them in
// Redmine, and syncing them would show them to everyone on the other side.
func (c *Conn) Comments(ctx context.Context, ref connector.Ref) ([]connector.Comment, error) {
	is, err := c.readIssue(ctx, ref, "journals")
	if err != nil {
		return nil, fmt.Errorf("list redmine comments of %s: %w", refName(ref), err)
	}
	out := make([]connector.Comment, 0, len(is.Journals))
	for _, j := range is.Journals {
		if comment(j) {
			out = append(out, c.comment(j))
		}
	}
	return out, nil
}

// comment reports whether a journal is a comment to sync: it has notes
// and they are not private.
func comment(j wireJournal) bool {
	return strings.TrimSpace(j.Notes) != "" && !j.PrivateNotes
}

func (c *Conn) comment(j wireJournal) connector.Comment {
	notes, marker := connector.SplitMarker(strings.ReplaceAll(j.Notes, "\r\n", "\n"))
	cm := connector.Comment{ID: itoa(j.ID), Body: c.readText(notes), Marker: marker, CreatedAt: j.CreatedOn}
	if j.User != nil {
		cm.Author = connector.User{ID: itoa(j.User.ID), Name: j.User.Name}
	}
	return cm
}

// AddComment adds a note as the key's user. The marker rides once at the
// end of the note as an HTML comment, read back into Comment.Marker. Redmine
// answers a note with 204 and no id, so the journal is found by its text.
func (c *Conn) AddComment(ctx context.Context, ref connector.Ref, nc connector.NewComment) (connector.Comment, error) {
	fail := func(err error) (connector.Comment, error) {
		return connector.Comment{}, fmt.Errorf("add redmine comment to %s: %w", refName(ref), err)
	}
	path, err := issuePath(ref, ".json")
	if err != nil {
		return fail(err)
	}
	body, err := c.toSystemText(nc.Body)
	if err != nil {
		return fail(err)
	}
	body = connector.HideMarker(body, nc.Marker)
	// Sent as a POST overriding the method to PUT (Rails honours
	// X-HTTP-Method-Override), so the client layer does not repeat it
	// after an ambiguous failure: a second note would be a duplicate, and
	// the engine finds the first by its marker.
	req := httpx.Request{Method: http.MethodPost, Path: path, Header: http.Header{"X-Http-Method-Override": {http.MethodPut}}}
	if err := redmineErr(c.http.DoJSON(ctx, req, map[string]any{"issue": map[string]any{"notes": body}}, nil)); err != nil {
		return fail(err)
	}
	is, err := c.readIssue(ctx, ref, "journals")
	if err != nil {
		return fail(err)
	}
	// Compared as stored: the Markdown read back from Textile need not
	// be byte for byte what the engine sent.
	want := strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	for i := len(is.Journals) - 1; i >= 0; i-- {
		j := is.Journals[i]
		if comment(j) && strings.TrimSpace(strings.ReplaceAll(j.Notes, "\r\n", "\n")) == want {
			return c.comment(j), nil
		}
	}
	return fail(fmt.Errorf("the note was sent but is not among the issue's journals: %w", connector.ErrUnavailable))
}

func attachment(a wireAttachment) connector.Attachment {
	return connector.Attachment{ID: itoa(a.ID), Name: a.Filename, Size: a.Filesize, ContentType: a.ContentType, CreatedAt: a.CreatedOn}
}

// Attachments lists an issue's attachments.
func (c *Conn) Attachments(ctx context.Context, ref connector.Ref) ([]connector.Attachment, error) {
	is, err := c.readIssue(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("list redmine attachments of %s: %w", refName(ref), err)
	}
	out := make([]connector.Attachment, 0, len(is.Attachments))
	for _, a := range is.Attachments {
		out = append(out, attachment(a))
	}
	return out, nil
}

// Download streams an attachment's content. It uses the download route
// under the configured base URL rather than content_url, which carries the
// host name Redmine believes it has (wrong behind some proxies).
func (c *Conn) Download(ctx context.Context, ref connector.Ref, a connector.Attachment) (io.ReadCloser, error) {
	if a.ID == "" || strings.ContainsAny(a.ID, "/?#") {
		return nil, fmt.Errorf("download redmine attachment %q of %s: not an attachment id: %w", a.ID, refName(ref), connector.ErrNotFound)
	}
	resp, err := c.http.Do(ctx, httpx.Request{Method: http.MethodGet, Path: "/attachments/download/" + url.PathEscape(a.ID),
		Header: http.Header{"Accept": {"*/*"}}})
	if err != nil {
		return nil, fmt.Errorf("download redmine attachment %s (%s) of %s: %w", a.ID, a.Name, refName(ref), err)
	}
	return resp.Body, nil
}

// Upload streams content to /uploads.json, then attaches the upload to the
// issue. size < 0 is unknown.
func (c *Conn) Upload(ctx context.Context, ref connector.Ref, name, contentType string, size int64, content io.Reader) (connector.Attachment, error) {
	fail := func(err error) (connector.Attachment, error) {
		return connector.Attachment{}, fmt.Errorf("upload redmine attachment %s to %s: %w", name, refName(ref), err)
	}
	path, err := issuePath(ref, ".json")
	if err != nil {
		return fail(err)
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	if size == 0 {
		content = http.NoBody // say "empty" rather than "unknown"
	}
	var up wireUpload
	err = redmineErr(c.http.DoJSON(ctx, httpx.Request{Method: http.MethodPost, Path: "/uploads.json", Query: url.Values{"filename": {name}},
		Header: http.Header{"Content-Type": {"application/octet-stream"}}, Body: content, ContentLength: max(size, 0),
		// A repeat leaves at most an unattached upload, which nobody
		// sees and Redmine's attachments:prune task removes.
		Idempotent: true}, nil, &up))
	if err != nil {
		return fail(err)
	}
	if up.Upload.Token == "" || up.Upload.ID <= 0 {
		return fail(fmt.Errorf("Redmine returned no upload token: %w", connector.ErrUnavailable))
	}
	in := map[string]any{"issue": map[string]any{"uploads": []map[string]any{{"token": up.Upload.Token, "filename": name, "content_type": contentType}}}}
	// Attaching a token twice is refused by Redmine (the upload is then
	// taken), never duplicated, so the PUT may be repeated.
	if err := redmineErr(c.http.DoJSON(ctx, httpx.Request{Method: http.MethodPut, Path: path}, in, nil)); err != nil {
		return fail(err)
	}
	// Since Redmine 3.4 the upload's id is the attachment's.
	var got struct {
		Attachment wireAttachment `json:"attachment"`
	}
	if err := c.get(ctx, "/attachments/"+itoa(up.Upload.ID)+".json", nil, &got); err != nil {
		return fail(err)
	}
	return attachment(got.Attachment), nil
}

// inverse names a relation as seen from its other issue.
var inverse = map[string]string{
	"relates": "relates", "duplicates": "duplicated", "duplicated": "duplicates", "blocks": "blocked", "blocked": "blocks",
	"precedes": "follows", "follows": "precedes", "copied_to": "copied_from", "copied_from": "copied_to",
}

// relations lists an issue's relations with their type as seen from it.
func (c *Conn) relations(ctx context.Context, ref connector.Ref) (int64, []wireRelation, error) {
	id, err := issueID(ref)
	if err != nil {
		return 0, nil, err
	}
	var out struct {
		Relations []wireRelation `json:"relations"`
	}
	if err := c.get(ctx, "/issues/"+itoa(id)+"/relations.json", nil, &out); err != nil {
		return 0, nil, err
	}
	for i, r := range out.Relations {
		if r.IssueID != id { // stored from the other side: turn it round
			out.Relations[i].IssueID, out.Relations[i].IssueToID = id, r.IssueID
			if inv, ok := inverse[r.RelationType]; ok {
				out.Relations[i].RelationType = inv
			}
		}
	}
	return id, out.Relations, nil
}

// Links lists the issue's relations; see LinkTypes.
func (c *Conn) Links(ctx context.Context, ref connector.Ref) ([]connector.Link, error) {
	_, rels, err := c.relations(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("list redmine relations of %s: %w", refName(ref), err)
	}
	out := make([]connector.Link, 0, len(rels))
	for _, r := range rels {
		to := itoa(r.IssueToID)
		out = append(out, connector.Link{Type: r.RelationType, Target: connector.Ref{ID: to, Key: "#" + to}})
	}
	return out, nil
}

// AddLink adds a relation. An existing one is success (Redmine refuses a
// duplicate with 422), which also makes a repeat after a lost answer safe.
func (c *Conn) AddLink(ctx context.Context, ref connector.Ref, l connector.Link) error {
	fail := func(err error) error {
		return fmt.Errorf("add redmine %s relation from %s to %s: %w", l.Type, refName(ref), refName(l.Target), err)
	}
	if !slices.Contains(LinkTypes, l.Type) {
		if l.URL != "" && l.Target.ID == "" {
			return fail(fmt.Errorf("Redmine has no remote links: %w: %w", connector.ErrInvalid, errors.ErrUnsupported))
		}
		return fail(fmt.Errorf("not a Redmine relation type (%s): %w", strings.Join(LinkTypes, ", "), connector.ErrInvalid))
	}
	id, err := issueID(ref)
	if err != nil {
		return fail(err)
	}
	to, err := issueID(l.Target)
	if err != nil {
		return fail(err)
	}
	in := map[string]any{"relation": map[string]any{"issue_to_id": to, "relation_type": l.Type}}
	err = redmineErr(c.http.DoJSON(ctx, httpx.Request{Method: http.MethodPost, Path: "/issues/" + itoa(id) + "/relations.json", Idempotent: true}, in, nil))
	if errors.Is(err, connector.ErrInvalid) {
		if _, rels, lerr := c.relations(ctx, ref); lerr == nil && slices.ContainsFunc(rels, func(r wireRelation) bool {
			return r.IssueToID == to && r.RelationType == l.Type
		}) {
			return nil
		}
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

// RemoveLink deletes the matching relation. One already gone is not an
// error: the goal is that it does not exist.
func (c *Conn) RemoveLink(ctx context.Context, ref connector.Ref, l connector.Link) error {
	fail := func(err error) error {
		return fmt.Errorf("remove redmine %s relation from %s to %s: %w", l.Type, refName(ref), refName(l.Target), err)
	}
	to, err := issueID(l.Target)
	if err != nil {
		return fail(err)
	}
	_, rels, err := c.relations(ctx, ref)
	if err != nil {
		return fail(err)
	}
	for _, r := range rels {
		if r.IssueToID != to || r.RelationType != l.Type {
			continue
		}
		err := redmineErr(c.http.DoJSON(ctx, httpx.Request{Method: http.MethodDelete, Path: "/relations/" + itoa(r.ID) + ".json"}, nil, nil))
		if err != nil && !errors.Is(err, connector.ErrNotFound) {
			return fail(err)
		}
	}
	return nil
}
