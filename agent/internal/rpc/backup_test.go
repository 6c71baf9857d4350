package rpc_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/backup"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// waitBackup waits for the BackupProgress event that ends job id.
func waitBackup(t *testing.T, c *client, id string) apitype.BackupProgress {
	t.Helper()
	deadline := time.After(time.Minute) // bounds a broken test only
	for {
		select {
		case m := <-c.notes:
			var ev apitype.EventNotification
			var p apitype.BackupProgress
			if json.Unmarshal(m.Params, &ev) != nil || ev.Type != apitype.EventBackupProgress || json.Unmarshal(ev.Data, &p) != nil {
				continue
			}
			if p.ID == id && p.State != apitype.SupportRunning {
				return p
			}
		case <-deadline:
			t.Fatalf("backup %s did not finish", id)
		}
	}
}

func download(t *testing.T, c *client, id string, size int64) []byte {
	t.Helper()
	var out bytes.Buffer
	for off := int64(0); ; {
		chunk := callOK(t, c, protocol.BackupDownload, apitype.BackupDownloadParams{ID: id, Offset: off, Length: 4096})
		out.Write(chunk.Data)
		off += int64(len(chunk.Data))
		if chunk.EOF {
			break
		}
	}
	if int64(out.Len()) != size {
		t.Fatalf("downloaded %d bytes of %d", out.Len(), size)
	}
	return out.Bytes()
}

// TestBackupCreateDownloadAndOpen makes archives through the API, sealed
// both ways, downloads them in chunks and opens them: the manifest is this
// agent's, the passphrase archive carries the master key, and neither the
// passphrase nor a system's secret shows anywhere it should not.
func TestBackupCreateDownloadAndOpen(t *testing.T) {
	ag := startAgent(t)
	admin := ag.session(t, "admin", adminPassword)
	const canary = "canary-token-5a17c0de"
	callOK(t, admin, protocol.SystemsCreate, apitype.SystemsCreateParams{Name: "Helpdesk", Kind: "sandbox", URL: "http://127.0.0.1:1",
		Settings: map[string]any{"project": "HELP"}, Secrets: map[string]apitype.Secret{"token": canary}})
	callOK(t, admin, protocol.EventsSubscribe, apitype.EventsSubscribeParams{Types: []string{apitype.EventBackupProgress}})
	info := callOK(t, admin, protocol.AgentInfo, apitype.Empty{})
	master, err := os.ReadFile(filepath.Join(ag.dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}

	if _, e := call(admin, protocol.BackupCreate, apitype.BackupCreateParams{Passphrase: "too short"}); kindOf(e) != protocol.KindInvalid || e.Data.Field != "passphrase" {
		t.Fatalf("short passphrase: %v", e)
	}
	const pass = "a passphrase of some length"
	for _, tc := range []struct {
		pass apitype.Secret
		keys backup.Keys
	}{{"", backup.Keys{MasterKey: master}}, {pass, backup.Keys{Passphrase: []byte(pass)}}} {
		created := callOK(t, admin, protocol.BackupCreate, apitype.BackupCreateParams{Passphrase: tc.pass})
		if ev := waitBackup(t, admin, created.ID); ev.State != apitype.SupportReady || ev.Percent != 100 {
			t.Fatalf("final event %+v", ev)
		}
		st := callOK(t, admin, protocol.BackupStatus, apitype.IDParams{ID: created.ID})
		if st.State != apitype.SupportReady || st.Size == 0 || len(st.SHA256) != 64 {
			t.Fatalf("status %+v", st)
		}
		data := download(t, admin, created.ID, st.Size)
		if bytes.Contains(data, []byte(canary)) || bytes.Contains(data, []byte(pass)) {
			t.Fatal("the archive holds a secret in the clear")
		}
		a, err := backup.Open(bytes.NewReader(data), tc.keys)
		if err != nil {
			t.Fatalf("open the downloaded archive: %v", err)
		}
		if _, err := io.Copy(io.Discard, a.Store); err != nil {
			t.Fatalf("read the archive's store: %v", err)
		}
		if a.Manifest.InstanceID != info.InstanceID || a.Manifest.Schema == 0 {
			t.Fatalf("manifest %+v", a.Manifest)
		}
		if (tc.pass != "") != bytes.Equal(a.Manifest.MasterKey, master) {
			t.Fatalf("sealed with %q: master key carried %v", tc.pass, len(a.Manifest.MasterKey))
		}
	}
	if _, e := call(admin, protocol.BackupStatus, apitype.IDParams{ID: "0123456789abcdef0123456789abcdef"}); kindOf(e) != protocol.KindNotFound {
		t.Fatalf("unknown backup: %v", e)
	}
	recs := callOK(t, admin, protocol.AuditList, apitype.AuditListParams{Action: "backup.create"})
	if len(recs.Records) != 2 || recs.Records[0].Actor != "admin" || !strings.Contains(string(recs.Records[0].Diff), "passphrase") {
		t.Fatalf("audit records of backup.create: %+v", recs.Records)
	}
	for _, m := range []any{callOK(t, admin, protocol.AuditList, apitype.AuditListParams{Limit: 1000}),
		callOK(t, admin, protocol.LogsQuery, apitype.LogsQueryParams{MinLevel: "trace", Limit: 10000})} {
		b, _ := json.Marshal(m)
		if bytes.Contains(b, []byte(pass)) || bytes.Contains(b, []byte(canary)) {
			t.Fatal("the passphrase or a secret reached the audit trail or the log")
		}
	}
}
