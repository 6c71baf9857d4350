package license

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the parser and verifier: they must
// never panic, must refuse with a *FileError, and what they accept must
// re-encode to a file that parses to the same content. The seed corpus is
// in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	good := issue(f, payload())
	f.Add(good)
	f.Add(bytes.ReplaceAll(good, []byte("\n"), []byte("\r\n")))
	f.Add(good[:len(good)/2])
	f.Add([]byte(beginLicense + "\n" + endLicense + "\n" + beginSignature + "\nKey-Id: test\nAAAA\n" + endSignature + "\n"))
	f.Add([]byte{})
	ring := testRing(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse error %T %v is not a malformed-file FileError", err, err)
			}
			return
		}
		again, err := Parse(Encode(file.KeyID, file.Payload, file.Signature))
		if err != nil || again.KeyID != file.KeyID || !bytes.Equal(again.Payload, file.Payload) || !bytes.Equal(again.Signature, file.Signature) {
			t.Fatalf("re-encoding changed the file: %+v, %v", again, err)
		}
		lic, err := file.Verify(ring)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("Verify error %T %v is not a FileError", err, err)
			}
			return
		}
		if err := lic.Validate(); err != nil || !bytes.Equal(lic.Raw, file.Payload) {
			t.Fatalf("accepted an invalid payload: %v", err)
		}
	})
}
