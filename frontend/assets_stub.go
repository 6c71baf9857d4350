//go:build !production && !dev

package frontend

import "embed"

// Assets is empty in untagged builds so that `go vet ./...`, `go test ./...`
// and binding generation work on a fresh clone without a UI build. It stays an
// embed.FS because Wails infers the dev-mode asset dir only from that type.
var Assets embed.FS
