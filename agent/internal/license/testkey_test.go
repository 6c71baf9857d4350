//go:build !licensetest

package license

import _ "embed"

// This package's tests trust the test key as the licensetest build tag
// does (testkey_licensetest.go, which replaces this file under that tag).
//
//go:embed testdata/test.pub
var testPublicKey string

func init() { testKeys = testPublicKey }
