package service

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden units and build/systemd/lockstep-agent.service")

// packagedUnit is build/systemd/lockstep-agent.service: the unit a distribution
// package installs, for a binary in /usr/bin, the default data directory and
// the lockstep system user the package creates.
const packagedUnit = "../../../build/systemd/lockstep-agent.service"

var packagedConfig = Config{Executable: "/usr/bin/lockstep-agent", DataDir: "/var/lib/lockstep", User: "lockstep"}

var goldenUnits = []struct {
	name string
	cfg  Config
	file string
}{
	{"default", Config{Executable: "/usr/local/bin/lockstep-agent", DataDir: "/var/lib/lockstep"}, "testdata/default.service"},
	{"nested state dir", Config{Executable: "/usr/local/bin/lockstep-agent", DataDir: "/var/lib/lockstep/prod"}, "testdata/nested-state.service"},
	{"dedicated user and odd paths", Config{
		Name:        "lockstep-agent-2",
		Description: "Lockstep agent (100% on-premise)",
		Executable:  `/opt/Lockstep Agent/bin/lockstep-agent`,
		DataDir:     "/srv/lockstep",
		Args:        []string{"--log-level", "debug", `--note=$HOME "quoted" 50%`},
		User:        "lockstep",
	}, "testdata/dedicated-user.service"},
	{"packaged", packagedConfig, packagedUnit},
}

func TestSystemdUnitGolden(t *testing.T) {
	for _, tc := range goldenUnits {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SystemdUnit(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := os.WriteFile(tc.file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s is out of date with systemd.service.tmpl; run go test ./agent/internal/service -update and review the diff\n--- got ---\n%s", tc.file, got)
			}
		})
	}
}

// directives parses a unit into directive -> values (in order), skipping
// comments, so that a commented example never counts as set.
func directives(t *testing.T, unit string) map[string][]string {
	t.Helper()
	d := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(unit))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("malformed unit line %q", line)
		}
		d[k] = append(d[k], v)
	}
	return d
}

func TestSystemdUnitHardening(t *testing.T) {
	unit, err := SystemdUnit(Config{Executable: "/usr/local/bin/lockstep-agent", DataDir: "/var/lib/lockstep"})
	if err != nil {
		t.Fatal(err)
	}
	d := directives(t, unit)
	want := map[string]string{
		"Type":                    "simple",
		"ExecStart":               "/usr/local/bin/lockstep-agent run --data-dir /var/lib/lockstep",
		"Restart":                 "on-failure",
		"RestartSec":              "5s",
		"TimeoutStopSec":          "15",
		"LimitNOFILE":             "65536",
		"DynamicUser":             "yes",
		"StateDirectory":          "lockstep",
		"StateDirectoryMode":      "0700",
		"UMask":                   "0077",
		"NoNewPrivileges":         "true",
		"ProtectSystem":           "strict",
		"ProtectHome":             "true",
		"PrivateTmp":              "true",
		"PrivateDevices":          "true",
		"ProtectKernelTunables":   "true",
		"ProtectKernelModules":    "true",
		"ProtectControlGroups":    "true",
		"RestrictSUIDSGID":        "true",
		"LockPersonality":         "true",
		"MemoryDenyWriteExecute":  "true",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"CapabilityBoundingSet":   "",
		"SystemCallArchitectures": "native",
		"WantedBy":                "multi-user.target",
	}
	for k, v := range want {
		got, ok := d[k]
		if !ok {
			t.Errorf("%s= is missing", k)
			continue
		}
		if len(got) != 1 || got[0] != v {
			t.Errorf("%s=%q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"User", "ReadWritePaths", "LoadCredential", "LoadCredentialEncrypted", "ProcSubset"} {
		if v, ok := d[k]; ok {
			t.Errorf("%s=%q is set, want it absent (or only commented)", k, v)
		}
	}
	for _, example := range []string{"#LoadCredentialEncrypted=master.key:", "#LoadCredential=master.key:/etc/lockstep/master.key"} {
		if !strings.Contains(unit, example) {
			t.Errorf("unit lacks the commented credential example %q", example)
		}
	}
}

func TestSystemdUnitDedicatedUser(t *testing.T) {
	unit, err := SystemdUnit(Config{Executable: "/opt/lockstep/lockstep-agent", DataDir: "/srv/lockstep/", User: "lockstep"})
	if err != nil {
		t.Fatal(err)
	}
	d := directives(t, unit)
	check := func(k, want string) {
		t.Helper()
		if got := d[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	check("User", "lockstep")
	check("ReadWritePaths", "/srv/lockstep")
	check("ExecStart", "/opt/lockstep/lockstep-agent run --data-dir /srv/lockstep")
	for _, k := range []string{"DynamicUser", "StateDirectory"} {
		if _, ok := d[k]; ok {
			t.Errorf("%s= is set for a data dir outside /var/lib", k)
		}
	}
}

func TestSystemdUnitRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"dynamic user outside /var/lib", Config{Executable: "/usr/bin/a", DataDir: "/srv/lockstep"}, "name a dedicated user"},
		{"space in data dir", Config{Executable: "/usr/bin/a", DataDir: "/var/lib/lock step"}, "clean absolute path"},
		{"specifier in data dir", Config{Executable: "/usr/bin/a", DataDir: "/var/lib/lock%n"}, "clean absolute path"},
		{"data dir is /var/lib", Config{Executable: "/usr/bin/a", DataDir: "/var/lib"}, "name a dedicated user"},
		{"filesystem root", Config{Executable: "/usr/bin/a", DataDir: "/"}, "filesystem root"},
		{"bad user", Config{Executable: "/usr/bin/a", DataDir: "/var/lib/lockstep", User: "Lock Step"}, "system user name"},
		{"newline in argument", Config{Executable: "/usr/bin/a", DataDir: "/var/lib/lockstep", Args: []string{"a\nExecStartPre=/bin/sh"}}, "control characters"},
		{"newline in description", Config{Executable: "/usr/bin/a", DataDir: "/var/lib/lockstep", Description: "x\n[Service]"}, "control characters"},
		{"space in name", Config{Name: "lockstep agent", Executable: "/usr/bin/a", DataDir: "/var/lib/lockstep"}, "service name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := SystemdUnit(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("SystemdUnit() error = %v, want one containing %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "render systemd unit: ") {
				t.Errorf("error %q does not say what failed", err)
			}
		})
	}
}

func TestQuoteExecArg(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/usr/bin/lockstep-agent", "/usr/bin/lockstep-agent"},
		{"--data-dir", "--data-dir"},
		{"", `""`},
		{"/opt/My App/agent", `"/opt/My App/agent"`},
		{`C:\x`, `"C:\\x"`},
		{`say "hi"`, `"say \"hi\""`},
		{"50%", "50%%"},
		{"$HOME", "$$HOME"},
		{"a;b", `"a;b"`},
		{"it's", `"it's"`},
	} {
		got, err := quoteExecArg(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("quoteExecArg(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := quoteExecArg("a\x00b"); err == nil {
		t.Error("quoteExecArg accepted a NUL byte")
	}
}

// The template is the single source of truth; every @KEY@ in it must be one
// SystemdUnit fills, or the unit would ship with a literal placeholder.
func TestTemplateKeysKnown(t *testing.T) {
	unit, err := SystemdUnit(Config{Executable: "/usr/bin/a", DataDir: "/var/lib/lockstep"})
	if err != nil {
		t.Fatal(err)
	}
	if m := placeholder.FindString(unit); m != "" {
		t.Errorf("rendered unit still contains %s", m)
	}
	if strings.Contains(unit, "{{") {
		t.Error("rendered unit contains {{, which kardianos/service would expand")
	}
}

// TestSystemdAnalyzeVerify runs systemd's own checker on a rendered unit when
// systemd-analyze is installed. verify insists that ExecStart= exists, so the
// unit points at this test binary.
func TestSystemdAnalyzeVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []Config{
		{Executable: exe, DataDir: "/var/lib/lockstep"},
		{Executable: exe, DataDir: "/srv/lockstep", User: "lockstep", Args: []string{"--note", `$x "y" 5%`}},
	} {
		unit, err := SystemdUnit(cfg)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), DefaultName+".service")
		if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		cmd := exec.Command(sa, "verify", "--man=no", path)
		cmd.Stdout, cmd.Stderr = &out, &out
		err = cmd.Run()
		// Lines about the host (no running systemd, missing targets) are not
		// the unit's fault; anything naming our unit is.
		var ours []string
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			if strings.Contains(l, DefaultName+".service") {
				ours = append(ours, l)
			}
		}
		if len(ours) > 0 || (err != nil && out.Len() == 0) {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out.String())
		} else if out.Len() > 0 {
			t.Logf("systemd-analyze verify (host noise, ignored):\n%s", out.String())
		}
	}
}
