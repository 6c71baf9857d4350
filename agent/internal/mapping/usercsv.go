package mapping

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Bounds of a user map import: a CSV for a large organisation is a few MB;
// anything bigger is a wrong file, not a user map.
const (
	MaxUserMapCSVBytes = 8 << 20
	MaxUserMapEntries  = 100_000
	maxUserFieldLen    = 512
)

// userColumns are the columns of the full header.
var userColumns = []string{"a_id", "a_email", "a_name", "b_id", "b_email", "b_name"}

// ParseUserMapCSV reads a user map exported from a spreadsheet. The header
// row is either some of a_id,a_email,a_name,b_id,b_email,b_name (any order,
// any case; each side needs at least one) or exactly "a,b", two emails per
// row, which sets MatchBy to email. A UTF-8 byte-order mark and a ';'
// delimiter (what spreadsheets in many locales export) are accepted; blank
// lines are skipped. Errors name the line and column.
func ParseUserMapCSV(r io.Reader) (UserMap, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxUserMapCSVBytes+1))
	if err != nil {
		return UserMap{}, fmt.Errorf("read user map CSV: %w", err)
	}
	if len(data) > MaxUserMapCSVBytes {
		return UserMap{}, fmt.Errorf("read user map CSV: larger than %d bytes", MaxUserMapCSVBytes)
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if !utf8.Valid(data) {
		return UserMap{}, errors.New("read user map CSV: not UTF-8 text (save it as CSV UTF-8)")
	}

	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = delimiter(data)
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return UserMap{}, errors.New("read user map CSV: empty file, expected a header row")
	}
	if err != nil {
		return UserMap{}, fmt.Errorf("read user map CSV header: %w", err)
	}
	cols, matchBy, err := parseUserHeader(header)
	if err != nil {
		return UserMap{}, fmt.Errorf("read user map CSV: line 1: %w", err)
	}

	m := UserMap{MatchBy: matchBy}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// csv.ParseError already says "record on line N: ... column M".
			return UserMap{}, fmt.Errorf("read user map CSV: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if blankRow(rec) {
			continue // spreadsheets export trailing ",,,," rows
		}
		if len(m.Entries) == MaxUserMapEntries {
			return UserMap{}, fmt.Errorf("read user map CSV: line %d: more than %d entries", line, MaxUserMapEntries)
		}
		e, err := parseUserRow(rec, cols, header)
		if err != nil {
			return UserMap{}, fmt.Errorf("read user map CSV: line %d, %w", line, err)
		}
		m.Entries = append(m.Entries, e)
	}
	return m, nil
}

// delimiter picks ';' when the header line has semicolons and no commas.
func delimiter(data []byte) rune {
	first, _, _ := bytes.Cut(data, []byte("\n"))
	if bytes.ContainsRune(first, ';') && !bytes.ContainsRune(first, ',') {
		return ';'
	}
	return ','
}

// parseUserHeader returns, per column, the UserRef field it fills
// ("a_email"...).
func parseUserHeader(header []string) ([]string, MatchBy, error) {
	names := make([]string, len(header))
	for i, h := range header {
		names[i] = strings.ToLower(strings.TrimSpace(h))
	}
	if len(names) == 2 && names[0] == "a" && names[1] == "b" {
		return []string{"a_email", "b_email"}, MatchEmail, nil
	}
	seen := map[string]bool{}
	for i, n := range names {
		known := false
		for _, c := range userColumns {
			known = known || n == c
		}
		if !known {
			return nil, "", fmt.Errorf("column %d: unknown column %q, expected a,b or some of %s", i+1, header[i], strings.Join(userColumns, ","))
		}
		if seen[n] {
			return nil, "", fmt.Errorf("column %d: column %q appears twice", i+1, header[i])
		}
		seen[n] = true
	}
	for _, side := range []string{"a", "b"} {
		if !seen[side+"_id"] && !seen[side+"_email"] && !seen[side+"_name"] {
			return nil, "", fmt.Errorf("no column for side %s: add %s_id, %s_email or %s_name", side, side, side, side)
		}
	}
	return names, "", nil
}

func parseUserRow(rec, cols, header []string) (UserEntry, error) {
	var e UserEntry
	for i, raw := range rec {
		v := strings.TrimSpace(raw)
		col := fmt.Sprintf("column %d (%s)", i+1, strings.TrimSpace(header[i]))
		if len(v) > maxUserFieldLen {
			return UserEntry{}, fmt.Errorf("%s: longer than %d bytes", col, maxUserFieldLen)
		}
		if strings.ContainsAny(v, "\r\n") {
			return UserEntry{}, fmt.Errorf("%s: contains a line break", col)
		}
		ref := &e.A
		if strings.HasPrefix(cols[i], "b_") {
			ref = &e.B
		}
		switch strings.TrimPrefix(strings.TrimPrefix(cols[i], "a_"), "b_") {
		case "id":
			ref.ID = v
		case "email":
			if v != "" && !looksLikeEmail(v) {
				return UserEntry{}, fmt.Errorf("%s: %q is not an email address", col, v)
			}
			ref.Email = v
		case "name":
			ref.Name = v
		}
	}
	if e.A == (UserRef{}) {
		return UserEntry{}, errors.New("side a is empty: give an id, email or name")
	}
	if e.B == (UserRef{}) {
		return UserEntry{}, errors.New("side b is empty: give an id, email or name")
	}
	return e, nil
}

// looksLikeEmail is a plausibility check, not RFC 5322: it catches columns
// swapped by mistake (a name where the email belongs).
func looksLikeEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && domain != "" && !strings.ContainsAny(s, " \t,;<>")
}

func blankRow(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}
