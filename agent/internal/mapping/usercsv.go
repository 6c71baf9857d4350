package mapping

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
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

// emailPairHeaders are the spellings of the two-email header's columns.
var emailPairHeaders = map[string]string{"a": "a_email", "b": "b_email", "emaila": "a_email", "emailb": "b_email"}

// CSVLineError is a problem on one line of a user map CSV.
type CSVLineError struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

func (e CSVLineError) Error() string { return "line " + strconv.Itoa(e.Line) + ": " + e.Message }

// CSVError lists every bad line of a user map CSV, in line order.
type CSVError struct {
	Lines []CSVLineError
}

func (e *CSVError) Error() string {
	parts := make([]string, len(e.Lines))
	for i, l := range e.Lines {
		parts[i] = l.Error()
	}
	return "read user map CSV: " + strings.Join(parts, "; ")
}

// ParseUserMapCSV reads a user map exported from a spreadsheet. The header
// row is either some of a_id,a_email,a_name,b_id,b_email,b_name (any order,
// any case; each side needs at least one) or two emails per row, "a,b" (or
// "emailA,emailB"), which sets MatchBy to email. A UTF-8 byte-order mark and
// a ';' delimiter (what spreadsheets in many locales export) are accepted;
// blank lines are skipped. Values are RFC 4180 CSV: a value with a quote in
// it is quoted whole, its quotes doubled.
//
// Any bad line fails the whole file with a *CSVError naming every bad line
// (its number and the column), so one pass over the file fixes it. The
// desktop's reader (frontend/src/pages/sync/usercsv.ts) follows the same
// rules and passes the same golden files (testdata/usercsv).
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
	var bad []CSVLineError
	fail := func(line int, format string, args ...any) (UserMap, error) {
		bad = append(bad, CSVLineError{Line: line, Message: fmt.Sprintf(format, args...)})
		return UserMap{}, &CSVError{Lines: bad}
	}

	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = delimiter(data)
	cr.FieldsPerRecord = -1 // a row of the wrong width is reported with its line, below
	header, err := readRecord(cr)
	if errors.Is(err, io.EOF) {
		return fail(1, "the file is empty: expected a header row such as a,b")
	}
	if err != nil {
		return fail(csvErrorLine(err), "%s", csvProblem(err))
	}
	headerLine, _ := cr.FieldPos(0)
	cols, matchBy, err := parseUserHeader(header)
	if err != nil {
		return fail(headerLine, "%v", err)
	}

	m := UserMap{MatchBy: matchBy}
	for {
		rec, err := readRecord(cr)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// The reader cannot tell where the broken value ends: stop here.
			bad = append(bad, CSVLineError{Line: csvErrorLine(err), Message: csvProblem(err)})
			break
		}
		line, _ := cr.FieldPos(0)
		if len(m.Entries) == MaxUserMapEntries {
			bad = append(bad, CSVLineError{Line: line, Message: fmt.Sprintf("more than %d entries", MaxUserMapEntries)})
			break
		}
		e, err := parseUserRow(rec, cols, header)
		if err != nil {
			bad = append(bad, CSVLineError{Line: line, Message: err.Error()})
			continue
		}
		m.Entries = append(m.Entries, e)
	}
	if len(bad) > 0 {
		return UserMap{}, &CSVError{Lines: bad}
	}
	return m, nil
}

// readRecord is the next record that is not blank: spreadsheets export
// trailing ",,,," rows, and blank lines may come before the header too.
func readRecord(cr *csv.Reader) ([]string, error) {
	for {
		rec, err := cr.Read()
		if err != nil || !blankRow(rec) {
			return rec, err
		}
	}
}

// csvErrorLine is the line where the record the reader choked on starts.
func csvErrorLine(err error) int {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.StartLine
	}
	return 1
}

// csvProblem says in words what the CSV reader refused.
func csvProblem(err error) string {
	switch {
	case errors.Is(err, csv.ErrBareQuote):
		return `a quote (") in a value that does not start with one: quote the whole value and double the quotes in it`
	case errors.Is(err, csv.ErrQuote):
		return "a quoted value is never closed, or text follows its closing quote"
	}
	return err.Error()
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
	if len(names) == 2 && emailPairHeaders[names[0]] == "a_email" && emailPairHeaders[names[1]] == "b_email" {
		return []string{"a_email", "b_email"}, MatchEmail, nil
	}
	seen := map[string]bool{}
	for i, n := range names {
		known := false
		for _, c := range userColumns {
			known = known || n == c
		}
		if !known {
			return nil, "", fmt.Errorf("column %d: unknown column %s, expected a,b or some of %s", i+1, quoted(strings.TrimSpace(header[i])), strings.Join(userColumns, ","))
		}
		if seen[n] {
			return nil, "", fmt.Errorf("column %d: column %s appears twice", i+1, quoted(strings.TrimSpace(header[i])))
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
	if len(rec) != len(cols) {
		return UserEntry{}, fmt.Errorf("expected %d values, found %d", len(cols), len(rec))
	}
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
				return UserEntry{}, fmt.Errorf("%s: %s is not an email address", col, quoted(v))
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

// quoted puts a value from the file in double quotes as it is (no
// escaping), as the desktop's reader does.
func quoted(s string) string { return `"` + s + `"` }

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
