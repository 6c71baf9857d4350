// Package backup writes and reads the agent's backup archives: a manifest
// (the files a data dir needs beside its store, and for passphrase
// archives the master key) followed by a consistent snapshot of the store,
// all sealed with authenticated encryption in chunks, so an archive of any
// size is written and read in constant memory and any change, cut or wrong
// key is refused before anything is restored from it.
package backup

import (
	"bufio"
	"context"
	"crypto/hmac"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// ManifestFormat is the version of the manifest this build writes.
const ManifestFormat = 1

// maxManifest bounds the manifest a reader accepts (it holds a few small
// files: config, certificate, key).
const maxManifest = 1 << 20

// Manifest describes an archive and carries the small files of the data dir.
type Manifest struct {
	Format       int       `json:"format"`
	AgentVersion string    `json:"agentVersion"`
	InstanceID   string    `json:"instanceId"`
	CreatedAt    time.Time `json:"createdAt"`
	// Schema is the store's schema version when the snapshot was taken.
	Schema int `json:"schema"`
	// Files are the data dir's files beside the store, by slash-separated
	// path relative to the data dir (agent.json, tls/agent.crt...).
	Files map[string][]byte `json:"files"`
	// MasterKey is set in passphrase archives only: the key the store's
	// sealed secrets are wrapped under, so the archive restores without it.
	MasterKey []byte `json:"masterKey,omitempty"`
}

// Sealing chooses how an archive is sealed: exactly one of MasterKey and
// Passphrase.
type Sealing struct {
	MasterKey  []byte
	Passphrase []byte
	// KDF overrides DefaultKDF for passphrase archives (tests use a cheap one).
	KDF KDF
}

// Kind is the sealing's kind.
func (s Sealing) Kind() Kind {
	if len(s.Passphrase) > 0 {
		return Passphrase
	}
	return MasterKey
}

// Write writes an archive to w: the header, then the sealed manifest and
// the store snapshot that snapshot writes.
func Write(ctx context.Context, w io.Writer, s Sealing, m Manifest, snapshot func(context.Context, io.Writer) error) error {
	h := Header{Version: formatVersion, Kind: s.Kind()}
	switch {
	case len(s.Passphrase) > 0 && len(s.MasterKey) > 0:
		return errors.New("write backup: give a master key or a passphrase, not both")
	case h.Kind == Passphrase:
		if err := CheckPassphrase(s.Passphrase); err != nil {
			return fmt.Errorf("write backup: %w", err)
		}
		if len(m.MasterKey) != 32 {
			return errors.New("write backup: a passphrase archive must carry the master key")
		}
		h.KDF = s.KDF
		if h.KDF == (KDF{}) {
			h.KDF = DefaultKDF
		}
		if err := h.KDF.check(); err != nil {
			return fmt.Errorf("write backup: %w", err)
		}
	case len(m.MasterKey) > 0:
		return errors.New("write backup: a master-key archive must not carry the master key")
	}
	var err error
	if h.Salt, err = newSalt(); err != nil {
		return err
	}
	k, err := deriveKeys(h, s.MasterKey, s.Passphrase)
	if err != nil {
		return err
	}
	body := h.body()
	if _, err := w.Write(append(body, k.headerMAC(body)...)); err != nil {
		return fmt.Errorf("write archive: %w", err)
	}
	sw := newSealWriter(w, k.payload)
	m.Format = ManifestFormat
	raw, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("write backup manifest: %w", err)
	}
	if _, err := sw.Write(binary.BigEndian.AppendUint32(nil, uint32(len(raw)))); err != nil {
		return err
	}
	if _, err := sw.Write(raw); err != nil {
		return err
	}
	if err := snapshot(ctx, sw); err != nil {
		return err
	}
	return sw.Close()
}

// Inspect reads an archive's header, to learn what opens it.
func Inspect(r io.Reader) (Header, error) {
	h, _, err := readHeader(r)
	return h, err
}

// Keys open an archive: the master key for master-key archives, the
// passphrase for passphrase archives.
type Keys struct {
	MasterKey  []byte
	Passphrase []byte
}

// Archive is an opened archive: its manifest, and the store snapshot to
// read to its end. Store returns an error wrapping ErrDamaged or
// ErrTruncated as soon as a chunk fails; io.EOF means every byte was
// authenticated.
type Archive struct {
	Header   Header
	Manifest Manifest
	Store    io.Reader
}

// Open checks the header against the key and reads the manifest.
func Open(r io.Reader, k Keys) (*Archive, error) {
	br := bufio.NewReaderSize(r, chunkSize+tagSize)
	h, mac, err := readHeader(br)
	if err != nil {
		return nil, err
	}
	switch {
	case h.Kind == Passphrase && len(k.Passphrase) == 0:
		return nil, errors.New("the archive is sealed with a passphrase: give it with --passphrase-file")
	case h.Kind == MasterKey && len(k.MasterKey) == 0:
		return nil, errors.New("the archive is sealed with a master key: give the key it was made with")
	}
	ks, err := deriveKeys(h, k.MasterKey, k.Passphrase)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(mac, ks.headerMAC(h.body())) {
		if h.Kind == Passphrase {
			return nil, fmt.Errorf("%w: wrong passphrase (or a damaged header)", ErrWrongKey)
		}
		return nil, fmt.Errorf("%w: it was made under a different master key (or its header is damaged)", ErrWrongKey)
	}
	or := newOpenReader(br, ks.payload, int64(headerSize))
	var size [4]byte
	if _, err := io.ReadFull(or, size[:]); err != nil {
		return nil, payloadError(err)
	}
	n := binary.BigEndian.Uint32(size[:])
	if n > maxManifest {
		return nil, fmt.Errorf("%w: its manifest claims %d bytes", ErrDamaged, n)
	}
	raw := make([]byte, n)
	if _, err := io.ReadFull(or, raw); err != nil {
		return nil, payloadError(err)
	}
	a := &Archive{Header: h, Store: or}
	if err := json.Unmarshal(raw, &a.Manifest); err != nil {
		return nil, fmt.Errorf("%w: its manifest does not decode: %v", ErrDamaged, err)
	}
	if a.Manifest.Format != ManifestFormat {
		return nil, fmt.Errorf("archive manifest format %d is not one this agent reads (it reads %d)", a.Manifest.Format, ManifestFormat)
	}
	if (h.Kind == Passphrase) != (len(a.Manifest.MasterKey) == 32) {
		return nil, fmt.Errorf("%w: its manifest does not match its sealing", ErrDamaged)
	}
	return a, nil
}

// payloadError names an authenticated stream that ended early.
func payloadError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: it ends inside its manifest", ErrDamaged)
	}
	return err
}
