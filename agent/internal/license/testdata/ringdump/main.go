// Command ringdump prints the license key ids a build trusts; the
// package's tests build it with and without the licensetest tag.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/license"
)

func main() {
	r, err := license.BuiltinKeys()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(strings.TrimSpace("keys: " + strings.Join(r.IDs(), " ")))
}
