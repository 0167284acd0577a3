package mail

import (
	"net/http"

	"prelude/internal/platform/authz"
	"prelude/internal/platform/httpx"
)

// API exposes mailbox administration over HTTP.
type API struct {
	Svc *Service
}

type mailboxList struct {
	Items []*Mailbox `json:"items"`
}

func writeMailbox(w http.ResponseWriter, status int, m *Mailbox) {
	httpx.SetETag(w, m.Version)
	httpx.WriteJSON(w, status, m)
}

// Routes registers the mailbox endpoints (administrators only).
func (a *API) Routes(rt *httpx.Router) {
	s := a.Svc
	perm := authz.MailboxesManage
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/mailboxes", Tag: "mail", Summary: "Connected mailboxes (passwords are never returned)", Permission: perm, Response: mailboxList{}},
		func(w http.ResponseWriter, r *http.Request) error {
			list, err := s.ListMailboxes(r.Context())
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, mailboxList{Items: list})
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/mailboxes", Tag: "mail", Summary: "Connect a mailbox over IMAP and SMTP", Permission: perm, Request: MailboxInput{}, Response: Mailbox{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in MailboxInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			m, err := s.CreateMailbox(r.Context(), in)
			if err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/mailboxes/"+m.ID)
			writeMailbox(w, 201, m)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/mailboxes/{id}", Tag: "mail", Summary: "Get a mailbox and its fetch state", Permission: perm, Response: Mailbox{}},
		func(w http.ResponseWriter, r *http.Request) error {
			m, err := s.GetMailbox(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			writeMailbox(w, 200, m)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PATCH", Path: "/api/v1/mailboxes/{id}", Tag: "mail", Summary: "Change a mailbox (If-Match: its version)", Permission: perm, Request: MailboxInput{}, Response: Mailbox{}},
		func(w http.ResponseWriter, r *http.Request) error {
			ifMatch, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			var in MailboxInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			m, err := s.UpdateMailbox(r.Context(), r.PathValue("id"), ifMatch, in)
			if err != nil {
				return err
			}
			writeMailbox(w, 200, m)
			return nil
		})
	rt.Handle(httpx.Route{Method: "DELETE", Path: "/api/v1/mailboxes/{id}", Tag: "mail", Summary: "Disconnect a mailbox that has not sent mail", Permission: perm, Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			ifMatch, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			if err := s.DeleteMailbox(r.Context(), r.PathValue("id"), ifMatch); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/mailboxes/{id}/test", Tag: "mail", Summary: "Try the IMAP and SMTP connections and say what happened", Permission: perm, Response: TestResult{}},
		func(w http.ResponseWriter, r *http.Request) error {
			res, err := s.TestMailbox(r.Context(), r.PathValue("id"), httpx.Lang(r))
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, res)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/mailboxes/{id}/incoming", Tag: "mail", Summary: "Fetched mail, newest first: delivered, bounces, auto-replies and rejected mail with the reason",
		Permission: perm, Query: []string{"kind", "limit", "cursor"}, Response: httpx.Page[*IncomingInfo]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			lp, err := httpx.ParseList(r)
			if err != nil {
				return err
			}
			items, next, err := s.ListIncoming(r.Context(), r.PathValue("id"), r.URL.Query().Get("kind"), lp)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, next, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/mailboxes/{id}/outgoing", Tag: "mail", Summary: "Sent mail, newest first, with status (queued, sent, failed and why)",
		Permission: perm, Query: []string{"status", "limit", "cursor"}, Response: httpx.Page[*OutgoingInfo]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			lp, err := httpx.ParseList(r)
			if err != nil {
				return err
			}
			items, next, err := s.ListOutgoing(r.Context(), r.PathValue("id"), r.URL.Query().Get("status"), lp)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, next, len(items)))
			return nil
		})
}
