package azuredevops

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// markerComments finds the HTML comments the engine ends its copies with.
var markerComments = regexp.MustCompile(`<!--\s*lockstep[^<>]*?-->`)

// Whether the service keeps an HTML comment in comment text is not
// documented (the comments reference, learn.microsoft.com/rest/api/azure/
// devops/wit/comments/add-comment, says only that text is the comment's
// text, and rich text passes through a sanitizer). So a copied comment also
// ends with its marker as visible text, <sub>lockstep:...</sub>, which any
// sanitizer keeps; reading turns either form back into the HTML comment
// the engine recognises.
var (
	markerFooter    = regexp.MustCompile(`(?is)<sub>\s*(lockstep:[^\s<>]+)\s*</sub>`)
	markerFooterEnd = regexp.MustCompile(`(?is)(lockstep:[^\s<>]+)\s*(?:</[a-z0-9]+>\s*)*$`)
)

// markerText is a marker without its HTML comment delimiters.
func markerText(m string) string {
	m = strings.TrimSpace(m)
	if strings.HasPrefix(m, "<!--") && strings.HasSuffix(m, "-->") {
		m = strings.TrimSpace(m[4 : len(m)-3])
	}
	return m
}

// withMarkers puts the markers of a comment's text back into its Markdown
// as HTML comments: from the visible footer, whether or not the HTML
// comment itself survived.
func withMarkers(text string) (string, error) {
	var found []string
	for _, m := range markerFooter.FindAllStringSubmatch(text, -1) {
		found = append(found, html.UnescapeString(m[1]))
	}
	text = markerFooter.ReplaceAllString(text, "")
	if len(found) == 0 {
		// A sanitizer that dropped the <sub> element kept its text.
		rest := markerComments.ReplaceAllString(text, "")
		if loc := markerFooterEnd.FindStringSubmatchIndex(rest); loc != nil {
			found = append(found, html.UnescapeString(rest[loc[2]:loc[3]]))
			text = rest[:loc[2]] + rest[loc[3]:] + strings.Join(markerComments.FindAllString(text, -1), "")
		}
	}
	body, err := htmlToMarkdown(text)
	if err != nil {
		return "", err
	}
	for _, m := range found {
		if mc := "<!-- " + m + " -->"; !strings.Contains(body, mc) {
			body = strings.TrimRight(body, "\n") + "\n\n" + mc
		}
	}
	return strings.TrimLeft(body, "\n"), nil
}

// HyperlinkType is the Link.Type of hyperlinks (a URL, no target item).
const HyperlinkType = "Hyperlink"

// commentsVersion is the comments resource's version: it is still a
// preview resource (7.1-preview.4; 6.0-preview.3 on older servers).
func (c *Conn) commentsVersion() string {
	v := strings.SplitN(c.apiVersion, "-", 2)[0]
	if f, err := strconv.ParseFloat(v, 64); err == nil && f < 7.1 {
		return v + "-preview.3"
	}
	return v + "-preview.4"
}

// itemProject finds the project of a work item: the comments and
// attachment upload resources live under a project.
func (c *Conn) itemProject(ctx context.Context, ref connector.Ref) (string, int, error) {
	path, id, err := itemPath(ref)
	if err != nil {
		return "", 0, err
	}
	c.mu.Lock()
	p := c.projectOf[id]
	c.mu.Unlock()
	if p != "" {
		return p, id, nil
	}
	var it wireItem
	q := url.Values{"fields": {refProject}}
	if err := c.call(ctx, httpx.Request{Method: http.MethodGet, Path: path, Query: q}, nil, false, &it); err != nil {
		return "", 0, err
	}
	p, _ = it.Fields[refProject].(string)
	if p == "" {
		return "", 0, fmt.Errorf("work item %d has no project: %w", id, connector.ErrUnavailable)
	}
	c.mu.Lock()
	c.projectOf[id] = p
	c.mu.Unlock()
	return p, id, nil
}

type wireComment struct {
	ID          int          `json:"id"`
	Text        string       `json:"text"`
	CreatedBy   wireIdentity `json:"createdBy"`
	CreatedDate string       `json:"createdDate"`
	IsDeleted   bool         `json:"isDeleted"`
}

func (c *Conn) comment(wc wireComment) connector.Comment {
	body, err := withMarkers(wc.Text)
	if err != nil {
		body = wc.Text
	}
	body, marker := connector.SplitMarker(body)
	return connector.Comment{ID: strconv.Itoa(wc.ID), Body: body, Marker: marker, CreatedAt: parseTime(wc.CreatedDate),
		Author: connector.User{ID: wc.CreatedBy.ID, Email: wc.CreatedBy.UniqueName, Name: wc.CreatedBy.DisplayName}}
}

// Comments reads all comments, oldest first, following continuationToken.
func (c *Conn) Comments(ctx context.Context, ref connector.Ref) ([]connector.Comment, error) {
	project, id, err := c.itemProject(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("list Azure DevOps comments of %s: %w", connector.RefName(ref), err)
	}
	path := projectPath(project, "wit/workItems/"+strconv.Itoa(id)+"/comments")
	q := url.Values{"api-version": {c.commentsVersion()}, "order": {"asc"}, "$top": {"200"}}
	var out []connector.Comment
	for range 10000 {
		var page struct {
			Comments          []wireComment `json:"comments"`
			ContinuationToken string        `json:"continuationToken"`
		}
		if err := c.call(ctx, httpx.Request{Method: http.MethodGet, Path: path, Query: q}, nil, false, &page); err != nil {
			return nil, fmt.Errorf("list Azure DevOps comments of %s: %w", connector.RefName(ref), err)
		}
		for _, wc := range page.Comments {
			if !wc.IsDeleted {
				out = append(out, c.comment(wc))
			}
		}
		if page.ContinuationToken == "" || page.ContinuationToken == q.Get("continuationToken") {
			return out, nil
		}
		q.Set("continuationToken", page.ContinuationToken)
	}
	return nil, fmt.Errorf("list Azure DevOps comments of %s: paging does not end: %w", connector.RefName(ref), connector.ErrUnavailable)
}

// AddComment posts a comment as the token's user. Comments are HTML: the
// Markdown is converted and the marker kept twice, as an HTML comment
// (invisible, if the service keeps it) and as a small footer that survives
// any sanitizer; it is read back into Comment.Marker.
func (c *Conn) AddComment(ctx context.Context, ref connector.Ref, nc connector.NewComment) (connector.Comment, error) {
	project, id, err := c.itemProject(ctx, ref)
	if err != nil {
		return connector.Comment{}, fmt.Errorf("add Azure DevOps comment to %s: %w", connector.RefName(ref), err)
	}
	body := markerComments.ReplaceAllString(nc.Body, "")
	text, err := markdownToHTML(body)
	if err != nil {
		return connector.Comment{}, fmt.Errorf("add Azure DevOps comment to %s: %w", connector.RefName(ref), err)
	}
	if m := markerText(nc.Marker); m != "" {
		m = strings.ReplaceAll(m, "--", "- -")
		text += "<!-- " + m + " -->" + "<p><sub>" + html.EscapeString(m) + "</sub></p>"
	}
	path := projectPath(project, "wit/workItems/"+strconv.Itoa(id)+"/comments")
	var wc wireComment
	err = c.call(ctx, httpx.Request{Method: http.MethodPost, Path: path, Query: url.Values{"api-version": {c.commentsVersion()}}},
		map[string]string{"text": text}, false, &wc)
	if err != nil {
		return connector.Comment{}, fmt.Errorf("add Azure DevOps comment to %s: %w", connector.RefName(ref), err)
	}
	return c.comment(wc), nil
}

// attachmentID is the id in an attachment URL
// (.../_apis/wit/attachments/<id>?fileName=...).
func attachmentID(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	i := strings.LastIndex(strings.ToLower(p.Path), "/_apis/wit/attachments/")
	if i < 0 {
		return ""
	}
	return p.Path[i+len("/_apis/wit/attachments/"):]
}

func attachmentOf(r wireRelation) connector.Attachment {
	a := connector.Attachment{ID: attachmentID(r.URL)}
	a.Name, _ = r.Attributes["name"].(string)
	if n, ok := r.Attributes["resourceSize"].(float64); ok {
		a.Size = int64(n)
	}
	if d, ok := r.Attributes["resourceCreatedDate"].(string); ok {
		a.CreatedAt = parseTime(d)
	}
	return a
}

// Attachments lists the AttachedFile relations.
func (c *Conn) Attachments(ctx context.Context, ref connector.Ref) ([]connector.Attachment, error) {
	it, err := c.read(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("list Azure DevOps attachments of %s: %w", connector.RefName(ref), err)
	}
	out := []connector.Attachment{}
	for _, r := range it.Relations {
		if r.Rel == "AttachedFile" {
			out = append(out, attachmentOf(r))
		}
	}
	return out, nil
}

// Download streams an attachment. The id is read from the relation URL
// and fetched from this organization only: the credentials never go to a
// host the item's data names.
func (c *Conn) Download(ctx context.Context, ref connector.Ref, a connector.Attachment) (io.ReadCloser, error) {
	if a.ID == "" || a.ID == "." || a.ID == ".." || strings.ContainsAny(a.ID, "/\\?#%") {
		return nil, fmt.Errorf("download Azure DevOps attachment %q of %s: not an attachment id: %w", a.Name, connector.RefName(ref), connector.ErrInvalid)
	}
	r := httpx.Request{Method: http.MethodGet, Path: "/_apis/wit/attachments/" + a.ID,
		Query:  url.Values{"api-version": {c.apiVersion}, "download": {"true"}},
		Header: http.Header{"Accept": {"application/octet-stream"}}}
	resp, err := c.http.Do(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("download Azure DevOps attachment %s (%s) of %s: %w", a.ID, a.Name, connector.RefName(ref), adoError(err))
	}
	if err := signInPage(r, resp); err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("download Azure DevOps attachment %s (%s) of %s: %w", a.ID, a.Name, connector.RefName(ref), err)
	}
	return resp.Body, nil
}

// errTooLarge stops an upload of unknown size at the limit.
var errTooLarge = errors.New("attachment larger than the limit")

type capped struct {
	r    io.Reader
	left int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, errTooLarge
	}
	return n, err
}

// Upload stores content and attaches it with an AttachedFile relation.
// An attachment the item cannot take (over the size limit, or the item
// already has the service's 100) is skipped with a warning: the error
// wraps errors.ErrUnsupported and concerns that attachment only.
func (c *Conn) Upload(ctx context.Context, ref connector.Ref, name, contentType string, size int64, content io.Reader) (connector.Attachment, error) {
	log := c.log.With().Str("entity_id", ref.ID).Str("attachment_name", name).Int64("attachment_size", size).Logger()
	skip := func(why string) (connector.Attachment, error) {
		log.Warn().Int64("limit", c.maxAttachment).Msg("attachment not copied to Azure DevOps: " + why)
		return connector.Attachment{}, fmt.Errorf("upload Azure DevOps attachment %s to %s: %s: %w", name, connector.RefName(ref), why, errors.ErrUnsupported)
	}
	if size > c.maxAttachment {
		return skip(fmt.Sprintf("%d bytes is over the %d MB limit", size, c.maxAttachment>>20))
	}
	it, err := c.read(ctx, ref)
	if err != nil {
		return connector.Attachment{}, fmt.Errorf("upload Azure DevOps attachment %s to %s: %w", name, connector.RefName(ref), err)
	}
	n := 0
	for _, r := range it.Relations {
		if r.Rel == "AttachedFile" {
			n++
		}
	}
	if n >= maxAttachments {
		return skip(fmt.Sprintf("the work item already has %d attachments, the most it can have", maxAttachments))
	}
	project, id, err := c.itemProject(ctx, ref)
	if err != nil {
		return connector.Attachment{}, fmt.Errorf("upload Azure DevOps attachment %s to %s: %w", name, connector.RefName(ref), err)
	}
	body := content
	var limited *capped
	if size < 0 {
		limited = &capped{r: content, left: c.maxAttachment}
		body = limited
	} else if size == 0 {
		body = http.NoBody
	}
	var ref2 struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	}
	err = c.call(ctx, httpx.Request{Method: http.MethodPost, Path: projectPath(project, "wit/attachments"),
		Query: url.Values{"fileName": {name}}, Header: http.Header{"Content-Type": {"application/octet-stream"}},
		Body: body, ContentLength: max(size, 0)}, nil, false, &ref2)
	if limited != nil && limited.left < 0 {
		return skip(fmt.Sprintf("the content is over the %d MB limit", c.maxAttachment>>20))
	}
	if err != nil {
		return connector.Attachment{}, fmt.Errorf("upload Azure DevOps attachment %s to %s: %w", name, connector.RefName(ref), err)
	}
	ops := []patchOp{{Op: "add", Path: "/relations/-", Value: wireRelation{Rel: "AttachedFile", URL: ref2.URL,
		Attributes: map[string]any{"comment": "Copied by Lockstep"}}}}
	var after wireItem
	if err := c.call(ctx, httpx.Request{Method: http.MethodPatch, Path: "/_apis/wit/workitems/" + strconv.Itoa(id)}, ops, true, &after); err != nil {
		return connector.Attachment{}, fmt.Errorf("attach %s to Azure DevOps work item %s: %w", name, connector.RefName(ref), err)
	}
	for _, r := range after.Relations {
		if r.Rel == "AttachedFile" && attachmentID(r.URL) == ref2.ID {
			a := attachmentOf(r)
			if a.Name == "" {
				a.Name = name
			}
			if a.Size == 0 {
				a.Size = size
			}
			a.ContentType = contentType
			return a, nil
		}
	}
	return connector.Attachment{ID: ref2.ID, Name: name, Size: size, ContentType: contentType}, nil
}

// workItemID is the id of the work item a relation URL names, or 0.
func workItemID(u string) int {
	i := strings.LastIndex(strings.ToLower(u), "/_apis/wit/workitems/")
	if i < 0 {
		return 0
	}
	id, err := strconv.Atoi(u[i+len("/_apis/wit/workitems/"):])
	if err != nil {
		return 0
	}
	return id
}

// isMarker reports a hyperlink this connector wrote as a peer marker.
func isMarker(r wireRelation) bool {
	comment, _ := r.Attributes["comment"].(string)
	return r.Rel == "Hyperlink" && strings.HasPrefix(comment, connector.MarkerPrefix)
}

// Links lists work item links (Type is the relation's reference name,
// e.g. System.LinkTypes.Related) and hyperlinks; marker hyperlinks are
// bookkeeping and left out.
func (c *Conn) Links(ctx context.Context, ref connector.Ref) ([]connector.Link, error) {
	it, err := c.read(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("list Azure DevOps links of %s: %w", connector.RefName(ref), err)
	}
	out := []connector.Link{}
	for _, r := range it.Relations {
		switch {
		case r.Rel == "Hyperlink" && !isMarker(r):
			out = append(out, connector.Link{Type: HyperlinkType, URL: r.URL})
		case r.Rel != "Hyperlink" && r.Rel != "AttachedFile" && r.Rel != "ArtifactLink":
			if id := workItemID(r.URL); id > 0 {
				out = append(out, connector.Link{Type: r.Rel, Target: connector.Ref{ID: strconv.Itoa(id), Key: strconv.Itoa(id)}})
			}
		}
	}
	return out, nil
}

func (c *Conn) relationURL(target connector.Ref) (string, error) {
	_, id, err := itemPath(target)
	if err != nil {
		return "", err
	}
	return c.http.BaseURL() + "/_apis/wit/workItems/" + strconv.Itoa(id), nil
}

// matches reports whether relation r is link l.
func matches(r wireRelation, l connector.Link) bool {
	if l.URL != "" && l.Target.ID == "" {
		return r.Rel == "Hyperlink" && !isMarker(r) && r.URL == l.URL
	}
	_, id, err := itemPath(l.Target)
	return err == nil && strings.EqualFold(r.Rel, l.Type) && workItemID(r.URL) == id
}

// AddLink adds a work item link (the service adds the reverse end to the
// target), or a hyperlink when l has a URL and no target. A link already
// there is success.
func (c *Conn) AddLink(ctx context.Context, ref connector.Ref, l connector.Link) error {
	path, _, err := itemPath(ref)
	if err != nil {
		return fmt.Errorf("add Azure DevOps link: %w", err)
	}
	it, err := c.read(ctx, ref)
	if err != nil {
		return fmt.Errorf("add Azure DevOps link to %s: %w", connector.RefName(ref), err)
	}
	for _, r := range it.Relations {
		if matches(r, l) {
			return nil
		}
	}
	rel := wireRelation{Rel: "Hyperlink", URL: l.URL}
	if l.URL == "" || l.Target.ID != "" {
		u, err := c.relationURL(l.Target)
		if err != nil {
			return fmt.Errorf("add Azure DevOps %s link from %s: %w", l.Type, connector.RefName(ref), err)
		}
		rel = wireRelation{Rel: l.Type, URL: u}
	}
	ops := []patchOp{{Op: "test", Path: "/rev", Value: it.Rev}, {Op: "add", Path: "/relations/-", Value: rel}}
	if err := c.call(ctx, httpx.Request{Method: http.MethodPatch, Path: path, Idempotent: true}, ops, true, nil); err != nil {
		return fmt.Errorf("add Azure DevOps %s link from %s to %s: %w", l.Type, connector.RefName(ref), connector.RefName(l.Target), err)
	}
	return nil
}

// RemoveLink removes a link by its index in the relations, guarded by the
// revision the index was read at. A link already gone is not an error.
func (c *Conn) RemoveLink(ctx context.Context, ref connector.Ref, l connector.Link) error {
	path, _, err := itemPath(ref)
	if err != nil {
		return fmt.Errorf("remove Azure DevOps link: %w", err)
	}
	it, err := c.read(ctx, ref)
	if err != nil {
		return fmt.Errorf("remove Azure DevOps link from %s: %w", connector.RefName(ref), err)
	}
	for i, r := range it.Relations {
		if !matches(r, l) {
			continue
		}
		ops := []patchOp{{Op: "test", Path: "/rev", Value: it.Rev}, {Op: "remove", Path: "/relations/" + strconv.Itoa(i)}}
		err := c.call(ctx, httpx.Request{Method: http.MethodPatch, Path: path, Idempotent: true}, ops, true, nil)
		if err != nil && !errors.Is(err, connector.ErrNotFound) {
			return fmt.Errorf("remove Azure DevOps %s link from %s: %w", l.Type, connector.RefName(ref), err)
		}
		return nil
	}
	return nil
}
