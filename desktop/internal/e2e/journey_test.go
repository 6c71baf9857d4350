package e2e

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/desktop/internal/agentclient"
	"github.com/lockstep-sync/lockstep/desktop/internal/desktoptest"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

const canary = "CANARY-e2e-4f9a61c2-never-leaves"

// metricsCanary is the agent's metrics token: a secret setting, not a
// system's (the support package's scrubber knows the systems' secrets, so
// a token equal to one would hide a leak).
const metricsCanary = "CANARY-metrics-0b7d35e8-never-leaves"

// canaries are the secrets that must never leave the agent.
var canaries = []string{canary, metricsCanary}

func asMismatch(err error, target **agentclient.FingerprintMismatchError) bool {
	return errors.As(err, target)
}

// recorder keeps the JSON of everything the agent sends back.
type recorder struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (r *recorder) add(v any) {
	b, _ := json.Marshal(v)
	r.mu.Lock()
	r.buf.Write(b)
	r.buf.WriteByte('\n')
	r.mu.Unlock()
}

func (r *recorder) contains(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Contains(r.buf.Bytes(), []byte(s))
}

func callRec[P, R any](t *testing.T, rec *recorder, c *agentclient.Client, m protocol.Method[P, R], p P) (R, error) {
	t.Helper()
	r, err := agentclient.Call(ctx(t), c, m, p)
	if err != nil {
		rec.add(err.Error())
	} else {
		rec.add(r)
	}
	return r, err
}

// TestCanarySecretNeverLeaves creates a system with a canary secret, sets
// the metrics token to another, and looks for them in every response,
// event, streamed log line, log file, audit record and the support package,
// and anywhere in the data dir.
func TestCanarySecretNeverLeaves(t *testing.T) {
	a := startAgent(t)
	c := a.login(t, "admin", adminPassword)
	var responses, events, logs recorder
	var mu sync.Mutex
	lines := 0
	if _, err := c.SubscribeEvents(ctx(t), nil, func(n apitype.EventNotification) { events.add(n) }, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SubscribeLogs(ctx(t), apitype.LogsSubscribeParams{MinLevel: "trace"}, func(n apitype.LogsNotification) {
		logs.add(n)
		mu.Lock()
		lines += len(n.Lines)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	debug := "debug"
	if _, err := callRec(t, &responses, c, protocol.SettingsSet, apitype.SettingsSetParams{LogLevel: &debug}); err != nil {
		t.Fatal(err)
	}
	token := apitype.Secret(metricsCanary)
	if set, err := callRec(t, &responses, c, protocol.SettingsSet, apitype.SettingsSetParams{MetricsToken: &token}); err != nil || !set.Settings.MetricsToken.Set {
		t.Fatalf("set the metrics token: %+v %v", set, err)
	}
	// A refused token's error does not quote it either.
	short := apitype.Secret(metricsCanary[:12])
	if _, err := callRec(t, &responses, c, protocol.SettingsSet, apitype.SettingsSetParams{MetricsToken: &short}); err == nil {
		t.Fatal("a 12-character metrics token was taken")
	}

	sys, err := callRec(t, &responses, c, protocol.SystemsCreate, apitype.SystemsCreateParams{
		Name: "Engineering Redmine", Kind: "redmine", URL: "https://127.0.0.1:1",
		Secrets: map[string]apitype.Secret{"apiKey": canary},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !sys.System.Secrets["apiKey"].Set {
		t.Fatal("the secret does not show as set")
	}
	name := "Engineering"
	callRec(t, &responses, c, protocol.SystemsUpdate, apitype.SystemsUpdateParams{ID: sys.System.ID, Name: &name})
	callRec(t, &responses, c, protocol.SystemsGet, apitype.IDParams{ID: sys.System.ID})
	callRec(t, &responses, c, protocol.SystemsList, apitype.Empty{})
	res, err := callRec(t, &responses, c, protocol.SystemsTest, apitype.SystemsTestParams{ID: sys.System.ID})
	if err != nil || res.OK {
		t.Fatalf("test of an unreachable system: %+v %v", res, err)
	}
	// A validation error must not echo the secret either.
	callRec(t, &responses, c, protocol.SystemsCreate, apitype.SystemsCreateParams{Name: "Bad", Kind: "redmine", URL: "ftp://x", Secrets: map[string]apitype.Secret{"apiKey": canary}})
	audit, err := callRec(t, &responses, c, protocol.AuditList, apitype.AuditListParams{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var sawCreate bool
	for _, r := range audit.Records {
		if r.Action == "systems.create" && strings.Contains(string(r.Diff), "secrets.apiKey") {
			sawCreate = true
		}
	}
	if !sawCreate {
		t.Fatal("systems.create is not in the audit trail with its secret field")
	}
	if v, err := callRec(t, &responses, c, protocol.AuditVerify, apitype.Empty{}); err != nil || !v.OK {
		t.Fatalf("audit verify: %+v %v", v, err)
	}
	callRec(t, &responses, c, protocol.HostInfo, apitype.Empty{})
	callRec(t, &responses, c, protocol.AgentInfo, apitype.Empty{})

	zipData := downloadSupport(t, c, &responses)
	checkSupportPackage(t, zipData)

	// The canary check of logs proves something only once lines have
	// streamed; the support package's download logged some by now.
	desktoptest.Eventually(t, "streamed log lines (without them the canary check of logs would prove nothing)", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return lines > 0
	})
	// Handlers run apart from the calls: the events of the first changes
	// may still be on their way.
	desktoptest.Eventually(t, "the ConfigChanged events", func() bool { return events.contains("ConfigChanged") })
	for what, r := range map[string]*recorder{"a response": &responses, "an event": &events, "a streamed log line": &logs} {
		for _, c := range canaries {
			if r.contains(c) {
				t.Errorf("%s contains the canary secret %s", what, c)
			}
		}
	}
	if !responses.contains("Engineering") || !events.contains("ConfigChanged") {
		t.Fatal("the recorders did not record what they should: the check proves nothing")
	}
	for _, c := range canaries {
		if hits := grepTree(t, a.dir, c); len(hits) > 0 {
			t.Errorf("files in the data dir contain the canary %s: %v", c, hits)
		}
		if strings.Contains(a.stderr.String(), c) {
			t.Errorf("the agent's stderr contains the canary %s", c)
		}
	}
}

func downloadSupport(t *testing.T, c *agentclient.Client, rec *recorder) []byte {
	t.Helper()
	job, err := callRec(t, rec, c, protocol.SupportCreate, apitype.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	var st apitype.SupportStatusResult
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err = callRec(t, rec, c, protocol.SupportStatus, apitype.IDParams{ID: job.ID})
		if err != nil {
			t.Fatal(err)
		}
		if st.State != apitype.SupportRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("support package not ready after 60 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st.State != apitype.SupportReady {
		t.Fatalf("support package: %+v", st)
	}
	var buf bytes.Buffer
	for off := int64(0); ; {
		chunk, err := agentclient.Call(ctx(t), c, protocol.SupportDownload, apitype.SupportDownloadParams{ID: job.ID, Offset: off, Length: 64 << 10})
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(chunk.Data)
		off += int64(len(chunk.Data))
		if chunk.EOF {
			break
		}
	}
	sum := sha256.Sum256(buf.Bytes())
	if int64(buf.Len()) != st.Size || hex.EncodeToString(sum[:]) != st.SHA256 {
		t.Fatalf("downloaded %d bytes sha256 %x; status says %d %s", buf.Len(), sum, st.Size, st.SHA256)
	}
	return buf.Bytes()
}

func checkSupportPackage(t *testing.T, data []byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	contents := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		contents[f.Name] = b
		for _, c := range canaries {
			if bytes.Contains(b, []byte(c)) {
				t.Errorf("support package file %s contains the canary %s", f.Name, c)
			}
		}
	}
	var m struct {
		Parts []struct {
			Name, Status, SHA256 string
			Size                 int64
		}
	}
	if err := json.Unmarshal(contents["manifest.json"], &m); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	want := []string{"host.json", "systems.json", "accounts.json", "operational.json", "audit.jsonl", "settings.json", "logs/ring.jsonl"}
	for _, name := range want {
		if _, ok := contents[name]; !ok {
			t.Errorf("support package lacks %s", name)
		}
	}
	for _, p := range m.Parts {
		b, ok := contents[p.Name]
		if p.SHA256 == "" {
			continue
		}
		sum := sha256.Sum256(b)
		if !ok || hex.EncodeToString(sum[:]) != p.SHA256 || int64(len(b)) != p.Size {
			t.Errorf("manifest entry %s (%s, %d bytes) does not match the file (%x, %d bytes)", p.Name, p.SHA256, p.Size, sum, len(b))
		}
	}
	if !bytes.Contains(contents["systems.json"], []byte("Engineering")) {
		t.Error("systems.json does not describe the system")
	}
	if bytes.Contains(contents["accounts.json"], []byte("argon2")) {
		t.Error("accounts.json contains a password hash")
	}
}
