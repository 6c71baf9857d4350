package support

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Redacted replaces a secret in a support package.
const Redacted = "[redacted]"

// MinSecretLen is the shortest known secret the scrubber removes. Shorter
// values are ordinary text ("abc" is in every third log line): removing
// them would destroy the logs without protecting anything.
const MinSecretLen = 4

// MaxLineBytes is the longest line the scrubber passes on. A longer line is
// replaced by a marker rather than cut: a cut can split a secret and let its
// first half through.
const MaxLineBytes = 1 << 20

// RulesVersion names the rule set below; the manifest records it so support
// knows what a package was scrubbed with. Bump it when a rule changes.
const RulesVersion = 1

const (
	// shortMarker replaces Redacted, or a line marker, when a known secret
	// is a substring of it: it is shorter than MinSecretLen, so no secret
	// can hide in it.
	shortMarker = "[-]"
	// longLineMarker and badLineMarker replace whole lines. Neither holds a
	// trigger word, so the scrubber leaves them as they are.
	longLineMarker = "[line removed: longer than the scrubber's limit]"
	badLineMarker  = "[line removed: it could not be scrubbed]"
	// maxPasses bounds the fixed-point loop in scrub. One pass is the
	// norm; a second one is needed only when a replacement creates text a
	// rule matches.
	maxPasses = 4
)

// Rule names, as counted in the manifest's scrub report.
const (
	rulePEM = iota
	ruleURL
	ruleAuthorization
	ruleKeyValue
	ruleBearer
	ruleBasic
	ruleTokenFormat
	ruleKnownSecret
	ruleLongLine
	ruleBadLine
	numRules
)

var ruleNames = [numRules]string{
	rulePEM:           "pem_private_key",
	ruleURL:           "url_userinfo",
	ruleAuthorization: "authorization",
	ruleKeyValue:      "key_value",
	ruleBearer:        "bearer",
	ruleBasic:         "basic",
	ruleTokenFormat:   "token_format",
	ruleKnownSecret:   "known_secret",
	ruleLongLine:      "line_too_long",
	ruleBadLine:       "line_unscrubbable",
}

// sep is what joins a key to its value: `=`, `:`, `": "`, `\":\"`, `' : '`.
const sep = `((?:\\?["'])?\s*[:=]\s*)`

// value is a key's value in the shapes logs carry it: a JSON string (with
// escapes, the closing quote optional so a cut line still matches), the
// same inside another JSON string (\"...\"), single-quoted, a flat JSON
// array of strings or scalars, or bare up to a delimiter of queries, forms,
// headers and Go's %+v. bare is the last alternative; the Authorization rule
// lets it start with a scheme word.
func value(bare string) string {
	return `(?:"((?:[^"\\]|\\.)*)"?|\\"((?:[^"\\]|\\[^"])*)(?:\\")?|'([^']*)'?|(\[(?:[^\[\]"]|"(?:[^"\\]|\\.)*"?)*\]?)|(` + bare + `))`
}

// bareValue is an unquoted value: up to white space, a quote, a backslash
// (an escape of the enclosing JSON string) or a delimiter.
const bareValue = `[^\s"'\\&,;<>{}]+`

// secretWords are the key names whose values are secrets, inside a longer
// key too (db_password, X-Api-Key, client_secret, access_token).
const secretWords = `(?:password|passwd|passphrase|pwd|secret|token|api[_\-]?key|private[_\-]?key|access[_\-]?key|credentials?|cookie|session[_\-]?id)`

// rules is the pattern pass. Order matters only for readability of the
// result (Authorization keeps its scheme before bearer sees it); the
// fixed-point loop in scrub makes the result independent of interactions.
var rules = []struct {
	id int
	re *regexp.Regexp
}{
	// A PEM private key, to its END line or, when cut, to the end.
	{rulePEM, regexp.MustCompile(`(?s)-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----(?:.*?-----END[A-Z0-9 ]*PRIVATE KEY-----|.*)`)},
	// scheme://user:pass@host; a password holding an unescaped @ still
	// goes, because every @-terminated segment before the host is taken.
	{ruleURL, regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://)((?:[^\s"'<>/?#@\\]*@)+)`)},
	// Authorization: <scheme> <credentials>, as header, JSON or form.
	{ruleAuthorization, regexp.MustCompile(`(?i)((?:proxy[_\-]?)?authorization)` + sep +
		value(`(?:[a-z][a-z0-9._\-]*[ \t]+)?`+bareValue))},
	// password=..., "token":"...", api_key: ..., in any of value's shapes.
	{ruleKeyValue, regexp.MustCompile(`(?i)([a-z0-9_.\-]*` + secretWords + `[a-z0-9_.\-]*)` + sep + value(bareValue))},
	{ruleBearer, regexp.MustCompile(`(?i)\b(bearer\s+)([^\s"'\\<>,;]+)`)},
	{ruleBasic, regexp.MustCompile(`(?i)\b(basic\s+)([a-z0-9+/_\-]{8,}={0,2})`)},
	// Token formats that are secrets wherever they appear: JWTs, GitHub,
	// GitLab, Slack and Atlassian tokens.
	{ruleTokenFormat, regexp.MustCompile(`\b(?:eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_\-]{20,}|xox[abposr]-[A-Za-z0-9\-]{10,}|ATATT[A-Za-z0-9_\-=]{20,})`)},
}

// triggers are lower-case words at least one of which every rule's match
// contains. A line holding none of them (most lines) skips the regular
// expressions; FuzzScrub checks that the shortcut never changes a result.
var triggers = [][]byte{
	[]byte("://"), []byte("authorization"), []byte("password"), []byte("passwd"),
	[]byte("passphrase"), []byte("pwd"), []byte("secret"), []byte("token"),
	[]byte("apikey"), []byte("api_key"), []byte("api-key"), []byte("privatekey"),
	[]byte("private_key"), []byte("private-key"), []byte("private key"),
	[]byte("accesskey"), []byte("access_key"), []byte("access-key"),
	[]byte("credential"), []byte("cookie"), []byte("sessionid"), []byte("session_id"),
	[]byte("session-id"), []byte("bearer"), []byte("basic"), []byte("eyj"),
	[]byte("ghp_"), []byte("gho_"), []byte("ghu_"), []byte("ghs_"), []byte("ghr_"),
	[]byte("github_pat_"), []byte("glpat-"), []byte("xox"), []byte("atatt"),
	// (?i) folds Unicode: the long s and the Kelvin sign match s and k, so
	// "paſſword" is a key the rules see. Such lines take the full path.
	[]byte("\u017f"), []byte("\u212a"),
}

// Scrubber removes secrets from text: known secret values (exactly, and in
// the JSON- and URL-escaped forms logs hold them in) and secret-shaped
// patterns (bearer tokens, Basic credentials, password=..., URL userinfo,
// "token":"...", private keys, well-known token formats). It never stores
// the known secrets anywhere but in its own memory. It is safe for
// concurrent use.
//
// Its guarantees, which FuzzScrub checks: the result never contains a known
// secret of MinSecretLen bytes or more, and scrubbing is idempotent.
type Scrubber struct {
	secrets  []string // known secrets and their escaped forms, longest first
	secretsB [][]byte // the same, for lines held as bytes
	known    *strings.Replacer
	redacted string // Redacted, or shortMarker when a secret is inside Redacted
	longLine string
	badLine  string
	counts   [numRules]atomic.Int64
}

// NewScrubber returns a scrubber that also removes the given secret values.
// Values shorter than MinSecretLen are ignored.
func NewScrubber(knownSecrets []string) *Scrubber {
	var vs []string
	for _, s := range knownSecrets {
		if len(s) < MinSecretLen {
			continue
		}
		for _, v := range secretForms(s) {
			if !slices.Contains(vs, v) {
				vs = append(vs, v)
			}
		}
	}
	// Longest first: at one position strings.Replacer takes the first old
	// string that matches, and the longer form must win over its prefix.
	slices.SortStableFunc(vs, func(a, b string) int { return len(b) - len(a) })
	sc := &Scrubber{secrets: vs}
	for _, v := range vs {
		sc.secretsB = append(sc.secretsB, []byte(v))
	}
	sc.redacted = sc.marker(Redacted)
	sc.longLine = sc.marker(longLineMarker)
	sc.badLine = sc.marker(badLineMarker)
	if len(vs) > 0 {
		pairs := make([]string, 0, 2*len(vs))
		for _, v := range vs {
			pairs = append(pairs, v, sc.redacted)
		}
		sc.known = strings.NewReplacer(pairs...)
	}
	return sc
}

// marker returns m unless a known secret is inside it: a marker must never
// be the way a secret gets into the output.
func (sc *Scrubber) marker(m string) string {
	for _, v := range sc.secrets {
		if strings.Contains(m, v) {
			return shortMarker
		}
	}
	return m
}

// secretForms are the ways a secret value is written in logs: as is, JSON-
// escaped (zerolog and encoding/json, with and without HTML escaping), JSON-
// escaped twice (a JSON document logged as a string), and URL-escaped.
func secretForms(s string) []string {
	forms := []string{s}
	add := func(v string) {
		if len(v) >= MinSecretLen && !slices.Contains(forms, v) {
			forms = append(forms, v)
		}
	}
	add(jsonInner(s, false))
	add(jsonInner(s, true))
	add(jsonInner(jsonInner(s, false), false))
	add(url.QueryEscape(s))
	add(url.PathEscape(s))
	// A multi-line secret (a PEM key) in a plain-text log is cut in lines
	// before the line scrubber sees it; each of its lines is a form too.
	if strings.ContainsRune(s, '\n') {
		for line := range strings.Lines(s) {
			add(strings.TrimSpace(line))
		}
	}
	return forms
}

// jsonInner is s as a JSON string without its quotes.
func jsonInner(s string, escapeHTML bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(s); err != nil {
		return s // a string always encodes; keep the raw form if not
	}
	out := strings.TrimSuffix(b.String(), "\n")
	return out[1 : len(out)-1]
}

// Counts returns how many replacements each rule made so far, by rule name.
// Only rules that fired are listed.
func (sc *Scrubber) Counts() map[string]int64 {
	out := map[string]int64{}
	for i := range sc.counts {
		if n := sc.counts[i].Load(); n > 0 {
			out[ruleNames[i]] = n
		}
	}
	return out
}

// KnownSecrets is how many secret forms the scrubber removes (not which).
func (sc *Scrubber) KnownSecrets() int { return len(sc.secrets) }

// Scrub returns text without secrets.
func (sc *Scrubber) Scrub(text string) string {
	if !sc.mightNeedString(text) {
		return text
	}
	return sc.scrub(text)
}

// scrubBytes is Scrub for a line the writer holds; lines that need nothing
// (most) are passed on without a copy.
func (sc *Scrubber) scrubBytes(b []byte) []byte {
	if !sc.mightNeedBytes(b) {
		return b
	}
	return []byte(sc.scrub(string(b)))
}

// scrub applies the known-secret pass and the rules until nothing changes.
// A fixed point is what makes the result idempotent and lets the final check
// prove no known secret is left; text that does not settle within maxPasses,
// or that still holds a secret, is replaced whole, which is fail-closed.
func (sc *Scrubber) scrub(text string) string {
	y := text
	for range maxPasses {
		next := sc.rulePass(sc.knownPass(y))
		if next == y {
			if sc.containsKnown(y) {
				break
			}
			return y
		}
		y = next
	}
	sc.counts[ruleBadLine].Add(1)
	return sc.badLine
}

func (sc *Scrubber) knownPass(s string) string {
	if sc.known == nil || !sc.containsKnown(s) {
		return s
	}
	n := 0
	for _, v := range sc.secrets {
		n += strings.Count(s, v)
	}
	sc.counts[ruleKnownSecret].Add(int64(n))
	return sc.known.Replace(s)
}

func (sc *Scrubber) containsKnown(s string) bool {
	for _, v := range sc.secrets {
		if strings.Contains(s, v) {
			return true
		}
	}
	return false
}

func (sc *Scrubber) rulePass(s string) string {
	for _, r := range rules {
		s = sc.apply(r.id, r.re, s)
	}
	return s
}

// apply replaces every match of re in s, counting the matches that change.
func (sc *Scrubber) apply(id int, re *regexp.Regexp, s string) string {
	ms := re.FindAllStringSubmatchIndex(s, -1)
	if ms == nil {
		return s
	}
	var b strings.Builder
	last, changed := 0, 0
	for _, m := range ms {
		old := s[m[0]:m[1]]
		rep := sc.replacement(id, s, m)
		if rep == old {
			continue
		}
		b.WriteString(s[last:m[0]])
		b.WriteString(rep)
		last = m[1]
		changed++
	}
	if changed == 0 {
		return s
	}
	b.WriteString(s[last:])
	sc.counts[id].Add(int64(changed))
	return b.String()
}

// group returns submatch i of m in s and whether it took part in the match.
func group(s string, m []int, i int) (string, bool) {
	if m[2*i] < 0 {
		return "", false
	}
	return s[m[2*i]:m[2*i+1]], true
}

// replacement is the text a match of rule id becomes.
func (sc *Scrubber) replacement(id int, s string, m []int) string {
	switch id {
	case ruleURL, ruleBearer:
		g1, _ := group(s, m, 1)
		if id == ruleURL {
			return g1 + sc.redacted + "@"
		}
		return g1 + sc.redacted
	case ruleBasic:
		g1, _ := group(s, m, 1)
		cred, _ := group(s, m, 2)
		if looksLikeWord(cred) {
			return s[m[0]:m[1]] // "basic configuration", not credentials
		}
		return g1 + sc.redacted
	case ruleKeyValue, ruleAuthorization:
		return sc.keyValue(id == ruleAuthorization, s, m)
	default:
		return sc.redacted
	}
}

// keyValue rebuilds key, separator and value with the value redacted. The
// quotes stay, so JSON stays JSON; a bare value after a JSON key becomes a
// JSON string for the same reason. Authorization keeps its scheme word.
func (sc *Scrubber) keyValue(auth bool, s string, m []int) string {
	key, _ := group(s, m, 1)
	sp, _ := group(s, m, 2)
	red := func(v string) string {
		if auth {
			return keepScheme(v) + sc.redacted
		}
		return sc.redacted
	}
	prefix := key + sp
	rest := s[m[5]:m[1]] // what follows the separator: the value and its quotes
	switch {
	case m[6] >= 0: // "..."
		v, _ := group(s, m, 3)
		return prefix + `"` + red(v) + rest[1+len(v):]
	case m[8] >= 0: // \"...\"
		v, _ := group(s, m, 4)
		return prefix + `\"` + red(v) + rest[2+len(v):]
	case m[10] >= 0: // '...'
		v, _ := group(s, m, 5)
		return prefix + `'` + red(v) + rest[1+len(v):]
	case m[12] >= 0: // [...]: the whole array goes
		if strings.HasPrefix(sp, `"`) || strings.HasPrefix(sp, `\"`) {
			return prefix + `"` + sc.redacted + `"`
		}
		return prefix + sc.redacted
	default: // bare
		v, _ := group(s, m, 7)
		switch {
		case strings.HasPrefix(sp, `\"`):
			return prefix + `\"` + red(v) + `\"`
		case strings.HasPrefix(sp, `"`):
			return prefix + `"` + red(v) + `"`
		}
		return prefix + red(v)
	}
}

// schemeRe is an HTTP auth scheme followed by its credentials.
var schemeRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._\-]*[ \t]+\S`)

// keepScheme returns the "Bearer " of "Bearer abc", or "".
func keepScheme(v string) string {
	if !schemeRe.MatchString(v) {
		return ""
	}
	return v[:strings.IndexAny(v, " \t")+1]
}

// looksLikeWord tells prose ("basic configuration", "Basic Setup") from
// base64 credentials, whose letters mix cases at random.
func looksLikeWord(s string) bool {
	lower, upper := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
			lower++
		case c >= 'A' && c <= 'Z':
			upper++
		default:
			return false
		}
	}
	// all lower, all upper, or Capitalised
	return upper == 0 || lower == 0 || (upper == 1 && s[0] >= 'A' && s[0] <= 'Z')
}

// lowerPool holds scratch buffers for the case-insensitive trigger scan.
var lowerPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// lowerASCII maps a byte to its ASCII lower case.
var lowerASCII = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if i >= 'A' && i <= 'Z' {
			t[i] = byte(i) + 'a' - 'A'
		}
	}
	return t
}()

func hasTrigger[T string | []byte](s T) bool {
	bp := lowerPool.Get().(*[]byte)
	defer lowerPool.Put(bp)
	if cap(*bp) < len(s) {
		*bp = make([]byte, len(s))
	}
	low := (*bp)[:len(s)]
	for i := range low {
		low[i] = lowerASCII[s[i]]
	}
	for _, t := range triggers {
		if bytes.Contains(low, t) {
			return true
		}
	}
	return false
}

func (sc *Scrubber) mightNeedString(s string) bool {
	return sc.containsKnown(s) || hasTrigger(s)
}

func (sc *Scrubber) mightNeedBytes(b []byte) bool {
	for _, v := range sc.secretsB {
		if bytes.Contains(b, v) {
			return true
		}
	}
	return hasTrigger(b)
}

// errWriterClosed is returned by a closed line writer.
var errWriterClosed = errors.New("write scrubbed text: writer is closed")

// outBufferSize is how much scrubbed text a LineWriter gathers before one
// write: one write per line would cost the zip's deflater and the hashes
// more than the scrubbing.
const outBufferSize = 32 << 10

// LineWriter scrubs text line by line on its way to another writer. It holds
// at most one line (up to MaxLineBytes) and a small output buffer, so any
// amount of text passes in constant memory. Close writes a last line that
// has no newline and flushes.
type LineWriter struct {
	sc     *Scrubber
	w      io.Writer
	buf    []byte // the partial line
	out    []byte // scrubbed text not yet written
	skip   bool   // dropping the rest of an over-long line
	err    error
	closed bool
}

// NewWriter returns a LineWriter that writes scrubbed lines to w.
func (sc *Scrubber) NewWriter(w io.Writer) *LineWriter {
	return &LineWriter{sc: sc, w: w}
}

// Write scrubs every complete line in p and passes it on; a partial line
// waits for its end. The first error from the underlying writer is returned
// from then on.
func (lw *LineWriter) Write(p []byte) (int, error) {
	if lw.closed {
		return 0, errWriterClosed
	}
	if lw.err != nil {
		return 0, lw.err
	}
	n := len(p)
	for len(p) > 0 && lw.err == nil {
		i := bytes.IndexByte(p, '\n')
		chunk, complete := p, false
		if i >= 0 {
			chunk, complete = p[:i], true
			p = p[i+1:]
		} else {
			p = nil
		}
		switch {
		case lw.skip:
			if complete {
				lw.skip = false
				lw.emit([]byte(lw.sc.longLine), true)
			}
		case len(lw.buf)+len(chunk) > MaxLineBytes:
			lw.buf = lw.buf[:0]
			lw.sc.counts[ruleLongLine].Add(1)
			if complete {
				lw.emit([]byte(lw.sc.longLine), true)
			} else {
				lw.skip = true
			}
		case complete && len(lw.buf) == 0:
			lw.emit(lw.sc.scrubBytes(chunk), true) // the common case: no copy
		default:
			lw.buf = append(lw.buf, chunk...)
			if complete {
				lw.emit(lw.sc.scrubBytes(lw.buf), true)
				lw.buf = lw.buf[:0]
			}
		}
	}
	if lw.err != nil {
		return 0, lw.err
	}
	return n, nil
}

// emit adds a scrubbed line to the output buffer, writing the buffer out
// when it is full. A line longer than the buffer is written directly.
func (lw *LineWriter) emit(line []byte, newline bool) {
	extra := 0
	if newline {
		extra = 1
	}
	if len(lw.out)+len(line)+extra > outBufferSize {
		lw.flush()
	}
	if lw.err != nil {
		return
	}
	if len(line)+extra > outBufferSize {
		if _, lw.err = lw.w.Write(line); lw.err == nil && newline {
			_, lw.err = lw.w.Write([]byte{'\n'})
		}
		return
	}
	lw.out = append(lw.out, line...)
	if newline {
		lw.out = append(lw.out, '\n')
	}
}

func (lw *LineWriter) flush() {
	if lw.err != nil || len(lw.out) == 0 {
		return
	}
	_, lw.err = lw.w.Write(lw.out)
	lw.out = lw.out[:0]
}

// Close writes the pending partial line, scrubbed, without adding a newline,
// and flushes. It does not close the underlying writer.
func (lw *LineWriter) Close() error {
	if lw.closed {
		return lw.err
	}
	lw.closed = true
	switch {
	case lw.skip:
		lw.emit([]byte(lw.sc.longLine), false)
	case len(lw.buf) > 0:
		lw.emit(lw.sc.scrubBytes(lw.buf), false)
	}
	lw.flush()
	lw.buf, lw.out = nil, nil
	return lw.err
}
