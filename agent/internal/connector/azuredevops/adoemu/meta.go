package adoemu

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

type comment struct {
	ID      int
	Item    int
	Text    string
	Version int
	By      User
	Created string
}

// comments serves GET (list, newest first unless order=asc, $top and
// continuationToken paging) and POST (add) of
// /{project}/_apis/wit/workItems/{id}/comments, a preview resource.
func (s *Server) comments(w http.ResponseWriter, r *http.Request, proj *project, idText string) {
	if !s.apiVersion(w, r, true) {
		return
	}
	if proj == nil {
		s.fail(w, http.StatusNotFound, "TF400813: The resource cannot be found.", "ResourceNotFoundException", 0)
		return
	}
	id, _ := strconv.Atoi(idText)
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.items[id]
	if it == nil || it.Project != proj {
		s.failLocked(w, http.StatusNotFound, fmt.Sprintf("TF401232: Work item %s does not exist, or you do not have permissions to read it.", idText), "WorkItemUnauthorizedAccessException", 3200)
		return
	}
	switch r.Method {
	case http.MethodPost:
		var in struct {
			Text string `json:"text"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 4<<20)).Decode(&in); err != nil || strings.TrimSpace(in.Text) == "" {
			s.failLocked(w, http.StatusBadRequest, "VS403691: The comment text cannot be empty.", "VssPropertyValidationException", 0)
			return
		}
		c := s.addCommentLocked(it, in.Text)
		it.Rev++
		it.Fields["System.Rev"] = it.Rev
		it.Fields["System.ChangedDate"] = s.now()
		writeJSON(w, http.StatusOK, s.commentView(c, proj))
		s.notifyLocked("workitem.updated", it)
	case http.MethodGet:
		q := r.URL.Query()
		top := 200
		if n, err := strconv.Atoi(q.Get("$top")); err == nil && n > 0 && n < top {
			top = n
		}
		var list []*comment
		for _, c := range s.commentList[id] {
			list = append(list, c)
		}
		if !strings.EqualFold(q.Get("order"), "asc") {
			for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
				list[i], list[j] = list[j], list[i]
			}
		}
		start := 0
		if tok := q.Get("continuationToken"); tok != "" {
			raw, err := base64.RawURLEncoding.DecodeString(tok)
			n, err2 := strconv.Atoi(string(raw))
			if err != nil || err2 != nil || n < 0 || n > len(list) {
				s.failLocked(w, http.StatusBadRequest, "VS403692: The continuation token is not valid.", "VssPropertyValidationException", 0)
				return
			}
			start = n
		}
		end := min(start+top, len(list))
		out := map[string]any{"totalCount": len(list), "count": end - start, "comments": []any{}}
		page := []any{}
		for _, c := range list[start:end] {
			page = append(page, s.commentView(c, proj))
		}
		out["comments"] = page
		if end < len(list) {
			tok := base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
			out["continuationToken"] = tok
			out["nextPage"] = s.orgURL() + "/" + proj.ID + "/_apis/wit/workItems/" + idText + "/comments?continuationToken=" + tok
		}
		writeJSON(w, http.StatusOK, out)
	default:
		s.failLocked(w, http.StatusMethodNotAllowed, "The requested resource does not support http method '"+r.Method+"'.", "VssResourceNotFoundException", 0)
	}
}

// htmlComments are what a sanitizer that drops HTML comments removes.
var htmlComments = regexp.MustCompile(`(?s)<!--.*?-->`)

func (s *Server) addCommentLocked(it *item, text string) *comment {
	if s.o.StripHTMLComments {
		text = htmlComments.ReplaceAllString(text, "")
	}
	c := &comment{ID: s.nextComment, Item: it.ID, Text: text, Version: 1, By: s.me(), Created: s.now()}
	s.nextComment++
	if s.commentList == nil {
		s.commentList = map[int][]*comment{}
	}
	s.commentList[it.ID] = append(s.commentList[it.ID], c)
	it.Fields["System.CommentCount"] = len(s.commentList[it.ID])
	return c
}

func (s *Server) commentView(c *comment, proj *project) map[string]any {
	by := identityRef(c.By, s.orgURL())
	return map[string]any{"workItemId": c.Item, "id": c.ID, "version": c.Version, "text": c.Text,
		"createdBy": by, "createdDate": c.Created, "modifiedBy": by, "modifiedDate": c.Created, "isDeleted": false,
		"url": s.orgURL() + "/" + proj.ID + "/_apis/wit/workItems/" + strconv.Itoa(c.Item) + "/comments/" + strconv.Itoa(c.ID)}
}

// upload stores POST _apis/wit/attachments?fileName= content (201).
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	if !s.apiVersion(w, r, false) {
		return
	}
	name := r.URL.Query().Get("fileName")
	if name == "" {
		s.fail(w, http.StatusBadRequest, "VS403329: The fileName parameter is required.", "VssPropertyValidationException", 0)
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, s.o.MaxAttachmentBytes+1))
	if err != nil {
		s.fail(w, http.StatusBadRequest, "VS403330: The attachment content could not be read.", "VssPropertyValidationException", 0)
		return
	}
	if int64(len(data)) > s.o.MaxAttachmentBytes {
		s.fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("VS403328: The attachment exceeds the maximum size of %d bytes.", s.o.MaxAttachmentBytes), "AttachmentSizeExceededException", 0)
		return
	}
	id := newGUID()
	s.mu.Lock()
	s.attachments[id] = &attachment{ID: id, Name: name, Data: data, Created: s.o.Now()}
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]string{"id": id, "url": s.orgURL() + "/_apis/wit/attachments/" + id + "?fileName=" + name})
}

func (s *Server) download(w http.ResponseWriter, r *http.Request, id string) {
	if !s.apiVersion(w, r, false) {
		return
	}
	s.mu.Lock()
	a := s.attachments[strings.ToLower(id)]
	s.mu.Unlock()
	if a == nil {
		s.fail(w, http.StatusNotFound, fmt.Sprintf("TF401335: The attachment %s does not exist.", id), "AttachmentNotFoundException", 0)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(a.Data)))
	_, _ = io.Copy(w, bytes.NewReader(a.Data))
}

func (s *Server) types(w http.ResponseWriter, r *http.Request) {
	if !s.apiVersion(w, r, false) {
		return
	}
	var out []any
	for _, t := range witTypes {
		out = append(out, s.typeView(t))
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(out), "value": out})
}

func (s *Server) typeView(t witType) map[string]any {
	var fields, states []any
	for _, f := range t.Fields {
		d, _ := fieldByRef(f.Ref)
		fields = append(fields, map[string]any{"referenceName": d.Ref, "name": d.Name, "alwaysRequired": f.Required,
			"url": s.orgURL() + "/_apis/wit/fields/" + d.Ref})
	}
	for _, st := range t.States {
		states = append(states, map[string]any{"name": st.Name, "color": st.Color, "category": st.Category})
	}
	return map[string]any{"name": t.Name, "referenceName": t.Ref, "color": t.Color, "isDisabled": false,
		"fields": fields, "fieldInstances": fields, "states": states}
}

// typeDetail serves workitemtypes/{type}/fields and /states.
func (s *Server) typeDetail(w http.ResponseWriter, r *http.Request, name, what string) {
	if !s.apiVersion(w, r, false) {
		return
	}
	t, ok := typeByName(name)
	if !ok {
		s.fail(w, http.StatusNotFound, fmt.Sprintf("VS402323: Work item type %s does not exist or you do not have permission to access it.", name), "WorkItemTypeNotFoundException", 0)
		return
	}
	var out []any
	switch what {
	case "fields":
		expand := strings.ToLower(r.URL.Query().Get("$expand"))
		for _, f := range t.Fields {
			d, _ := fieldByRef(f.Ref)
			v := map[string]any{"referenceName": d.Ref, "name": d.Name, "alwaysRequired": f.Required,
				"defaultValue": nil, "url": s.orgURL() + "/_apis/wit/fields/" + d.Ref}
			if expand == "allowedvalues" || expand == "all" {
				v["allowedValues"] = append([]any{}, f.Allowed...)
			}
			out = append(out, v)
		}
	case "states":
		for _, st := range t.States {
			out = append(out, map[string]any{"name": st.Name, "color": st.Color, "category": st.Category})
		}
	default:
		s.fail(w, http.StatusNotFound, "TF400813: The resource cannot be found.", "ResourceNotFoundException", 0)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(out), "value": out})
}

func (s *Server) fields(w http.ResponseWriter, r *http.Request) {
	if !s.apiVersion(w, r, false) {
		return
	}
	var out []any
	for _, f := range fieldDefs {
		out = append(out, map[string]any{"name": f.Name, "referenceName": f.Ref, "type": f.Type, "usage": "workItem",
			"readOnly": f.ReadOnly, "isIdentity": f.Identity, "isPicklist": f.Picklist, "canSortBy": true, "isQueryable": true,
			"url": s.orgURL() + "/_apis/wit/fields/" + f.Ref})
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(out), "value": out})
}

func (s *Server) relationTypes(w http.ResponseWriter, r *http.Request) {
	if !s.apiVersion(w, r, false) {
		return
	}
	var out []any
	for _, rt := range relTypes {
		attrs := map[string]any{"usage": rt.Usage, "editable": true, "enabled": true}
		if rt.Usage == "workItemLink" {
			attrs["topology"] = rt.Topology
			attrs["directional"] = rt.Topology != "network"
			attrs["isForward"] = rt.Forward
			attrs["oppositeEndReferenceName"] = rt.Opposite
		}
		out = append(out, map[string]any{"referenceName": rt.Ref, "name": rt.Name, "attributes": attrs,
			"url": s.orgURL() + "/_apis/wit/workItemRelationTypes/" + rt.Ref})
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(out), "value": out})
}

// Subscription is a service hook subscription.
type Subscription struct {
	ID              string            `json:"id"`
	URL             string            `json:"url"`
	PublisherID     string            `json:"publisherId"`
	EventType       string            `json:"eventType"`
	ResourceVersion string            `json:"resourceVersion"`
	ConsumerID      string            `json:"consumerId"`
	ConsumerAction  string            `json:"consumerActionId"`
	PublisherInputs map[string]string `json:"publisherInputs"`
	ConsumerInputs  map[string]string `json:"consumerInputs"`
	CreatedDate     string            `json:"createdDate"`
	Status          string            `json:"status"`
}

func (s *Server) subscribe(w http.ResponseWriter, r *http.Request) {
	if !s.apiVersion(w, r, false) {
		return
	}
	var sub Subscription
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&sub); err != nil {
		s.fail(w, http.StatusBadRequest, "VS400048: The subscription is not valid JSON.", "VssPropertyValidationException", 0)
		return
	}
	switch {
	case sub.PublisherID != "tfs":
		s.fail(w, http.StatusBadRequest, fmt.Sprintf("VS400049: Publisher %q does not exist.", sub.PublisherID), "PublisherNotFoundException", 0)
		return
	case sub.EventType != "workitem.created" && sub.EventType != "workitem.updated" && sub.EventType != "workitem.deleted" && sub.EventType != "workitem.commented":
		s.fail(w, http.StatusBadRequest, fmt.Sprintf("VS400050: Event type %q is not supported by this emulator.", sub.EventType), "EventTypeNotFoundException", 0)
		return
	case sub.ConsumerID != "webHooks" || sub.ConsumerAction != "httpRequest":
		s.fail(w, http.StatusBadRequest, "VS400051: Only the webHooks consumer with the httpRequest action is supported.", "ConsumerNotFoundException", 0)
		return
	case !strings.HasPrefix(sub.ConsumerInputs["url"], "http"):
		s.fail(w, http.StatusBadRequest, "VS400052: The consumer input url is required.", "SubscriptionInputException", 0)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	found := false
	for _, p := range s.projects {
		if p.ID == sub.PublisherInputs["projectId"] {
			found = true
		}
	}
	if !found {
		s.failLocked(w, http.StatusBadRequest, "VS400053: The publisher input projectId must name an existing project.", "SubscriptionInputException", 0)
		return
	}
	sub.ID = newGUID()
	sub.URL = s.orgURL() + "/_apis/hooks/subscriptions/" + sub.ID
	sub.CreatedDate = s.now()
	sub.Status = "enabled"
	s.subs[sub.ID] = &sub
	view := sub
	view.ConsumerInputs = map[string]string{}
	for k, v := range sub.ConsumerInputs {
		if k == "basicAuthPassword" || k == "httpHeaders" {
			v = "********" // confidential inputs are never echoed
		}
		view.ConsumerInputs[k] = v
	}
	writeJSON(w, http.StatusOK, view)
}

func (s *Server) subscription(w http.ResponseWriter, r *http.Request, id string) {
	if !s.apiVersion(w, r, false) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := s.subs[strings.ToLower(id)]
	if sub == nil {
		s.failLocked(w, http.StatusNotFound, fmt.Sprintf("VS400054: Subscription %s does not exist.", id), "SubscriptionNotFoundException", 0)
		return
	}
	switch r.Method {
	case http.MethodDelete:
		delete(s.subs, sub.ID)
		w.WriteHeader(http.StatusNoContent)
	case http.MethodGet:
		writeJSON(w, http.StatusOK, sub)
	default:
		s.failLocked(w, http.StatusMethodNotAllowed, "The requested resource does not support http method '"+r.Method+"'.", "VssResourceNotFoundException", 0)
	}
}

// Subscriptions returns the live subscriptions.
func (s *Server) Subscriptions() []Subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Subscription
	for _, sub := range s.subs {
		out = append(out, *sub)
	}
	return out
}

// notifyLocked delivers an event to every matching subscription, in the
// background, as the service's webHooks consumer does: a POST of the event
// JSON with the subscription's basic credentials and extra headers.
func (s *Server) notifyLocked(eventType string, it *item) {
	for _, sub := range s.subs {
		if sub.EventType != eventType || sub.PublisherInputs["projectId"] != it.Project.ID {
			continue
		}
		resource := s.view(it, nil, false)
		if eventType == "workitem.updated" {
			resource = map[string]any{"id": it.Rev, "workItemId": it.ID, "rev": it.Rev,
				"revision": s.view(it, nil, false), "url": s.orgURL() + "/_apis/wit/workItems/" + strconv.Itoa(it.ID) + "/updates/" + strconv.Itoa(it.Rev)}
		}
		event := map[string]any{"subscriptionId": sub.ID, "notificationId": s.stats.Requests, "id": newGUID(),
			"eventType": eventType, "publisherId": "tfs", "resource": resource, "resourceVersion": "1.0",
			"resourceContainers": map[string]any{"project": map[string]string{"id": it.Project.ID}},
			"createdDate":        time.Now().UTC().Format(time.RFC3339Nano)}
		body, _ := json.Marshal(event)
		in := sub.ConsumerInputs
		s.deliveries.Add(1)
		go func() {
			defer s.deliveries.Done()
			req, err := http.NewRequest(http.MethodPost, in["url"], bytes.NewReader(body))
			if err != nil {
				return
			}
			req.Header.Set("Content-Type", "application/json; charset=utf-8")
			if in["basicAuthUsername"] != "" || in["basicAuthPassword"] != "" {
				req.SetBasicAuth(in["basicAuthUsername"], in["basicAuthPassword"])
			}
			for _, line := range strings.Split(in["httpHeaders"], "\n") {
				if k, v, ok := strings.Cut(line, ":"); ok {
					req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
				}
			}
			c := &http.Client{Timeout: 10 * time.Second}
			if resp, err := c.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
}
