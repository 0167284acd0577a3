package server_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
	"prelude/internal/webchat"
)

// The origin of the company website that embeds the widget in these tests.
const shopOrigin = "https://shop.example.cn"

type chatSite struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	SiteKey        string   `json:"site_key"`
	AllowedOrigins []string `json:"allowed_origins"`
	Enabled        bool     `json:"enabled"`
	DepartmentID   *string  `json:"department_id"`
	EmbedCode      string   `json:"embed_code"`
	Version        int64    `json:"version"`
}

type chatMsg struct {
	ID         string    `json:"id"`
	From       string    `json:"from"`
	AuthorName string    `json:"author_name"`
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"created_at"`
}

// chatEnv is a server with one chat site (for shopOrigin, routed to a
// presales team) and an agent of that team.
type chatEnv struct {
	e     *servertest.Env
	admin *servertest.Client
	agent *servertest.Client
	dept  string
	site  chatSite
}

func newChatEnv(t *testing.T, d *db.DB, cfg map[string]string) *chatEnv {
	t.Helper()
	var e *servertest.Env
	if cfg != nil {
		e = servertest.StartWith(t, d, servertest.Config(t, cfg))
	} else {
		e = servertest.Start(t, d)
	}
	admin := e.Admin()
	dept := e.Department(admin, "在线客服组", e.RootDepartment(admin))
	agent := e.User(admin, "chat.agent", []string{"presales"}, dept)
	var site chatSite
	admin.Do("POST", "/api/v1/chat-sites", map[string]any{"name": "官网", "allowed_origins": []string{shopOrigin}, "department_id": dept}).Expect(t, 201).JSON(&site)
	return &chatEnv{e: e, admin: admin, agent: agent, dept: dept, site: site}
}

// visitor is an anonymous browser on the company website: no cookie, its
// page's Origin on every request.
type visitor struct {
	c      *servertest.Client
	origin string
	key    string
	token  string
	ip     string
}

func (ce *chatEnv) visitor() *visitor {
	return &visitor{c: ce.e.Client(), origin: shopOrigin, key: ce.site.SiteKey}
}

func (v *visitor) path(p string) string { return "/api/v1/public/chat/sites/" + v.key + p }

func (v *visitor) do(method, p string, body any, hdr ...string) *servertest.Resp {
	h := []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "cors"}
	if v.origin != "" {
		h = append(h, "Origin", v.origin)
	}
	if v.token != "" {
		h = append(h, webchat.TokenHeader, v.token)
	}
	if v.ip != "" {
		h = append(h, "X-Forwarded-For", v.ip)
	}
	return v.c.Do(method, v.path(p), body, append(h, hdr...)...)
}

func newClientID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

type started struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	Message   chatMsg   `json:"message"`
}

func (v *visitor) start(t *testing.T, body map[string]any) started {
	t.Helper()
	if body["client_id"] == nil {
		body["client_id"] = newClientID()
	}
	var s started
	if err := v.do("POST", "/conversations", body).Expect(t, 201).JSON(&s); err != nil {
		t.Fatal(err)
	}
	v.token = s.Token
	return s
}

func (v *visitor) messages(t *testing.T) []chatMsg {
	t.Helper()
	var page struct {
		Items []chatMsg `json:"items"`
	}
	v.do("GET", "/messages", nil).Expect(t, 200).JSON(&page)
	return page.Items
}

// chatInquiry finds the visitor's inquiry in the agent's inbox.
func chatInquiry(t *testing.T, agent *servertest.Client) inqView {
	t.Helper()
	var page struct {
		Items []inqView `json:"items"`
	}
	agent.Do("GET", "/api/v1/inquiries?channel=web_chat", nil).Expect(t, 200).JSON(&page)
	if len(page.Items) == 0 {
		t.Fatal("the chat is not in the agent's inbox")
	}
	return page.Items[0]
}

// Administrators manage chat sites: origins are normalised to what
// browsers send and bad ones named, the key is unguessable and the embed
// code ready to paste, edits need the current version, everything is
// audited, and nobody else may touch them.
func TestChatSitesAdministration(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.StartWith(t, d, servertest.Config(t, map[string]string{"PRELUDE_BASE_URL": "https://prelude.example.com"}))
		admin := e.Admin()
		root := e.RootDepartment(admin)
		dept := e.Department(admin, "客服部", root)
		staff := e.User(admin, "chat.staff", []string{"presales"}, dept)

		r := admin.Do("POST", "/api/v1/chat-sites", map[string]any{"name": "公司官网", "department_id": dept, "greeting_zh": "您好！",
			"allowed_origins": []string{"https://WWW.Example.cn:443/", "http://shop.example.cn:8080", "https://例子.中国"}, "ask_phone": true}).Expect(t, 201)
		var site chatSite
		r.JSON(&site)
		if r.Header.Get("ETag") != `"1"` || r.Header.Get("Location") != "/api/v1/chat-sites/"+site.ID {
			t.Fatalf("headers: %v", r.Header)
		}
		want := []string{"https://www.example.cn", "http://shop.example.cn:8080", "https://xn--fsqu00a.xn--fiqs8s"}
		if strings.Join(site.AllowedOrigins, " ") != strings.Join(want, " ") {
			t.Fatalf("origins %v, want %v", site.AllowedOrigins, want)
		}
		if !webchat.ValidSiteKey(site.SiteKey) || !site.Enabled || site.DepartmentID == nil || *site.DepartmentID != dept {
			t.Fatalf("site: %s", r.Body)
		}
		wantEmbed := `<script src="https://prelude.example.com/widget.js" data-site="` + site.SiteKey + `" async></script>`
		if site.EmbedCode != wantEmbed {
			t.Fatalf("embed code %q", site.EmbedCode)
		}

		// Bad input: each problem named, nothing written.
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"name": "x", "allowed_origins": []string{}}, "allowed_origins"},
			{map[string]any{"name": "x", "allowed_origins": []string{"https://a.example/shop"}}, "allowed_origins.0"},
			{map[string]any{"name": "x", "allowed_origins": []string{"https://a.example", "ftp://a.example"}}, "allowed_origins.1"},
			{map[string]any{"name": "x", "allowed_origins": []string{"https://a.example", "https://A.example:443"}}, "allowed_origins.1"},
			{map[string]any{"name": "x", "allowed_origins": []string{"https://user@a.example"}}, "allowed_origins.0"},
			{map[string]any{"name": "x", "allowed_origins": []string{"https://a.example:99999"}}, "allowed_origins.0"},
			{map[string]any{"name": "x", "allowed_origins": []string{"*"}}, "allowed_origins.0"},
			{map[string]any{"name": "", "allowed_origins": []string{"https://a.example"}}, "name"},
			{map[string]any{"name": "x", "allowed_origins": []string{"https://a.example"}, "department_id": "01a00000-0000-7000-8000-000000000000"}, "department_id"},
		} {
			r := admin.Do("POST", "/api/v1/chat-sites", c.body).Expect(t, 422)
			if _, ok := fieldsOf(r)[c.field]; !ok {
				t.Errorf("%v: no error on %s: %s", c.body, c.field, r.Body)
			}
		}
		var list struct {
			Items []chatSite `json:"items"`
		}
		admin.Do("GET", "/api/v1/chat-sites", nil).Expect(t, 200).JSON(&list)
		if len(list.Items) != 1 {
			t.Fatalf("%d sites after refused creates", len(list.Items))
		}

		// Only administrators (chat_sites.manage).
		staff.Do("GET", "/api/v1/chat-sites", nil).Expect(t, 403)
		staff.Do("POST", "/api/v1/chat-sites", map[string]any{"name": "x", "allowed_origins": []string{"https://a.example"}}).Expect(t, 403)
		staff.Do("PATCH", "/api/v1/chat-sites/"+site.ID, map[string]any{"enabled": false}).Expect(t, 403)

		// Edits: If-Match, stale is 412 and changes nothing.
		var upd chatSite
		admin.Do("PATCH", "/api/v1/chat-sites/"+site.ID, map[string]any{"name": "官网（新）", "department_id": ""}, inqIfMatch(1)...).Expect(t, 200).JSON(&upd)
		if upd.Name != "官网（新）" || upd.DepartmentID != nil || upd.Version != 2 || upd.SiteKey != site.SiteKey {
			t.Fatalf("update: %+v", upd)
		}
		admin.Do("PATCH", "/api/v1/chat-sites/"+site.ID, map[string]any{"enabled": false}, inqIfMatch(1)...).Expect(t, 412)
		admin.Do("PATCH", "/api/v1/chat-sites/"+site.ID, map[string]any{"allowed_origins": []string{"javascript:alert(1)"}}, inqIfMatch(2)...).Expect(t, 422)
		var rot chatSite
		admin.Do("POST", "/api/v1/chat-sites/"+site.ID+"/rotate-key", nil, inqIfMatch(2)...).Expect(t, 200).JSON(&rot)
		if rot.SiteKey == site.SiteKey || !webchat.ValidSiteKey(rot.SiteKey) || !strings.Contains(rot.EmbedCode, rot.SiteKey) {
			t.Fatalf("rotate: %+v", rot)
		}
		admin.Do("DELETE", "/api/v1/chat-sites/"+site.ID, nil, inqIfMatch(1)...).Expect(t, 412)
		admin.Do("DELETE", "/api/v1/chat-sites/"+site.ID, nil, inqIfMatch(rot.Version)...).Expect(t, 204)
		admin.Do("GET", "/api/v1/chat-sites/"+site.ID, nil).Expect(t, 404)

		var audit struct {
			Items []struct {
				Action string `json:"action"`
			} `json:"items"`
		}
		admin.Do("GET", "/api/v1/audit?entity_type=chat_site", nil).Expect(t, 200).JSON(&audit)
		var actions []string
		for _, it := range audit.Items {
			actions = append(actions, it.Action)
		}
		for _, a := range []string{"chat_site.create", "chat_site.update", "chat_site.rotate_key", "chat_site.delete"} {
			if !strings.Contains(strings.Join(actions, " "), a) {
				t.Errorf("audit lacks %s: %v", a, actions)
			}
		}
	})
}

// A visitor asks on the website: the conversation is a web_chat inquiry in
// the site's team, matched to the customer by phone; the agent answers
// through the inbox; the visitor sees the answer but never the internal
// note; a retried message is stored once; HTML and script in any field are
// kept and shown as text.
func TestWebChatConversation(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ce := newChatEnv(t, d, nil)
		acc := newAccount(t, ce.agent, map[string]any{"name": "明湖软件", "contacts": []map[string]any{{"name": "李经理", "mobile": "13900002222"}}}).Expect(t, 201).Str("id")
		v := ce.visitor()

		info := v.do("GET", "", nil, "Accept-Language", "en").Expect(t, 200).Map()
		if info["greeting"] != "Hello! How can we help you?" || info["ask_name"] != true || info["max_length"] != float64(2000) {
			t.Fatalf("site info: %v", info)
		}
		if v.do("GET", "", nil).Map()["greeting"] != "您好，请问有什么可以帮您？" {
			t.Fatal("default greeting not Chinese")
		}
		r := v.do("GET", "", nil)
		if r.Header.Get("Access-Control-Allow-Origin") != shopOrigin || !strings.Contains(r.Header.Get("Vary"), "Origin") {
			t.Fatalf("CORS headers: %v", r.Header)
		}

		s := v.start(t, map[string]any{"name": "李经理", "phone": "+86 139-0000-2222", "body": "你们的系统支持私有化部署吗？"})
		if !webchat.ValidToken(s.Token) || s.Message.From != "visitor" || s.Message.Body != "你们的系统支持私有化部署吗？" || s.ExpiresAt.Before(time.Now().Add(29*24*time.Hour)) {
			t.Fatalf("start: %+v", s)
		}
		var stored int
		d.QueryRow(context.Background(), "SELECT COUNT(*) FROM chat_visitors WHERE token_hash = ?", s.Token).Scan(&stored)
		if stored != 0 {
			t.Fatal("token stored in clear")
		}

		in := chatInquiry(t, ce.agent)
		if in.DepartmentID == nil || *in.DepartmentID != ce.dept || in.AccountID == nil || *in.AccountID != acc || in.Status != "new" {
			t.Fatalf("inquiry: %+v", in)
		}
		ce.agent.Do("POST", "/api/v1/inquiries/"+in.ID+"/messages", map[string]any{"body": "您好，支持私有化部署，我把资料发给您。"}).Expect(t, 201)
		ce.agent.Do("POST", "/api/v1/inquiries/"+in.ID+"/messages", map[string]any{"direction": "note", "body": "内部：客户预算约 20 万"}).Expect(t, 201)

		msgs := v.messages(t)
		if len(msgs) != 2 || msgs[1].From != "agent" || msgs[1].Body != "您好，支持私有化部署，我把资料发给您。" || msgs[1].AuthorName != "chat.agent" {
			t.Fatalf("visitor sees %+v", msgs)
		}
		r = v.do("GET", "/messages", nil)
		if strings.Contains(string(r.Body), "内部") {
			t.Fatalf("internal note shown to the visitor: %s", r.Body)
		}

		// A message and its retry (same client_id): stored once.
		cid := newClientID()
		m1 := v.do("POST", "/messages", map[string]any{"body": "好的，谢谢", "client_id": cid}).Expect(t, 201).Map()
		m2 := v.do("POST", "/messages", map[string]any{"body": "好的，谢谢", "client_id": cid}).Expect(t, 200).Map()
		if m1["id"] != m2["id"] {
			t.Fatalf("retry stored twice: %v %v", m1, m2)
		}
		if n := len(v.messages(t)); n != 3 {
			t.Fatalf("%d messages after a retried send, want 3", n)
		}
		// A retried start (lost answer) opens nothing new.
		w := ce.visitor()
		first := newClientID()
		s1 := w.start(t, map[string]any{"body": "第二位访客", "client_id": first})
		s2 := w.start(t, map[string]any{"body": "第二位访客", "client_id": first})
		if s1.Message.ID != s2.Message.ID || s1.Token == s2.Token {
			t.Fatalf("retried start: %+v %+v", s1, s2)
		}
		var chats int
		d.QueryRow(context.Background(), "SELECT COUNT(*) FROM inquiries WHERE channel = 'web_chat'").Scan(&chats)
		if chats != 2 {
			t.Fatalf("%d web chats, want 2", chats)
		}

		// Script and markup in every field: stored and returned as text.
		evil := []string{`<script>alert("x")</script>`, `<img src=x onerror=alert(1)>`, `' OR 1=1; DROP TABLE inquiries; --`, `{{7*7}} ${7*7}`, "</textarea><svg/onload=alert(1)>"}
		x := ce.visitor()
		xs := x.start(t, map[string]any{"name": evil[1], "body": evil[0]})
		if xs.Message.Body != evil[0] || xs.Message.AuthorName != evil[1] {
			t.Fatalf("start mangled: %+v", xs.Message)
		}
		for _, e := range evil[2:] {
			if got := x.do("POST", "/messages", map[string]any{"body": e, "client_id": newClientID()}).Expect(t, 201).Str("body"); got != e {
				t.Fatalf("stored %q, sent %q", got, e)
			}
		}
		r = x.do("GET", "/messages", nil).Expect(t, 200)
		if strings.Contains(string(r.Body), "<script") || strings.Contains(string(r.Body), "<img") {
			t.Fatalf("raw markup in JSON: %s", r.Body)
		}
		got := x.messages(t)
		for i, e := range append([]string{evil[0]}, evil[2:]...) {
			if got[i].Body != e {
				t.Fatalf("message %d: %q, want %q", i, got[i].Body, e)
			}
		}
		// The agent sees the same text (no HTML made of it).
		var page struct {
			Items []struct {
				Body string `json:"body"`
				HTML string `json:"html"`
			} `json:"items"`
		}
		var xid string
		d.QueryRow(context.Background(), "SELECT inquiry_id FROM inquiry_messages WHERE id = ?", xs.Message.ID).Scan(&xid)
		ce.agent.Do("GET", "/api/v1/inquiries/"+xid+"/messages", nil).Expect(t, 200).JSON(&page)
		if page.Items[0].Body != evil[0] || page.Items[0].HTML != "" {
			t.Fatalf("agent sees %+v", page.Items[0])
		}

		// Length limits.
		if f := fieldsOf(v.do("POST", "/messages", map[string]any{"body": strings.Repeat("长", 2001)}).Expect(t, 422)); f["body"] == nil {
			t.Fatal("overlong message not named")
		}
		v.do("POST", "/messages", map[string]any{"body": "   "}).Expect(t, 422)
		v.do("POST", "/messages", `{"body": "`+strings.Repeat("a", 70<<10)+`"}`).Expect(t, 413)
		v.do("POST", "/messages", map[string]any{"body": "x", "client_id": "not-a-uuid"}).Expect(t, 422)
		v.do("POST", "/conversations", map[string]any{"body": "x", "phone": "12345"}).Expect(t, 422)
		v.do("POST", "/messages", `{"body": 5}`).Expect(t, 400)
		v.do("POST", "/messages", `{"body": "x", "admin": true}`).Expect(t, 400)
	})
}

// sseEvent is one Server-Sent Event.
type sseEvent struct {
	ID, Event, Data string
	At              time.Time
}

// openChatStream connects to the visitor's stream; events arrive on the
// channel until the test ends.
func openChatStream(t testing.TB, base, key, token string, hdr ...string) (<-chan sseEvent, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/public/chat/sites/"+key+"/stream?token="+token, nil)
	req.Header.Set("Origin", shopOrigin)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return readSSE(res), res
}

// inboxStream connects c to the inbox's live stream on e; events arrive on
// the channel until the test ends.
func inboxStream(t testing.TB, e *servertest.Env, c *servertest.Client) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", e.HTTP.URL+"/api/v1/inbox/stream", nil)
	res, err := c.HC.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("inbox stream: %v %v", err, res)
	}
	return readSSE(res)
}

// readSSE parses a response's Server-Sent Events onto a channel (closed at
// once unless the response is a 200).
func readSSE(res *http.Response) <-chan sseEvent {
	ch := make(chan sseEvent, 100)
	if res.StatusCode != 200 {
		res.Body.Close()
		close(ch)
		return ch
	}
	go func() {
		defer close(ch)
		defer res.Body.Close()
		rd := bufio.NewReader(res.Body)
		var ev sseEvent
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case line == "":
				if ev.Event != "" || ev.Data != "" {
					ev.At = time.Now()
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.Event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.Data = line[6:]
			}
		}
	}()
	return ch
}

// nextEvent waits for the next event of a kind.
func nextEvent(t testing.TB, ch <-chan sseEvent, kind string, within time.Duration) sseEvent {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("stream ended waiting for %s", kind)
			}
			if ev.Event == kind {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event within %s", kind, within)
		}
	}
}

// The visitor's stream: the conversation so far, then the agent's reply
// live (never an internal note), the status when the agent resolves it,
// and a reconnect with Last-Event-ID resumes after what was seen.
func TestWebChatStream(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ce := newChatEnv(t, d, nil)
		v := ce.visitor()
		s := v.start(t, map[string]any{"body": "请问价格？"})
		ch, res := openChatStream(t, ce.e.HTTP.URL, v.key, s.Token)
		if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != shopOrigin || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("stream: %d %v", res.StatusCode, res.Header)
		}
		first := nextEvent(t, ch, "message", 5*time.Second)
		if first.ID != s.Message.ID {
			t.Fatalf("backlog: %+v", first)
		}
		if st := nextEvent(t, ch, "status", 5*time.Second); !strings.Contains(st.Data, `"status":"new"`) {
			t.Fatalf("status: %+v", st)
		}
		in := chatInquiry(t, ce.agent)
		ce.agent.Do("POST", "/api/v1/inquiries/"+in.ID+"/messages", map[string]any{"direction": "note", "body": "内部备注不给访客看"}).Expect(t, 201)
		sent := time.Now()
		reply := ce.agent.Do("POST", "/api/v1/inquiries/"+in.ID+"/messages", map[string]any{"body": "您好，标准版每年 9800 元。"}).Expect(t, 201).Str("id")
		ev := nextEvent(t, ch, "message", 5*time.Second)
		var m chatMsg
		json.Unmarshal([]byte(ev.Data), &m)
		if ev.ID != reply || m.From != "agent" || m.Body != "您好，标准版每年 9800 元。" {
			t.Fatalf("live reply: %+v", ev)
		}
		t.Logf("reply delivered to the visitor in %s", ev.At.Sub(sent))
		if st := nextEvent(t, ch, "status", 5*time.Second); !strings.Contains(st.Data, `"status":"in_progress"`) {
			t.Fatalf("status after reply: %+v", st)
		}
		// The visitor's own message arrives on the stream too (another tab).
		own := v.do("POST", "/messages", map[string]any{"body": "好的", "client_id": newClientID()}).Expect(t, 201).Str("id")
		if ev := nextEvent(t, ch, "message", 5*time.Second); ev.ID != own {
			t.Fatalf("own message: %+v", ev)
		}
		// Resolving is announced.
		cur := inq(t, ce.agent.Do("GET", "/api/v1/inquiries/"+in.ID, nil))
		ce.agent.Do("POST", "/api/v1/inquiries/"+in.ID+"/status", map[string]any{"status": "resolved"}, inqIfMatch(cur.Version)...).Expect(t, 200)
		if st := nextEvent(t, ch, "status", 5*time.Second); !strings.Contains(st.Data, `"closed":true`) {
			t.Fatalf("resolved: %+v", st)
		}
		// Writing again reopens it: nothing the visitor sends is dropped.
		v.do("POST", "/messages", map[string]any{"body": "还有一个问题", "client_id": newClientID()}).Expect(t, 201)
		if cur := inq(t, ce.agent.Do("GET", "/api/v1/inquiries/"+in.ID, nil)); cur.Status != "in_progress" {
			t.Fatalf("not reopened: %s", cur.Status)
		}

		// Resume after the first message: the reply comes first, the note
		// never.
		ch2, _ := openChatStream(t, ce.e.HTTP.URL, v.key, s.Token, "Last-Event-ID", first.ID)
		var ids []string
		for range 3 {
			ids = append(ids, nextEvent(t, ch2, "message", 5*time.Second).ID)
		}
		if ids[0] != reply || ids[1] != own {
			t.Fatalf("resume order %v (reply %s, own %s)", ids, reply, own)
		}
		// Live after the resume: only the new reply, never again what came
		// before the resume point (the re-read window stops there).
		later := ce.agent.Do("POST", "/api/v1/inquiries/"+in.ID+"/messages", map[string]any{"body": "补充：含一年维保。"}).Expect(t, 201).Str("id")
		if ev := nextEvent(t, ch2, "message", 5*time.Second); ev.ID != later {
			t.Fatalf("after resuming, got %s, want only the new reply %s", ev.ID, later)
		}
		// And with ?after= (a reloaded page that listed the messages).
		ch3, _ := openChatStream(t, ce.e.HTTP.URL+"", v.key, s.Token+"&after="+own)
		if ev := nextEvent(t, ch3, "message", 5*time.Second); ev.Data == "" || ev.ID == own || ev.ID == reply {
			t.Fatalf("after=: %+v", ev)
		}
	})
}

// Typing indicators: the visitor typing reaches the agents who may see the
// conversation (not another department), an agent typing reaches the
// visitor's stream and colleagues (with who it is), and neither is stored
// nor makes the visitor's stream send anything else.
func TestWebChatTyping(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ce := newChatEnv(t, d, nil)
		other := ce.e.User(ce.admin, "other.team", []string{"presales"}, ce.e.Department(ce.admin, "别的组", ce.e.RootDepartment(ce.admin)))
		inbox := func(c *servertest.Client) <-chan sseEvent { return inboxStream(t, ce.e, c) }
		v := ce.visitor()
		s := v.start(t, map[string]any{"body": "想了解一下报价"})
		in := chatInquiry(t, ce.agent)
		agentLive, otherLive := inbox(ce.agent), inbox(other)
		visitorLive, _ := openChatStream(t, ce.e.HTTP.URL, v.key, s.Token)
		nextEvent(t, visitorLive, "status", 5*time.Second) // the backlog is out
		time.Sleep(100 * time.Millisecond)
		var before int
		d.QueryRow(context.Background(), "SELECT COUNT(*) FROM inquiry_messages").Scan(&before)

		v.do("POST", "/typing", nil).Expect(t, 204)
		ev := nextEvent(t, agentLive, "typing", 5*time.Second)
		if !strings.Contains(ev.Data, `"inquiry_id":"`+in.ID+`"`) || !strings.Contains(ev.Data, `"direction":"in"`) {
			t.Fatalf("visitor typing: %+v", ev)
		}

		ce.agent.Do("POST", "/api/v1/inquiries/"+in.ID+"/typing", nil).Expect(t, 204)
		nextEvent(t, visitorLive, "typing", 5*time.Second)
		ev = nextEvent(t, agentLive, "typing", 5*time.Second)
		if !strings.Contains(ev.Data, `"direction":"out"`) || !strings.Contains(ev.Data, `"actor_id":"`+ce.agent.ID+`"`) {
			t.Fatalf("agent typing as a colleague sees it: %+v", ev)
		}
		// Nothing else reached the visitor (their own typing included), and
		// nothing reached the other department.
		select {
		case ev := <-visitorLive:
			t.Fatalf("visitor stream got %+v", ev)
		case ev := <-otherLive:
			t.Fatalf("another department saw %+v", ev)
		case <-time.After(400 * time.Millisecond):
		}
		var after int
		d.QueryRow(context.Background(), "SELECT COUNT(*) FROM inquiry_messages").Scan(&after)
		if after != before {
			t.Fatal("a typing indicator was stored")
		}

		// Out of scope is 404; without a token, 401.
		other.Do("POST", "/api/v1/inquiries/"+in.ID+"/typing", nil).Expect(t, 404)
		anon := ce.visitor()
		if r := anon.do("POST", "/typing", nil); r.Status != 401 {
			t.Fatalf("typing without a token: %d %s", r.Status, r.Body)
		}
	})
}

// Tokens: missing, forged, another site's and expired tokens get a clear
// 401 (each with its own code), a malformed one 400; unknown and disabled
// sites are 404.
func TestWebChatTokensAndSites(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ce := newChatEnv(t, d, nil)
		v := ce.visitor()
		s := v.start(t, map[string]any{"body": "你好"})

		anon := ce.visitor()
		if r := anon.do("GET", "/messages", nil).Expect(t, 401); r.Code() != "chat_token_invalid" || r.Message() == "" {
			t.Fatalf("no token: %s", r.Body)
		}
		anon.token = "pcv_" + strings.Repeat("A", 43)
		if r := anon.do("POST", "/messages", map[string]any{"body": "x"}).Expect(t, 401); r.Code() != "chat_token_invalid" {
			t.Fatalf("forged token: %s", r.Body)
		}
		anon.token = "garbage"
		anon.do("GET", "/messages", nil).Expect(t, 401)
		if _, res := openChatStream(t, ce.e.HTTP.URL, v.key, "garbage"); res.StatusCode != 400 {
			t.Fatalf("malformed stream token: %d", res.StatusCode)
		}
		if _, res := openChatStream(t, ce.e.HTTP.URL, v.key, "pcv_"+strings.Repeat("B", 43)); res.StatusCode != 401 {
			t.Fatalf("forged stream token: %d", res.StatusCode)
		}

		// Another site's token.
		var other chatSite
		ce.admin.Do("POST", "/api/v1/chat-sites", map[string]any{"name": "商城", "allowed_origins": []string{shopOrigin}}).Expect(t, 201).JSON(&other)
		w := ce.visitor()
		w.key, w.token = other.SiteKey, s.Token
		if r := w.do("GET", "/messages", nil).Expect(t, 401); r.Code() != "chat_token_invalid" {
			t.Fatalf("other site's token: %s", r.Body)
		}

		// Expired.
		if _, err := d.Exec(context.Background(), "UPDATE chat_visitors SET expires_at = ?", db.Ms(time.Now().Add(-time.Minute))); err != nil {
			t.Fatal(err)
		}
		if r := v.do("POST", "/messages", map[string]any{"body": "还在吗"}).Expect(t, 401); r.Code() != "chat_token_expired" || !strings.Contains(r.Message(), "过期") {
			t.Fatalf("expired: %s", r.Body)
		}
		// A day after expiry the token is purged (the conversation stays).
		if n, err := ce.e.Srv.WebChat.PurgeExpired(context.Background()); err != nil || n != 0 {
			t.Fatalf("purged a token expired a minute ago: %d %v", n, err)
		}
		d.Exec(context.Background(), "UPDATE chat_visitors SET expires_at = ?", db.Ms(time.Now().Add(-25*time.Hour)))
		if n, err := ce.e.Srv.WebChat.PurgeExpired(context.Background()); err != nil || n != 1 {
			t.Fatalf("purge: %d %v", n, err)
		}
		if r := v.do("GET", "/messages", nil).Expect(t, 401); r.Code() != "chat_token_invalid" {
			t.Fatalf("purged token: %s", r.Body)
		}
		if _, res := openChatStream(t, ce.e.HTTP.URL, v.key, s.Token); res.StatusCode != 401 {
			t.Fatalf("expired stream: %d", res.StatusCode)
		}

		// Unknown and disabled sites.
		u := ce.visitor()
		u.key = "cs_" + strings.Repeat("x", 24)
		u.do("GET", "", nil).Expect(t, 404)
		u.do("POST", "/conversations", map[string]any{"body": "x"}).Expect(t, 404)
		u.key = "nonsense"
		u.do("GET", "", nil).Expect(t, 404)
		ce.admin.Do("PATCH", "/api/v1/chat-sites/"+ce.site.ID, map[string]any{"enabled": false}).Expect(t, 200)
		v.token = ""
		v.do("GET", "", nil).Expect(t, 404)
		v.do("POST", "/conversations", map[string]any{"body": "x"}).Expect(t, 404)
	})
}

// CORS and cross-origin write protection: only the site's allowed origins
// get CORS answers (preflight and actual requests); the public chat's
// writes are exempt from the cross-origin protection, and nothing else is.
func TestWebChatCORSAndCrossOriginProtection(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ce := newChatEnv(t, d, nil)
		c := ce.e.Client()
		pre := func(origin, path string) *servertest.Resp {
			return c.Do("OPTIONS", "/api/v1/public/chat/sites/"+ce.site.SiteKey+path, nil, "Origin", origin,
				"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type,x-chat-token")
		}
		r := pre(shopOrigin, "/messages")
		if r.Status != 204 || r.Header.Get("Access-Control-Allow-Origin") != shopOrigin || !strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), webchat.TokenHeader) ||
			!strings.Contains(r.Header.Get("Access-Control-Allow-Methods"), "POST") {
			t.Fatalf("preflight allowed: %d %v", r.Status, r.Header)
		}
		for _, bad := range []string{"https://evil.example", "https://shop.example.cn.evil.example", "http://shop.example.cn", "null"} {
			r := pre(bad, "/conversations")
			if r.Status != 403 || r.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Fatalf("preflight from %s: %d %v", bad, r.Status, r.Header)
			}
		}
		if r := c.Do("OPTIONS", "/api/v1/public/chat/sites/cs_"+strings.Repeat("z", 24)+"/messages", nil, "Origin", shopOrigin); r.Status != 404 || r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("preflight of an unknown site: %d %v", r.Status, r.Header)
		}

		// The actual cross-site writes from the allowed origin pass the
		// cross-origin protection and carry CORS headers.
		v := ce.visitor()
		v.start(t, map[string]any{"body": "跨站请求"})
		r = v.do("POST", "/messages", map[string]any{"body": "再问一句"}).Expect(t, 201)
		if r.Header.Get("Access-Control-Allow-Origin") != shopOrigin {
			t.Fatalf("no CORS on the answer: %v", r.Header)
		}
		// From another origin: refused, without CORS headers.
		evil := ce.visitor()
		evil.origin = "https://evil.example"
		if r := evil.do("POST", "/conversations", map[string]any{"body": "spam"}); r.Status != 403 || r.Code() != "origin_not_allowed" || r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("other origin: %d %s %v", r.Status, r.Body, r.Header)
		}
		evil.token = v.token
		evil.do("GET", "/messages", nil).Expect(t, 403)
		var n int
		d.QueryRow(context.Background(), "SELECT COUNT(*) FROM chat_visitors").Scan(&n)
		if n != 1 {
			t.Fatalf("%d visitors, want 1", n)
		}

		// Everything else stays protected against cross-site writes, public
		// routes and signed-in ones alike.
		for _, p := range []string{"/api/v1/inquiries", "/api/v1/chat-sites", "/api/v1/public/quotes/" + strings.Repeat("x", 32) + "/accept"} {
			r := ce.admin.Do("POST", p, map[string]any{}, "Origin", shopOrigin, "Sec-Fetch-Site", "cross-site")
			if r.Status != 403 || r.Code() != "cross_origin_refused" {
				t.Errorf("cross-site POST %s: %d %s", p, r.Status, r.Body)
			}
		}
		// The same POST from the public chat with a cookie-carrying
		// signed-in browser: the exemption does not reach the session (the
		// route does not use it).
		r = ce.admin.Do("POST", "/api/v1/public/chat/sites/"+ce.site.SiteKey+"/conversations", map[string]any{"body": "管理员也是访客", "client_id": newClientID()},
			"Origin", shopOrigin, "Sec-Fetch-Site", "cross-site")
		if r.Status != 201 {
			t.Fatalf("chat start with a session: %d %s", r.Status, r.Body)
		}
	})
}

// Rate limits: per address and per site (429 with Retry-After, nothing
// stored), and the hourly cap on new conversations per address, which is
// counted in the database.
func TestWebChatRateLimits(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ce := newChatEnv(t, d, map[string]string{"PRELUDE_TRUST_PROXY": "true"})
		l := webchat.DefaultLimits()
		l.WritesPerMinute, l.WritesBurst = 6, 4
		l.SiteWritesPerMinute, l.SiteWritesBurst = 60, 12
		l.ConversationsPerHour = 2
		ce.e.Srv.WebChat.SetLimits(l)

		count := func() int {
			var n int
			d.QueryRow(context.Background(), "SELECT COUNT(*) FROM inquiry_messages").Scan(&n)
			return n
		}
		// One address: 4 writes at once, then 429.
		v := ce.visitor()
		v.ip = "203.0.113.7"
		v.start(t, map[string]any{"body": "第 1 条"})
		for i := 2; i <= 4; i++ {
			v.do("POST", "/messages", map[string]any{"body": fmt.Sprintf("第 %d 条", i)}).Expect(t, 201)
		}
		before := count()
		r := v.do("POST", "/messages", map[string]any{"body": "第 5 条"}).Expect(t, 429)
		if sec, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || sec < 1 || sec > 60 || r.Code() != "rate_limited" {
			t.Fatalf("429: %v %s", r.Header, r.Body)
		}
		if r.Header.Get("Access-Control-Allow-Origin") != shopOrigin {
			t.Fatal("the widget cannot read the 429 (no CORS header)")
		}
		if count() != before {
			t.Fatal("a refused message was stored")
		}

		// New conversations per address and hour (another address has its
		// own allowance).
		a := ce.visitor()
		a.ip = "198.51.100.1"
		a.start(t, map[string]any{"body": "一"})
		a.start(t, map[string]any{"body": "二"})
		r = a.do("POST", "/conversations", map[string]any{"body": "三", "client_id": newClientID()}).Expect(t, 429)
		if sec, _ := strconv.Atoi(r.Header.Get("Retry-After")); r.Code() != "chat_conversation_limit" || sec < 3000 || sec > 3600 {
			t.Fatalf("hourly cap: %v %s", r.Header, r.Body)
		}
		b := ce.visitor()
		b.ip = "198.51.100.2"
		b.start(t, map[string]any{"body": "另一个地址"})

		// The site as a whole: 12 writes whatever the addresses.
		var refused int
		for i := range 12 {
			x := ce.visitor()
			x.ip = fmt.Sprintf("192.0.2.%d", i+1)
			r := x.do("POST", "/conversations", map[string]any{"body": "站点限流", "client_id": newClientID()})
			if r.Status == 429 {
				refused++
				if r.Code() != "rate_limited" {
					t.Fatalf("site limit: %s", r.Body)
				}
			}
		}
		if refused == 0 {
			t.Fatal("no per-site limit")
		}
	})
}

// Behind a load balancer one address's requests reach every instance: the
// write limits are kept in PostgreSQL, so two instances together allow one
// burst, not one each.
func TestWebChatWriteLimitsHoldAcrossInstances(t *testing.T) {
	url := dbtest.SchemaURL(t)
	cfg := map[string]string{"PRELUDE_TRUST_PROXY": "true"}
	var envs []*servertest.Env
	for range 2 {
		d, err := db.Open(context.Background(), db.Config{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		envs = append(envs, servertest.StartWith(t, d, servertest.Config(t, cfg)))
	}
	l := webchat.DefaultLimits()
	l.WritesPerMinute, l.WritesBurst = 6, 4
	for _, e := range envs {
		e.Srv.WebChat.SetLimits(l)
	}
	admin := envs[0].Admin()
	var site chatSite
	admin.Do("POST", "/api/v1/chat-sites", map[string]any{"name": "官网", "allowed_origins": []string{shopOrigin}}).Expect(t, 201).JSON(&site)
	a := &visitor{c: envs[0].Client(), origin: shopOrigin, key: site.SiteKey, ip: "203.0.113.9"}
	a.start(t, map[string]any{"body": "第 1 条"})
	b := &visitor{c: envs[1].Client(), origin: shopOrigin, key: site.SiteKey, ip: a.ip, token: a.token}
	allowed := 1
	for i := 2; i <= 8; i++ {
		v := a
		if i%2 == 0 {
			v = b
		}
		r := v.do("POST", "/messages", map[string]any{"body": fmt.Sprintf("第 %d 条", i)})
		switch r.Status {
		case 201:
			allowed++
		case 429:
			if r.Code() != "rate_limited" || r.Header.Get("Retry-After") == "" {
				t.Fatalf("429 without its code or Retry-After: %v %s", r.Header, r.Body)
			}
		default:
			t.Fatalf("message %d: %d %s", i, r.Status, r.Body)
		}
	}
	if allowed != 4 {
		t.Fatalf("one address over two instances: %d writes allowed, want the burst of 4", allowed)
	}
}

// A site's conversations go to its team, assigned by that team's rules
// (here round-robin among available agents), even when another team's
// rule would take web chats; a site without a team follows the ordinary
// rules. Nobody available: the widget says so (offline).
func TestWebChatRoutesByTheSiteTeam(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ce := newChatEnv(t, d, nil)
		other := ce.e.Department(ce.admin, "电话销售组", ce.e.RootDepartment(ce.admin))
		v := ce.visitor()
		if v.do("GET", "", nil).Expect(t, 200).Map()["online"] != false {
			t.Fatal("online with nobody available")
		}
		// A global rule sends web chats to the other team; the site's team
		// has its own round-robin rule.
		ce.admin.Do("POST", "/api/v1/inquiry-rules", map[string]any{"name": "网聊去电话组", "position": 1, "channel": "web_chat", "department_id": other, "strategy": "team"}).Expect(t, 201)
		ce.admin.Do("POST", "/api/v1/inquiry-rules", map[string]any{"name": "客服组轮询", "position": 2, "channel": "web_chat", "department_id": ce.dept, "strategy": "round_robin"}).Expect(t, 201)
		ce.agent.Do("PATCH", "/api/v1/inbox-agents/me", map[string]any{"available": true}).Expect(t, 200)

		v.start(t, map[string]any{"body": "有人吗？"})
		in := chatInquiry(t, ce.agent)
		if in.DepartmentID == nil || *in.DepartmentID != ce.dept || in.AssigneeID == nil || *in.AssigneeID != ce.agent.ID || in.Status != "assigned" {
			t.Fatalf("routed to %+v", in)
		}

		// Without a team, the ordinary rules (the first matching one) decide.
		ce.admin.Do("PATCH", "/api/v1/chat-sites/"+ce.site.ID, map[string]any{"department_id": ""}).Expect(t, 200)
		w := ce.visitor()
		s := w.start(t, map[string]any{"body": "第二个问题"})
		var dept string
		d.QueryRow(context.Background(), "SELECT i.department_id FROM inquiries i JOIN inquiry_messages m ON m.inquiry_id = i.id WHERE m.id = ?", s.Message.ID).Scan(&dept)
		if dept != other {
			t.Fatalf("a site without a team routed to %q, want the global rule's %q", dept, other)
		}
	})
}
