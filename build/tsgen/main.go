// Command tsgen writes the UI's TypeScript view of the wire, from shared/:
//
//   - frontend/src/api/generated/types.ts: every type a method's params or
//     result, or an event's payload, reaches (shared/apitype), with its doc
//     comments; a string type with constants becomes a union of their values;
//   - methods.ts: each method's params, result and access, and each event's
//     payload (shared/protocol's registry and event table);
//   - roles.ts: the roles, what each may call (protocol.Role.Allows), and can().
//
// Run it after changing shared/ (make generate); a test fails while a
// generated file differs from what it would write.
//
// It reads the types by reflection, so a field is named, omitted and made
// optional exactly as encoding/json does, and reads the source only for doc
// comments and constants. One tag of its own: ts:"optional" makes optional
// a field the agent always writes but never reads from a client (a
// record's createdAt), so the UI may leave it out of params.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// outDir is where the files go, from the repository root.
const outDir = "frontend/src/api/generated"

func main() {
	root := flag.String("root", ".", "the repository's root")
	flag.Parse()
	files, err := generate(*root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tsgen:", err)
		os.Exit(1)
	}
	for name, data := range files {
		path := filepath.Join(*root, outDir, name)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "tsgen:", err)
			os.Exit(1)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "tsgen:", err)
			os.Exit(1)
		}
		fmt.Println("wrote", filepath.ToSlash(filepath.Join(outDir, name)))
	}
}
