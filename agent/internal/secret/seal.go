package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// Sealing is envelope encryption. The master key derives (HKDF-SHA256) a key
// encryption key (KEK); each scope (one system, one account...) has its own
// random data key (DEK), stored wrapped by the KEK; each field is sealed by
// its scope's DEK with AES-256-GCM and associated data "kind/id/field", so a
// sealed value copied to another record or field fails to open.
//
// Deleting a scope destroys its DEK: every value sealed under it is gone for
// good even if Badger resurrects a deleted record (crypto-shredding).
//
// A DEK record can hold a second wrap under the next KEK: key rotation adds
// it before the master key changes, so a crash at any point leaves every DEK
// openable by whichever master key is in force.

const (
	sealVersion = 1
	nonceSize   = 12
	kekInfo     = "lockstep secret sealing v1"
)

// ErrNoDataKey means the scope's data key is gone (the scope was deleted).
var ErrNoDataKey = errors.New("data key not found")

// KeyStore persists wrapped data keys; the store implements it.
type KeyStore interface {
	GetDataKey(scope string) ([]byte, error) // ErrNoDataKey when absent
	PutDataKey(scope string, record []byte) error
	DeleteDataKey(scope string) error
	ListDataKeys(fn func(scope string, record []byte) error) error
}

// KEK is a key encryption key derived from a master key.
type KEK struct {
	key [32]byte
	id  string
}

// DeriveKEK derives the sealing KEK from the master key.
func DeriveKEK(master []byte) (KEK, error) {
	if len(master) != 32 {
		return KEK{}, fmt.Errorf("derive sealing key: master key is %d bytes, want 32", len(master))
	}
	raw, err := hkdf.Key(sha256.New, master, nil, kekInfo, 32)
	if err != nil {
		return KEK{}, fmt.Errorf("derive sealing key: %w", err)
	}
	var k KEK
	copy(k.key[:], raw)
	sum := sha256.Sum256(append([]byte("kek id:"), raw...))
	k.id = hex.EncodeToString(sum[:8])
	return k, nil
}

// String keeps the KEK out of logs.
func (KEK) String() string { return Redacted }

type dekRecord struct {
	Version     int    `json:"v"`
	KEK         string `json:"kek"`
	Wrapped     []byte `json:"wrapped"`
	NextKEK     string `json:"next_kek,omitempty"`
	NextWrapped []byte `json:"next_wrapped,omitempty"`
}

// Sealer seals and opens secret fields.
type Sealer struct {
	kek   KEK
	store KeyStore
}

// NewSealer returns a sealer for the master key's KEK over store.
func NewSealer(master []byte, store KeyStore) (*Sealer, error) {
	kek, err := DeriveKEK(master)
	if err != nil {
		return nil, err
	}
	return &Sealer{kek: kek, store: store}, nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func seal(key, plain, ad []byte) ([]byte, error) {
	aead, err := gcm(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plain)+aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1 : 1+nonceSize]); err != nil {
		return nil, err
	}
	return aead.Seal(out, out[1:1+nonceSize], plain, ad), nil
}

func open(key, sealed, ad []byte) ([]byte, error) {
	if len(sealed) < 1+nonceSize || sealed[0] != sealVersion {
		return nil, errors.New("not a sealed value")
	}
	aead, err := gcm(key)
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], ad)
	if err != nil {
		return nil, errors.New("authentication failed (wrong key, or the value was moved or modified)")
	}
	return plain, nil
}

func wrapAD(scope string) []byte { return []byte("dek/" + scope) }

// dataKey returns the scope's DEK, creating it when create is set.
func (s *Sealer) dataKey(scope string, create bool) ([]byte, error) {
	raw, err := s.store.GetDataKey(scope)
	if errors.Is(err, ErrNoDataKey) && create {
		dek := make([]byte, 32)
		if _, err := rand.Read(dek); err != nil {
			return nil, err
		}
		wrapped, err := seal(s.kek.key[:], dek, wrapAD(scope))
		if err != nil {
			return nil, err
		}
		rec, _ := json.Marshal(dekRecord{Version: 1, KEK: s.kek.id, Wrapped: wrapped})
		if err := s.store.PutDataKey(scope, rec); err != nil {
			return nil, err
		}
		return dek, nil
	}
	if err != nil {
		return nil, err
	}
	var rec dekRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("decode data key record: %w", err)
	}
	switch s.kek.id {
	case rec.KEK:
		return open(s.kek.key[:], rec.Wrapped, wrapAD(scope))
	case rec.NextKEK:
		// A rotation finished: promote the next wrap so the old one is gone.
		dek, err := open(s.kek.key[:], rec.NextWrapped, wrapAD(scope))
		if err != nil {
			return nil, err
		}
		promoted, _ := json.Marshal(dekRecord{Version: 1, KEK: rec.NextKEK, Wrapped: rec.NextWrapped})
		if err := s.store.PutDataKey(scope, promoted); err != nil {
			return nil, err
		}
		return dek, nil
	default:
		return nil, errors.New("data key is wrapped by a different master key")
	}
}

func fieldAD(kind, id, field string) []byte {
	return []byte(kind + "\x00" + id + "\x00" + field)
}

// Seal encrypts value for the field of a record; the scope's DEK is created
// on first use.
func (s *Sealer) Seal(scope, kind, id, field string, value []byte) ([]byte, error) {
	dek, err := s.dataKey(scope, true)
	if err != nil {
		return nil, fmt.Errorf("seal %s %s field %s: %w", kind, id, field, err)
	}
	out, err := seal(dek, value, fieldAD(kind, id, field))
	if err != nil {
		return nil, fmt.Errorf("seal %s %s field %s: %w", kind, id, field, err)
	}
	return out, nil
}

// Open decrypts a sealed field.
func (s *Sealer) Open(scope, kind, id, field string, sealed []byte) ([]byte, error) {
	dek, err := s.dataKey(scope, false)
	if err != nil {
		return nil, fmt.Errorf("open %s %s field %s: %w", kind, id, field, err)
	}
	plain, err := open(dek, sealed, fieldAD(kind, id, field))
	if err != nil {
		return nil, fmt.Errorf("open %s %s field %s: %w", kind, id, field, err)
	}
	return plain, nil
}

// Shred destroys the scope's DEK, and with it every value sealed under it.
func (s *Sealer) Shred(scope string) error {
	if err := s.store.DeleteDataKey(scope); err != nil && !errors.Is(err, ErrNoDataKey) {
		return fmt.Errorf("shred data key %s: %w", scope, err)
	}
	return nil
}

// PrepareRotation adds a wrap under next's KEK to every DEK, so the store
// stays readable whether the master key change that follows completes or not.
func (s *Sealer) PrepareRotation(nextMaster []byte) error {
	next, err := DeriveKEK(nextMaster)
	if err != nil {
		return err
	}
	type update struct {
		scope string
		rec   []byte
	}
	var updates []update
	err = s.store.ListDataKeys(func(scope string, raw []byte) error {
		dek, err := s.dataKey(scope, false)
		if err != nil {
			return err
		}
		var rec dekRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			return fmt.Errorf("decode data key record %s: %w", scope, err)
		}
		if rec.KEK != s.kek.id { // was just promoted by dataKey
			rec = dekRecord{Version: 1, KEK: s.kek.id}
			rec.Wrapped, err = seal(s.kek.key[:], dek, wrapAD(scope))
			if err != nil {
				return err
			}
		}
		rec.NextKEK = next.id
		if rec.NextWrapped, err = seal(next.key[:], dek, wrapAD(scope)); err != nil {
			return err
		}
		b, _ := json.Marshal(rec)
		updates = append(updates, update{scope, b})
		return nil
	})
	if err != nil {
		return fmt.Errorf("prepare data keys for rotation: %w", err)
	}
	for _, u := range updates {
		if err := s.store.PutDataKey(u.scope, u.rec); err != nil {
			return fmt.Errorf("prepare data key %s for rotation: %w", u.scope, err)
		}
	}
	return nil
}

// Settle finishes or forgets an earlier rotation, at start-up: DEKs wrapped
// for the key now in force drop the other wrap, so the old master key's KEK
// no longer unwraps anything.
func (s *Sealer) Settle() error {
	var updates [][2]string
	err := s.store.ListDataKeys(func(scope string, raw []byte) error {
		var rec dekRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			return fmt.Errorf("decode data key record %s: %w", scope, err)
		}
		var settled dekRecord
		switch {
		case rec.NextKEK == "":
			return nil
		case rec.NextKEK == s.kek.id:
			settled = dekRecord{Version: 1, KEK: rec.NextKEK, Wrapped: rec.NextWrapped}
		case rec.KEK == s.kek.id:
			settled = dekRecord{Version: 1, KEK: rec.KEK, Wrapped: rec.Wrapped}
		default:
			return fmt.Errorf("data key %s is wrapped by a different master key", scope)
		}
		b, _ := json.Marshal(settled)
		updates = append(updates, [2]string{scope, string(b)})
		return nil
	})
	if err != nil {
		return fmt.Errorf("settle data keys: %w", err)
	}
	for _, u := range updates {
		if err := s.store.PutDataKey(u[0], []byte(u[1])); err != nil {
			return fmt.Errorf("settle data key %s: %w", u[0], err)
		}
	}
	return nil
}
