// Package keyring keeps custody of the agent's 32-byte master key: it decides
// where the key lives (DESIGN.md's order of precedence), loads it with errors
// that name the source, and writes it at init and rotation.
//
// Sources, first match wins:
//  1. LOCKSTEP_MASTER_KEY: base64 of 32 bytes, for containers;
//  2. LOCKSTEP_MASTER_KEY_FILE or --key-file: a file of 32 raw bytes or their base64;
//  3. a systemd credential named master.key in $CREDENTIALS_DIRECTORY;
//  4. on Windows, <data>/master.key.dpapi, wrapped by DPAPI in machine scope;
//  5. <data>/master.key, 32 raw bytes, mode 0600.
package keyring

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Size is the length of the master key: 32 bytes selects AES-256 in Badger.
const Size = 32

// Env names of the key sources.
const (
	EnvKey     = "LOCKSTEP_MASTER_KEY"
	EnvKeyFile = "LOCKSTEP_MASTER_KEY_FILE"
	// CredentialName is the systemd credential the unit passes with LoadCredential=.
	CredentialName = "master.key"
)

// Key is a master key. It never prints its bytes.
type Key [Size]byte

// String keeps the key out of logs and error messages.
func (Key) String() string { return "[redacted]" }

// GoString keeps the key out of %#v.
func (Key) GoString() string { return "[redacted]" }

// Bytes returns a copy of the key's bytes for the libraries that need a slice.
func (k Key) Bytes() []byte { return append([]byte(nil), k[:]...) }

// Generate returns a fresh random key.
func Generate() (Key, error) {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		return Key{}, fmt.Errorf("generate master key: %w", err)
	}
	return k, nil
}

// ErrNoKey means the source holds no key yet.
var ErrNoKey = errors.New("no key")

// Custody is one place a master key can live.
type Custody interface {
	// Name says where the key is, for one-line error messages ("key file /x").
	Name() string
	// Load reads and decodes the key.
	Load() (Key, error)
	// Writable reports whether the agent may write this source itself
	// (environment variables and systemd credentials belong to the administrator).
	Writable() bool
	// Create stores a new key and refuses to overwrite an existing one.
	Create(Key) error
	// Stage writes the key that a rotation is about to switch to, beside the
	// current one; Commit makes the staged key current; Staged loads it.
	Stage(Key) error
	Staged() (Key, error)
	Commit() error
	// Discard removes a staged key (a rotation that did not happen).
	Discard() error
}

// Options choose the custody.
type Options struct {
	DataDir string
	// KeyFile is --key-file; it wins over LOCKSTEP_MASTER_KEY_FILE.
	KeyFile string
	// Getenv reads the environment; nil means os.Getenv (tests inject their own).
	Getenv func(string) string
}

// Resolve picks the custody for these options.
func Resolve(o Options) Custody {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if v := getenv(EnvKey); v != "" {
		return envCustody{value: v}
	}
	if o.KeyFile != "" {
		return &fileCustody{path: o.KeyFile, label: "key file", explicit: true}
	}
	if f := getenv(EnvKeyFile); f != "" {
		return &fileCustody{path: f, label: "key file (" + EnvKeyFile + ")", explicit: true}
	}
	if dir := getenv("CREDENTIALS_DIRECTORY"); dir != "" {
		p := filepath.Join(dir, CredentialName)
		if _, err := os.Stat(p); err == nil {
			return credentialCustody{path: p}
		}
	}
	return platformCustody(o.DataDir)
}

// decode accepts 32 raw bytes, or base64 (standard or URL, padded or not) of
// 32 bytes with surrounding whitespace; a trailing newline is the classic trap.
func decode(b []byte) (Key, error) {
	var k Key
	if len(b) == Size {
		copy(k[:], b)
		return k, nil
	}
	text := strings.TrimSpace(string(b))
	if text == "" {
		return Key{}, errors.New("is empty")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		raw, err := enc.DecodeString(text)
		if err != nil {
			continue
		}
		if len(raw) != Size {
			return Key{}, fmt.Errorf("decodes to %d bytes, want %d", len(raw), Size)
		}
		copy(k[:], raw)
		return k, nil
	}
	return Key{}, fmt.Errorf("holds %d bytes: want %d raw bytes or their base64", len(b), Size)
}

type envCustody struct{ value string }

func (envCustody) Name() string { return "environment variable " + EnvKey }
func (c envCustody) Load() (Key, error) {
	k, err := decode([]byte(c.value))
	if err != nil {
		return Key{}, fmt.Errorf("%s %w", c.Name(), err)
	}
	return k, nil
}
func (envCustody) Writable() bool { return false }
func (c envCustody) Create(Key) error {
	return nil // the administrator supplied the key; init adopts it
}
func (c envCustody) Stage(Key) error      { return errNotWritable(c) }
func (c envCustody) Staged() (Key, error) { return Key{}, ErrNoKey }
func (c envCustody) Commit() error        { return errNotWritable(c) }
func (c envCustody) Discard() error       { return nil }

type credentialCustody struct{ path string }

func (c credentialCustody) Name() string { return "systemd credential " + c.path }
func (c credentialCustody) Load() (Key, error) {
	b, err := os.ReadFile(c.path)
	if err != nil {
		return Key{}, fmt.Errorf("%s: %w", c.Name(), err)
	}
	k, err := decode(b)
	if err != nil {
		return Key{}, fmt.Errorf("%s %w", c.Name(), err)
	}
	return k, nil
}
func (credentialCustody) Writable() bool         { return false }
func (credentialCustody) Create(Key) error       { return nil }
func (c credentialCustody) Stage(Key) error      { return errNotWritable(c) }
func (c credentialCustody) Staged() (Key, error) { return Key{}, ErrNoKey }
func (c credentialCustody) Commit() error        { return errNotWritable(c) }
func (c credentialCustody) Discard() error       { return nil }

func errNotWritable(c Custody) error {
	return fmt.Errorf("%s is set by the administrator and cannot be rewritten by the agent", c.Name())
}

// fileCustody keeps the key in a file; wrap and unwrap let Windows add DPAPI.
type fileCustody struct {
	path     string
	label    string
	explicit bool
	wrap     func([]byte) ([]byte, error)
	unwrap   func([]byte) ([]byte, error)
}

func (c *fileCustody) Name() string   { return c.label + " " + c.path }
func (c *fileCustody) Writable() bool { return true }

func (c *fileCustody) read(path string) (Key, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Key{}, fmt.Errorf("%s: %w (is this the right data dir? was init run?)", c.Name(), ErrNoKey)
	}
	if err != nil {
		return Key{}, fmt.Errorf("%s: %w", c.Name(), err)
	}
	if err := checkPrivate(path, c.explicit); err != nil {
		return Key{}, fmt.Errorf("%s: %w", c.Name(), err)
	}
	if c.unwrap != nil {
		if b, err = c.unwrap(b); err != nil {
			return Key{}, fmt.Errorf("%s: unwrap: %w", c.Name(), err)
		}
	}
	k, err := decode(b)
	if err != nil {
		return Key{}, fmt.Errorf("%s %w", c.Name(), err)
	}
	return k, nil
}

func (c *fileCustody) Load() (Key, error) { return c.read(c.path) }

func (c *fileCustody) write(path string, k Key, exclusive bool) error {
	data := k.Bytes()
	if c.wrap != nil {
		var err error
		if data, err = c.wrap(data); err != nil {
			return fmt.Errorf("%s: wrap: %w", c.Name(), err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("%s: %w", c.Name(), err)
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if exclusive {
		flags |= os.O_EXCL
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Name(), err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("%s: write: %w", c.Name(), err)
	}
	// The key must be on disk before the store is encrypted with it.
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("%s: sync: %w", c.Name(), err)
	}
	return f.Close()
}

// Create writes a new key file; an explicit file that already holds a key is
// adopted (the administrator made it), and a different key is never written over it.
func (c *fileCustody) Create(k Key) error {
	if _, err := os.Stat(c.path); err == nil {
		if c.explicit {
			return nil
		}
		return fmt.Errorf("%s already exists: refusing to overwrite it", c.Name())
	}
	return c.write(c.path, k, true)
}

func (c *fileCustody) stagedPath() string { return c.path + ".next" }

func (c *fileCustody) Stage(k Key) error { return c.write(c.stagedPath(), k, false) }

func (c *fileCustody) Staged() (Key, error) {
	if _, err := os.Stat(c.stagedPath()); err != nil {
		return Key{}, ErrNoKey
	}
	return c.read(c.stagedPath())
}

func (c *fileCustody) Commit() error {
	if err := os.Rename(c.stagedPath(), c.path); err != nil {
		return fmt.Errorf("%s: commit new key: %w", c.Name(), err)
	}
	return syncDir(filepath.Dir(c.path))
}

func (c *fileCustody) Discard() error {
	err := os.Remove(c.stagedPath())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: discard staged key: %w", c.Name(), err)
	}
	return nil
}

// Equal compares keys in constant time's spirit; keys are never compared on a
// hot path, bytes.Equal is enough.
func Equal(a, b Key) bool { return bytes.Equal(a[:], b[:]) }

// NewFile is the custody of an explicit key file, whatever the environment says.
func NewFile(path string) Custody {
	return &fileCustody{path: path, label: "key file", explicit: true}
}
