package webchat

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
)

// widgetJS is the embeddable chat widget: plain ES2019, no framework, no
// requests to anyone but this server, everything drawn in a Shadow DOM and
// every text set with textContent (see widget.js).
//
//go:embed widget.js
var widgetJS []byte

var widgetETag = func() string {
	sum := sha256.Sum256(widgetJS)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}()

// Widget serves /widget.js. Pages on any website load it (the site key in
// data-site decides whether it may chat); it is cached briefly so a new
// version reaches visitors within minutes.
func Widget() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("ETag", widgetETag)
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
		if r.Header.Get("If-None-Match") == widgetETag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if r.Method == http.MethodHead {
			return
		}
		w.Write(widgetJS)
	})
}
