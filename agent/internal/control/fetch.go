package control

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/job"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// Job names the methods and event of a file-producing job: support
// packages and backups share the shapes.
type Job struct {
	Status   protocol.Method[apitype.IDParams, apitype.SupportStatusResult]
	Download protocol.Method[apitype.SupportDownloadParams, apitype.SupportDownloadResult]
	Event    string
}

// Jobs of the API.
var (
	SupportJob = Job{Status: protocol.SupportStatus, Download: protocol.SupportDownload, Event: apitype.EventSupportProgress}
	BackupJob  = Job{Status: protocol.BackupStatus, Download: protocol.BackupDownload, Event: apitype.EventBackupProgress}
)

// Subscribe asks for the job's progress events; call it before starting the
// job so none is missed.
func (c *Client) Subscribe(ctx context.Context, j Job) error {
	_, err := Call(ctx, c, protocol.EventsSubscribe, apitype.EventsSubscribeParams{Types: []string{j.Event}})
	return err
}

// pollEvery re-reads the status when no event came: events are a
// convenience, the status is the truth.
const pollEvery = 2 * time.Second

// Wait follows job id until it is ready or failed; progress hears each
// percent the agent reports.
func (c *Client) Wait(ctx context.Context, j Job, id string, progress func(percent int)) (apitype.SupportStatusResult, error) {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		st, err := Call(ctx, c, j.Status, apitype.IDParams{ID: id})
		if err != nil {
			return st, err
		}
		switch st.State {
		case apitype.SupportReady:
			return st, nil
		case apitype.SupportFailed:
			return st, fmt.Errorf("the agent could not make it: %s", st.Error)
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-c.closed:
			return st, c.err
		case <-t.C:
		case ev := <-c.events:
			var p struct {
				ID      string `json:"id"`
				Percent int    `json:"percent"`
			}
			if ev.Type == j.Event && json.Unmarshal(ev.Data, &p) == nil && p.ID == id && progress != nil {
				progress(p.Percent)
			}
		}
	}
}

// Download writes a ready job's file to path in chunks, checking its size
// and SHA-256 against the status; path appears only when complete.
func (c *Client) Download(ctx context.Context, j Job, st apitype.SupportStatusResult, path string) error {
	_, err := job.WriteFile(ctx, path, "."+filepath.Base(path)+".*.partial", func(ctx context.Context, w io.Writer) error {
		h := sha256.New()
		var off int64
		for {
			chunk, err := Call(ctx, c, j.Download, apitype.SupportDownloadParams{ID: st.ID, Offset: off, Length: protocol.MaxDownloadChunk})
			if err != nil {
				return err
			}
			if _, err := io.MultiWriter(w, h).Write(chunk.Data); err != nil {
				return fmt.Errorf("write %s: %w", path, err)
			}
			off += int64(len(chunk.Data))
			if chunk.EOF {
				break
			}
			if len(chunk.Data) == 0 {
				return fmt.Errorf("download: the agent sent no data at byte %d of %d", off, st.Size)
			}
		}
		if off != st.Size || hex.EncodeToString(h.Sum(nil)) != st.SHA256 {
			return fmt.Errorf("download: got %d bytes that do not match the agent's %d bytes and checksum", off, st.Size)
		}
		return nil
	})
	return err
}
