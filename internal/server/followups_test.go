package server_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Promises: one met on time is kept, one met late is late, one never met is
// broken, and the rates add up.
func TestPromisesKeptLateBrokenAndRates(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		sales := e.User(admin, "promise.keeper", []string{"sales"}, e.RootDepartment(admin))
		ctx := context.Background()
		mk := func(name string) string {
			return newAccount(t, sales, map[string]any{"name": name}).Expect(t, 201).Str("id")
		}
		onTime, late, broken, evidence := mk("准时科技"), mk("迟到科技"), mk("失约科技"), mk("凭证科技")
		promise := func(account string, due time.Time) string {
			return sales.Do("POST", "/api/v1/tasks", map[string]any{"title": "回复报价", "kind": "call", "due_at": rfc(due), "account_id": account,
				"is_promise": true, "promise_text": "周五前给出正式报价", "promised_to": "王总"}).Expect(t, 201).Str("id")
		}
		soon := time.Now().Add(2 * time.Second)
		p1, p2, p3, p4 := promise(onTime, time.Now().Add(time.Hour)), promise(late, soon), promise(broken, soon), promise(evidence, time.Now().Add(time.Hour))
		// Kept: the call is logged before the due time.
		sales.Do("POST", "/api/v1/accounts/"+onTime+"/activities", map[string]any{"kind": "call", "summary": "已电话告知报价"}).Expect(t, 201)
		// Completed with evidence before the due time: kept too.
		sales.Do("POST", "/api/v1/tasks/"+p4+"/complete", map[string]any{}).Expect(t, 422)
		sales.Do("POST", "/api/v1/tasks/"+p4+"/complete", map[string]any{"evidence": "邮件已发送报价单 QT-2026-0001"}).Expect(t, 200)
		time.Sleep(time.Until(soon) + 200*time.Millisecond)
		if _, err := e.Srv.Followups.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if s := sales.Do("GET", "/api/v1/tasks/"+p3, nil).Str("promise_state"); s != "broken" {
			t.Fatalf("missed promise is %q", s)
		}
		// Late: the call comes after the due time (and after it was broken).
		sales.Do("POST", "/api/v1/accounts/"+late+"/activities", map[string]any{"kind": "call", "summary": "迟到的回复"}).Expect(t, 201)
		for id, want := range map[string]string{p1: "kept", p2: "late", p3: "broken", p4: "kept"} {
			got := sales.Do("GET", "/api/v1/tasks/"+id, nil).Expect(t, 200)
			if got.Str("promise_state") != want {
				t.Errorf("%s: %s, want %s (%s)", id, got.Str("promise_state"), want, got.Body)
			}
		}
		var st struct {
			Total struct {
				Due, Kept, Late, Broken, Pending int
				KeptOnTime                       float64          `json:"kept_on_time_rate"`
				Fulfilled                        float64          `json:"fulfilled_rate"`
				BrokenTasks                      []map[string]any `json:"broken_tasks"`
			} `json:"total"`
			People []map[string]any `json:"people"`
		}
		sales.Do("GET", "/api/v1/promise-stats?broken=true&to="+rfc(time.Now().Add(2*time.Hour)), nil).Expect(t, 200).JSON(&st)
		if st.Total.Due != 4 || st.Total.Kept != 2 || st.Total.Late != 1 || st.Total.Broken != 1 || st.Total.KeptOnTime != 0.5 || st.Total.Fulfilled != 0.75 {
			t.Fatalf("stats: %+v", st.Total)
		}
		if len(st.Total.BrokenTasks) != 1 || len(st.People) != 1 {
			t.Fatalf("broken list / people: %+v", st)
		}
		// The broken promise is on the customer's timeline and the owner was told.
		tl := sales.Do("GET", "/api/v1/accounts/"+broken+"/timeline?kind=promise_broken", nil).Expect(t, 200)
		if !strings.Contains(string(tl.Body), "promise_broken") {
			t.Fatalf("timeline: %s", tl.Body)
		}
		var n struct {
			Items  []map[string]any `json:"items"`
			Unread int              `json:"unread"`
		}
		sales.Do("GET", "/api/v1/me/notifications", nil).Expect(t, 200).JSON(&n)
		found := false
		for _, it := range n.Items {
			found = found || it["event"] == "promise_broken"
		}
		if !found {
			t.Fatalf("no promise_broken notification: %+v", n.Items)
		}
		// My day shows the overdue items first.
		sales.Do("POST", "/api/v1/tasks", map[string]any{"title": "准备演示环境", "kind": "internal", "due_at": rfc(time.Now().Add(3 * time.Hour))}).Expect(t, 201)
		var day struct {
			Overdue, Today, Promises []map[string]any
		}
		sales.Do("GET", "/api/v1/my-day", nil).Expect(t, 200).JSON(&day)
		if len(day.Overdue) != 1 || day.Overdue[0]["id"] != p3 || day.Overdue[0]["overdue"] != true {
			t.Fatalf("my day overdue: %+v", day.Overdue)
		}
	})
}

func TestTaskValidationAndScope(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		root := e.RootDepartment(admin)
		a := e.User(admin, "task.a", []string{"sales"}, e.Department(admin, "甲部", root))
		b := e.User(admin, "task.b", []string{"sales"}, e.Department(admin, "乙部", root))
		future := rfc(time.Now().Add(time.Hour))
		for _, body := range []map[string]any{
			{"title": "", "due_at": future},
			{"title": "x", "due_at": rfc(time.Now().Add(-time.Hour))},
			{"title": "x", "due_at": future, "kind": "party"},
			{"title": "x", "due_at": future, "is_promise": true, "promise_text": "y"},
			{"title": "x", "due_at": future, "owner_id": b.ID},
			{"title": "x", "due_at": future, "remind_before_min": -5},
		} {
			if r := a.Do("POST", "/api/v1/tasks", body); r.Status != 422 {
				t.Errorf("%v: %d %s", body, r.Status, r.Body)
			}
		}
		a.Do("POST", "/api/v1/tasks", `{"title":"x","due_at":"next friday"}`).Expect(t, 400)
		id := a.Do("POST", "/api/v1/tasks", map[string]any{"title": "约客户", "due_at": future}).Expect(t, 201).Str("id")
		b.Do("GET", "/api/v1/tasks/"+id, nil).Expect(t, 404)
		b.Do("POST", "/api/v1/tasks/"+id+"/complete", map[string]any{}).Expect(t, 404)
		r := a.Do("GET", "/api/v1/tasks/"+id, nil)
		a.Do("PATCH", "/api/v1/tasks/"+id, map[string]any{"due_at": rfc(time.Now().Add(48 * time.Hour))}, "If-Match", r.Header.Get("ETag")).Expect(t, 200)
		a.Do("PATCH", "/api/v1/tasks/"+id, map[string]any{"title": "y"}, "If-Match", r.Header.Get("ETag")).Expect(t, 412)
		a.Do("POST", "/api/v1/tasks/"+id+"/cancel", map[string]any{}).Expect(t, 200)
		a.Do("POST", "/api/v1/tasks/"+id+"/complete", map[string]any{}).Expect(t, 409)
	})
}

// A reminder fires exactly once even with two instances ticking at once.
func TestReminderFiresOnceAcrossInstances(t *testing.T) {
	url := dbtest.SchemaURL(t)
	open := func() *servertest.Env {
		d, err := db.Open(context.Background(), db.Config{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return servertest.Start(t, d)
	}
	a := open()
	b := open()
	admin := a.Admin()
	hook := newRobot(t)
	admin.Do("POST", "/api/v1/me/channels", map[string]any{"kind": "wecom", "target": hook.URL + "/wecom"}).Expect(t, 201)
	id := admin.Do("POST", "/api/v1/tasks", map[string]any{"title": "给客户回电", "due_at": rfc(time.Now().Add(3 * time.Second)), "remind_before_min": 0}).Expect(t, 201).Str("id")
	_ = id
	ctx := context.Background()
	deadline := time.Now().Add(8 * time.Second)
	for time.Now().Before(deadline) {
		var wg sync.WaitGroup
		for _, e := range []*servertest.Env{a, b, a, b} {
			wg.Add(1)
			go func() { defer wg.Done(); e.Srv.Followups.Tick(ctx) }()
		}
		wg.Wait()
		time.Sleep(100 * time.Millisecond)
		if hook.count("/wecom") >= 2 {
			break
		}
	}
	// Wait for the queue to deliver, then make sure nothing more arrives.
	waitFor(t, func() bool { return hook.count("/wecom") >= 2 })
	time.Sleep(1500 * time.Millisecond)
	var reminders, overdue int
	for _, m := range hook.messages("/wecom") {
		text := m["text"].(map[string]any)["content"].(string)
		switch {
		case strings.Contains(text, "跟进提醒"):
			reminders++
		case strings.Contains(text, "任务已逾期"):
			overdue++
		}
	}
	if reminders != 1 || overdue != 1 {
		t.Fatalf("reminders %d, overdue %d (want 1 each): %v", reminders, overdue, hook.messages("/wecom"))
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// robot is a local chat-robot endpoint recording what it receives.
type robot struct {
	*httptest.Server
	mu   sync.Mutex
	got  map[string][]map[string]any
	reqs map[string][]*http.Request
	fail map[string]int // answer 500 this many times first
}

func newRobot(t *testing.T) *robot {
	r := &robot{got: map[string][]map[string]any{}, reqs: map[string][]*http.Request{}, fail: map[string]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.fail[req.URL.Path] > 0 {
			r.fail[req.URL.Path]--
			w.WriteHeader(500)
			return
		}
		m := map[string]any{}
		json.Unmarshal(body, &m)
		r.got[req.URL.Path] = append(r.got[req.URL.Path], m)
		r.reqs[req.URL.Path] = append(r.reqs[req.URL.Path], req)
		w.Write([]byte(`{"errcode":0,"errmsg":"ok","code":0}`))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *robot) count(path string) int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.got[path]) }
func (r *robot) messages(path string) []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]any(nil), r.got[path]...)
}

// DingTalk, WeCom and Feishu robots get the right JSON and signatures, and a
// failing endpoint is retried, then shown as failed.
func TestChatRobotDeliveries(t *testing.T) {
	e := servertest.Start(t, dbtest.OpenSQLite(t, dbtest.Options{}))
	admin := e.Admin()
	hook := newRobot(t)
	hook.fail["/wecom"] = 1
	const secret = "SECtest-secret"
	var ids []string
	for _, c := range []map[string]any{
		{"kind": "dingtalk", "target": hook.URL + "/dingtalk?access_token=abc", "secret": secret},
		{"kind": "feishu", "target": hook.URL + "/feishu", "secret": secret},
		{"kind": "wecom", "target": hook.URL + "/wecom"},
		{"kind": "email", "target": "nobody@example.com"},
	} {
		ids = append(ids, admin.Do("POST", "/api/v1/me/channels", c).Expect(t, 201).Str("id"))
	}
	admin.Do("POST", "/api/v1/me/channels", map[string]any{"kind": "dingtalk", "target": "ftp://x"}).Expect(t, 422)
	for _, id := range ids {
		admin.Do("POST", "/api/v1/me/channels/"+id+"/test", nil).Expect(t, 202)
	}
	waitFor(t, func() bool {
		return hook.count("/dingtalk") == 1 && hook.count("/feishu") == 1 && hook.count("/wecom") == 1
	})

	req := hook.reqs["/dingtalk"][0]
	ts, sign := req.URL.Query().Get("timestamp"), req.URL.Query().Get("sign")
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "\n" + secret))
	if sign != base64.StdEncoding.EncodeToString(mac.Sum(nil)) || req.URL.Query().Get("access_token") != "abc" {
		t.Fatalf("dingtalk signature: %s", req.URL.RawQuery)
	}
	if m := hook.messages("/dingtalk")[0]; m["msgtype"] != "text" || !strings.Contains(m["text"].(map[string]any)["content"].(string), "Prelude") {
		t.Fatalf("dingtalk body: %v", m)
	}
	fm := hook.messages("/feishu")[0]
	fmac := hmac.New(sha256.New, []byte(fm["timestamp"].(string)+"\n"+secret))
	if fm["msg_type"] != "text" || fm["sign"] != base64.StdEncoding.EncodeToString(fmac.Sum(nil)) {
		t.Fatalf("feishu body: %v", fm)
	}
	if m := hook.messages("/wecom")[0]; m["msgtype"] != "text" {
		t.Fatalf("wecom body: %v", m)
	}
	// Delivery status is visible: webhooks delivered (WeCom after a retry),
	// email failed because no SMTP server is configured.
	var dl struct{ Items []map[string]any }
	waitFor(t, func() bool {
		admin.Do("GET", "/api/v1/me/deliveries", nil).Expect(t, 200).JSON(&dl)
		done := 0
		for _, it := range dl.Items {
			if it["status"] != "pending" {
				done++
			}
		}
		return done == 4
	})
	for _, it := range dl.Items {
		want := "delivered"
		if it["channel_kind"] == "email" {
			want = "failed"
		}
		if it["status"] != want {
			t.Errorf("%v: %v", it["channel_kind"], it)
		}
		if it["channel_kind"] == "wecom" && it["attempts"].(float64) != 2 {
			t.Errorf("wecom attempts %v", it["attempts"])
		}
		// Every webhook carries the delivery's key so a receiver can drop a
		// send repeated after a crash.
		if k, _ := it["channel_kind"].(string); k != "email" {
			hook.mu.Lock()
			got := hook.reqs["/"+k][0].Header.Get("X-Prelude-Delivery")
			hook.mu.Unlock()
			if got != it["id"] {
				t.Errorf("%s: X-Prelude-Delivery %q, want the delivery id %v", k, got, it["id"])
			}
		}
	}
}

func TestCalendarFeedParses(t *testing.T) {
	e := servertest.Start(t, dbtest.OpenSQLite(t, dbtest.Options{}))
	admin := e.Admin()
	acc := newAccount(t, admin, map[string]any{"name": "日历测试有限公司"}).Expect(t, 201).Str("id")
	admin.Do("POST", "/api/v1/tasks", map[string]any{"title": "回访客户，确认方案；顺便, 带上资料", "due_at": rfc(time.Now().Add(24 * time.Hour)),
		"account_id": acc, "is_promise": true, "promise_text": strings.Repeat("很长的承诺内容", 20)}).Expect(t, 201)
	feed := admin.Do("POST", "/api/v1/me/calendar-feed", nil).Expect(t, 201).Str("url")
	path := feed[strings.Index(feed, "/api/v1/public/"):]
	anon := e.Client()
	r := anon.Do("GET", path, nil).Expect(t, 200)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("content type %s", r.Header.Get("Content-Type"))
	}
	cal, err := ical.NewDecoder(strings.NewReader(string(r.Body))).Decode()
	if err != nil {
		t.Fatalf("not valid iCalendar: %v\n%s", err, r.Body)
	}
	events := cal.Events()
	if len(events) != 1 {
		t.Fatalf("%d events", len(events))
	}
	summary, _ := events[0].Props.Text(ical.PropSummary)
	if summary != "【承诺】回访客户，确认方案；顺便, 带上资料" {
		t.Fatalf("summary %q", summary)
	}
	anon.Do("GET", "/api/v1/public/calendar/cal_forged.ics", nil).Expect(t, 404)
	admin.Do("DELETE", "/api/v1/me/calendar-feed", nil).Expect(t, 204)
	anon.Do("GET", path, nil).Expect(t, 404)
}

func TestRevisitPlansCreateTasks(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		old := newAccount(t, admin, map[string]any{"name": "久未联系科技", "level": "A"}).Expect(t, 201).Str("id")
		newAccount(t, admin, map[string]any{"name": "刚联系科技", "level": "A"}).Expect(t, 201)
		ctx := context.Background()
		d.Exec(ctx, "UPDATE accounts SET created_at = ? WHERE id = ?", db.Ms(time.Now().Add(-40*24*time.Hour)), old)
		admin.Do("PUT", "/api/v1/revisit-plans/A", map[string]any{"interval_days": 0, "enabled": true}).Expect(t, 422)
		admin.Do("PUT", "/api/v1/revisit-plans/A", map[string]any{"interval_days": 30, "enabled": true}).Expect(t, 200)
		n, err := e.Srv.Followups.PlanRevisits(ctx)
		if err != nil || n != 1 {
			t.Fatalf("planned %d, %v", n, err)
		}
		if n, _ := e.Srv.Followups.PlanRevisits(ctx); n != 0 {
			t.Fatalf("second run planned %d again", n)
		}
		var page struct{ Items []map[string]any }
		admin.Do("GET", "/api/v1/tasks?account_id="+old, nil).Expect(t, 200).JSON(&page)
		if len(page.Items) != 1 || page.Items[0]["source"] != "revisit" || !strings.Contains(page.Items[0]["title"].(string), "久未联系科技") {
			t.Fatalf("revisit task: %+v", page.Items)
		}
	})
}

// The live stream pushes a notification created through another instance's
// API within a few seconds.
func TestNotificationStream(t *testing.T) {
	e := servertest.Start(t, dbtest.OpenSQLite(t, dbtest.Options{}))
	admin := e.Admin()
	other := e.User(admin, "stream.boss", []string{"sales"}, e.RootDepartment(admin))
	req, _ := http.NewRequest("GET", e.HTTP.URL+"/api/v1/me/stream", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req = req.WithContext(ctx)
	res, err := other.HC.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	// Assigning a task to them creates a notification.
	admin.Do("POST", "/api/v1/tasks", map[string]any{"title": "请联系新客户", "due_at": rfc(time.Now().Add(time.Hour)), "owner_id": other.ID}).Expect(t, 201)
	buf := make([]byte, 0, 4096)
	chunk := make([]byte, 1024)
	for !strings.Contains(string(buf), "请联系新客户") {
		n, err := res.Body.Read(chunk)
		if err != nil {
			t.Fatalf("stream ended before the notification: %v (%s)", err, buf)
		}
		buf = append(buf, chunk[:n]...)
	}
	if !strings.Contains(string(buf), `"unread":1`) {
		t.Fatalf("unread count not pushed: %s", buf)
	}
}
