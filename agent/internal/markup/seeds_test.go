package markup

import (
	"os"
	"path/filepath"
	"testing"
)

// addSeeds adds the golden inputs of a kind ("md", "html") to a
// fuzz corpus, on top of the files in testdata/fuzz.
func addSeeds(f *testing.F, ext string) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*."+ext))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
}
