//go:build production || dev

// Package frontend holds the built admin UI. It lives here, not in desktop/,
// because go:embed cannot reach ../frontend/dist from the main package.
package frontend

import "embed"

// Assets is the Vite build output; `npm --prefix frontend run build` must have
// run before a production or dev build, which fails loudly otherwise.
//
//go:embed all:dist
var Assets embed.FS
