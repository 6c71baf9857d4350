package backup

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// fuzzKey is the master key the fuzzer's archives are opened with; the
// committed corpus holds archives sealed under it.
var fuzzKey = bytes.Repeat([]byte{0x5a}, 32)

// FuzzOpen feeds arbitrary bytes to the reader: it never panics, never
// allocates beyond its bounds, and anything it accepts in full was sealed
// under the key (the fuzzer cannot forge a tag, so accepted inputs are the
// seeds themselves).
func FuzzOpen(f *testing.F) {
	good := seal(f, Sealing{MasterKey: fuzzKey}, manifest(f, nil), []byte("a store snapshot"))
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add(good[:headerSize])
	f.Add(seal(f, Sealing{Passphrase: []byte("correct horse battery"), KDF: cheapKDF}, manifest(f, fuzzKey), nil))
	f.Add([]byte(magic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Open(bytes.NewReader(data), Keys{MasterKey: fuzzKey})
		if err != nil {
			return
		}
		_, err = io.Copy(io.Discard, a.Store)
		if err != nil && !errors.Is(err, ErrDamaged) && !errors.Is(err, ErrTruncated) {
			t.Fatalf("store stream error %v is neither damage nor truncation", err)
		}
	})
}
