package service

import (
	_ "embed"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
)

// unitTemplate is the canonical systemd unit. It lives in this package rather
// than in build/systemd because go:embed cannot reach outside the module
// directory tree of the package; build/systemd/lockstep-agent.service is a
// rendering of it that a test keeps in sync.
//
//go:embed systemd.service.tmpl
var unitTemplate string

// stateRoot is where systemd's StateDirectory= places directories; a data
// directory below it can be created and owned by systemd itself.
const stateRoot = "/var/lib/"

// placeholder matches the template's @KEY@ markers. The template needs only
// substitution (every conditional is decided in Go), so this stands in for
// text/template, which would pull reflect's MethodByName into the agent and
// disable the linker's dead-code elimination for the whole binary.
var placeholder = regexp.MustCompile(`@[A-Z_]+@`)

// plainPath is what systemd accepts verbatim in StateDirectory= and
// ReadWritePaths=: no whitespace, quotes, specifiers (%) or escapes.
var plainPath = regexp.MustCompile(`^/[A-Za-z0-9._+/-]*$`)

// userName is systemd's portable user-name syntax.
var userName = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)

// SystemdUnit renders the hardened systemd unit for cfg: the file that
// `service install` writes to /etc/systemd/system/<Name>.service on Linux.
// It works on every OS so that packagers and tests can render it anywhere.
func SystemdUnit(cfg Config) (string, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return "", fmt.Errorf("render systemd unit: %w", err)
	}
	vals, err := unitValues(cfg)
	if err != nil {
		return "", fmt.Errorf("render systemd unit: %w", err)
	}
	var missing []string
	out := placeholder.ReplaceAllStringFunc(unitTemplate, func(key string) string {
		v, ok := vals[key]
		if !ok {
			missing = append(missing, key)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("render systemd unit: template uses unknown keys %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// unitValues decides everything the template cannot: which identity the
// service runs as and how its data directory becomes writable.
func unitValues(cfg Config) (map[string]string, error) {
	exe := cfg.Executable
	if !strings.HasPrefix(exe, "/") {
		return nil, fmt.Errorf("executable %q: systemd needs an absolute path", exe)
	}
	dir := cfg.DataDir
	if !plainPath.MatchString(dir) || path.Clean(dir) != dir || dir == "/" {
		return nil, fmt.Errorf("data dir %q: want a clean absolute path of letters, digits and . _ + - /", dir)
	}
	if cfg.User != "" && !userName.MatchString(cfg.User) {
		return nil, fmt.Errorf("user %q: want a system user name such as lockstep", cfg.User)
	}

	argv := append([]string{exe}, cfg.serviceArgs()...)
	words := make([]string, len(argv))
	for i, a := range argv {
		w, err := quoteExecArg(a)
		if err != nil {
			return nil, err
		}
		words[i] = w
	}

	identity := "DynamicUser=yes"
	if cfg.User != "" {
		identity = "User=" + cfg.User
	}

	var data string
	switch rel, ok := strings.CutPrefix(dir, stateRoot); {
	case ok && rel != "":
		// systemd creates the directory, owns it by the service user (even a
		// dynamic one, whose UID may change between boots) and fixes the mode.
		data = "StateDirectory=" + rel + "\nStateDirectoryMode=0700"
	case cfg.User == "":
		return nil, fmt.Errorf("data dir %q is outside %s: a dynamic user can only own a StateDirectory there, so name a dedicated user", dir, stateRoot)
	default:
		// ProtectSystem=strict makes everything else read-only.
		data = "ReadWritePaths=" + dir
	}

	return map[string]string{
		"@NAME@":        cfg.Name,
		"@DESCRIPTION@": escapeSpecifiers(cfg.Description),
		"@EXEC_START@":  strings.Join(words, " "),
		"@IDENTITY@":    identity,
		"@DATA_DIR@":    data,
	}, nil
}

// quoteExecArg writes one ExecStart= word so that systemd passes it to the
// agent unchanged: % starts a specifier and $ an environment expansion, and
// whitespace, quotes and backslashes need C-style quoting.
func quoteExecArg(s string) (string, error) {
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", fmt.Errorf("argument %q: control characters cannot be written to a unit file", s)
	}
	s = strings.ReplaceAll(escapeSpecifiers(s), "$", "$$")
	if s != "" && !strings.ContainsAny(s, " \t\"'\\;") {
		return s, nil
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`, nil
}

// escapeSpecifiers keeps systemd from expanding %n, %h... in free text.
func escapeSpecifiers(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// errUnitUnsafe guards the hand-off to kardianos/service, whose template
// engine would treat {{ in a path as an action.
var errUnitUnsafe = errors.New(`unit contains "{{", which the service library would try to expand`)
