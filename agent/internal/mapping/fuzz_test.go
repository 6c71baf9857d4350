package mapping

import (
	"strings"
	"testing"
)

func FuzzParseUserMapCSV(f *testing.F) {
	f.Fuzz(func(t *testing.T, data string) {
		m, err := ParseUserMapCSV(strings.NewReader(data))
		if err != nil {
			if m.Entries != nil {
				t.Fatalf("error with entries: %v", err)
			}
			return
		}
		for i, e := range m.Entries {
			if e.A == (UserRef{}) || e.B == (UserRef{}) {
				t.Fatalf("entry %d has an empty side: %+v", i, e)
			}
		}
		if len(ValidateUsers(m)) != 0 {
			t.Fatalf("parsed map does not validate: %v", ValidateUsers(m))
		}
	})
}
