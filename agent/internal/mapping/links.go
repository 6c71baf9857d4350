package mapping

import "strings"

// LinkType returns the link type of the other side for a link of type t
// flowing in dir (AtoB: t is one of A's types). Matching ignores case; when
// several pairs match, the first wins, so list the preferred target first.
// ok is false when no pair maps t: the engine skips such links.
func LinkType(p TypePair, dir Direction, t string) (string, bool) {
	for _, lp := range p.LinkTypes {
		from, to := lp.A, lp.B
		if dir == BtoA {
			from, to = lp.B, lp.A
		}
		if strings.EqualFold(strings.TrimSpace(from), strings.TrimSpace(t)) && to != "" {
			return to, true
		}
	}
	return "", false
}
