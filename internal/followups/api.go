package followups

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"prelude/internal/platform/auth"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
)

// API exposes follow-ups over HTTP.
type API struct {
	Svc     *Service
	BaseURL string
	// feeds limits the public calendar endpoint per address (calendar
	// clients poll every few minutes; a flood is someone guessing tokens).
	feeds *auth.Limiter
}

type cancelInput struct {
	Reason string `json:"reason"`
}

type statsResult struct {
	Total  *PromiseStats  `json:"total"`
	People []PromiseStats `json:"people"`
	From   time.Time      `json:"from"`
	To     time.Time      `json:"to"`
}

type notificationsPage struct {
	Items  []Notification `json:"items"`
	Unread int            `json:"unread"`
}

type feedResult struct {
	URL string `json:"url"`
}

func writeTask(w http.ResponseWriter, status int, t *Task) {
	httpx.SetETag(w, t.Version)
	httpx.WriteJSON(w, status, t)
}

// Routes registers the follow-up endpoints.
func (a *API) Routes(rt *httpx.Router) {
	s := a.Svc
	a.feeds = auth.NewLimiter(60, 30)
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/my-day", Tag: "followups", Summary: "My overdue, today's and upcoming tasks and open promises", Response: MyDay{}},
		func(w http.ResponseWriter, r *http.Request) error {
			d, err := s.MyDay(r.Context())
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, d)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/tasks", Tag: "followups", Summary: "Tasks in my data scope, by due time",
		Query: []string{"owner_id", "account_id", "status", "promise", "from", "to", "overdue", "limit", "cursor"}, Response: httpx.Page[*Task]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			lp, err := httpx.ParseList(r)
			if err != nil {
				return err
			}
			q := r.URL.Query()
			f := TaskFilter{OwnerID: q.Get("owner_id"), AccountID: q.Get("account_id"), Status: q.Get("status")}
			if f.Promise, err = httpx.QueryBool(r, "promise"); err != nil {
				return err
			}
			overdue, err := httpx.QueryBool(r, "overdue")
			if err != nil {
				return err
			}
			f.Overdue = overdue != nil && *overdue
			if f.From, err = httpx.QueryTime(r, "from"); err != nil {
				return err
			}
			if f.To, err = httpx.QueryTime(r, "to"); err != nil {
				return err
			}
			items, next, err := s.ListTasks(r.Context(), f, lp)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, next, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/tasks", Tag: "followups", Summary: "Create a task or a promise to a customer", Request: TaskInput{}, Response: Task{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in TaskInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			t, err := s.CreateTask(r.Context(), in)
			if err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/tasks/"+t.ID)
			writeTask(w, 201, t)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/tasks/{id}", Tag: "followups", Summary: "Get a task", Response: Task{}},
		func(w http.ResponseWriter, r *http.Request) error {
			t, err := s.GetTask(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			writeTask(w, 200, t)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PATCH", Path: "/api/v1/tasks/{id}", Tag: "followups", Summary: "Edit, reschedule or reassign a task", Request: TaskPatch{}, Response: Task{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in TaskPatch
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			t, err := s.UpdateTask(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			writeTask(w, 200, t)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/tasks/{id}/complete", Tag: "followups", Summary: "Complete a task (a promise needs evidence)", Request: CompleteInput{}, Response: Task{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in CompleteInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			t, err := s.CompleteTask(r.Context(), r.PathValue("id"), in)
			if err != nil {
				return err
			}
			writeTask(w, 200, t)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/tasks/{id}/cancel", Tag: "followups", Summary: "Cancel a task (a promise needs a reason)", Request: cancelInput{}, Response: Task{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in cancelInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			t, err := s.CancelTask(r.Context(), r.PathValue("id"), in.Reason)
			if err != nil {
				return err
			}
			writeTask(w, 200, t)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/promise-stats", Tag: "followups", Summary: "Promises kept on time, late and broken, per person in my scope",
		Query: []string{"from", "to", "owner_id", "broken"}, Response: statsResult{}},
		func(w http.ResponseWriter, r *http.Request) error {
			from, err := httpx.QueryTime(r, "from")
			if err != nil {
				return err
			}
			to, err := httpx.QueryTime(r, "to")
			if err != nil {
				return err
			}
			now := time.Now().UTC()
			if to.IsZero() {
				to = now.Add(time.Minute)
			}
			if from.IsZero() {
				from = to.AddDate(0, 0, -30)
			}
			broken, err := httpx.QueryBool(r, "broken")
			if err != nil {
				return err
			}
			total, people, err := s.Stats(r.Context(), from, to, r.URL.Query().Get("owner_id"), broken != nil && *broken)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, statsResult{Total: total, People: people, From: from, To: to})
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/revisit-plans", Tag: "followups", Summary: "Revisit intervals per account level", Response: []RevisitPlan{}},
		func(w http.ResponseWriter, r *http.Request) error {
			p, err := s.RevisitPlans(r.Context())
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(p, nil, len(p)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "PUT", Path: "/api/v1/revisit-plans/{level}", Tag: "followups", Summary: "Set a level's revisit interval", Request: RevisitPlan{}, Response: RevisitPlan{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in RevisitPlan
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			in.Level = r.PathValue("level")
			p, err := s.SetRevisitPlan(r.Context(), in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, p)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/me/notifications", Tag: "notifications", Summary: "My in-app notifications", Query: []string{"unread", "limit"}, Response: notificationsPage{}},
		func(w http.ResponseWriter, r *http.Request) error {
			lp, err := httpx.ParseList(r)
			if err != nil {
				return err
			}
			unread, err := httpx.QueryBool(r, "unread")
			if err != nil {
				return err
			}
			items, n, err := s.Notifications(r.Context(), unread != nil && *unread, lp.Limit)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, notificationsPage{Items: items, Unread: n})
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/me/stream", Tag: "notifications", Summary: "Live unread count and newest notification (Server-Sent Events)"},
		func(w http.ResponseWriter, r *http.Request) error { return s.Stream(w, r) })
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/me/notifications/{id}/read", Tag: "notifications", Summary: "Mark a notification read", Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			if err := s.MarkRead(r.Context(), r.PathValue("id")); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/me/notifications/read-all", Tag: "notifications", Summary: "Mark all my notifications read", Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			if err := s.MarkRead(r.Context(), ""); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/me/channels", Tag: "notifications", Summary: "My notification channels (email, WeCom, DingTalk, Feishu)", Response: httpx.Page[*Channel]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.Channels(r.Context())
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, nil, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/me/channels", Tag: "notifications", Summary: "Add a notification channel", Request: ChannelInput{}, Response: Channel{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in ChannelInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			c, err := s.AddChannel(r.Context(), in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 201, c)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PUT", Path: "/api/v1/me/channels/{id}", Tag: "notifications", Summary: "Change a notification channel (events, address, on/off; an empty secret keeps the stored one)",
		Request: ChannelInput{}, Response: Channel{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in ChannelInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			c, err := s.UpdateChannel(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			httpx.SetETag(w, c.Version)
			httpx.WriteJSON(w, 200, c)
			return nil
		})
	rt.Handle(httpx.Route{Method: "DELETE", Path: "/api/v1/me/channels/{id}", Tag: "notifications", Summary: "Remove a notification channel", Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			if err := s.DeleteChannel(r.Context(), r.PathValue("id")); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/me/channels/{id}/test", Tag: "notifications", Summary: "Send a test message through a channel", Status: 202},
		func(w http.ResponseWriter, r *http.Request) error {
			if err := s.TestChannel(r.Context(), r.PathValue("id")); err != nil {
				return err
			}
			w.WriteHeader(202)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/me/deliveries", Tag: "notifications", Summary: "Delivery status of my notifications", Query: []string{"limit"}, Response: httpx.Page[Delivery]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			lp, err := httpx.ParseList(r)
			if err != nil {
				return err
			}
			items, err := s.Deliveries(r.Context(), lp.Limit)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, nil, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/me/calendar-feed", Tag: "followups", Summary: "Create my iCalendar feed URL (shown once; replaces the old one)", Response: feedResult{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			token, err := s.CreateFeed(r.Context())
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 201, feedResult{URL: strings.TrimRight(a.BaseURL, "/") + "/api/v1/public/calendar/" + token + ".ics"})
			return nil
		})
	rt.Handle(httpx.Route{Method: "DELETE", Path: "/api/v1/me/calendar-feed", Tag: "followups", Summary: "Stop my calendar feed", Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			if err := s.RevokeFeed(r.Context()); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/public/calendar/{file}", Tag: "followups", Public: true, Summary: "iCalendar feed of a user's tasks (token in the path)"},
		func(w http.ResponseWriter, r *http.Request) error {
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				host = r.RemoteAddr
			}
			if ok, wait := a.feeds.Allow(host); !ok {
				return &errs.Error{Kind: errs.RateLimited, Code: "rate_limited", Key: "err.rate_limited", Args: []any{wait}, RetryAfter: wait}
			}
			token := strings.TrimSuffix(r.PathValue("file"), ".ics")
			body, ok, err := s.Feed(r.Context(), token)
			if err != nil {
				return err
			}
			if !ok {
				return errs.NotFoundf("entity.calendar")
			}
			w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
			w.Header().Set("Cache-Control", "private, max-age=300")
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write([]byte(body))
			return nil
		})
}
