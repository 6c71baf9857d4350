package bridge

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// servePackage makes the fake agent serve pkg as support package "sp1",
// reporting sum as its checksum.
func servePackage(f *fixture, pkg []byte, sum string) {
	f.agent.Handle(protocol.SupportStatus.Name, func(_ context.Context, raw json.RawMessage) (any, error) {
		return apitype.SupportStatusResult{ID: "sp1", State: apitype.SupportReady, Size: int64(len(pkg)), SHA256: sum}, nil
	})
	f.agent.Handle(protocol.SupportDownload.Name, func(_ context.Context, raw json.RawMessage) (any, error) {
		var p apitype.SupportDownloadParams
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, err
		}
		if p.Length > 1<<20 {
			return nil, protocol.Invalid("length", "at most 1 MiB")
		}
		end := min(int(p.Offset)+p.Length, len(pkg))
		return apitype.SupportDownloadResult{Data: pkg[p.Offset:end], EOF: end == len(pkg)}, nil
	})
}

func TestSupportPackageStreamsToTheChosenFile(t *testing.T) {
	f := newFixture(t)
	f.login(t)
	pkg := make([]byte, 2<<20+12345) // three chunks
	rand.Read(pkg)
	sum := sha256.Sum256(pkg)
	want := hex.EncodeToString(sum[:])
	servePackage(f, pkg, want)

	f.dlg.savePath = filepath.Join(t.TempDir(), "support.zip")
	got, err := f.app.SaveSupportPackage("sp1", "lockstep-support.zip")
	if err != nil {
		t.Fatal(err)
	}
	if got.Path != f.dlg.savePath || got.Size != int64(len(pkg)) || got.SHA256 != want || got.Cancelled {
		t.Fatalf("saved %+v", got)
	}
	onDisk, err := os.ReadFile(got.Path)
	if err != nil || !bytes.Equal(onDisk, pkg) {
		t.Fatalf("file content differs (%v)", err)
	}
	if f.dlg.titles[0] != "Save support package|lockstep-support.zip" {
		t.Fatalf("dialog asked %q", f.dlg.titles[0])
	}
	if n := f.agent.CallCount(protocol.SupportDownload.Name); n != 3 {
		t.Fatalf("%d download calls, want 3 chunks", n)
	}

	// Cancelling the dialog writes nothing.
	f.dlg.savePath = ""
	got, err = f.app.SaveSupportPackage("sp1", "x.zip")
	if err != nil || !got.Cancelled {
		t.Fatalf("cancelled save: %+v %v", got, err)
	}
}

func TestSupportPackageWithWrongChecksumIsNotKept(t *testing.T) {
	f := newFixture(t)
	f.login(t)
	servePackage(f, []byte("package bytes"), hex.EncodeToString(make([]byte, 32)))
	dir := t.TempDir()
	f.dlg.savePath = filepath.Join(dir, "support.zip")
	if _, err := f.app.SaveSupportPackage("sp1", "support.zip"); kindOf(err) != "internal" {
		t.Fatalf("checksum mismatch: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("left %d files behind", len(entries))
	}
}

func TestSupportPackageNotReady(t *testing.T) {
	f := newFixture(t)
	f.login(t)
	f.agent.Handle(protocol.SupportStatus.Name, func(context.Context, json.RawMessage) (any, error) {
		return apitype.SupportStatusResult{ID: "sp1", State: apitype.SupportRunning}, nil
	})
	if _, err := f.app.SaveSupportPackage("sp1", "x.zip"); kindOf(err) != "conflict" {
		t.Fatalf("running package: %v", err)
	}
	if len(f.dlg.titles) != 0 {
		t.Fatal("the dialog opened for a package that is not ready")
	}
}

func TestTextFiles(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	f.dlg.savePath = filepath.Join(dir, "logs.txt")
	path, err := f.app.SaveTextFile("logs.txt", "line 1\nline 2\n")
	if err != nil || path != f.dlg.savePath {
		t.Fatalf("save: %q %v", path, err)
	}
	if b, _ := os.ReadFile(path); string(b) != "line 1\nline 2\n" {
		t.Fatalf("saved %q", b)
	}
	f.dlg.openPath = path
	content, err := f.app.OpenTextFile("Import users", "*.csv")
	if err != nil || content != "line 1\nline 2\n" {
		t.Fatalf("open: %q %v", content, err)
	}
	if f.dlg.titles[1] != "Import users|*.csv" {
		t.Fatalf("dialog asked %q", f.dlg.titles[1])
	}
	f.dlg.openPath, f.dlg.savePath = "", ""
	if c, err := f.app.OpenTextFile("t", ""); c != "" || err != nil {
		t.Fatalf("cancelled open: %q %v", c, err)
	}
	if p, err := f.app.SaveTextFile("x", "y"); p != "" || err != nil {
		t.Fatalf("cancelled save: %q %v", p, err)
	}
	f.dlg.openPath = filepath.Join(dir, "missing.csv")
	if _, err := f.app.OpenTextFile("t", ""); kindOf(err) != "invalid" {
		t.Fatalf("missing file: %v", err)
	}
	f.dlg.savePath = filepath.Join(dir, "no-such-dir", "x.txt")
	if _, err := f.app.SaveTextFile("x.txt", "y"); kindOf(err) != "invalid" {
		t.Fatalf("unwritable dir: %v", err)
	}
}
