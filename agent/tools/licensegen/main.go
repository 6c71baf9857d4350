// Command licensegen is the vendor's license tool: it makes signing keys,
// issues signed license files and inspects them. It is a separate program
// and never part of the agent, which only ever holds public keys.
//
//	go run ./agent/tools/licensegen keygen -out DIR -kid prod-2026
//	go run ./agent/tools/licensegen issue -key DIR/prod-2026.key -customer "ACME Corp" \
//	    -systems jira,servicenow -max-users 50 [-days 365] [-grace 14] \
//	    [-not-before 2026-01-01] [-features a,b] [-id LIC-1] -o acme.lic
//	go run ./agent/tools/licensegen inspect [-pub KEYFILE_OR_LIST] acme.lic
//
// keygen prints the public key as "kid:base64", the form the agent's build
// takes: -ldflags "-X github.com/lockstep-sync/lockstep/agent/internal/license.productionKeys=kid:base64,...".
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/license"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, time.Now))
}

const usage = `usage:
  licensegen keygen -out DIR -kid ID
  licensegen issue -key FILE -customer NAME -systems KIND,... -max-users N [-kid ID] [-days 365] [-grace 14]
                   [-not-before YYYY-MM-DD|RFC3339] [-features NAME,...] [-id LICENSE_ID] -o FILE [-force]
  licensegen inspect [-pub KEYFILE|KID:BASE64,...] FILE
`

func run(args []string, stdout, stderr io.Writer, now func() time.Time) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "keygen":
		err = keygen(args[1:], stdout, stderr)
	case "issue":
		err = issue(args[1:], stdout, stderr, now)
	case "inspect":
		err = inspect(args[1:], stdout, stderr, now)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "licensegen: unknown command %q\n%s", args[0], usage)
		return 2
	}
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "licensegen %s: %v\n%s", args[0], err, usage)
		return 2
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintf(stderr, "licensegen %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func flags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// ---- keys ------------------------------------------------------------------

const (
	beginKey = "-----BEGIN LOCKSTEP PRIVATE KEY-----"
	endKey   = "-----END LOCKSTEP PRIVATE KEY-----"
)

// encodePrivateKey writes the 32-byte seed with its key id; the seed
// alone recreates the key pair (ed25519.NewKeyFromSeed).
func encodePrivateKey(kid string, priv ed25519.PrivateKey) []byte {
	return []byte(fmt.Sprintf("%s\nKey-Id: %s\n%s\n%s\n", beginKey, kid, base64.StdEncoding.EncodeToString(priv.Seed()), endKey))
}

func parsePrivateKey(text []byte) (string, ed25519.PrivateKey, error) {
	lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(string(text), "\r\n", "\n")), "\n")
	if len(lines) != 4 || lines[0] != beginKey || lines[3] != endKey || !strings.HasPrefix(lines[1], "Key-Id: ") {
		return "", nil, errors.New("not a licensegen private key file")
	}
	kid := strings.TrimPrefix(lines[1], "Key-Id: ")
	if !license.ValidKeyID(kid) {
		return "", nil, fmt.Errorf("malformed key id %q", kid)
	}
	seed, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(seed) != ed25519.SeedSize {
		return "", nil, errors.New("the key is not 32 bytes of base64")
	}
	return kid, ed25519.NewKeyFromSeed(seed), nil
}

func readPrivateKey(path string) (string, ed25519.PrivateKey, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("read private key: %w", err)
	}
	kid, priv, err := parsePrivateKey(text)
	if err != nil {
		return "", nil, fmt.Errorf("read private key %s: %w", path, err)
	}
	return kid, priv, nil
}

// writeNew creates path and refuses to replace an existing file: a lost
// private key cannot be recovered, and an overwritten one is lost.
func writeNew(path string, data []byte, perm os.FileMode, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, perm)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func keygen(args []string, stdout, stderr io.Writer) error {
	fs := flags("keygen", stderr)
	out := fs.String("out", "", "directory for KID.key (private, mode 0600) and KID.pub")
	kid := fs.String("kid", "", "key id, e.g. prod-2026")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || *kid == "" || fs.NArg() != 0 {
		return usageError{"-out and -kid are required"}
	}
	if !license.ValidKeyID(*kid) {
		return usageError{fmt.Sprintf("malformed key id %q: letters, digits, '.', '_' and '-', at most 64", *kid)}
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", *out, err)
	}
	keyPath := filepath.Join(*out, *kid+".key")
	if err := writeNew(keyPath, encodePrivateKey(*kid, priv), 0o600, false); err != nil {
		return err
	}
	line := license.FormatKey(*kid, pub)
	if err := writeNew(filepath.Join(*out, *kid+".pub"), []byte(line+"\n"), 0o644, false); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "private key: %s (keep it offline; it signs licenses)\n", keyPath)
	fmt.Fprintf(stderr, "build the agent with: -ldflags \"-X github.com/lockstep-sync/lockstep/agent/internal/license.productionKeys=%s\"\n", line)
	fmt.Fprintln(stdout, line)
	return nil
}

// ---- issue -----------------------------------------------------------------

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither YYYY-MM-DD nor RFC 3339", s)
	}
	return t.UTC(), nil
}

func issue(args []string, stdout, stderr io.Writer, now func() time.Time) error {
	fs := flags("issue", stderr)
	keyPath := fs.String("key", "", "private key file from keygen")
	kid := fs.String("kid", "", "key id (default: the key file's)")
	customer := fs.String("customer", "", "customer name")
	systems := fs.String("systems", "", "allowed system kinds, comma-separated, e.g. jira,servicenow")
	maxUsers := fs.Int("max-users", 0, "the number of users licensed")
	days := fs.Int("days", 365, "validity in days from -not-before")
	grace := fs.Int("grace", 14, "grace days after expiry")
	notBefore := fs.String("not-before", "", "first day of validity (default: now)")
	features := fs.String("features", "", "optional features, comma-separated")
	id := fs.String("id", "", "license id (default: random)")
	out := fs.String("o", "", "output file, or - for standard output")
	force := fs.Bool("force", false, "replace an existing output file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *keyPath == "" || *customer == "" || *systems == "" || *maxUsers == 0 || *out == "" || fs.NArg() != 0 {
		return usageError{"-key, -customer, -systems, -max-users and -o are required"}
	}
	if *days < 1 || *days > 3660 {
		return usageError{"-days must be between 1 and 3660"}
	}
	fileKid, priv, err := readPrivateKey(*keyPath)
	if err != nil {
		return err
	}
	if *kid == "" {
		*kid = fileKid
	} else if *kid != fileKid {
		return usageError{fmt.Sprintf("-kid %s does not match the key file's key id %s", *kid, fileKid)}
	}
	issued := now().UTC().Truncate(time.Second)
	start := issued
	if *notBefore != "" {
		if start, err = parseDate(*notBefore); err != nil {
			return usageError{"-not-before: " + err.Error()}
		}
	}
	if *id == "" {
		b := make([]byte, 8)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("make license id: %w", err)
		}
		*id = "LIC-" + strings.ToUpper(hex.EncodeToString(b))
	}
	kinds := splitList(*systems)
	for _, k := range kinds {
		if _, ok := connector.Lookup(k); !ok {
			fmt.Fprintf(stderr, "warning: %q is not a system kind this source tree knows\n", k)
		}
	}
	p := license.Payload{
		Format: license.Format, LicenseID: *id, KeyID: *kid, Customer: *customer,
		IssuedAt: issued, NotBefore: start, ExpiresAt: start.AddDate(0, 0, *days), GraceDays: *grace,
		AllowedSystems: kinds, MaxUsers: *maxUsers, Features: splitList(*features),
	}
	text, err := license.Issue(priv, p)
	if err != nil {
		return err
	}
	// Check the file the way an agent will before handing it out.
	if _, err := license.Verify(text, license.Ring{*kid: priv.Public().(ed25519.PublicKey)}); err != nil {
		return fmt.Errorf("verify the issued license: %w", err)
	}
	if *out == "-" {
		_, err = stdout.Write(text)
		return err
	}
	if err := writeNew(*out, text, 0o644, *force); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "license %s for %s, %s to %s, written to %s\n", p.LicenseID, p.Customer,
		p.NotBefore.Format(time.DateOnly), p.ExpiresAt.Format(time.DateOnly), *out)
	return nil
}

// ---- inspect ---------------------------------------------------------------

func inspect(args []string, stdout, stderr io.Writer, now func() time.Time) error {
	fs := flags("inspect", stderr)
	pub := fs.String("pub", "", "public key file or KID:BASE64 list to verify with (default: the keys built into this tool)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"inspect takes one license file (flags first)"}
	}
	text, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("read license: %w", err)
	}
	f, err := license.Parse(text)
	if err != nil {
		return err
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, f.Payload, "", "  ") != nil {
		pretty.Reset()
		fmt.Fprintf(&pretty, "%q", f.Payload)
	}
	fmt.Fprintf(stdout, "Key id:    %s\nPayload:\n%s\n", f.KeyID, pretty.String())

	ring, source, err := inspectRing(*pub)
	if err != nil {
		return err
	}
	lic, err := f.Verify(ring)
	if err != nil {
		fmt.Fprintf(stdout, "Signature: NOT VERIFIED with %s: %v\n", source, err)
		return errors.New("the license does not verify")
	}
	fmt.Fprintf(stdout, "Signature: valid (key %s, %s)\n", lic.KeyID, source)
	t := now().UTC()
	switch {
	case t.Before(lic.NotBefore):
		fmt.Fprintf(stdout, "Validity:  not valid yet (from %s)\n", lic.NotBefore.Format(time.RFC3339))
	case t.Before(lic.ExpiresAt):
		fmt.Fprintf(stdout, "Validity:  valid, %d days left (expires %s)\n", int(lic.ExpiresAt.Sub(t).Hours()/24), lic.ExpiresAt.Format(time.RFC3339))
	case t.Before(lic.GraceEndsAt()):
		fmt.Fprintf(stdout, "Validity:  expired, in grace until %s\n", lic.GraceEndsAt().Format(time.RFC3339))
	default:
		fmt.Fprintf(stdout, "Validity:  expired (grace ended %s)\n", lic.GraceEndsAt().Format(time.RFC3339))
	}
	return nil
}

func inspectRing(pub string) (license.Ring, string, error) {
	if pub == "" {
		ring, err := license.BuiltinKeys()
		if err != nil {
			return nil, "", err
		}
		return ring, "the keys built into this tool", nil
	}
	list := pub
	if data, err := os.ReadFile(pub); err == nil {
		list = strings.TrimSpace(string(data))
	} else if !strings.Contains(pub, ":") {
		return nil, "", fmt.Errorf("read public key: %w", err)
	}
	ring, err := license.ParseRing(list)
	if err != nil {
		return nil, "", err
	}
	return ring, "-pub " + strings.Join(ring.IDs(), ","), nil
}
