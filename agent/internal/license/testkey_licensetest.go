//go:build licensetest

package license

import _ "embed"

// An agent built with `go build -tags licensetest` trusts the test key, so
// end-to-end tests of the real binary can import licenses signed with
// testdata/test.key. Release builds never use this tag: anyone can sign
// with the test key, whose private half is in the repository.
//
//go:embed testdata/test.pub
var testPublicKey string

func init() { testKeys = testPublicKey }
