package bridge

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lockstep-sync/lockstep/desktop/internal/agentclient"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// SavedFile describes a file written through a save dialog.
type SavedFile struct {
	Path      string `json:"path"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`
	Cancelled bool   `json:"cancelled"`
}

// supportChunk is the largest chunk support.download serves (1 MiB).
const supportChunk = 1 << 20

// maxOpenFile bounds what OpenTextFile reads into the UI; the agent's own
// limit on a configuration document is smaller.
const maxOpenFile = 16 << 20

var errNoDialogs = &Error{Kind: "internal", Message: "File dialogs are not available."}

// SaveSupportPackage asks where to save a built support package, then
// streams it from the agent chunk by chunk into that file and checks the
// SHA-256 the agent reported. Cancelling the dialog returns Cancelled.
func (a *App) SaveSupportPackage(id, defaultName string) (SavedFile, error) {
	_, c, err := a.currentAgent()
	if err != nil {
		return SavedFile{}, err
	}
	if a.cfg.Dialogs == nil {
		return SavedFile{}, errNoDialogs
	}
	ctx, cancel := a.callCtx()
	st, err := agentclient.Call(ctx, c, protocol.SupportStatus, apitype.IDParams{ID: id})
	cancel()
	if err != nil {
		return SavedFile{}, err
	}
	switch st.State {
	case apitype.SupportReady:
	case apitype.SupportFailed:
		return SavedFile{}, newError(protocol.KindConflict, "The support package could not be built: "+st.Error)
	default:
		return SavedFile{}, newError(protocol.KindConflict, "The support package is still being built.")
	}
	path, err := a.cfg.Dialogs.SaveFile("Save support package", defaultName)
	if err != nil {
		return SavedFile{}, fmt.Errorf("open save dialog: %w", err)
	}
	if path == "" {
		return SavedFile{Cancelled: true}, nil
	}
	h := sha256.New()
	size, err := writeAtomic(path, func(w io.Writer) (int64, error) {
		return a.download(c, id, io.MultiWriter(w, h))
	})
	if err != nil {
		return SavedFile{}, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if st.SHA256 != "" && sum != st.SHA256 {
		// The file is already in place; remove it rather than leave a
		// package that does not match what the agent built.
		_ = os.Remove(path)
		return SavedFile{}, newError(protocol.KindInternal, fmt.Sprintf("The downloaded package does not match the agent's checksum (got %s, want %s).", sum, st.SHA256))
	}
	return SavedFile{Path: path, Size: size, SHA256: sum}, nil
}

// download copies the package to w in chunks, each call bounded on its own
// so a large package never holds one request past the call timeout.
func (a *App) download(c *agentclient.Client, id string, w io.Writer) (int64, error) {
	var off int64
	for {
		ctx, cancel := a.callCtx()
		r, err := agentclient.Call(ctx, c, protocol.SupportDownload, apitype.SupportDownloadParams{ID: id, Offset: off, Length: supportChunk})
		cancel()
		if err != nil {
			return off, fmt.Errorf("download support package at offset %d: %w", off, err)
		}
		if _, err := w.Write(r.Data); err != nil {
			return off, fmt.Errorf("write support package: %w", err)
		}
		off += int64(len(r.Data))
		if r.EOF {
			return off, nil
		}
		if len(r.Data) == 0 {
			return off, newError(protocol.KindInternal, "The agent sent an empty chunk before the end of the package.")
		}
	}
}

// SaveTextFile asks where to save content (a log export, a YAML export) and
// writes it; the path is empty when the user cancels.
func (a *App) SaveTextFile(defaultName, content string) (string, error) {
	if a.cfg.Dialogs == nil {
		return "", errNoDialogs
	}
	path, err := a.cfg.Dialogs.SaveFile("Save", defaultName)
	if err != nil {
		return "", fmt.Errorf("open save dialog: %w", err)
	}
	if path == "" {
		return "", nil
	}
	if _, err := writeAtomic(path, func(w io.Writer) (int64, error) {
		n, err := io.WriteString(w, content)
		return int64(n), err
	}); err != nil {
		return "", err
	}
	return path, nil
}

// OpenTextFile asks for a file (CSV user map, YAML import, license) and
// returns its content; empty when the user cancels.
func (a *App) OpenTextFile(title, pattern string) (string, error) {
	if a.cfg.Dialogs == nil {
		return "", errNoDialogs
	}
	path, err := a.cfg.Dialogs.OpenFile(title, pattern)
	if err != nil {
		return "", fmt.Errorf("open file dialog: %w", err)
	}
	if path == "" {
		return "", nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", newError(protocol.KindInvalid, fmt.Sprintf("Cannot open %s: %v", filepath.Base(path), errors.Unwrap(err)))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxOpenFile+1))
	if err != nil {
		return "", newError(protocol.KindInvalid, fmt.Sprintf("Cannot read %s: %v", filepath.Base(path), err))
	}
	if len(b) > maxOpenFile {
		return "", newError(protocol.KindInvalid, fmt.Sprintf("%s is larger than %d MiB.", filepath.Base(path), maxOpenFile>>20))
	}
	return string(b), nil
}

// writeAtomic writes through fill into a temporary file beside path and
// renames it into place only when everything was written, so a failed or
// interrupted save never leaves a truncated file under the chosen name.
// Files are private to the user: exports and packages hold operational data.
func writeAtomic(path string, fill func(io.Writer) (int64, error)) (int64, error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.part")
	if err != nil {
		return 0, newError(protocol.KindInvalid, fmt.Sprintf("Cannot write to %s: %v", dir, errors.Unwrap(err)))
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	n, err := fill(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write %s: %w", path, cerr)
	}
	if err != nil {
		return 0, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return 0, fmt.Errorf("save %s: %w", path, err)
	}
	return n, nil
}
