package snemu

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The Attachment API: metadata lives in sys_attachment, content beside it.

// attachmentJSON is an attachment's metadata as the API returns it: every
// value a string, as in the Table API with display values off.
func (e *Emu) attachmentJSON(a *record) map[string]any {
	out := map[string]any{}
	for _, f := range fieldsOf("sys_attachment") {
		out[f.element] = a.vals[f.element]
	}
	out["download_link"] = e.URL() + "/api/now/attachment/" + a.vals["sys_id"] + "/file"
	return out
}

func (e *Emu) attachments(w http.ResponseWriter, r *http.Request, u *User) {
	q := r.URL.Query()
	limit, offset := 1000, 0
	if n, err := strconv.Atoi(q.Get("sysparm_limit")); err == nil && n > 0 {
		limit = n
	}
	if n, err := strconv.Atoi(q.Get("sysparm_offset")); err == nil && n >= 0 {
		offset = n
	}
	e.mu.Lock()
	pq := e.parseQuery("sys_attachment", q.Get("sysparm_query"))
	var hits []*record
	for _, a := range e.records {
		if a.class == "sys_attachment" && e.matches(a, pq, u) {
			hits = append(hits, a)
		}
	}
	e.sortRecords(hits, pq.orders)
	page := []map[string]any{}
	for i := offset; i < len(hits) && i < offset+limit; i++ {
		page = append(page, e.attachmentJSON(hits[i]))
	}
	total := len(hits)
	e.mu.Unlock()
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	if links := pageLinks(e.URL(), r.URL, offset, limit, total); links != "" {
		w.Header().Set("Link", links)
	}
	writeJSON(w, http.StatusOK, map[string]any{"result": page})
}

func (e *Emu) attachmentRecord(w http.ResponseWriter, r *http.Request) *record {
	a := e.records[r.PathValue("id")]
	if a == nil || a.class != "sys_attachment" {
		noRecord(w)
		return nil
	}
	return a
}

func (e *Emu) attachment(w http.ResponseWriter, r *http.Request, _ *User) {
	e.mu.Lock()
	a := e.attachmentRecord(w, r)
	if a == nil {
		e.mu.Unlock()
		return
	}
	out := e.attachmentJSON(a)
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"result": out})
}

func (e *Emu) download(w http.ResponseWriter, r *http.Request, _ *User) {
	e.mu.Lock()
	a := e.attachmentRecord(w, r)
	if a == nil {
		e.mu.Unlock()
		return
	}
	meta, _ := json.Marshal(e.attachmentJSON(a))
	data, ctype := e.files[a.vals["sys_id"]], a.vals["content_type"]
	e.mu.Unlock()
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("X-Attachment-Metadata", string(meta))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

// upload is POST /attachment/file?table_name=&table_sys_id=&file_name=
// with the raw content as the body and its type as Content-Type.
func (e *Emu) upload(w http.ResponseWriter, r *http.Request, u *User) {
	q := r.URL.Query()
	table, id, name := q.Get("table_name"), q.Get("table_sys_id"), q.Get("file_name")
	if table == "" || id == "" || name == "" {
		writeError(w, http.StatusBadRequest, "Missing parameter: table_name, table_sys_id and file_name are required", "")
		return
	}
	if u.ReadOnly {
		writeError(w, http.StatusForbidden, "Operation Failed", "ACL Exception Insert Failed due to security constraints")
		return
	}
	ctype := r.Header.Get("Content-Type")
	if ctype == "" {
		writeError(w, http.StatusBadRequest, "Content-Type header is required", "")
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, e.o.MaxAttachment+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "Failed to read the attachment", err.Error())
		return
	}
	if int64(len(data)) > e.o.MaxAttachment {
		writeError(w, http.StatusBadRequest, "Failed to create the attachment. File part might be too large.",
			"The attachment exceeds the maximum size (com.glide.attachment.max_size)")
		return
	}
	e.mu.Lock()
	parent := e.records[id]
	if parent == nil || !extends(parent.class, table) {
		e.mu.Unlock()
		writeError(w, http.StatusBadRequest, "Invalid table name or sys_id", "No record "+table+"/"+id)
		return
	}
	a := e.attachRaw(parent, name, ctype, data, u)
	out := e.attachmentJSON(a)
	e.mu.Unlock()
	w.Header().Set("Location", out["download_link"].(string))
	writeJSON(w, http.StatusCreated, map[string]any{"result": out})
}

// attachRaw stores an attachment. As on the instance, the parent record
// is not updated: its sys_updated_on and sys_mod_count stay. The caller
// holds e.mu.
func (e *Emu) attachRaw(parent *record, name, ctype string, data []byte, u *User) *record {
	sum := sha256.Sum256(data)
	a := e.insertRaw("sys_attachment", "", map[string]string{"file_name": name, "content_type": strings.TrimSpace(ctype),
		"size_bytes": strconv.Itoa(len(data)), "table_name": parent.class, "table_sys_id": parent.vals["sys_id"],
		"hash": hex.EncodeToString(sum[:]), "state": "available"})
	a.vals["sys_created_by"], a.vals["sys_updated_by"] = u.UserName, u.UserName
	e.files[a.vals["sys_id"]] = append([]byte(nil), data...)
	return a
}

func (e *Emu) deleteAttachment(w http.ResponseWriter, r *http.Request, u *User) {
	if u.ReadOnly {
		writeError(w, http.StatusForbidden, "Operation Failed", "ACL Exception Delete Failed due to security constraints")
		return
	}
	e.mu.Lock()
	a := e.attachmentRecord(w, r)
	if a == nil {
		e.mu.Unlock()
		return
	}
	delete(e.records, a.vals["sys_id"])
	delete(e.files, a.vals["sys_id"])
	e.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
