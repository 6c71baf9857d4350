// Package realsys starts the real Redmine and Request Tracker servers that
// connector and end-to-end tests run against. It drives the start scripts in
// the realsys folder beside the repository (../shared/realsys), which install
// the Debian packages when missing, bootstrap credentials and start the
// servers on loopback; they are idempotent, so every test package may ask and
// the first one pays for the install.
//
// Tests never silently skip in CI: when CI (or LOCKSTEP_REALSYS=1) is set and
// the systems cannot be started, the test fails with the reason. On a
// developer machine without root they skip, saying how to run them.
package realsys

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Redmine is a running Redmine with an admin API key.
type Redmine struct {
	URL           string
	APIKey        string
	AdminUser     string
	AdminPassword string
	Project       string // the bootstrap project's identifier
}

// RT is a running Request Tracker 5 with a REST2 auth token for root.
type RT struct {
	URL           string
	REST2URL      string
	Token         string
	AdminUser     string
	AdminPassword string
	Queue         string
}

// startTimeout bounds a first install (about 1.5 minutes for RT here) with
// room for a slow package mirror.
const startTimeout = 15 * time.Minute

var (
	mu      sync.Mutex
	started = map[string]map[string]string{}
)

// StartRedmine returns a running Redmine, starting it if needed. The
// environment variables LOCKSTEP_REDMINE_URL and LOCKSTEP_REDMINE_API_KEY
// point the tests at an existing server instead.
func StartRedmine(t testing.TB) Redmine {
	t.Helper()
	if u, k := os.Getenv("LOCKSTEP_REDMINE_URL"), os.Getenv("LOCKSTEP_REDMINE_API_KEY"); u != "" && k != "" {
		return Redmine{URL: u, APIKey: k, AdminUser: "admin", AdminPassword: os.Getenv("LOCKSTEP_REDMINE_ADMIN_PASSWORD"), Project: "sync-test"}
	}
	v := start(t, "redmine", "start-redmine.sh", envOr("LOCKSTEP_REDMINE_PORT", "3000"))
	return Redmine{URL: v["URL"], APIKey: v["API_KEY"], AdminUser: v["ADMIN_USER"], AdminPassword: v["ADMIN_PASSWORD"], Project: v["PROJECT"]}
}

// StartRT returns a running Request Tracker, starting it if needed. The
// environment variables LOCKSTEP_RT_URL and LOCKSTEP_RT_TOKEN point the tests
// at an existing server instead.
func StartRT(t testing.TB) RT {
	t.Helper()
	if u, k := os.Getenv("LOCKSTEP_RT_URL"), os.Getenv("LOCKSTEP_RT_TOKEN"); u != "" && k != "" {
		return RT{URL: u, REST2URL: strings.TrimRight(u, "/") + "/REST/2.0", Token: k, AdminUser: "root", AdminPassword: os.Getenv("LOCKSTEP_RT_ADMIN_PASSWORD"), Queue: "General"}
	}
	v := start(t, "rt", "start-rt.sh", envOr("LOCKSTEP_RT_PORT", "8080"))
	return RT{URL: v["URL"], REST2URL: v["REST2_URL"], Token: v["TOKEN"], AdminUser: v["ADMIN_USER"], AdminPassword: v["ADMIN_PASSWORD"], Queue: v["QUEUE"]}
}

// Required reports whether real systems must run: in CI, or when asked.
func Required() bool {
	return os.Getenv("CI") != "" || os.Getenv("LOCKSTEP_REALSYS") == "1"
}

func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("real systems are required here (CI or LOCKSTEP_REALSYS=1) but: %s", msg)
	}
	t.Skipf("%s (run as root with ../shared/realsys beside the repository, or set LOCKSTEP_REALSYS=1 to make this a failure)", msg)
}

func start(t testing.TB, name, script, port string) map[string]string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if v, ok := started[name]; ok {
		return v
	}
	dir, err := scriptDir()
	if err != nil {
		unavailable(t, "%v", err)
	}
	if os.Geteuid() != 0 {
		unavailable(t, "starting %s needs root (apt-get and a server running as www-data)", name)
	}
	unlock, err := lockFile(filepath.Join(os.TempDir(), "lockstep-realsys-"+name+".lock"))
	if err != nil {
		t.Fatalf("lock %s start: %v", name, err)
	}
	defer unlock()

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(dir, script), port)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("start %s with %s: %v\n%s", name, script, err, tail(stderr.String(), 40))
	}
	v := parse(stdout.String())
	if v["URL"] == "" {
		t.Fatalf("start %s: the script printed no URL:\n%s", name, tail(stderr.String(), 40))
	}
	t.Logf("%s running at %s (ready after %s)", name, v["URL"], time.Since(began).Round(time.Second))
	started[name] = v
	return v
}

// scriptDir finds the realsys scripts: LOCKSTEP_REALSYS_DIR, else the shared
// folder beside the repository root.
func scriptDir() (string, error) {
	if d := os.Getenv("LOCKSTEP_REALSYS_DIR"); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the realsys scripts: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			s := filepath.Join(filepath.Dir(d), "shared", "realsys")
			if _, err := os.Stat(filepath.Join(s, "start-redmine.sh")); err != nil {
				return "", fmt.Errorf("no realsys scripts at %s (set LOCKSTEP_REALSYS_DIR)", s)
			}
			return s, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("find the realsys scripts: no go.mod above the working directory")
		}
	}
}

func parse(out string) map[string]string {
	v := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if k, val, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok && k != "" && !strings.ContainsAny(k, " \t") {
			v[k] = val
		}
	}
	return v
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
