package backup

import (
	"bufio"
	"bytes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// The sealed format, version 1:
//
//	header  magic "LSBACKUP", version (1 byte), sealing (1 byte: 1 master
//	        key, 2 passphrase), salt (32 bytes), argon2id time (uint32),
//	        memory in KiB (uint32), threads (1 byte) (zero for master-key
//	        archives), HMAC-SHA256 of all of the above (32 bytes)
//	payload chunks of 64 KiB of plaintext sealed with ChaCha20-Poly1305;
//	        the nonce is the chunk's number (11 bytes, big-endian) and a
//	        last-chunk flag (1 byte)
//
// The file key comes from the master key (HKDF-SHA256 with the salt) or
// from the passphrase (argon2id with the salt and the header's parameters);
// the header's MAC key and the payload key are derived from it. A wrong key
// fails the header's MAC before any payload is read; a modified chunk fails
// its tag; chunks cannot be reordered (the nonce counts them), and a file cut
// anywhere is detected because only the true last chunk opens with the last
// flag set. This is the STREAM construction, as age and Tink use it.

const (
	magic         = "LSBACKUP"
	formatVersion = 1
	saltSize      = 32
	macSize       = sha256.Size
	headerSize    = len(magic) + 1 + 1 + saltSize + 4 + 4 + 1 + macSize
	chunkSize     = 64 << 10
	tagSize       = chacha20poly1305.Overhead
)

// Kind says what seals an archive.
type Kind byte

// Sealing kinds.
const (
	// MasterKey archives open with the agent's master key.
	MasterKey Kind = 1
	// Passphrase archives open with a passphrase (argon2id) and carry the
	// master key inside, so they restore without it.
	Passphrase Kind = 2
)

func (k Kind) String() string {
	switch k {
	case MasterKey:
		return "master key"
	case Passphrase:
		return "passphrase"
	}
	return fmt.Sprintf("unknown sealing %d", byte(k))
}

// KDF are argon2id's parameters for a passphrase.
type KDF struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultKDF is RFC 9106's second recommended setting (64 MiB, 3 passes,
// 4 lanes): a fraction of a second on a server, and far too slow per guess
// for an offline attack on a stolen archive.
var DefaultKDF = KDF{Time: 3, Memory: 64 << 10, Threads: 4}

// Bounds a header's parameters must stay within, so a crafted archive
// cannot make a restore allocate gigabytes or spin for hours.
const (
	maxKDFTime    = 16
	maxKDFMemory  = 1 << 20 // KiB: 1 GiB
	maxKDFThreads = 16
	// MinPassphrase is the shortest passphrase accepted, in characters.
	MinPassphrase = 12
)

// Errors a damaged, foreign or wrongly keyed archive is refused with; each
// message is one line an administrator can act on.
var (
	ErrNotArchive = errors.New("not a Lockstep backup archive")
	ErrWrongKey   = errors.New("the key does not open this archive")
	ErrDamaged    = errors.New("the archive is damaged or was modified")
	ErrTruncated  = errors.New("the archive is truncated")
)

// Header is an archive's clear-text header.
type Header struct {
	Version int
	Kind    Kind
	Salt    [saltSize]byte
	KDF     KDF
}

func (h Header) body() []byte {
	b := make([]byte, 0, headerSize)
	b = append(b, magic...)
	b = append(b, byte(h.Version), byte(h.Kind))
	b = append(b, h.Salt[:]...)
	b = binary.BigEndian.AppendUint32(b, h.KDF.Time)
	b = binary.BigEndian.AppendUint32(b, h.KDF.Memory)
	return append(b, h.KDF.Threads)
}

// readHeader reads and checks the header's layout, not its MAC.
func readHeader(r io.Reader) (Header, []byte, error) {
	raw := make([]byte, headerSize)
	n, err := io.ReadFull(r, raw)
	if n < len(magic) || !bytes.Equal(raw[:len(magic)], []byte(magic)) {
		return Header{}, nil, ErrNotArchive
	}
	if n > len(magic) && raw[len(magic)] != formatVersion {
		return Header{}, nil, fmt.Errorf("archive format %d is not one this agent reads (it reads %d): restore it with a newer agent", raw[len(magic)], formatVersion)
	}
	if err != nil {
		return Header{}, nil, fmt.Errorf("%w: it ends inside its header", ErrTruncated)
	}
	h := Header{Version: int(raw[len(magic)]), Kind: Kind(raw[len(magic)+1])}
	p := raw[len(magic)+2:]
	copy(h.Salt[:], p[:saltSize])
	p = p[saltSize:]
	h.KDF = KDF{Time: binary.BigEndian.Uint32(p), Memory: binary.BigEndian.Uint32(p[4:]), Threads: p[8]}
	switch h.Kind {
	case MasterKey:
		if h.KDF != (KDF{}) {
			return Header{}, nil, fmt.Errorf("%w: its header is inconsistent", ErrDamaged)
		}
	case Passphrase:
		if err := h.KDF.check(); err != nil {
			return Header{}, nil, fmt.Errorf("%w: %v", ErrDamaged, err)
		}
	default:
		return Header{}, nil, fmt.Errorf("%w: its header names %s", ErrDamaged, h.Kind)
	}
	return h, raw[headerSize-macSize:], nil
}

func (k KDF) check() error {
	switch {
	case k.Time < 1 || k.Time > maxKDFTime:
		return fmt.Errorf("argon2id time %d is outside 1..%d", k.Time, maxKDFTime)
	case k.Memory < 8*uint32(max(k.Threads, 1)) || k.Memory > maxKDFMemory:
		return fmt.Errorf("argon2id memory %d KiB is outside %d..%d", k.Memory, 8*max(k.Threads, 1), maxKDFMemory)
	case k.Threads < 1 || k.Threads > maxKDFThreads:
		return fmt.Errorf("argon2id threads %d is outside 1..%d", k.Threads, maxKDFThreads)
	}
	return nil
}

// keys are what one archive is sealed with.
type keys struct {
	mac     []byte
	payload cipher.AEAD
}

// deriveKeys turns a master key or a passphrase into the archive's keys.
func deriveKeys(h Header, master, passphrase []byte) (keys, error) {
	var file []byte
	switch h.Kind {
	case MasterKey:
		if len(master) != 32 {
			return keys{}, fmt.Errorf("seal backup: master key is %d bytes, want 32", len(master))
		}
		var err error
		if file, err = hkdf.Key(sha256.New, master, h.Salt[:], "lockstep backup v1 master key", 32); err != nil {
			return keys{}, fmt.Errorf("derive archive key: %w", err)
		}
	case Passphrase:
		file = argon2.IDKey(passphrase, h.Salt[:], h.KDF.Time, h.KDF.Memory, h.KDF.Threads, 32)
	}
	mac, err := hkdf.Key(sha256.New, file, nil, "lockstep backup v1 header", 32)
	if err != nil {
		return keys{}, fmt.Errorf("derive archive key: %w", err)
	}
	pk, err := hkdf.Key(sha256.New, file, nil, "lockstep backup v1 payload", chacha20poly1305.KeySize)
	if err != nil {
		return keys{}, fmt.Errorf("derive archive key: %w", err)
	}
	aead, err := chacha20poly1305.New(pk)
	if err != nil {
		return keys{}, fmt.Errorf("derive archive key: %w", err)
	}
	return keys{mac: mac, payload: aead}, nil
}

func (k keys) headerMAC(body []byte) []byte {
	m := hmac.New(sha256.New, k.mac)
	m.Write(body)
	return m.Sum(nil)
}

// CheckPassphrase refuses a passphrase too short to protect an archive that
// carries the master key.
func CheckPassphrase(p []byte) error {
	if !utf8.Valid(p) {
		return errors.New("the passphrase must be valid UTF-8")
	}
	if n := utf8.RuneCount(p); n < MinPassphrase {
		return fmt.Errorf("the passphrase has %d characters: use at least %d", n, MinPassphrase)
	}
	return nil
}

func nonce(counter uint64, last bool) []byte {
	n := make([]byte, chacha20poly1305.NonceSize)
	binary.BigEndian.PutUint64(n[3:11], counter)
	if last {
		n[11] = 1
	}
	return n
}

// sealWriter seals a stream chunk by chunk. It holds back one full chunk
// until it knows whether more follows, because the last chunk is sealed
// differently; Close seals it. Memory stays at two chunks whatever the size.
type sealWriter struct {
	w       io.Writer
	aead    cipher.AEAD
	buf     []byte
	out     []byte
	counter uint64
	err     error
}

func newSealWriter(w io.Writer, aead cipher.AEAD) *sealWriter {
	return &sealWriter{w: w, aead: aead, buf: make([]byte, 0, chunkSize), out: make([]byte, 0, chunkSize+tagSize)}
}

func (s *sealWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	total := len(p)
	for len(p) > 0 {
		if len(s.buf) == chunkSize {
			if err := s.flush(false); err != nil {
				return total - len(p), err
			}
		}
		n := copy(s.buf[len(s.buf):chunkSize], p)
		s.buf = s.buf[:len(s.buf)+n]
		p = p[n:]
	}
	return total, nil
}

func (s *sealWriter) flush(last bool) error {
	s.out = s.aead.Seal(s.out[:0], nonce(s.counter, last), s.buf, nil)
	if _, err := s.w.Write(s.out); err != nil {
		s.err = fmt.Errorf("write archive: %w", err)
		return s.err
	}
	s.counter++
	s.buf = s.buf[:0]
	return nil
}

// Close seals the last chunk; it does not close the underlying writer.
func (s *sealWriter) Close() error {
	if s.err != nil {
		return s.err
	}
	err := s.flush(true)
	s.err = errors.New("write archive: already closed")
	return err
}

// openReader opens a sealed stream chunk by chunk and returns io.EOF only
// after the true last chunk has been authenticated.
type openReader struct {
	r       *bufio.Reader
	aead    cipher.AEAD
	enc     []byte
	plain   []byte
	pos     int
	counter uint64
	offset  int64 // of the next chunk in the file, for messages
	done    bool
	err     error
}

func newOpenReader(r *bufio.Reader, aead cipher.AEAD, offset int64) *openReader {
	return &openReader{r: r, aead: aead, enc: make([]byte, chunkSize+tagSize), offset: offset}
}

func (o *openReader) Read(p []byte) (int, error) {
	for o.pos == len(o.plain) {
		if o.err != nil {
			return 0, o.err
		}
		if o.done {
			return 0, io.EOF
		}
		o.err = o.next()
	}
	n := copy(p, o.plain[o.pos:])
	o.pos += n
	return n, nil
}

func (o *openReader) next() error {
	n, err := io.ReadFull(o.r, o.enc)
	last := false
	switch {
	case err == nil:
		// A full chunk is the last one only if nothing follows it.
		if _, perr := o.r.Peek(1); perr == io.EOF {
			last = true
		} else if perr != nil {
			return fmt.Errorf("read archive: %w", perr)
		}
	case errors.Is(err, io.ErrUnexpectedEOF):
		last = true
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%w: it ends at byte %d, after chunk %d, which is not its last", ErrTruncated, o.offset, o.counter)
	default:
		return fmt.Errorf("read archive: %w", err)
	}
	if n < tagSize {
		return fmt.Errorf("%w: it ends at byte %d, inside chunk %d", ErrTruncated, o.offset+int64(n), o.counter)
	}
	plain, oerr := o.aead.Open(o.plain[:0], nonce(o.counter, last), o.enc[:n], nil)
	if oerr != nil {
		if last {
			// A chunk that opens as a middle chunk means the file was cut
			// right after it.
			if _, merr := o.aead.Open(nil, nonce(o.counter, false), o.enc[:n], nil); merr == nil {
				return fmt.Errorf("%w: it ends at byte %d, after chunk %d, which is not its last", ErrTruncated, o.offset+int64(n), o.counter)
			}
		}
		if n < chunkSize+tagSize {
			return fmt.Errorf("%w (or cut short): its last chunk %d (at byte %d) fails authentication", ErrDamaged, o.counter, o.offset)
		}
		return fmt.Errorf("%w: chunk %d (at byte %d) fails authentication", ErrDamaged, o.counter, o.offset)
	}
	if last && len(plain) == 0 && o.counter > 0 {
		// The writer never ends with an empty chunk after others.
		return fmt.Errorf("%w: an empty last chunk", ErrDamaged)
	}
	o.plain, o.pos = plain, 0
	o.offset += int64(n)
	o.counter++
	o.done = last
	return nil
}

func newSalt() ([saltSize]byte, error) {
	var s [saltSize]byte
	if _, err := rand.Read(s[:]); err != nil {
		return s, fmt.Errorf("seal backup: %w", err)
	}
	return s, nil
}
