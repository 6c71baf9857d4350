package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint8  // lanes
}

// DefaultParams is the OWASP minimum for argon2id (m=19 MiB, t=2, p=1),
// DESIGN.md's floor. Raising it later is safe: stored hashes carry their own
// parameters (PHC string) and are rehashed on the next successful login.
var DefaultParams = Params{Memory: floorMemory, Time: floorTime, Threads: 1}

// The floor lives in constants, not in DefaultParams, so no assignment to
// the exported variable can weaken hashing.
const (
	floorMemory = 19 * 1024
	floorTime   = 2
)

const (
	saltLen = 16
	keyLen  = 32

	// Ceilings on what a stored hash or Options may ask for: every login
	// allocates Memory KiB, so a corrupt record must not make the agent
	// allocate gigabytes, and argon2 panics on zero time or threads.
	maxMemory  = 256 * 1024
	maxTime    = 16
	maxThreads = 8
	maxSalt    = 64
	maxKey     = 64
	minSalt    = 8
	minKey     = 16
	maxEncoded = 512
)

// b64 is PHC's base64: standard alphabet, no padding. Strict rejects
// non-zero trailing bits, so every hash has exactly one encoding.
var b64 = base64.RawStdEncoding.Strict()

var errBadHash = errors.New("not an argon2id PHC hash")

// phc is a parsed "$argon2id$v=19$m=..,t=..,p=..$salt$key" string.
type phc struct {
	p    Params
	salt []byte
	key  []byte
}

func (h phc) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.p.Memory, h.p.Time, h.p.Threads, b64.EncodeToString(h.salt), b64.EncodeToString(h.key))
}

// normalize raises params to the floor and caps them at the ceiling, so no
// configuration can weaken hashing below DESIGN.md or exhaust memory. p is
// always 1 (DESIGN.md): each lane is a goroutine, and one login should cost
// one core, so that MaxConcurrentHashes also bounds the CPU a login flood takes.
func (p Params) normalize() Params {
	p.Memory = min(max(p.Memory, floorMemory), maxMemory)
	p.Time = min(max(p.Time, floorTime), maxTime)
	p.Threads = 1
	return p
}

// hashPassword returns a PHC string for password with a fresh random salt.
func hashPassword(password string, p Params) string {
	salt := make([]byte, saltLen)
	rand.Read(salt) // crypto/rand.Read never fails (it crashes the process instead) since Go 1.24
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	return phc{p: p, salt: salt, key: key}.String()
}

// dummyHash is a well-formed hash with params p that no password matches:
// logins for unknown users verify against it to spend the same time.
func dummyHash(p Params) string {
	salt, key := make([]byte, saltLen), make([]byte, keyLen)
	rand.Read(salt)
	rand.Read(key)
	return phc{p: p, salt: salt, key: key}.String()
}

// verifyPassword checks password against a PHC string in constant time and
// reports whether the hash should be redone with the current params.
func verifyPassword(password, encoded string, current Params) (ok, rehash bool, err error) {
	h, err := parseHash(encoded)
	if err != nil {
		return false, false, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.p.Time, h.p.Memory, h.p.Threads, uint32(len(h.key)))
	ok = subtle.ConstantTimeCompare(key, h.key) == 1
	rehash = h.p != current || len(h.salt) != saltLen || len(h.key) != keyLen
	return ok, rehash, nil
}

// parseHash parses a PHC argon2id string strictly: only the canonical form
// that phc.String produces is accepted, every number is bounded, and no
// input makes it (or argon2 afterwards) panic.
func parseHash(s string) (phc, error) {
	if len(s) > maxEncoded {
		return phc{}, fmt.Errorf("parse password hash: %w: too long", errBadHash)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return phc{}, fmt.Errorf("parse password hash: %w", errBadHash)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return phc{}, fmt.Errorf("parse password hash: %w: unsupported version", errBadHash)
	}
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return phc{}, fmt.Errorf("parse password hash: %w: want m, t and p", errBadHash)
	}
	var nums [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(fields[i], name)
		if !ok {
			return phc{}, fmt.Errorf("parse password hash: %w: want %s", errBadHash, name)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		// Canonical digits only, so that a parsed hash re-encodes to itself.
		if err != nil || strconv.FormatUint(n, 10) != v {
			return phc{}, fmt.Errorf("parse password hash: %w: bad %s", errBadHash, name)
		}
		nums[i] = n
	}
	m, t, p := nums[0], nums[1], nums[2]
	switch {
	case p < 1 || p > maxThreads:
		return phc{}, fmt.Errorf("parse password hash: %w: p=%d out of range", errBadHash, p)
	case t < 1 || t > maxTime:
		return phc{}, fmt.Errorf("parse password hash: %w: t=%d out of range", errBadHash, t)
	case m < 8*p || m > maxMemory:
		return phc{}, fmt.Errorf("parse password hash: %w: m=%d out of range", errBadHash, m)
	}
	salt, ok := decodeB64(parts[4], minSalt, maxSalt)
	if !ok {
		return phc{}, fmt.Errorf("parse password hash: %w: bad salt", errBadHash)
	}
	key, ok := decodeB64(parts[5], minKey, maxKey)
	if !ok {
		return phc{}, fmt.Errorf("parse password hash: %w: bad key", errBadHash)
	}
	return phc{p: Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(p)}, salt: salt, key: key}, nil
}

// decodeB64 decodes a canonical PHC base64 field of minLen to maxLen bytes.
// The re-encoding check matters: Go's decoder skips '\r' and '\n', so
// without it one hash would have many spellings (found by FuzzParseHash).
func decodeB64(s string, minLen, maxLen int) ([]byte, bool) {
	b, err := b64.DecodeString(s)
	if err != nil || len(b) < minLen || len(b) > maxLen || b64.EncodeToString(b) != s {
		return nil, false
	}
	return b, true
}
