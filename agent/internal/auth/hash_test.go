package auth

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestHashRoundTrip(t *testing.T) {
	cases := []struct {
		name   string
		params Params
		want   *regexp.Regexp
	}{
		{"default", DefaultParams, regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)},
		{"cheap", testParams, regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			const pw = "correct horse battery staple"
			h := hashPassword(pw, c.params)
			if !c.want.MatchString(h) {
				t.Fatalf("hash %q is not the PHC form", h)
			}
			if h2 := hashPassword(pw, c.params); h2 == h {
				t.Fatal("two hashes of one password are equal: salt not random")
			}
			ok, rehash, err := verifyPassword(pw, h, c.params)
			if err != nil || !ok || rehash {
				t.Fatalf("right password: ok=%v rehash=%v err=%v", ok, rehash, err)
			}
			ok, _, err = verifyPassword(pw+"!", h, c.params)
			if err != nil || ok {
				t.Fatalf("wrong password: ok=%v err=%v", ok, err)
			}
			// Raising the parameters asks for a rehash of the old hash.
			stronger := c.params
			stronger.Time++
			if _, rehash, _ := verifyPassword(pw, h, stronger); !rehash {
				t.Fatal("outdated parameters do not ask for a rehash")
			}
			p, err := parseHash(h)
			if err != nil || p.p != c.params || p.String() != h {
				t.Fatalf("parse: %+v %v", p.p, err)
			}
		})
	}
}

const alphabetB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

func TestParseHashRejects(t *testing.T) {
	salt := b64.EncodeToString([]byte("saltsaltsaltsalt"))
	key := b64.EncodeToString([]byte(strings.Repeat("k", 32)))
	// 32 bytes leave 2 unused bits in the last character: setting one is a
	// second spelling of the same key, which Strict decoding refuses.
	last := strings.IndexByte(alphabetB64, key[len(key)-1])
	nonCanonical := key[:len(key)-1] + string(alphabetB64[last|1])
	ok := "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key
	if _, err := parseHash(ok); err != nil {
		t.Fatalf("the well-formed case fails: %v", err)
	}
	cases := map[string]string{
		"empty":             "",
		"dollar":            "$",
		"argon2i":           strings.Replace(ok, "argon2id", "argon2i", 1),
		"bcrypt":            "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"version 16":        strings.Replace(ok, "v=19", "v=16", 1),
		"no version":        "$argon2id$m=19456,t=2,p=1$" + salt + "$" + key,
		"m zero":            strings.Replace(ok, "m=19456", "m=0", 1),
		"m huge":            strings.Replace(ok, "m=19456", "m=4294967295", 1),
		"m overflow":        strings.Replace(ok, "m=19456", "m=99999999999", 1),
		"m negative":        strings.Replace(ok, "m=19456", "m=-1", 1),
		"m plus":            strings.Replace(ok, "m=19456", "m=+19456", 1),
		"m leading zero":    strings.Replace(ok, "m=19456", "m=019456", 1),
		"m below 8p":        strings.Replace(ok, "m=19456,t=2,p=1", "m=15,t=2,p=2", 1),
		"t zero":            strings.Replace(ok, "t=2", "t=0", 1),
		"t huge":            strings.Replace(ok, "t=2", "t=1000", 1),
		"p zero":            strings.Replace(ok, "p=1", "p=0", 1),
		"p 256":             strings.Replace(ok, "p=1", "p=256", 1),
		"fields reordered":  strings.Replace(ok, "m=19456,t=2,p=1", "t=2,m=19456,p=1", 1),
		"missing field":     strings.Replace(ok, ",p=1", "", 1),
		"extra field":       strings.Replace(ok, "p=1", "p=1,k=2", 1),
		"padded salt":       strings.Replace(ok, salt, salt+"==", 1),
		"bad base64":        strings.Replace(ok, salt, "!!!!"+salt[4:], 1),
		"short salt":        strings.Replace(ok, salt, "c2FsdA", 1),
		"empty key":         strings.TrimSuffix(ok, key),
		"short key":         strings.Replace(ok, key, "a2V5", 1),
		"extra part":        ok + "$x",
		"leading junk":      "x" + ok,
		"non-canonical b64": strings.Replace(ok, key, nonCanonical, 1),
		"very long":         ok + strings.Repeat("A", 1000),
		"nul":               "\x00" + ok,
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := parseHash(in); !errors.Is(err, errBadHash) {
				t.Fatalf("parseHash accepted it: %v", err)
			}
			// verify goes through the same parser: an error, never a panic.
			if ok, _, err := verifyPassword("whatever-password", in, DefaultParams); err == nil || ok {
				t.Fatalf("verify: ok=%v err=%v", ok, err)
			}
		})
	}
}

// FuzzParseHash: whatever the input, the parser neither panics nor accepts
// anything but the canonical encoding within bounds, so what it accepts is
// safe to hand to argon2.
func FuzzParseHash(f *testing.F) {
	f.Add(hashPassword("correct horse battery staple", testParams))
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$$")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseHash(s)
		if err != nil {
			return
		}
		if h.String() != s {
			t.Fatalf("accepted a non-canonical hash: %q re-encodes as %q", s, h.String())
		}
		if h.p.Threads < 1 || h.p.Time < 1 || h.p.Memory < 8*uint32(h.p.Threads) || h.p.Memory > maxMemory || h.p.Time > maxTime {
			t.Fatalf("accepted out-of-range params %+v", h.p)
		}
		if len(h.salt) < minSalt || len(h.key) < minKey {
			t.Fatalf("accepted salt %d / key %d bytes", len(h.salt), len(h.key))
		}
	})
}

func TestParamsNormalize(t *testing.T) {
	cases := []struct {
		name string
		in   Params
		want Params
	}{
		{"zero is the default", Params{}, DefaultParams},
		{"weaker is raised", Params{Memory: 1024, Time: 1, Threads: 4}, DefaultParams},
		{"stronger is kept", Params{Memory: 64 * 1024, Time: 3, Threads: 1}, Params{Memory: 64 * 1024, Time: 3, Threads: 1}},
		{"absurd is capped", Params{Memory: 1 << 31, Time: 1000, Threads: 1}, Params{Memory: maxMemory, Time: maxTime, Threads: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.in.normalize(); got != c.want {
				t.Fatalf("normalize(%+v) = %+v, want %+v", c.in, got, c.want)
			}
		})
	}
	if got := New(nil, nil, Options{}).params; got != DefaultParams {
		t.Fatalf("New uses %+v, want %+v", got, DefaultParams)
	}
}

// TestDefaultHashDuration reports what one hash with the production
// parameters costs on this machine (DESIGN: 50-250 ms on the minimum CPU).
func TestDefaultHashDuration(t *testing.T) {
	if testing.Short() {
		t.Skip("measures real hashing")
	}
	hashPassword("warm-up-password", DefaultParams)
	const n = 3
	start := time.Now()
	for range n {
		hashPassword("correct horse battery staple", DefaultParams)
	}
	t.Logf("argon2id m=%d KiB t=%d p=%d: %v per hash", DefaultParams.Memory, DefaultParams.Time, DefaultParams.Threads, time.Since(start)/n)
}

func BenchmarkHashDefault(b *testing.B) {
	for b.Loop() {
		hashPassword("correct horse battery staple", DefaultParams)
	}
}
