package inquiries

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"prelude/internal/platform/authz"
	"prelude/internal/platform/httpx"
)

// API exposes the inbox over HTTP.
type API struct {
	Svc *Service
}

// messageBodyLimit lets a long email-sized reply through and refuses
// anything bigger with 413 before it is decoded.
const messageBodyLimit = 512 << 10

func writeInquiry(w http.ResponseWriter, status int, in *Inquiry) {
	httpx.SetETag(w, in.Version)
	httpx.WriteJSON(w, status, in)
}

// action wraps the If-Match actions on an inquiry.
func action[T any](s *Service, fn func(r *http.Request, id string, version int64, in T) (*Inquiry, error)) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in T
		if err := httpx.Decode(r, &in); err != nil {
			return err
		}
		v, err := httpx.IfMatch(r)
		if err != nil {
			return err
		}
		out, err := fn(r, r.PathValue("id"), v, in)
		if err != nil {
			return err
		}
		writeInquiry(w, 200, out)
		return nil
	}
}

// Routes registers the inbox endpoints.
func (a *API) Routes(rt *httpx.Router) {
	s := a.Svc
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/inquiries", Tag: "inquiries", Summary: "Inbox: a view of inquiries in my data scope with SLA time left",
		Query: []string{"view", "status", "channel", "priority", "account_id", "assignee_id", "unread", "within_min", "q", "limit", "cursor"}, Response: httpx.Page[*Inquiry]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			lp, err := httpx.ParseList(r)
			if err != nil {
				return err
			}
			q := r.URL.Query()
			f := ListFilter{View: q.Get("view"), Status: q.Get("status"), Channel: q.Get("channel"), Priority: q.Get("priority"),
				AccountID: q.Get("account_id"), AssigneeID: q.Get("assignee_id"), Q: lp.Q}
			unread, err := httpx.QueryBool(r, "unread")
			if err != nil {
				return err
			}
			f.Unread = unread != nil && *unread
			if m := q.Get("within_min"); m != "" {
				n, err := strconv.Atoi(m)
				if err != nil || n < 1 || n > 7*24*60 {
					return httpx.BadParam("within_min")
				}
				f.Within = time.Duration(n) * time.Minute
			}
			page := httpx.NewPageJSON()
			next, err := s.List(r.Context(), f, lp, func(in *Inquiry) { page.Add(in.appendJSON) })
			if err != nil {
				page.Discard()
				return err
			}
			page.Write(w, next, page.Len())
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/inquiries", Tag: "inquiries", Summary: "Open an inquiry with the customer's first message (matched to an account by email/mobile, or created on the spot)",
		Request: InquiryInput{}, Response: Inquiry{}, Status: 201, BodyLimit: messageBodyLimit},
		func(w http.ResponseWriter, r *http.Request) error {
			var in InquiryInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			out, err := s.Create(r.Context(), in)
			if err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/inquiries/"+out.ID)
			writeInquiry(w, 201, out)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/inquiries/{id}", Tag: "inquiries", Summary: "Get an inquiry", Response: Inquiry{}},
		func(w http.ResponseWriter, r *http.Request) error {
			out, err := s.Get(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			writeInquiry(w, 200, out)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PATCH", Path: "/api/v1/inquiries/{id}", Tag: "inquiries", Summary: "Edit subject, priority or the linked customer", Request: InquiryPatch{}, Response: Inquiry{}},
		action(s, func(r *http.Request, id string, v int64, in InquiryPatch) (*Inquiry, error) {
			return s.Update(r.Context(), id, v, in)
		}))
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/inquiries/{id}/status", Tag: "inquiries", Summary: "Move an inquiry along its lifecycle", Request: StatusInput{}, Response: Inquiry{}},
		action(s, func(r *http.Request, id string, v int64, in StatusInput) (*Inquiry, error) {
			return s.ChangeStatus(r.Context(), id, v, in)
		}))
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/inquiries/{id}/assign", Tag: "inquiries", Summary: "Assign, claim or transfer (a transfer needs a reason)", Request: AssignInput{}, Response: Inquiry{}},
		action(s, func(r *http.Request, id string, v int64, in AssignInput) (*Inquiry, error) {
			return s.Assign(r.Context(), id, v, in)
		}))
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/inquiries/{id}/close", Tag: "inquiries", Summary: "Close with the consultation record (a promised follow-up becomes a promise task)", Request: CloseInput{}, Response: Inquiry{}},
		action(s, func(r *http.Request, id string, v int64, in CloseInput) (*Inquiry, error) {
			return s.Close(r.Context(), id, v, in)
		}))
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/inquiries/{id}/reopen", Tag: "inquiries", Summary: "Reopen a resolved or closed inquiry", Request: ReopenInput{}, Response: Inquiry{}},
		action(s, func(r *http.Request, id string, v int64, in ReopenInput) (*Inquiry, error) {
			return s.Reopen(r.Context(), id, v, in)
		}))
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/inquiries/{id}/reveal", Tag: "inquiries", Summary: "Show the customer's email and number (audited)", Response: Revealed{}},
		func(w http.ResponseWriter, r *http.Request) error {
			out, err := s.Reveal(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, out)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/inquiries/{id}/read", Tag: "inquiries", Summary: "Mark an inquiry read for me", Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			if err := s.MarkRead(r.Context(), r.PathValue("id")); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/inquiries/{id}/typing", Tag: "inquiries", Summary: "Say I am writing a reply (shown live to colleagues and, on a web chat, to the visitor; send at most every 3 s)", Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			if err := s.Typing(r.Context(), r.PathValue("id")); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/inquiries/{id}/messages", Tag: "inquiries", Summary: "An inquiry's messages, oldest first", Query: []string{"limit", "cursor"}, Response: httpx.Page[*Message]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			lp, err := httpx.ParseList(r)
			if err != nil {
				return err
			}
			items, next, err := s.Messages(r.Context(), r.PathValue("id"), lp)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, next, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/inquiries/{id}/messages", Tag: "inquiries", Summary: "Reply, record a customer message or add an internal note (@mentions)",
		Request: MessageInput{}, Response: Message{}, Status: 201, BodyLimit: messageBodyLimit},
		func(w http.ResponseWriter, r *http.Request) error {
			var in MessageInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			m, err := s.PostMessage(r.Context(), r.PathValue("id"), in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 201, m)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/inquiries/{id}/attachments/{attachment_id}", Tag: "inquiries", Summary: "Download an attachment of the inquiry's messages"},
		func(w http.ResponseWriter, r *http.Request) error {
			rc, a, err := s.OpenAttachment(r.Context(), r.PathValue("id"), r.PathValue("attachment_id"))
			if err != nil {
				return err
			}
			defer rc.Close()
			h := w.Header()
			// Always a download, never rendered by the browser: a mailed
			// HTML or SVG file must not run in Prelude's origin.
			ctype := a.ContentType
			if _, _, err := mime.ParseMediaType(ctype); err != nil || ctype == "" {
				ctype = "application/octet-stream"
			}
			h.Set("Content-Type", ctype)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Content-Security-Policy", "sandbox")
			h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(firstNonEmpty(a.Filename, "attachment")))
			h.Set("Cache-Control", "private, no-store")
			if a.Size > 0 {
				h.Set("Content-Length", strconv.FormatInt(a.Size, 10))
			}
			_, err = io.Copy(w, rc)
			return err
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/inquiries/{id}/breaches", Tag: "inquiries", Summary: "Missed response targets of an inquiry", Response: httpx.Page[Breach]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.Breaches(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, nil, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/inquiries/{id}/meetings", Tag: "inquiries", Summary: "Schedule a meeting (invitation as .ics, emailed when asked)", Request: MeetingInput{}, Response: Message{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in MeetingInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			m, err := s.ScheduleMeeting(r.Context(), r.PathValue("id"), in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 201, m)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/inquiries/{id}/meetings/{message_id}/invite.ics", Tag: "inquiries", Summary: "A meeting's invitation (iCalendar METHOD:REQUEST)"},
		func(w http.ResponseWriter, r *http.Request) error {
			body, err := s.MeetingInvite(r.Context(), r.PathValue("id"), r.PathValue("message_id"))
			if err != nil {
				return err
			}
			w.Header().Set("Content-Type", "text/calendar; charset=utf-8; method=REQUEST")
			w.Header().Set("Content-Disposition", `attachment; filename="invite.ics"`)
			w.Write([]byte(body))
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/calls", Tag: "inquiries", Summary: "Log a phone call (on an inquiry, or as a new one matched by the number)", Request: CallInput{}, Response: CallResult{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in CallInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			out, err := s.LogCall(r.Context(), in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 201, out)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/inbox/counts", Tag: "inquiries", Summary: "Unread inquiries per inbox view", Response: Counts{}},
		func(w http.ResponseWriter, r *http.Request) error {
			c, err := s.UnreadCounts(r.Context())
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, c)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/inbox/stream", Tag: "inquiries", Summary: "Live inbox events in my scope (Server-Sent Events)"},
		func(w http.ResponseWriter, r *http.Request) error { return s.Stream(w, r) })
	a.adminRoutes(rt)
}

func (a *API) adminRoutes(rt *httpx.Router) {
	s := a.Svc
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/sla-policies", Tag: "inquiries", Summary: "Response-time policies", Response: httpx.Page[Policy]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.Policies(r.Context())
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, nil, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/sla-policies", Tag: "inquiries", Summary: "Add a response-time policy for a channel and priority", Permission: authz.SLAManage,
		Request: PolicyInput{}, Response: Policy{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in PolicyInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			p, err := s.CreatePolicy(r.Context(), in)
			if err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/sla-policies/"+p.ID)
			httpx.SetETag(w, p.Version)
			httpx.WriteJSON(w, 201, p)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PATCH", Path: "/api/v1/sla-policies/{id}", Tag: "inquiries", Summary: "Change a response-time policy", Permission: authz.SLAManage, Request: PolicyInput{}, Response: Policy{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in PolicyInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			p, err := s.UpdatePolicy(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			httpx.SetETag(w, p.Version)
			httpx.WriteJSON(w, 200, p)
			return nil
		})
	rt.Handle(httpx.Route{Method: "DELETE", Path: "/api/v1/sla-policies/{id}", Tag: "inquiries", Summary: "Remove a response-time policy", Permission: authz.SLAManage, Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			if err := s.DeletePolicy(r.Context(), r.PathValue("id")); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/inquiry-rules", Tag: "inquiries", Summary: "Assignment rules, in the order they are tried", Response: httpx.Page[*Rule]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.Rules(r.Context())
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, nil, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/inquiry-rules", Tag: "inquiries", Summary: "Add an assignment rule (team, round-robin among present staff, or one person)",
		Request: RuleInput{}, Response: Rule{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in RuleInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			out, err := s.CreateRule(r.Context(), in)
			if err != nil {
				return err
			}
			httpx.SetETag(w, out.Version)
			httpx.WriteJSON(w, 201, out)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PATCH", Path: "/api/v1/inquiry-rules/{id}", Tag: "inquiries", Summary: "Replace an assignment rule", Request: RuleInput{}, Response: Rule{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in RuleInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			out, err := s.UpdateRule(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			httpx.SetETag(w, out.Version)
			httpx.WriteJSON(w, 200, out)
			return nil
		})
	rt.Handle(httpx.Route{Method: "DELETE", Path: "/api/v1/inquiry-rules/{id}", Tag: "inquiries", Summary: "Remove an assignment rule", Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			if err := s.DeleteRule(r.Context(), r.PathValue("id")); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		})
	agentID := func(r *http.Request) string {
		id := r.PathValue("user_id")
		if id == "me" {
			if p := authz.From(r.Context()); p != nil {
				return p.UserID
			}
		}
		return id
	}
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/inbox-agents/{user_id}", Tag: "inquiries", Summary: "A user's inbox settings (availability, signature); \"me\" for mine", Response: Agent{}},
		func(w http.ResponseWriter, r *http.Request) error {
			out, err := s.GetAgent(r.Context(), agentID(r))
			if err != nil {
				return err
			}
			httpx.SetETag(w, max(out.Version, 1))
			httpx.WriteJSON(w, 200, out)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PATCH", Path: "/api/v1/inbox-agents/{user_id}", Tag: "inquiries", Summary: "Toggle availability for round-robin or set the email signature", Request: AgentPatch{}, Response: Agent{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in AgentPatch
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			out, err := s.UpdateAgent(r.Context(), agentID(r), v, in)
			if err != nil {
				return err
			}
			httpx.SetETag(w, out.Version)
			httpx.WriteJSON(w, 200, out)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/canned-answers", Tag: "inquiries", Summary: "Canned answers and product facts I can use", Query: []string{"kind", "q"}, Response: httpx.Page[*Canned]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			q := r.URL.Query()
			items, err := s.CannedAnswers(r.Context(), q.Get("kind"), q.Get("q"))
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, nil, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/canned-answers", Tag: "inquiries", Summary: "Add a canned answer (personal, team or global)", Request: CannedInput{}, Response: Canned{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in CannedInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			c, err := s.CreateCanned(r.Context(), in)
			if err != nil {
				return err
			}
			httpx.SetETag(w, c.Version)
			httpx.WriteJSON(w, 201, c)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PATCH", Path: "/api/v1/canned-answers/{id}", Tag: "inquiries", Summary: "Edit a canned answer", Request: CannedInput{}, Response: Canned{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in CannedInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			c, err := s.UpdateCanned(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			httpx.SetETag(w, c.Version)
			httpx.WriteJSON(w, 200, c)
			return nil
		})
	rt.Handle(httpx.Route{Method: "DELETE", Path: "/api/v1/canned-answers/{id}", Tag: "inquiries", Summary: "Remove a canned answer", Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			if err := s.DeleteCanned(r.Context(), r.PathValue("id")); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/canned-answers/{id}/render", Tag: "inquiries", Summary: "Fill a canned answer's {{variables}} for an inquiry", Request: renderInput{}, Response: Rendered{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in renderInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			out, err := s.RenderCanned(r.Context(), r.PathValue("id"), in.InquiryID)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, out)
			return nil
		})
}

type renderInput struct {
	InquiryID string `json:"inquiry_id"`
}
