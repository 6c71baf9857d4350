package app

import (
	"errors"
	"fmt"

	"github.com/lockstep-sync/lockstep/agent/internal/keyring"
	"github.com/lockstep-sync/lockstep/agent/internal/paths"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// loadKey loads the master key and proves it opens the store without
// writing to it. A rotation interrupted after the store switched keys left
// the new key staged beside the old one: it is adopted here.
func loadKey(c keyring.Custody, layout paths.Layout) (keyring.Key, error) {
	k, err := c.Load()
	if err != nil {
		return keyring.Key{}, fmt.Errorf("master key from %w", err)
	}
	err = store.CheckKey(layout.Store(), k.Bytes())
	if err == nil {
		if err := c.Discard(); err != nil { // a rotation that never switched
			return keyring.Key{}, err
		}
		return k, nil
	}
	if errors.Is(err, store.ErrKeyMismatch) {
		if staged, serr := c.Staged(); serr == nil && store.CheckKey(layout.Store(), staged.Bytes()) == nil {
			if err := c.Commit(); err != nil {
				return keyring.Key{}, err
			}
			return staged, nil
		}
	}
	return keyring.Key{}, fmt.Errorf("master key from %s: %w", c.Name(), err)
}

// resolveKey finds the custody for o and loads a key that opens the store.
func resolveKey(o Options, layout paths.Layout) (keyring.Key, error) {
	custody := keyring.Resolve(keyring.Options{DataDir: layout.Dir, KeyFile: o.KeyFile, Getenv: o.Getenv})
	return loadKey(custody, layout)
}

// openStore opens the store with a checked key and settles the sealed data keys.
func openStore(layout paths.Layout, key keyring.Key, logger store.Logger) (*store.Store, *secret.Sealer, error) {
	st, err := store.Open(store.Options{Dir: layout.Store(), Key: key.Bytes(), Logger: logger})
	if err != nil {
		return nil, nil, err
	}
	sealer, err := secret.NewSealer(key.Bytes(), st.DataKeys())
	if err == nil {
		err = sealer.Settle()
	}
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, sealer, nil
}

// RotateKey replaces the master key: a new key is staged in custody (or
// written to newKeyFile when custody belongs to the administrator), every
// sealed data key gains a wrap under it, Badger's data keys are re-wrapped,
// and the staged key becomes current. Afterwards the old key opens nothing.
// It returns where the new key is.
func RotateKey(o Options, newKeyFile string) (string, error) {
	layout, err := paths.New(o.DataDir)
	if err != nil {
		return "", fmt.Errorf("rotate key: %w", err)
	}
	custody := keyring.Resolve(keyring.Options{DataDir: layout.Dir, KeyFile: o.KeyFile, Getenv: o.Getenv})
	oldKey, err := loadKey(custody, layout)
	if err != nil {
		return "", fmt.Errorf("rotate key: %w", err)
	}
	newKey, err := keyring.Generate()
	if err != nil {
		return "", fmt.Errorf("rotate key: %w", err)
	}
	target := custody
	if !custody.Writable() {
		if newKeyFile == "" {
			return "", fmt.Errorf("rotate key: the key comes from %s, which the agent cannot rewrite: pass --new-key-file FILE, then point the agent at it", custody.Name())
		}
		target = keyring.NewFile(newKeyFile)
		if err := target.Create(newKey); err != nil {
			return "", fmt.Errorf("rotate key: %w", err)
		}
		if k, _ := target.Load(); !keyring.Equal(k, newKey) {
			return "", fmt.Errorf("rotate key: %s already holds a key: choose a new file", target.Name())
		}
	} else if err := custody.Stage(newKey); err != nil {
		return "", fmt.Errorf("rotate key: %w", err)
	}

	st, err := store.Open(store.Options{Dir: layout.Store(), Key: oldKey.Bytes()})
	if err != nil {
		return "", fmt.Errorf("rotate key: %w", err)
	}
	sealer, err := secret.NewSealer(oldKey.Bytes(), st.DataKeys())
	if err == nil {
		err = sealer.PrepareRotation(newKey.Bytes())
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("rotate key: %w", err)
	}
	if err := store.RotateKey(layout.Store(), oldKey.Bytes(), newKey.Bytes()); err != nil {
		return "", fmt.Errorf("rotate key: %w", err)
	}
	if target == custody {
		if err := custody.Commit(); err != nil {
			return "", fmt.Errorf("rotate key: the store now needs the staged key: %w", err)
		}
	}
	// Drop the old wraps now rather than at the next start.
	st, err = store.Open(store.Options{Dir: layout.Store(), Key: newKey.Bytes()})
	if err != nil {
		return "", fmt.Errorf("rotate key: reopen with the new key: %w", err)
	}
	defer st.Close()
	sealer, err = secret.NewSealer(newKey.Bytes(), st.DataKeys())
	if err == nil {
		err = sealer.Settle()
	}
	if err != nil {
		return "", fmt.Errorf("rotate key: %w", err)
	}
	return target.Name(), nil
}
