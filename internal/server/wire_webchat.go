package server

import (
	"net/http"

	"prelude/internal/platform/httpx"
	"prelude/internal/webchat"
)

// openWebChat wires the web chat on the inbox: visitor addresses are
// hashed with a key derived from the server's secret, and the visitors'
// streams follow the live events (LISTEN/NOTIFY across instances).
func (s *Server) openWebChat(key []byte) {
	s.WebChat = webchat.NewService(s.DB, s.Audit, s.Inquiries, webchat.Config{BaseURL: s.Cfg.BaseURL, Key: key, Subscribe: s.Live.Subscribe})
	s.WebChat.RegisterJobs(s.Jobs)
}

// webchatRoutes registers the chat-site administration, the public chat
// API with its CORS preflight, and /widget.js.
func (s *Server) webchatRoutes(rt *httpx.Router) {
	api := &webchat.API{Svc: s.WebChat, ClientIP: s.OrgAPI.ClientIP}
	api.Routes(rt)
	for _, p := range webchat.PreflightPatterns {
		rt.Mount(p, api.Preflight())
	}
	rt.Mount("GET /widget.js", webchat.Widget())
}

// exemptPublicChat lifts the cross-origin write protection for exactly the
// public chat's writes (webchat.PublicWritePatterns): they read no cookie,
// and the site's own CORS check decides which pages may send them.
func exemptPublicChat(csrf *http.CrossOriginProtection) {
	for _, p := range webchat.PublicWritePatterns {
		csrf.AddInsecureBypassPattern(p)
	}
}
