// Package static holds the assets served under /static/.
package static

import "embed"

// FS holds the files served under /static/.
//
//go:embed *.png *.css *.txt *.js
var FS embed.FS
