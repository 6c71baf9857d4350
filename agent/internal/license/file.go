package license

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/fault"
)

// The license file is text, so it survives mail and copy-paste:
//
//	-----BEGIN LOCKSTEP LICENSE-----
//	<base64 of the exact payload JSON bytes, 64 characters a line>
//	-----END LOCKSTEP LICENSE-----
//	-----BEGIN LOCKSTEP SIGNATURE-----
//	Key-Id: <key id>
//	<base64 of the 64-byte ed25519 signature over those bytes>
//	-----END LOCKSTEP SIGNATURE-----
//
// The key id sits in the signature block so the verifier can pick the key
// before it looks at the payload: the payload is verified as the exact bytes
// that were signed, and only decoded as JSON once the signature holds.
const (
	// MaxFileSize bounds what the parser reads: a real license is under 2 KiB.
	MaxFileSize = 64 << 10

	beginLicense   = "-----BEGIN LOCKSTEP LICENSE-----"
	endLicense     = "-----END LOCKSTEP LICENSE-----"
	beginSignature = "-----BEGIN LOCKSTEP SIGNATURE-----"
	endSignature   = "-----END LOCKSTEP SIGNATURE-----"
	keyIDHeader    = "Key-Id: "
	lineWidth      = 64
)

// Error kinds of a license the agent refuses; test with errors.Is.
var (
	ErrMalformed    = errors.New("malformed license file")
	ErrUnknownKey   = errors.New("unknown license key")
	ErrBadSignature = errors.New("license signature does not verify")
	ErrBadPayload   = errors.New("invalid license payload")
	ErrNotYetValid  = errors.New("license not valid yet")
	ErrExpired      = errors.New("license expired")
)

// FileError is a license file the agent refuses: kind fault.ErrInvalid,
// input "license"; Kind is one of the Err values above.
type FileError struct {
	Kind error
	Line int // 1-based line of the file, 0 when not about one line
	Msg  string
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%v: line %d: %s", e.Kind, e.Line, e.Msg)
	}
	return fmt.Sprintf("%v: %s", e.Kind, e.Msg)
}

func (e *FileError) Unwrap() error { return e.Kind }

// InvalidField implements fault.Input: a refused file is the "license"
// input of the import.
func (e *FileError) InvalidField() string { return "license" }

// Is makes a refused file fault.ErrInvalid.
func (e *FileError) Is(target error) bool { return target == fault.ErrInvalid }

func malformed(line int, format string, args ...any) *FileError {
	return &FileError{Kind: ErrMalformed, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// File is a structurally valid license file, not yet verified.
type File struct {
	KeyID     string
	Payload   []byte // the exact bytes the signature covers
	Signature []byte
}

// block is the body of one BEGIN/END block.
type block struct {
	lines []string
	first int // line number of the first body line
}

// Parse checks the file's structure: both blocks present, in order, nothing
// else but blank lines around them, canonical base64 wrapped at 64
// columns. It does not verify anything; see Verify.
func Parse(text []byte) (*File, error) {
	if len(text) == 0 {
		return nil, malformed(0, "the file is empty")
	}
	if len(text) > MaxFileSize {
		return nil, malformed(0, "the file is %d bytes; a license file is at most %d", len(text), MaxFileSize)
	}
	lines := strings.Split(string(text), "\n")
	for i, l := range lines {
		// Tolerate CRLF, which Windows editors and mail clients produce.
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	// Blank lines at the end are allowed; dropping them here makes a block
	// cut short read as "not closed" rather than as a blank line inside.
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	pos := 0
	lic, err := readBlock(lines, &pos, beginLicense, endLicense, "license")
	if err != nil {
		return nil, err
	}
	sig, err := readBlock(lines, &pos, beginSignature, endSignature, "signature")
	if err != nil {
		return nil, err
	}
	for ; pos < len(lines); pos++ {
		if lines[pos] != "" {
			return nil, malformed(pos+1, "unexpected text after the signature block")
		}
	}

	payload, err := decodeBody(lic, "license")
	if err != nil {
		return nil, err
	}
	if len(sig.lines) == 0 || !strings.HasPrefix(sig.lines[0], keyIDHeader) {
		return nil, malformed(sig.first, "the signature block must start with a %q line", strings.TrimSpace(keyIDHeader)+" <key id>")
	}
	kid := strings.TrimPrefix(sig.lines[0], keyIDHeader)
	if !ValidKeyID(kid) {
		return nil, malformed(sig.first, "malformed key id in the signature block")
	}
	signature, err := decodeBody(block{lines: sig.lines[1:], first: sig.first + 1}, "signature")
	if err != nil {
		return nil, err
	}
	if len(signature) != ed25519.SignatureSize {
		return nil, malformed(0, "the signature is %d bytes, want %d", len(signature), ed25519.SignatureSize)
	}
	return &File{KeyID: kid, Payload: payload, Signature: signature}, nil
}

// readBlock skips blank lines, then reads one block whose BEGIN line must
// come next; pos ends after the END line.
func readBlock(lines []string, pos *int, begin, end, name string) (block, error) {
	for *pos < len(lines) && lines[*pos] == "" {
		*pos++
	}
	if *pos == len(lines) {
		return block{}, malformed(0, "the %s block is missing (no %s line)", name, begin)
	}
	if lines[*pos] != begin {
		return block{}, malformed(*pos+1, "expected %s", begin)
	}
	*pos++
	b := block{first: *pos + 1}
	for ; *pos < len(lines); *pos++ {
		l := lines[*pos]
		switch {
		case l == end:
			*pos++
			return b, nil
		case strings.HasPrefix(l, "-----"):
			return block{}, malformed(*pos+1, "the %s block is not closed before this line (expected %s)", name, end)
		case l == "":
			return block{}, malformed(*pos+1, "blank line inside the %s block", name)
		}
		b.lines = append(b.lines, l)
	}
	return block{}, malformed(0, "the %s block is not closed (no %s line)", name, end)
}

// decodeBody joins base64 lines wrapped at exactly 64 columns and decodes
// them strictly, so each file has one canonical form and no byte of it can
// change without the parse or the signature failing.
func decodeBody(b block, name string) ([]byte, error) {
	if len(b.lines) == 0 {
		return nil, malformed(b.first, "the %s block is empty", name)
	}
	var sb strings.Builder
	for i, l := range b.lines {
		last := i == len(b.lines)-1
		if len(l) > lineWidth || (!last && len(l) != lineWidth) {
			return nil, malformed(b.first+i, "%s line is %d characters; every line but the last must be %d, the last at most %d",
				name, len(l), lineWidth, lineWidth)
		}
		sb.WriteString(l)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(sb.String())
	if err != nil {
		var ce base64.CorruptInputError
		if errors.As(err, &ce) {
			line := min(int(ce)/lineWidth, len(b.lines)-1)
			return nil, malformed(b.first+line, "invalid base64 in the %s block at column %d", name, int(ce)-line*lineWidth+1)
		}
		return nil, malformed(b.first, "invalid base64 in the %s block", name)
	}
	return raw, nil
}

// Encode writes a license file. It is the inverse of Parse.
func Encode(kid string, payload, signature []byte) []byte {
	var b bytes.Buffer
	writeBlock := func(begin, end, header string, body []byte) {
		b.WriteString(begin + "\n")
		if header != "" {
			b.WriteString(header + "\n")
		}
		s := base64.StdEncoding.EncodeToString(body)
		for len(s) > lineWidth {
			b.WriteString(s[:lineWidth] + "\n")
			s = s[lineWidth:]
		}
		b.WriteString(s + "\n" + end + "\n")
	}
	writeBlock(beginLicense, endLicense, "", payload)
	writeBlock(beginSignature, endSignature, keyIDHeader+kid, signature)
	return b.Bytes()
}
