package app

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/auth"
	"github.com/lockstep-sync/lockstep/agent/internal/cert"
	"github.com/lockstep-sync/lockstep/agent/internal/config"
	"github.com/lockstep-sync/lockstep/agent/internal/keyring"
	"github.com/lockstep-sync/lockstep/agent/internal/paths"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// InitOptions add init's own flags.
type InitOptions struct {
	Options
	AdminUser         string
	AdminPasswordFile string
}

// InitResult is what init reports to the administrator.
type InitResult struct {
	AdminUser string
	// GeneratedPassword is set when no password file was given: it is shown
	// once and stored nowhere but as an argon2id hash.
	GeneratedPassword string
	DataDir           string
	Listen            string
	KeySource         string
	InstanceID        string
	Fingerprint       string
}

// Init creates a data directory: master key, encrypted store, TLS identity and
// bootstrap config. It refuses to touch a directory that holds any of them.
func Init(o InitOptions) (res InitResult, err error) {
	layout, err := paths.New(o.DataDir)
	if err != nil {
		return InitResult{}, fmt.Errorf("init: %w", err)
	}
	listen := o.Listen
	if listen == "" {
		listen = paths.DefaultListen
	}
	if err := config.ValidateListen(listen); err != nil {
		return InitResult{}, fmt.Errorf("init: %w", err)
	}
	if o.AdminUser == "" {
		o.AdminUser = "admin"
	}
	password, generated, err := adminPassword(o.AdminPasswordFile)
	if err != nil {
		return InitResult{}, fmt.Errorf("init: %w", err)
	}
	for _, p := range []string{layout.Config(), layout.Store(), layout.Cert(), layout.CertKey(), layout.MasterKey(), layout.MasterKeyDPAPI()} {
		if _, err := os.Stat(p); err == nil {
			return InitResult{}, fmt.Errorf("init: %s already exists: %s is initialised; refusing to overwrite anything", p, layout.Dir)
		} else if !errors.Is(err, os.ErrNotExist) {
			return InitResult{}, fmt.Errorf("init: %w", err)
		}
	}
	if err := os.MkdirAll(layout.Dir, 0o700); err != nil {
		return InitResult{}, fmt.Errorf("init: create data dir: %w", err)
	}
	// MkdirAll leaves an existing directory's mode alone; the data dir must be private.
	if err := os.Chmod(layout.Dir, 0o700); err != nil {
		return InitResult{}, fmt.Errorf("init: restrict data dir: %w", err)
	}

	// A failed init removes what it made, so the next attempt does not
	// find a half-initialised directory it refuses to touch.
	defer func() {
		if err != nil {
			for _, p := range []string{layout.Config(), filepath.Dir(layout.Cert()), layout.Store(), layout.MasterKey(), layout.MasterKeyDPAPI()} {
				os.RemoveAll(p)
			}
		}
	}()
	custody := keyring.Resolve(keyring.Options{DataDir: layout.Dir, KeyFile: o.KeyFile, Getenv: o.Getenv})
	key, err := initialKey(custody)
	if err != nil {
		return InitResult{}, fmt.Errorf("init: %w", err)
	}
	st, err := store.Create(store.Options{Dir: layout.Store(), Key: key.Bytes()})
	if err != nil {
		return InitResult{}, fmt.Errorf("init: %w", err)
	}
	defer st.Close()
	idBytes := make([]byte, 16)
	if _, err := rand.Read(idBytes); err != nil {
		return InitResult{}, fmt.Errorf("init: instance id: %w", err)
	}
	// The instance id is random, never derived from hardware: it identifies
	// this installation and nothing about the machine.
	instanceID := hex.EncodeToString(idBytes)
	now := o.now().UTC()
	if err := st.SetMeta("instance_id", instanceID); err != nil {
		return InitResult{}, fmt.Errorf("init: %w", err)
	}
	if err := st.SetMeta("initialised_at", now.Format("2006-01-02T15:04:05Z07:00")); err != nil {
		return InitResult{}, fmt.Errorf("init: %w", err)
	}
	if _, err := auth.New(st, audit.New(st, o.Now), auth.Options{Now: o.Now}).Bootstrap(o.AdminUser, password); err != nil {
		return InitResult{}, fmt.Errorf("init: create administrator %q: %w", o.AdminUser, err)
	}
	hostname, _ := os.Hostname()
	if err := cert.Write(layout.Cert(), layout.CertKey(), hostname, now); err != nil {
		return InitResult{}, fmt.Errorf("init: %w", err)
	}
	fp, err := cert.FileFingerprint(layout.Cert())
	if err != nil {
		return InitResult{}, fmt.Errorf("init: %w", err)
	}
	// The config is written last: its presence means init completed.
	if err := config.Create(layout.Config(), config.Bootstrap{Version: config.Version, Listen: listen, CreatedAt: now}); err != nil {
		return InitResult{}, fmt.Errorf("init: %w", err)
	}
	res = InitResult{AdminUser: o.AdminUser, DataDir: layout.Dir, Listen: listen, KeySource: custody.Name(), InstanceID: instanceID, Fingerprint: fp}
	if generated {
		res.GeneratedPassword = password
	}
	return res, nil
}

// adminPassword reads the first administrator's password from a file (one
// line; a trailing newline is not part of it), or generates a strong one.
func adminPassword(file string) (password string, generated bool, err error) {
	if file == "" {
		return auth.GeneratePassword(), true, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", false, fmt.Errorf("read admin password file: %w", err)
	}
	password = strings.TrimRight(string(b), "\r\n")
	if err := auth.CheckPassword(password); err != nil {
		return "", false, fmt.Errorf("admin password file %s: %w", file, err)
	}
	return password, false, nil
}

// initialKey adopts a key the administrator supplied (environment, systemd
// credential, an existing key file) or generates and stores a new one.
func initialKey(c keyring.Custody) (keyring.Key, error) {
	if k, err := c.Load(); err == nil {
		return k, c.Create(k)
	} else if !errors.Is(err, keyring.ErrNoKey) {
		return keyring.Key{}, err
	}
	k, err := keyring.Generate()
	if err != nil {
		return keyring.Key{}, err
	}
	if err := c.Create(k); err != nil {
		return keyring.Key{}, err
	}
	return k, nil
}
