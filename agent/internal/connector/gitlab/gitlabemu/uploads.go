package gitlabemu

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

type upload struct {
	ID        int
	ProjectID int
	Secret    string
	Filename  string
	Data      []byte
	Uploader  int
	CreatedAt time.Time
}

// unsafeName is what CarrierWave's sanitizer replaces with "_" in an
// uploaded file's name.
var unsafeName = regexp.MustCompile(`[^\p{L}\p{N}_.\-+]`)

var imageExts = []string{".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tiff", ".ico", ".webp"}

func (e *Emu) createUpload(w http.ResponseWriter, r *http.Request, u *User) {
	r.Body = http.MaxBytesReader(w, r.Body, e.o.MaxUploadBytes+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		paramError(w, "file is missing")
		return
	}
	var name string
	var data []byte
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			message(w, http.StatusBadRequest, "400 Bad request - "+err.Error())
			return
		}
		if part.FormName() != "file" {
			continue
		}
		name = part.FileName()
		if data, err = io.ReadAll(part); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				message(w, http.StatusRequestEntityTooLarge, "413 Request Entity Too Large")
				return
			}
			message(w, http.StatusBadRequest, "400 Bad request - "+err.Error())
			return
		}
	}
	if name == "" {
		paramError(w, "file is invalid")
		return
	}
	if int64(len(data)) > e.o.MaxUploadBytes {
		message(w, http.StatusRequestEntityTooLarge, "413 Request Entity Too Large")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	p, _ := e.projectOf(w, r, u)
	if p == nil {
		return
	}
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	up := &upload{ID: e.newID("upload"), ProjectID: p.ID, Secret: hex.EncodeToString(secret),
		Filename: unsafeName.ReplaceAllString(path.Base(strings.ReplaceAll(name, `\`, "/")), "_"),
		Data:     data, Uploader: u.ID, CreatedAt: e.now()}
	e.uploads[up.ID] = up
	rel := "/uploads/" + up.Secret + "/" + up.Filename
	alt := strings.TrimSuffix(up.Filename, path.Ext(up.Filename))
	md := fmt.Sprintf("[%s](%s)", up.Filename, rel)
	if slices.Contains(imageExts, strings.ToLower(path.Ext(up.Filename))) {
		md = fmt.Sprintf("![%s](%s)", alt, rel)
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": up.ID, "alt": alt, "url": rel,
		"full_path": fmt.Sprintf("/-/project/%d/uploads/%s/%s", p.ID, up.Secret, up.Filename), "markdown": md})
}

func (e *Emu) uploadOf(w http.ResponseWriter, r *http.Request, p *project) *upload {
	for _, up := range e.uploads {
		if up.ProjectID == p.ID && up.Secret == r.PathValue("secret") && up.Filename == r.PathValue("filename") {
			return up
		}
	}
	message(w, http.StatusNotFound, "404 Not found")
	return nil
}

func (e *Emu) downloadUpload(w http.ResponseWriter, r *http.Request, u *User) {
	e.mu.Lock()
	p, _ := e.projectOf(w, r, u)
	var up *upload
	if p != nil {
		up = e.uploadOf(w, r, p)
	}
	e.mu.Unlock()
	if up == nil {
		return
	}
	ct := mime.TypeByExtension(path.Ext(up.Filename))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, up.Filename))
	w.Header().Set("Content-Length", strconv.Itoa(len(up.Data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(up.Data)
	}
}

func (e *Emu) listUploads(w http.ResponseWriter, r *http.Request, u *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.projectAt(w, r, u, Maintainer)
	if p == nil {
		return
	}
	var list []*upload
	for _, up := range e.uploads {
		if up.ProjectID == p.ID {
			list = append(list, up)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID > list[j].ID })
	items := make([]any, 0, len(list))
	for _, up := range list {
		items = append(items, map[string]any{"id": up.ID, "size": len(up.Data), "filename": up.Filename,
			"created_at": e.stamp(up.CreatedAt), "uploaded_by": e.userJSON(e.user(up.Uploader))})
	}
	e.writePage(w, r, items)
}

func (e *Emu) deleteUpload(w http.ResponseWriter, r *http.Request, u *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.projectAt(w, r, u, Maintainer)
	if p == nil {
		return
	}
	if up := e.uploadOf(w, r, p); up != nil {
		delete(e.uploads, up.ID)
		w.WriteHeader(http.StatusNoContent)
	}
}

// Upload stores a file as a person's drag and drop would, and returns the
// Markdown GitLab gives for it, for tests.
func (e *Emu) Upload(projectID int, username, name string, data []byte) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	up := &upload{ID: e.newID("upload"), ProjectID: projectID, Secret: hex.EncodeToString(secret),
		Filename: unsafeName.ReplaceAllString(name, "_"), Data: data, Uploader: e.userByName(username).ID, CreatedAt: e.now()}
	e.uploads[up.ID] = up
	return fmt.Sprintf("[%s](/uploads/%s/%s)", up.Filename, up.Secret, up.Filename)
}
