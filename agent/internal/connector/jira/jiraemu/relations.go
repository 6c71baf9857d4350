package jiraemu

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

func (e *Emu) commentJSON(c *comment, withProps bool) map[string]any {
	out := map[string]any{"id": c.id, "author": e.userJSON(e.userByID(c.author)), "body": c.body,
		"created": c.created.Format(timeFormat), "updated": c.updated.Format(timeFormat)}
	if withProps {
		props := c.properties
		if props == nil {
			props = []any{}
		}
		out["properties"] = props
	}
	return out
}

// comments answers GET /issue/{key}/comment, paged by startAt and
// maxResults, oldest first; expand=properties adds comment properties.
func (e *Emu) comments(w http.ResponseWriter, r *http.Request, _ *User) {
	qs := r.URL.Query()
	start, _ := strconv.Atoi(qs.Get("startAt"))
	maxResults := e.maxResults(qs.Get("maxResults"))
	withProps := strings.Contains(qs.Get("expand"), "properties")
	e.mu.Lock()
	defer e.mu.Unlock()
	is := e.pathIssue(w, r)
	if is == nil {
		return
	}
	list := []any{}
	start = max(0, min(start, len(is.comments)))
	end := min(start+maxResults, len(is.comments))
	for _, c := range is.comments[start:end] {
		list = append(list, e.commentJSON(c, withProps))
	}
	writeJSON(w, http.StatusOK, map[string]any{"startAt": start, "maxResults": maxResults, "total": len(is.comments), "comments": list})
}

func (e *Emu) addComment(w http.ResponseWriter, r *http.Request, u *User) {
	var in struct {
		Body       json.RawMessage `json:"body"`
		Properties []struct {
			Key   string `json:"key"`
			Value any    `json:"value"`
		} `json:"properties"`
	}
	if !readBody(w, r, &in) {
		return
	}
	body, msg := e.richText(in.Body)
	if msg == "" && body == nil {
		msg = "Comment body can not be empty!"
	}
	if msg != "" {
		writeFieldErrors(w, map[string]string{"comment": msg})
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	is := e.pathIssue(w, r)
	if is == nil {
		return
	}
	now := e.now().Truncate(time.Millisecond)
	c := &comment{id: e.newID(), author: userID(u), body: body, created: now, updated: now}
	for _, p := range in.Properties {
		if p.Key == "" || len(p.Key) > 255 {
			writeFieldErrors(w, map[string]string{"properties": "The property key must be between 1 and 255 characters long."})
			return
		}
		// Server's CommentJsonBean.setProperties casts each value to a
		// JSON object (Map<String, Object>); anything else fails there.
		if _, obj := p.Value.(map[string]any); !obj && !e.Cloud() {
			writeError(w, http.StatusBadRequest, "Can not deserialize the comment properties: a property value must be a JSON object.")
			return
		}
		c.properties = append(c.properties, map[string]any{"key": p.Key, "value": p.Value})
	}
	is.comments = append(is.comments, c)
	e.touch(is)
	e.notify("comment_created", is, c)
	writeJSON(w, http.StatusCreated, e.commentJSON(c, false))
}

func (e *Emu) attachmentJSON(a *attachment) map[string]any {
	content := e.URL() + e.api + "/attachment/content/" + a.id
	if !e.Cloud() {
		content = e.URL() + "/secure/attachment/" + a.id + "/" + url.PathEscape(a.name)
	}
	return map[string]any{"id": a.id, "self": e.URL() + e.api + "/attachment/" + a.id, "filename": a.name,
		"author": e.userJSON(e.userByID(a.author)), "created": a.created.Format(timeFormat),
		"size": len(a.data), "mimeType": a.mime, "content": content}
}

// addAttachments answers POST /issue/{key}/attachments: multipart, field
// "file", and the XSRF header X-Atlassian-Token: no-check.
func (e *Emu) addAttachments(w http.ResponseWriter, r *http.Request, u *User) {
	if r.Header.Get("X-Atlassian-Token") != "no-check" {
		writeError(w, http.StatusForbidden, "XSRF check failed")
		return
	}
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusUnsupportedMediaType, "The request is not multipart/form-data.")
		return
	}
	type upload struct {
		name, mime string
		data       []byte
	}
	var ups []upload
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "Could not read the multipart body.")
			return
		}
		if part.FormName() != "file" {
			continue
		}
		data, err := io.ReadAll(part)
		if err != nil {
			writeError(w, http.StatusBadRequest, "Could not read the multipart body.")
			return
		}
		ct := part.Header.Get("Content-Type")
		if mt, _, err := mime.ParseMediaType(ct); err == nil {
			ct = mt
		}
		ups = append(ups, upload{part.FileName(), ct, data})
	}
	if len(ups) == 0 {
		writeError(w, http.StatusBadRequest, "No attachments were found in the request.")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	is := e.pathIssue(w, r)
	if is == nil {
		return
	}
	out := []any{}
	for _, up := range ups {
		a := &attachment{id: e.newID(), issue: is.id, name: up.name, mime: up.mime, author: userID(u), data: up.data, created: e.now()}
		e.attachments[a.id] = a
		is.attachments = append(is.attachments, a.id)
		out = append(out, e.attachmentJSON(a))
	}
	e.touch(is)
	writeJSON(w, http.StatusOK, out)
}

// attachmentContent is Cloud's content URL: a redirect to the media API.
func (e *Emu) attachmentContent(w http.ResponseWriter, r *http.Request, _ *User) {
	e.mu.Lock()
	a := e.attachments[r.PathValue("id")]
	e.mu.Unlock()
	if a == nil {
		writeError(w, http.StatusNotFound, "The attachment with id '"+r.PathValue("id")+"' does not exist")
		return
	}
	http.Redirect(w, r, "/media/file/"+a.id+"?token="+e.mediaToken(a.id), http.StatusSeeOther)
}

func (e *Emu) mediaToken(id string) string {
	m := hmac.New(sha256.New, []byte("media"))
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil))
}

func (e *Emu) mediaFile(w http.ResponseWriter, r *http.Request, _ *User) {
	e.mu.Lock()
	a := e.attachments[r.PathValue("id")]
	e.mu.Unlock()
	if a == nil || !hmac.Equal([]byte(r.URL.Query().Get("token")), []byte(e.mediaToken(a.id))) {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	e.sendAttachment(w, a)
}

// secureAttachment is Server's content URL.
func (e *Emu) secureAttachment(w http.ResponseWriter, r *http.Request, _ *User) {
	e.mu.Lock()
	a := e.attachments[r.PathValue("id")]
	e.mu.Unlock()
	if a == nil || a.name != r.PathValue("name") {
		writeError(w, http.StatusNotFound, "Attachment not found")
		return
	}
	e.sendAttachment(w, a)
}

func (e *Emu) sendAttachment(w http.ResponseWriter, a *attachment) {
	w.Header().Set("Content-Type", a.mime)
	w.Header().Set("Content-Length", strconv.Itoa(len(a.data)))
	_, _ = io.Copy(w, bytes.NewReader(a.data))
}

// addLink answers POST /issueLink {"type":{"name"},"inwardIssue":{"key"},
// "outwardIssue":{"key"}} with 201: the inward issue then reads
// "<outward description>" the outward issue (A blocks B).
func (e *Emu) addLink(w http.ResponseWriter, r *http.Request, _ *User) {
	var in struct {
		Type         struct{ Name, ID string }
		InwardIssue  struct{ Key, ID string } `json:"inwardIssue"`
		OutwardIssue struct{ Key, ID string } `json:"outwardIssue"`
	}
	if !readBody(w, r, &in) {
		return
	}
	typ := ""
	for _, t := range linkTypeList {
		if strings.EqualFold(t.name, in.Type.Name) || t.id == in.Type.ID {
			typ = t.name
		}
	}
	if typ == "" {
		writeError(w, http.StatusNotFound, "No issue link type with name '"+in.Type.Name+"' found.")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	from, to := e.lookup(in.InwardIssue.Key+in.InwardIssue.ID), e.lookup(in.OutwardIssue.Key+in.OutwardIssue.ID)
	if from == nil || to == nil {
		writeError(w, http.StatusNotFound, "Issue does not exist or you do not have permission to see it.")
		return
	}
	for _, l := range e.links {
		if l.typ == typ && l.inward == from.id && l.outward == to.id {
			w.WriteHeader(http.StatusCreated) // Jira keeps one link of a type between two issues
			return
		}
	}
	l := &link{id: e.newID(), typ: typ, inward: from.id, outward: to.id}
	e.links[l.id] = l
	e.touch(from)
	e.touch(to)
	w.WriteHeader(http.StatusCreated)
}

func (e *Emu) deleteLink(w http.ResponseWriter, r *http.Request, _ *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.links[r.PathValue("id")]
	if l == nil {
		writeError(w, http.StatusNotFound, "No issue link with id '"+r.PathValue("id")+"' exists.")
		return
	}
	delete(e.links, l.id)
	for _, id := range []string{l.inward, l.outward} {
		if is := e.issues[id]; is != nil {
			e.touch(is)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (e *Emu) remoteLinkJSON(is *issue, rl *remoteLink) map[string]any {
	return map[string]any{"id": mustAtoi(rl.id), "self": e.URL() + e.api + "/issue/" + is.key + "/remotelink/" + rl.id,
		"globalId": rl.globalID, "relationship": rl.relationship, "object": map[string]any{"url": rl.url, "title": rl.title}}
}

func mustAtoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func (e *Emu) remoteLinks(w http.ResponseWriter, r *http.Request, _ *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	is := e.pathIssue(w, r)
	if is == nil {
		return
	}
	list := []any{}
	for _, rl := range is.remoteLinks {
		if g := r.URL.Query().Get("globalId"); g == "" || g == rl.globalID {
			list = append(list, e.remoteLinkJSON(is, rl))
		}
	}
	writeJSON(w, http.StatusOK, list)
}

// addRemoteLink creates a remote link, or updates the one with the same
// globalId (200 instead of 201).
func (e *Emu) addRemoteLink(w http.ResponseWriter, r *http.Request, _ *User) {
	var in struct {
		GlobalID     string `json:"globalId"`
		Relationship string `json:"relationship"`
		Object       struct {
			URL   string `json:"url"`
			Title string `json:"title"`
		} `json:"object"`
	}
	if !readBody(w, r, &in) {
		return
	}
	errs := map[string]string{}
	if in.Object.URL == "" {
		errs["url"] = "'url' is required."
	}
	if in.Object.Title == "" {
		errs["title"] = "'title' is required."
	}
	if len(in.GlobalID) > 255 {
		errs["globalId"] = "'globalId' must be at most 255 characters."
	}
	if len(errs) > 0 {
		writeFieldErrors(w, errs)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	is := e.pathIssue(w, r)
	if is == nil {
		return
	}
	status := http.StatusCreated
	var rl *remoteLink
	for _, x := range is.remoteLinks {
		if in.GlobalID != "" && x.globalID == in.GlobalID {
			rl, status = x, http.StatusOK
		}
	}
	if rl == nil {
		rl = &remoteLink{id: e.newID()}
		is.remoteLinks = append(is.remoteLinks, rl)
	}
	rl.globalID, rl.url, rl.title, rl.relationship = in.GlobalID, in.Object.URL, in.Object.Title, in.Relationship
	e.touch(is)
	writeJSON(w, status, map[string]any{"id": mustAtoi(rl.id), "self": e.URL() + e.api + "/issue/" + is.key + "/remotelink/" + rl.id})
}

func (e *Emu) deleteRemoteLink(w http.ResponseWriter, r *http.Request, _ *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	is := e.pathIssue(w, r)
	if is == nil {
		return
	}
	for i, rl := range is.remoteLinks {
		if rl.id == r.PathValue("id") {
			is.remoteLinks = append(is.remoteLinks[:i], is.remoteLinks[i+1:]...)
			e.touch(is)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	writeError(w, http.StatusNotFound, "No remote link with id '"+r.PathValue("id")+"' exists.")
}
