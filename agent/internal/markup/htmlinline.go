package markup

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// How a hard line break (<br>) is written in the current context.
const (
	breakLine  = iota // a Markdown hard break, or a newline in plain text
	breakHTML         // "<br>", inside a Markdown table cell
	breakSpace        // a space, inside a heading
)

// Token kinds of inline content.
const (
	tokText   = iota // literal text, escaped when rendered
	tokSyntax        // finished Markdown (code span, link, image)
	tokSpace         // collapsible whitespace
	tokBreak         // a hard line break
	tokOpen          // an emphasis delimiter opening pair
	tokClose         // the delimiter closing pair
	tokCode          // inline code: s is its text
)

type token struct {
	kind int
	s    string
	pair int // tokOpen and tokClose: which pair
}

// inline collects the inline content of one paragraph, heading, table cell
// or link text as tokens, and renders them when finished. Deciding at the
// end sees every neighbour: whether "*" needs a backslash, whether "**"
// will be read as emphasis by a CommonMark parser, whether two runs of
// bold touch, all depend on what comes before and after, which may be
// another element's text.
type inline struct {
	c       *htmlConv
	breaks  int // how <br> is written
	inTable bool
	toks    []token
	pairs   int
	// edgePrev and edgeNext are the bytes the caller writes around the
	// result ('[' and ']' around a link's text), 0 for a line's edge.
	edgePrev, edgeNext byte

	// Formatting already open: a nested <b> inside <b> adds nothing.
	strong, em, del int
}

func (c *htmlConv) newInline(breaks int, inTable bool) *inline {
	return &inline{c: c, breaks: breaks, inTable: inTable}
}

// child is a builder for a link's text; it inherits the context.
func (in *inline) child() *inline {
	ch := in.c.newInline(in.breaks, in.inTable)
	ch.strong, ch.em, ch.del = in.strong, in.em, in.del
	ch.edgePrev, ch.edgeNext = '[', ']'
	return ch
}

// text adds a text node's content, whitespace collapsed as a browser does.
func (in *inline) text(s string) {
	for s != "" {
		i := strings.IndexFunc(s, isHTMLSpace)
		switch {
		case i < 0:
			in.toks = append(in.toks, token{kind: tokText, s: s})
			return
		case i > 0:
			in.toks = append(in.toks, token{kind: tokText, s: s[:i]})
			s = s[i:]
		default:
			in.space()
			j := strings.IndexFunc(s, func(r rune) bool { return !isHTMLSpace(r) })
			if j < 0 {
				return
			}
			s = s[j:]
		}
	}
}

// isHTMLSpace is HTML's inter-element whitespace; a no-break space is
// content, not whitespace.
func isHTMLSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f'
}

func (in *inline) space() { in.toks = append(in.toks, token{kind: tokSpace}) }
func (in *inline) br() {
	if in.breaks == breakSpace {
		in.space() // a heading has one line
		return
	}
	in.toks = append(in.toks, token{kind: tokBreak})
}

// blockBreak separates a block's text from its neighbours: one break,
// however many block edges meet.
func (in *inline) blockBreak() {
	for i := len(in.toks) - 1; i >= 0; i-- {
		switch in.toks[i].kind {
		case tokSpace:
			continue
		case tokBreak:
			return
		}
		break
	}
	in.br()
}

func (in *inline) syntax(s string)  { in.toks = append(in.toks, token{kind: tokSyntax, s: s}) }
func (in *inline) literal(s string) { in.toks = append(in.toks, token{kind: tokText, s: s}) }

// wrap converts n's children between an opening and a closing delimiter.
func (in *inline) wrap(n *html.Node, delim string, depth int, level *int) {
	if in.c.plain || *level > 0 {
		in.children(n, depth)
		return
	}
	in.pairs++
	id := in.pairs
	*level++
	in.toks = append(in.toks, token{kind: tokOpen, s: delim, pair: id})
	in.children(n, depth)
	in.toks = append(in.toks, token{kind: tokClose, s: delim, pair: id})
	*level--
}

// finish renders the tokens; leading and trailing whitespace and breaks
// are dropped (a Markdown paragraph can neither start nor end with a hard
// break).
func (in *inline) finish() string {
	s, _, _ := in.finishEdges()
	return s
}

// finishEdges is finish, also saying whether whitespace was dropped at
// the start and at the end (a link's text hands it to the outer text).
func (in *inline) finishEdges() (string, bool, bool) {
	toks := tidy(in.toks)
	lead, trail := false, false
	for len(toks) > 0 && (toks[0].kind == tokSpace || toks[0].kind == tokBreak) {
		lead, toks = true, toks[1:]
	}
	for len(toks) > 0 && (toks[len(toks)-1].kind == tokSpace || toks[len(toks)-1].kind == tokBreak) {
		trail, toks = true, toks[:len(toks)-1]
	}
	return in.render(toks), lead, trail
}

// tidy normalises the token list: whitespace just inside a delimiter pair
// moves outside it (CommonMark will not take "** x**" as emphasis), empty
// pairs go, a run closed and reopened at once is merged ("**a****b**"
// would not parse), runs of whitespace become one, whitespace next to a
// break goes, and touching texts and code spans are joined.
func tidy(toks []token) []token {
	out := make([]token, 0, len(toks))
	for changed := true; changed; {
		changed = false
		out = out[:0]
		for i := 0; i < len(toks); i++ {
			t := toks[i]
			var next *token
			if i+1 < len(toks) {
				next = &toks[i+1]
			}
			switch {
			case t.kind == tokOpen && next != nil && (next.kind == tokSpace || next.kind == tokBreak):
				out = append(out, *next, t)
				i++
				changed = true
			case (t.kind == tokSpace || t.kind == tokBreak) && next != nil && next.kind == tokClose:
				out = append(out, *next, t)
				i++
				changed = true
			case t.kind == tokOpen && next != nil && next.kind == tokClose && next.pair == t.pair:
				i++
				changed = true
			case t.kind == tokClose && next != nil && next.kind == tokOpen && next.s == t.s:
				// Merge: drop this close and the next open, and make the
				// later close end the earlier pair.
				later := next.pair
				for j := i + 2; j < len(toks); j++ {
					if toks[j].kind == tokClose && toks[j].pair == later {
						toks[j].pair = t.pair
						break
					}
				}
				i++
				changed = true
			case t.kind == tokSpace && next != nil && (next.kind == tokSpace || next.kind == tokBreak):
				changed = true
			case t.kind == tokBreak && next != nil && next.kind == tokSpace:
				out = append(out, t)
				i++
				changed = true
			default:
				out = append(out, t)
			}
		}
		toks = append([]token(nil), out...)
	}
	return mergeRuns(toks)
}

// mergeRuns joins touching texts, so escaping sees "&" and "amp;"
// together, and touching code spans, as "`a“b`" would not parse.
func mergeRuns(toks []token) []token {
	out := toks[:0]
	for i := 0; i < len(toks); {
		t := toks[i]
		j := i + 1
		for j < len(toks) && toks[j].kind == t.kind && (t.kind == tokText || t.kind == tokCode) {
			j++
		}
		if j > i+1 {
			var b strings.Builder
			for _, u := range toks[i:j] {
				b.WriteString(u.s)
			}
			t.s = b.String()
		}
		out = append(out, t)
		i = j
	}
	return out
}

// render writes the tokens. Delimiter pairs that CommonMark would not take
// as emphasis where they stand (`word**"quoted"**`) are dropped, keeping
// their text, and the rest rendered again, until every pair left is valid.
// Dropping one pair can invalidate its neighbour; after a few rounds all
// pairs go, so hostile input cannot make this quadratic.
func (in *inline) render(toks []token) string {
	dropped := map[int]bool{}
	for round := 0; ; round++ {
		if round == 8 {
			for _, t := range toks {
				if t.kind == tokOpen {
					dropped[t.pair] = true
				}
			}
		}
		if out, ok := in.renderOnce(toks, dropped); ok {
			return out
		}
	}
}

// renderOnce writes the tokens without the dropped pairs, adds the pairs
// that are not valid emphasis to dropped, and reports whether there were
// none.
func (in *inline) renderOnce(toks []token, dropped map[int]bool) (string, bool) {
	type span struct {
		id          int
		open, close [2]int // offsets of the delimiters in the output
	}
	var b strings.Builder
	var spans []*span
	byID := map[int]*span{}
	for i, t := range toks {
		switch t.kind {
		case tokText:
			b.WriteString(in.escapeAt(t.s, in.lastByte(&b), in.nextByte(toks, i+1, dropped)))
		case tokSyntax:
			b.WriteString(t.s)
		case tokCode:
			b.WriteString(codeSpan(t.s, in.inTable))
		case tokSpace:
			b.WriteByte(' ')
		case tokBreak:
			br := in.breakText()
			if br == "\\\n" && strings.HasSuffix(b.String(), `\`) {
				// goldmark reads `\\\` + newline as an escaped backslash
				// and a literal one; two spaces make the break instead.
				br = "  \n"
			}
			b.WriteString(br)
		case tokOpen, tokClose:
			if dropped[t.pair] {
				continue
			}
			at := [2]int{b.Len(), b.Len() + len(t.s)}
			b.WriteString(t.s)
			if t.kind == tokOpen {
				sp := &span{id: t.pair, open: at, close: [2]int{-1, -1}}
				spans = append(spans, sp)
				byID[t.pair] = sp
			} else if sp := byID[t.pair]; sp != nil {
				sp.close = at
			}
		}
	}
	out := b.String()
	ok := true
	for _, sp := range spans {
		if sp.close[0] < 0 || !in.flanking(out, sp.open, sp.close) {
			dropped[sp.id] = true
			ok = false
		}
	}
	return out, ok
}

// flanking reports whether CommonMark takes the delimiters at o and c in
// out as opening and closing emphasis: the run the opening delimiter is
// part of must be left-flanking and the closing one's right-flanking.
// Touching delimiters of the same character form one run ("**a***b*").
func (in *inline) flanking(out string, o, c [2]int) bool {
	ch := out[o[0]]
	run := func(p [2]int) (int, int) {
		s, e := p[0], p[1]
		for s > 0 && out[s-1] == ch && (s < 2 || out[s-2] != '\\') {
			s--
		}
		for e < len(out) && out[e] == ch {
			e++
		}
		return s, e
	}
	before := func(i int) rune {
		if i == 0 {
			return rune(in.edgePrev)
		}
		r, _ := utf8.DecodeLastRuneInString(out[:i])
		return r
	}
	after := func(i int) rune {
		if i == len(out) {
			return rune(in.edgeNext)
		}
		r, _ := utf8.DecodeRuneInString(out[i:])
		return r
	}
	openStart, openEnd := run(o)
	closeStart, closeEnd := run(c)
	if ch == '~' && (before(openStart) == '~' || after(openEnd) == '~' || before(closeStart) == '~' || after(closeEnd) == '~') {
		// goldmark counts a neighbouring tilde, even an escaped one, into
		// a strikethrough run.
		return false
	}
	prev, first := before(openStart), after(openEnd)
	last, next := before(closeStart), after(closeEnd)
	leftFlanking := !isSpaceRune(first) && (!isPunctRune(first) || isSpaceRune(prev) || isPunctRune(prev))
	rightFlanking := !isSpaceRune(last) && (!isPunctRune(last) || isSpaceRune(next) || isPunctRune(next))
	return leftFlanking && rightFlanking
}

func isSpaceRune(r rune) bool { return unicode.IsSpace(r) || r == 0 }

func (in *inline) lastByte(b *strings.Builder) byte {
	s := b.String()
	if s == "" {
		return in.edgePrev
	}
	return s[len(s)-1]
}

// nextByte is the first byte the tokens from i on will render, or 0 at
// the end. Escaping never changes whether that byte is a letter, a space
// or punctuation, which is all the callers ask.
func (in *inline) nextByte(toks []token, i int, dropped map[int]bool) byte {
	for ; i < len(toks); i++ {
		t := toks[i]
		switch {
		case (t.kind == tokOpen || t.kind == tokClose) && dropped[t.pair]:
			continue
		case t.kind == tokSpace:
			return ' '
		case t.kind == tokBreak:
			return '\\' // also "<" and "\n"; all three count as non-letters
		case t.kind == tokCode:
			return '`'
		case t.s != "":
			return t.s[0]
		}
	}
	return in.edgeNext
}

func (in *inline) breakText() string {
	switch {
	case in.breaks == breakHTML:
		return "<br>"
	case in.breaks == breakSpace:
		return " "
	case in.c.plain:
		return "\n"
	}
	return "\\\n"
}

// escapeAt escapes literal text in Markdown mode, knowing the byte before
// it (0 at the start of the paragraph) and after it (0 at the end).
func (in *inline) escapeAt(s string, prev, next byte) string {
	if in.c.plain {
		return s
	}
	return escapeText(s, in.inTable, prev, next)
}
