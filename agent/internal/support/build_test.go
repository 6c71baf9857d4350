package support

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/job"
)

// Canaries: unique secret values planted in every shape a secret can take
// on its way into a package. None may appear in any byte of the zip.
const (
	canaryKnown     = "KNOWN-c4nary-8d1f"  // a stored secret, raw in a message
	canaryBearer    = "BEARER-c4nary-77aa" // Authorization: Bearer header in a log line
	canaryQuery     = "PWQUERY-c4nary-19"  // password= in a URL query
	canaryUserinfo  = "USERINFO-c4nary-42" // https://user:pass@host
	canaryJSONToken = "JSONTOKEN-c4nary-5e"
	canaryHash      = "HASH-c4nary-00" // an account's password hash
	canaryAPIKey    = "APIKEY-c4nary-31"
	canaryAuditPW   = "AUDITPW-c4nary-0b"
	canaryErr       = "ERRPW-c4nary-d2" // inside a collector's error message
	canaryGz        = "GZ-c4nary-6c"    // in a rotated, compressed log
)

// canaryBasic is Basic credentials: the base64 text is what must not leak.
var canaryBasic = base64.StdEncoding.EncodeToString([]byte("bob:BASIC-c4nary-9f"))

var allCanaries = []string{
	canaryKnown, canaryBearer, canaryQuery, canaryUserinfo, canaryJSONToken, canaryHash,
	canaryAPIKey, canaryAuditPW, canaryErr, canaryGz, canaryBasic, "BASIC-c4nary-9f",
}

var testTime = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// writeLogs writes agent.log and a rotated, gzipped backup with canaries.
func writeLogs(t *testing.T, dir string) []string {
	t.Helper()
	active := strings.Join([]string{
		`{"level":"info","component":"sync","process":"p1","entity_key":"HD-1","entity_title":"Printer on fire","message":"updated entity"}`,
		`{"level":"debug","component":"http","message":"request","headers":"Authorization: Bearer ` + canaryBearer + `"}`,
		`{"level":"warn","component":"http","message":"GET https://jira.example.com/rest/api?user=bob&password=` + canaryQuery + `&x=1 failed"}`,
		`{"level":"error","component":"connector","message":"dial https://bob:` + canaryUserinfo + `@jira.example.com/rest: refused"}`,
		`{"level":"debug","component":"http","message":"body","body":"{\"token\":\"` + canaryJSONToken + `\"}"}`,
		`{"level":"warn","component":"auth","message":"the server rejected ` + canaryKnown + ` as invalid"}`,
		`{"level":"debug","component":"http","message":"Authorization: Basic ` + canaryBasic + `"}`,
		`{"level":"info","component":"sync","message":"last line without a newline","api_key":"` + canaryAPIKey + `"}`,
	}, "\n")
	activePath := filepath.Join(dir, "agent.log")
	if err := os.WriteFile(activePath, []byte(active), 0o600); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	fmt.Fprintf(zw, "{\"level\":\"info\",\"message\":\"rotated\"}\n{\"level\":\"warn\",\"message\":\"secret=%s\"}\n", canaryGz)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	rotPath := filepath.Join(dir, "agent-2026-11-26T10-00-00.000.log.gz")
	if err := os.WriteFile(rotPath, gz.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{rotPath, activePath}
}

// fullSources has every collector, with canaries wherever a secret can hide.
func fullSources(t *testing.T) Sources {
	t.Helper()
	logs := writeLogs(t, t.TempDir())
	return Sources{
		AgentVersion: "1.2.0",
		InstanceID:   "inst-1",
		Now:          func() time.Time { return testTime },
		Host: func(context.Context) (any, error) {
			return map[string]any{"os": "linux", "cpuCores": 8, "memTotal": int64(16 << 30)}, nil
		},
		Systems: func(context.Context) (any, error) {
			// Already redacted by the caller; the builder must still catch
			// what the caller missed.
			return []map[string]any{{
				"id": "s1", "name": "Jira", "kind": "jira",
				"url":      "https://bob:" + canaryUserinfo + "@jira.example.com",
				"settings": map[string]any{"token": canaryJSONToken, "project": "HD", "apiKey": canaryAPIKey, "note": "uses " + canaryKnown},
				"secrets":  map[string]any{"apiToken": map[string]any{"set": true}, "password": map[string]any{"set": false}},
			}}, nil
		},
		Accounts: func(context.Context) (any, error) {
			return []map[string]any{{
				"id": "a1", "username": "admin", "role": "admin", "passwordHash": canaryHash,
				"created": testTime, "lastLogin": testTime,
			}}, nil
		},
		Operational: func(context.Context) (any, error) {
			return map[string]any{
				"pairCount": 2,
				"recentPairs": []map[string]any{
					{"a": map[string]any{"id": "1", "key": "HD-1", "title": "Printer on fire"}, "b": map[string]any{"id": "9", "key": "OPS-9", "title": "Printer"}},
				},
			}, nil
		},
		Settings: func(context.Context) (any, error) {
			return map[string]any{"logLevel": "info", "supportRetentionHours": 24}, nil
		},
		Audit: func(ctx context.Context, emit func(any) error) error {
			recs := []map[string]any{
				{"seq": 1, "action": "session.login", "actor": "admin", "result": "success"},
				{"seq": 2, "action": "systems.update", "actor": "admin", "diff": map[string]any{"password": map[string]any{"old": canaryAuditPW, "new": "[redacted]"}, "url": "https://x:" + canaryUserinfo + "@h"}},
				{"seq": 3, "action": "systems.test", "actor": "admin", "result": "failed: token=" + canaryJSONToken},
			}
			for _, r := range recs {
				if err := emit(r); err != nil {
					return err
				}
			}
			return nil
		},
		LogFiles: func() []string { return logs },
		LogRing: func() [][]byte {
			return [][]byte{
				[]byte(`{"level":"info","message":"ring line one"}` + "\n"),
				[]byte(`{"level":"warn","message":"retry with Bearer ` + canaryBearer + ` and ` + canaryKnown + `"}`),
			}
		},
		KnownSecrets: func(context.Context) ([]string, error) {
			return []string{canaryKnown, canaryAuditPW}, nil
		},
	}
}

// readZip returns every entry's content by name, and the entries.
func readZip(t *testing.T, data []byte) (map[string][]byte, []*zip.File) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("read zip: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("read %s: %v", f.Name, err)
		}
		out[f.Name] = b
	}
	return out, zr.File
}

func partByName(m Manifest, name string) (Part, bool) {
	for _, p := range m.Parts {
		if p.Name == name {
			return p, true
		}
	}
	return Part{}, false
}

// checkManifest asserts that manifest.json is the returned manifest and
// that every part's hash and size match its entry, and every entry is a part.
func checkManifest(t *testing.T, m Manifest, files map[string][]byte) {
	t.Helper()
	var stored Manifest
	if err := json.Unmarshal(files[PartManifest], &stored); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	a, _ := json.Marshal(stored)
	b, _ := json.Marshal(m)
	if !bytes.Equal(a, b) {
		t.Errorf("manifest.json differs from the returned manifest:\n%s\n%s", a, b)
	}
	for _, p := range m.Parts {
		content, ok := files[p.Name]
		if p.SHA256 == "" {
			if ok {
				t.Errorf("part %s has no hash but a file", p.Name)
			}
			continue
		}
		if !ok {
			t.Errorf("part %s is not in the zip", p.Name)
			continue
		}
		sum := sha256.Sum256(content)
		if hex.EncodeToString(sum[:]) != p.SHA256 || int64(len(content)) != p.Size {
			t.Errorf("part %s: manifest says %s/%d, entry is %x/%d", p.Name, p.SHA256, p.Size, sum, len(content))
		}
	}
	for name := range files {
		if _, ok := partByName(m, name); !ok && name != PartManifest {
			t.Errorf("entry %s is not in the manifest", name)
		}
	}
}

func TestBuildNoCanaryLeaks(t *testing.T) {
	var buf bytes.Buffer
	m, err := Build(t.Context(), &buf, fullSources(t))
	if err != nil {
		t.Fatal(err)
	}
	files, entries := readZip(t, buf.Bytes())
	for name, content := range files {
		for _, c := range allCanaries {
			if bytes.Contains(content, []byte(c)) {
				t.Errorf("%s contains canary %s:\n%s", name, c, content)
			}
		}
	}
	// The whole archive too: names, comments, compressed streams.
	for _, c := range allCanaries {
		if bytes.Contains(buf.Bytes(), []byte(c)) {
			t.Errorf("the zip bytes contain canary %s", c)
		}
	}
	checkManifest(t, m, files)

	want := []string{PartManifest, PartHost, PartSystems, PartAccounts, PartOperational, PartSettings,
		PartAudit, PartLogRing, "logs/agent-2026-11-26T10-00-00.000.log", "logs/agent.log"}
	for _, n := range want {
		if _, ok := files[n]; !ok {
			t.Errorf("missing %s", n)
		}
	}
	for _, p := range m.Parts {
		if p.Status != StatusOK {
			t.Errorf("part %s: %s %s", p.Name, p.Status, p.Error)
		}
	}
	for _, e := range entries {
		if e.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", e.Name, e.Mode())
		}
	}

	// What must survive: the useful, non-secret content.
	mustContain := map[string][]string{
		PartSystems:                              {`"apiToken": {`, `"set": true`, `"project": "HD"`, `https://[redacted]@jira.example.com`, `"token": "[redacted]"`},
		PartAccounts:                             {`"username": "admin"`, `"lastLogin"`},
		PartOperational:                          {`"title": "Printer on fire"`, `"key": "HD-1"`},
		PartAudit:                                {`"action":"session.login"`, `"old":"[redacted]"`},
		"logs/agent.log":                         {`"entity_title":"Printer on fire"`, `Authorization: Bearer [redacted]`, `password=[redacted]&x=1`, `\"token\":\"[redacted]\"`, `Basic [redacted]`, `"api_key":"[redacted]"}`},
		PartLogRing:                              {"ring line one", "Bearer [redacted]"},
		"logs/agent-2026-11-26T10-00-00.000.log": {`"message":"rotated"`},
	}
	for name, subs := range mustContain {
		for _, s := range subs {
			if !bytes.Contains(files[name], []byte(s)) {
				t.Errorf("%s lacks %q:\n%s", name, s, files[name])
			}
		}
	}
	if bytes.Contains(files[PartAccounts], []byte("passwordHash")) {
		t.Errorf("accounts.json keeps the hash key:\n%s", files[PartAccounts])
	}
	if got := strings.Count(string(files[PartAudit]), "\n"); got != 3 {
		t.Errorf("audit.jsonl has %d lines, want 3", got)
	}
	if !bytes.HasSuffix(files["logs/agent.log"], []byte(`}`)) {
		t.Errorf("the last line without newline was not kept as is")
	}
	if m.Scrub.KnownSecrets == 0 || m.Scrub.Redactions["known_secret"] == 0 || m.Scrub.Redactions["bearer"] == 0 {
		t.Errorf("scrub report %+v", m.Scrub)
	}
	if m.FormatVersion != FormatVersion || m.AgentVersion != "1.2.0" || m.InstanceID != "inst-1" || !m.CreatedAt.Equal(testTime) {
		t.Errorf("manifest header %+v", m)
	}
}

func TestBuildFailingCollectors(t *testing.T) {
	src := fullSources(t)
	src.CollectorTimeout = 50 * time.Millisecond
	release := make(chan struct{})
	defer close(release)
	src.Operational = func(context.Context) (any, error) {
		return nil, errors.New("read pairs: store closed (dsn postgres://u:p@db?password=" + canaryErr + ")")
	}
	src.Settings = func(context.Context) (any, error) { panic("settings bug") }
	src.Host = func(context.Context) (any, error) {
		<-release // ignores its context: must be abandoned
		return nil, nil
	}
	src.Accounts = func(context.Context) (any, error) { return make(chan int), nil } // not JSON
	src.Audit = func(ctx context.Context, emit func(any) error) error {
		if err := emit(map[string]any{"seq": 1}); err != nil {
			return err
		}
		return fmt.Errorf("read audit record 2: corrupt")
	}
	src.LogFiles = func() []string { return []string{filepath.Join(t.TempDir(), "gone.log")} }
	src.KnownSecrets = func(context.Context) ([]string, error) { return nil, errors.New("unseal: no key") }
	src.Systems = nil

	var buf bytes.Buffer
	m, err := Build(t.Context(), &buf, src)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := readZip(t, buf.Bytes())
	checkManifest(t, m, files)
	want := map[string]struct{ status, errPart string }{
		PartOperational: {StatusError, "store closed"},
		PartSettings:    {StatusError, "panicked: settings bug"},
		PartHost:        {StatusError, "did not return within"},
		PartAccounts:    {StatusError, "unsupported type"},
		PartAudit:       {StatusError, "corrupt"},
		"logs/gone.log": {StatusError, "open log file"},
		PartSystems:     {StatusSkipped, ""},
		PartLogRing:     {StatusOK, ""},
	}
	for name, w := range want {
		p, ok := partByName(m, name)
		if !ok {
			t.Errorf("no manifest entry for %s", name)
			continue
		}
		if p.Status != w.status || !strings.Contains(p.Error, w.errPart) {
			t.Errorf("%s: got %s %q, want %s containing %q", name, p.Status, p.Error, w.status, w.errPart)
		}
	}
	if strings.Contains(string(files[PartManifest]), canaryErr) || strings.Contains(string(files[PartManifest]), "u:p@") {
		t.Errorf("collector error leaked into the manifest:\n%s", files[PartManifest])
	}
	if string(files[PartAudit]) != "{\"seq\":1}\n" {
		t.Errorf("audit.jsonl keeps what was written before the error: %q", files[PartAudit])
	}
	if m.Scrub.KnownSecretsError == "" {
		t.Error("known secrets error not recorded")
	}
	for _, n := range []string{PartOperational, PartSettings, PartHost, PartAccounts, PartSystems} {
		if _, ok := files[n]; ok {
			t.Errorf("%s written for a failed collector", n)
		}
	}
}

// An audit collector that hangs is abandoned, and cannot write afterwards.
func TestBuildAuditAbandoned(t *testing.T) {
	src := Sources{CollectorTimeout: 50 * time.Millisecond}
	release := make(chan struct{})
	lateErr := make(chan error, 1)
	src.Audit = func(ctx context.Context, emit func(any) error) error {
		if err := emit(map[string]any{"seq": 1}); err != nil {
			return err
		}
		<-release // ignores ctx
		err := emit(map[string]any{"seq": 2})
		lateErr <- err
		return err
	}
	var buf bytes.Buffer
	m, err := Build(t.Context(), &buf, src)
	close(release)
	if err != nil {
		t.Fatal(err)
	}
	if got := <-lateErr; !errors.Is(got, errAbandoned) {
		t.Fatalf("late emit returned %v", got)
	}
	files, _ := readZip(t, buf.Bytes())
	checkManifest(t, m, files)
	p, _ := partByName(m, PartAudit)
	if p.Status != StatusError || string(files[PartAudit]) != "{\"seq\":1}\n" {
		t.Fatalf("audit part %+v %q", p, files[PartAudit])
	}
}

func TestBuildCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	src := fullSources(t)
	src.Host = func(context.Context) (any, error) {
		cancel()
		return map[string]any{}, nil
	}
	if _, err := Build(ctx, io.Discard, src); !errors.Is(err, context.Canceled) {
		t.Fatalf("Build after cancel: %v", err)
	}
}

type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestBuildWriteError(t *testing.T) {
	_, err := Build(t.Context(), &failAfter{n: 100}, fullSources(t))
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Build to a failing writer: %v", err)
	}
}

func TestBuildFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "support.zip")
	src := fullSources(t)
	var tmpMode fs.FileMode
	host := src.Host
	src.Host = func(ctx context.Context) (any, error) {
		// While the build runs: the temporary file exists and is 0600.
		tmps, _ := filepath.Glob(filepath.Join(dir, ".support-*.zip.partial"))
		if len(tmps) == 1 {
			if fi, err := os.Stat(tmps[0]); err == nil {
				tmpMode = fi.Mode().Perm()
			}
		}
		return host(ctx)
	}
	m, err := BuildFile(t.Context(), path, src, false)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if tmpMode != 0o600 {
			t.Errorf("temporary file mode %v, want 0600", tmpMode)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("package mode %v (%v), want 0600", fi.Mode(), err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := readZip(t, data)
	checkManifest(t, m, files)
	if left, _ := filepath.Glob(filepath.Join(dir, ".support-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// No overwrite unless told.
	if _, err := BuildFile(t.Context(), path, src, false); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second BuildFile: %v, want ErrExist", err)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, data) {
		t.Fatal("the existing package was changed")
	}
	if _, err := BuildFile(t.Context(), path, src, true); err != nil {
		t.Fatalf("BuildFile with overwrite: %v", err)
	}

	// A failed build leaves nothing behind, not even the reservation.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	other := filepath.Join(dir, "other.zip")
	if _, err := BuildFile(ctx, other, src, false); err == nil {
		t.Fatal("BuildFile with a cancelled context succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("directory holds %v, want only support.zip", names)
	}
}

// A large log passes in constant memory: the heap never grows by more than
// a small fraction of the log's size while it is streamed.
func TestBuildLargeLogBoundedMemory(t *testing.T) {
	const size = 50 << 20
	dir := t.TempDir()
	path := filepath.Join(dir, "agent.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	buf := bufio.NewWriterSize(f, 1<<20)
	bw := &job.CountWriter{W: buf}
	for i := 0; bw.N < size; i++ {
		if i%100 == 0 {
			fmt.Fprintf(bw, `{"level":"warn","component":"http","n":%d,"message":"GET https://h/x?password=%s failed; Authorization: Bearer %s"}`+"\n", i, canaryQuery, canaryBearer)
		} else {
			fmt.Fprintf(bw, `{"level":"info","component":"sync","process":"p1","run":"r9","n":%d,"entity_key":"HD-%d","entity_title":"Printer on fire","message":"updated entity"}`+"\n", i, i)
		}
	}
	if err := buf.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	// Live heap, measured after a collection: heap in use without one also
	// holds garbage the collector has not reached yet, which on a busy
	// machine (the collector starved of CPU) grows with the log's size
	// though the builder keeps none of it.
	live := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	base := live()

	var (
		peak uint64
		stop = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Go(func() {
		for {
			peak = max(peak, live())
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	h := sha256.New()
	start := time.Now()
	defer func() { t.Logf("build took %v", time.Since(start)) }()
	m, err := Build(t.Context(), h, Sources{LogFiles: func() []string { return []string{path} }})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	p, _ := partByName(m, "logs/agent.log")
	if p.Status != StatusOK || p.Size < size/2 {
		t.Fatalf("log part %+v", p)
	}
	if m.Scrub.Redactions["authorization"] == 0 || m.Scrub.Redactions["key_value"] == 0 {
		t.Fatalf("nothing scrubbed: %+v", m.Scrub)
	}
	growth := int64(peak) - int64(base)
	t.Logf("live heap grew by %d KiB while streaming a %d MiB log", growth>>10, size>>20)
	if growth > size/8 {
		t.Fatalf("heap grew by %d bytes for a %d-byte log: not constant memory", growth, size)
	}
}

func TestClean(t *testing.T) {
	sc := NewScrubber([]string{"424242"})
	in := map[string]any{
		"secrets":  map[string]any{"apiToken": map[string]any{"set": true}, "list": []any{"a", 1, nil}},
		"token":    "",
		"name":     "Jira",
		"count":    7,
		"pin":      424242,
		"url":      "https://u:p@h/x?api_key=k",
		"nested":   map[string]any{"Client-Secret": "s", "ok": "fine"},
		"password": map[string]any{"old": "x", "new": "y"},
	}
	got, err := cleaner{sc: sc}.cleanJSON(in)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got)
	want := `{"count":7,"name":"Jira","nested":{"Client-Secret":"[redacted]","ok":"fine"},"password":{"new":"[redacted]","old":"[redacted]"},"pin":"[redacted]","secrets":{"apiToken":{"set":true},"list":["[redacted]","[redacted]",null]},"token":"","url":"https://[redacted]@h/x?api_key=[redacted]"}`
	if string(b) != want {
		t.Errorf("clean:\n got %s\nwant %s", b, want)
	}

	acc, err := cleaner{sc: sc, drop: isAccountDrop}.cleanJSON(map[string]any{"id": "a1", "passwordHash": "h", "password_changed_at": "t", "PwSalt": "s", "role": "admin"})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(acc); string(b) != `{"id":"a1","role":"admin"}` {
		t.Errorf("account keys: %s", b)
	}
}

func TestFileName(t *testing.T) {
	got := FileName("inst/1:x", testTime)
	if got != "lockstep-support-inst1x-20261127T100000Z.zip" {
		t.Fatalf("FileName = %q", got)
	}
	if got := FileName("", testTime); got != "lockstep-support-20261127T100000Z.zip" {
		t.Fatalf("FileName without id = %q", got)
	}
}

// Two log files with one name get two entries.
func TestBuildLogNamesUnique(t *testing.T) {
	a, b := filepath.Join(t.TempDir(), "agent.log"), filepath.Join(t.TempDir(), "agent.log")
	for i, p := range []string{a, b} {
		if err := os.WriteFile(p, fmt.Appendf(nil, "file %d\n", i), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	m, err := Build(t.Context(), &buf, Sources{LogFiles: func() []string { return []string{a, b} }})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := readZip(t, buf.Bytes())
	checkManifest(t, m, files)
	if string(files["logs/agent.log"]) != "file 0\n" || string(files["logs/agent-2.log"]) != "file 1\n" {
		t.Fatalf("entries %v", files)
	}
}
