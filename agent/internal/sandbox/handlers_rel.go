package sandbox

import (
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
)

type commentPage struct {
	Comments   []Comment `json:"comments"`
	NextCursor string    `json:"nextCursor"`
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request, _ Token) {
	q := r.URL.Query()
	var after int64
	var limit int
	var err error
	if v := q.Get("cursor"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil {
			writeError(w, invalid("cursor", "is not a cursor this server issued"))
			return
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil {
			writeError(w, invalid("limit", "must be a whole number"))
			return
		}
	}
	list, more, err := s.store.Comments(r.PathValue("id"), after, limit)
	if err != nil {
		writeError(w, err)
		return
	}
	page := commentPage{Comments: list}
	if more {
		page.NextCursor = strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, page)
}

type commentIn struct {
	Body string `json:"body"`
}

func (s *Server) addComment(w http.ResponseWriter, r *http.Request, tok Token) {
	var in commentIn
	if err := decode(w, r, &in); err != nil {
		writeError(w, err)
		return
	}
	c, err := s.store.AddComment(r.PathValue("id"), tok.User, in.Body)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

func (s *Server) editComment(w http.ResponseWriter, r *http.Request, _ Token) {
	cid, err := strconv.ParseInt(r.PathValue("cid"), 10, 64)
	if err != nil {
		writeError(w, notFound("comment %s not found", r.PathValue("cid")))
		return
	}
	var in commentIn
	if err := decode(w, r, &in); err != nil {
		writeError(w, err)
		return
	}
	c, err := s.store.EditComment(r.PathValue("id"), cid, in.Body)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) deleteComment(w http.ResponseWriter, r *http.Request, _ Token) {
	cid, err := strconv.ParseInt(r.PathValue("cid"), 10, 64)
	if err != nil {
		writeError(w, notFound("comment %s not found", r.PathValue("cid")))
		return
	}
	if err := s.store.DeleteComment(r.PathValue("id"), cid); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) deleteAttachment(w http.ResponseWriter, r *http.Request, _ Token) {
	id, perr := attachmentID(r)
	if perr != nil {
		writeError(w, perr)
		return
	}
	if err := s.store.DeleteAttachment(id); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listAttachments(w http.ResponseWriter, r *http.Request, _ Token) {
	list, err := s.store.Attachments(r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string][]Attachment{"attachments": list})
}

// uploadAttachment takes the raw body (?name= and Content-Type) or a
// multipart form with a "file" part, and streams it to storage.
func (s *Server) uploadAttachment(w http.ResponseWriter, r *http.Request, tok Token) {
	name, ctype := r.URL.Query().Get("name"), r.Header.Get("Content-Type")
	mt, params, _ := mime.ParseMediaType(ctype)
	limit := s.opts.MaxAttachmentBytes
	if mt == "multipart/form-data" {
		limit += 1 << 20 // room for the form's framing
	}
	if r.ContentLength > limit {
		writeError(w, tooLarge("attachments are limited to %d bytes", s.opts.MaxAttachmentBytes))
		return
	}
	body := http.MaxBytesReader(w, r.Body, limit+1) // +1: the store tells "too large" itself
	var content io.Reader = body
	if mt == "multipart/form-data" {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err != nil {
				writeError(w, invalid("file", "the multipart form has no \"file\" part"))
				return
			}
			if part.FormName() == "file" {
				if name == "" {
					name = part.FileName()
				}
				ctype, content = part.Header.Get("Content-Type"), part
				break
			}
		}
	}
	if name == "" {
		writeError(w, invalid("name", "is required (?name=)"))
		return
	}
	a, err := s.store.AddAttachment(r.PathValue("id"), name, ctype, tok.User, content)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

func attachmentID(r *http.Request) (int64, *Error) {
	id, err := strconv.ParseInt(r.PathValue("aid"), 10, 64)
	if err != nil {
		return 0, notFound("attachment %s not found", r.PathValue("aid"))
	}
	return id, nil
}

func (s *Server) getAttachment(w http.ResponseWriter, r *http.Request, _ Token) {
	id, perr := attachmentID(r)
	if perr != nil {
		writeError(w, perr)
		return
	}
	a, err := s.store.Attachment(id)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// downloadAttachment streams content (with Range support) without loading
// it into memory.
func (s *Server) downloadAttachment(w http.ResponseWriter, r *http.Request, _ Token) {
	id, perr := attachmentID(r)
	if perr != nil {
		writeError(w, perr)
		return
	}
	a, rc, err := s.store.OpenAttachment(id)
	if err != nil {
		writeError(w, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", a.ContentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Name}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", a.Created, rc)
}

func (s *Server) listLinks(w http.ResponseWriter, r *http.Request, _ Token) {
	list, err := s.store.Links(r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string][]Link{"links": list})
}

func (s *Server) addLink(w http.ResponseWriter, r *http.Request, _ Token) {
	var in struct {
		Type   string          `json:"type"`
		Target json.RawMessage `json:"target"`
	}
	if err := decode(w, r, &in); err != nil {
		writeError(w, err)
		return
	}
	target := strings.Trim(string(in.Target), `"`) // an id (number or string) or a key
	if target == "" || target == "null" {
		writeError(w, invalid("target", "is required: an item id or key"))
		return
	}
	l, created, err := s.store.AddLink(r.PathValue("id"), in.Type, target)
	if err != nil {
		writeError(w, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, l)
}

func (s *Server) removeLinkByQuery(w http.ResponseWriter, r *http.Request, _ Token) {
	q := r.URL.Query()
	if q.Get("type") == "" || q.Get("target") == "" {
		writeError(w, invalid("target", "DELETE needs ?type= and ?target= (or use /links/{id})"))
		return
	}
	if err := s.store.RemoveLink(r.PathValue("id"), 0, q.Get("type"), q.Get("target")); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) removeLink(w http.ResponseWriter, r *http.Request, _ Token) {
	lid, err := strconv.ParseInt(r.PathValue("lid"), 10, 64)
	if err != nil {
		writeError(w, notFound("link %s not found", r.PathValue("lid")))
		return
	}
	if err := s.store.RemoveLink(r.PathValue("id"), lid, "", ""); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listRemoteLinks(w http.ResponseWriter, r *http.Request, _ Token) {
	list, err := s.store.RemoteLinks(r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string][]RemoteLink{"remoteLinks": list})
}

func (s *Server) putRemoteLink(w http.ResponseWriter, r *http.Request, _ Token) {
	var in struct {
		GlobalID     string `json:"globalId"`
		URL          string `json:"url"`
		Title        string `json:"title"`
		Relationship string `json:"relationship"`
	}
	if err := decode(w, r, &in); err != nil {
		writeError(w, err)
		return
	}
	rl, created, err := s.store.PutRemoteLink(r.PathValue("id"), RemoteLink{GlobalID: in.GlobalID, URL: in.URL, Title: in.Title, Relationship: in.Relationship})
	if err != nil {
		writeError(w, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, rl)
}

func (s *Server) deleteRemoteLink(w http.ResponseWriter, r *http.Request, _ Token) {
	rid, err := strconv.ParseInt(r.PathValue("rid"), 10, 64)
	if err != nil {
		writeError(w, notFound("remote link %s not found", r.PathValue("rid")))
		return
	}
	if err := s.store.DeleteRemoteLink(r.PathValue("id"), rid); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, _ Token) {
	list := s.store.Webhooks()
	for i := range list {
		list[i].Secret = ""
	}
	writeJSON(w, http.StatusOK, map[string][]Webhook{"webhooks": list})
}

func (s *Server) addWebhook(w http.ResponseWriter, r *http.Request, _ Token) {
	var in struct {
		URL     string `json:"url"`
		Secret  string `json:"secret"`
		Project string `json:"project"`
	}
	if err := decode(w, r, &in); err != nil {
		writeError(w, err)
		return
	}
	hook, err := s.store.AddWebhook(Webhook{URL: in.URL, Secret: in.Secret, Project: in.Project})
	if err != nil {
		writeError(w, err)
		return
	}
	hook.Secret = ""
	writeJSON(w, http.StatusCreated, hook)
}

func (s *Server) removeWebhook(w http.ResponseWriter, r *http.Request, _ Token) {
	id, err := strconv.ParseInt(r.PathValue("wid"), 10, 64)
	if err != nil {
		writeError(w, notFound("webhook %s not found", r.PathValue("wid")))
		return
	}
	if err := s.store.RemoveWebhook(id); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) getKnobs(w http.ResponseWriter, r *http.Request, _ Token) {
	writeJSON(w, http.StatusOK, s.Knobs())
}

func (s *Server) setKnobs(w http.ResponseWriter, r *http.Request, _ Token) {
	k := s.Knobs()
	if err := decode(w, r, &k); err != nil {
		writeError(w, err)
		return
	}
	if err := s.SetKnobs(k); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.Knobs())
}

func (s *Server) getStats(w http.ResponseWriter, r *http.Request, _ Token) {
	writeJSON(w, http.StatusOK, s.Stats())
}

func (s *Server) resetStats(w http.ResponseWriter, r *http.Request, _ Token) {
	s.ResetStats()
	w.WriteHeader(http.StatusNoContent)
}
