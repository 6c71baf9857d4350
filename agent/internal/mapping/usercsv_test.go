package mapping

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var updateUserCSV = flag.Bool("update-usercsv", false, "rewrite testdata/usercsv/*.json from this reader")

// userCSVGolden is what reading testdata/usercsv/NAME.csv gives: the
// desktop's reader (frontend/src/pages/sync/usercsv.test.ts) passes the same
// files. Entries are the good rows; this reader refuses a file with any
// bad line, so with errors it returns no entries and the errors, in order.
type userCSVGolden struct {
	MatchBy MatchBy        `json:"matchBy"`
	Entries []UserEntry    `json:"entries"`
	Errors  []CSVLineError `json:"errors"`
}

func TestParseUserMapCSVGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "usercsv", "*.csv"))
	if err != nil || len(files) < 20 {
		t.Fatalf("golden files: %v (%d)", err, len(files))
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".csv")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			m, err := ParseUserMapCSV(strings.NewReader(string(data)))
			got := userCSVGolden{MatchBy: m.MatchBy, Entries: m.Entries, Errors: []CSVLineError{}}
			var ce *CSVError
			switch {
			case errors.As(err, &ce):
				got.Errors = ce.Lines
			case err != nil:
				t.Fatalf("an error that names no line: %v", err)
			}
			if got.Entries == nil {
				got.Entries = []UserEntry{}
			}
			goldenPath := strings.TrimSuffix(path, ".csv") + ".json"
			if *updateUserCSV {
				// With errors, the good rows the desktop previews are to be
				// added by hand: this reader returns none.
				b, _ := json.MarshalIndent(got, "", "  ")
				if err := os.WriteFile(goldenPath, append(b, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			raw, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatal(err)
			}
			var want userCSVGolden
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatalf("%s: %v", goldenPath, err)
			}
			if want.Errors == nil {
				want.Errors = []CSVLineError{}
			}
			if len(want.Errors) > 0 {
				// The good rows are the desktop's preview; here the file fails whole.
				if len(m.Entries) != 0 || m.MatchBy != "" {
					t.Errorf("entries with errors: %+v", m)
				}
				if !reflect.DeepEqual(got.Errors, want.Errors) {
					t.Errorf("errors:\n got %+v\nwant %+v", got.Errors, want.Errors)
				}
				return
			}
			if want.Entries == nil {
				want.Entries = []UserEntry{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestParseUserMapCSVBounds(t *testing.T) {
	big := "a_id,b_id\n" + strings.Repeat("1234567890,1234567890\n", MaxUserMapCSVBytes/22+1)
	if _, err := ParseUserMapCSV(strings.NewReader(big)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("err = %v, want a size error", err)
	}
	many := "a_id,b_id\n" + strings.Repeat("1,2\n", MaxUserMapEntries+1)
	_, err := ParseUserMapCSV(strings.NewReader(many))
	var ce *CSVError
	if !errors.As(err, &ce) || len(ce.Lines) != 1 || ce.Lines[0] != (CSVLineError{Line: MaxUserMapEntries + 2, Message: "more than 100000 entries"}) {
		t.Errorf("err = %v, want an entry-count error on the first line too many", err)
	}
	if _, err := ParseUserMapCSV(strings.NewReader("a_id,b_id\n\xff,1\n")); err == nil || !strings.Contains(err.Error(), "not UTF-8") {
		t.Errorf("err = %v, want a UTF-8 error", err)
	}
}

func TestCSVErrorSaysEveryLine(t *testing.T) {
	_, err := ParseUserMapCSV(strings.NewReader("a_id,b_email\n1,x\n2,\n3,c@d.example\n"))
	want := `read user map CSV: line 2: column 2 (b_email): "x" is not an email address; line 3: side b is empty: give an id, email or name`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
}
