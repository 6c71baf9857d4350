package mapping

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseUserMapCSV(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    UserMap
		wantErr string
	}{
		{"full header", "a_id,a_email,a_name,b_id,b_email,b_name\n1,ann@a.example,Ann,u1,ann@b.example,Ann B\n",
			UserMap{Entries: []UserEntry{{A: UserRef{ID: "1", Email: "ann@a.example", Name: "Ann"}, B: UserRef{ID: "u1", Email: "ann@b.example", Name: "Ann B"}}}}, ""},
		{"some columns, any order and case", "B_ID, a_email\r\nu1 , ann@a.example\r\n",
			UserMap{Entries: []UserEntry{{A: UserRef{Email: "ann@a.example"}, B: UserRef{ID: "u1"}}}}, ""},
		{"a,b by email with BOM", "\ufeffa,b\nann@a.example,ann@b.example\n",
			UserMap{MatchBy: MatchEmail, Entries: []UserEntry{{A: UserRef{Email: "ann@a.example"}, B: UserRef{Email: "ann@b.example"}}}}, ""},
		{"semicolons", "a_email;b_id\nann@a.example;42\n",
			UserMap{Entries: []UserEntry{{A: UserRef{Email: "ann@a.example"}, B: UserRef{ID: "42"}}}}, ""},
		{"quoted fields", "a_name,b_name\n\"Lee, Ann\",\"Ann \"\"A\"\" Lee\"\n",
			UserMap{Entries: []UserEntry{{A: UserRef{Name: "Lee, Ann"}, B: UserRef{Name: `Ann "A" Lee`}}}}, ""},
		{"blank rows skipped", "a_id,b_id\n1,2\n\n,\n3,4\n",
			UserMap{Entries: []UserEntry{{A: UserRef{ID: "1"}, B: UserRef{ID: "2"}}, {A: UserRef{ID: "3"}, B: UserRef{ID: "4"}}}}, ""},
		{"header only", "a_id,b_id\n", UserMap{}, ""},
		{"empty file", "", UserMap{}, "empty file"},
		{"unknown column", "a_id,login\n1,2\n", UserMap{}, `line 1: column 2: unknown column "login"`},
		{"duplicate column", "a_id,a_id,b_id\n", UserMap{}, `line 1: column 2: column "a_id" appears twice`},
		{"one side only", "a_id,a_email\n", UserMap{}, "no column for side b"},
		{"bad email names line and column", "a_id,b_email\n1,x@y.example\n2,Bob Smith\n", UserMap{}, `line 3, column 2 (b_email): "Bob Smith" is not an email address`},
		{"empty side names line", "a_id,b_id\n1,\n", UserMap{}, "line 2, side b is empty"},
		{"ragged row", "a_id,b_id\n1,2,3\n", UserMap{}, "record on line 2: wrong number of fields"},
		{"bad quote", "a_id,b_id\n\"1,2\n", UserMap{}, "line 2"},
		{"too long field", "a_id,b_id\n1," + strings.Repeat("x", 600) + "\n", UserMap{}, "line 2, column 2 (b_id): longer than 512 bytes"},
		{"not UTF-8", "a_id,b_id\n\xff,1\n", UserMap{}, "not UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseUserMapCSV(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
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
	if _, err := ParseUserMapCSV(strings.NewReader(many)); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("err = %v, want an entry-count error", err)
	}
}
