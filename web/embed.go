// Package web embeds the built single-page app so the prelude binary serves it.
package web

import "embed"

//go:embed all:dist
var Dist embed.FS
