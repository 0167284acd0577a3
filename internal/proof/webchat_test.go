package proof

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
)

// shopOrigin is the company website that embeds the widget.
const shopOrigin = "https://shop.example.cn"

// TestWebChatAcrossInstances runs two instances of the real binary on one
// PostgreSQL schema. A website visitor talks to instance A (start, write,
// an SSE stream); the agent reads and replies on instance B. Each reply
// must reach the visitor's stream on A, and each visitor message the
// agent's inbox stream on B, live (LISTEN/NOTIFY), in order, none lost.
// The delivery times are reported as p50/p99 (issue 4's target: a live
// update reaches another instance within 200 ms p99). Then A is killed
// with SIGKILL while the agent keeps replying on B; after A restarts, the
// visitor's stream resumes with Last-Event-ID and gets every reply sent
// while it was down.
//
// PRELUDE_PROOF_CHAT_N sets the number of round trips (default 60; 300
// with PRELUDE_PROOF_LONG, which also holds the 200 ms p99 target).
func TestWebChatAcrossInstances(t *testing.T) {
	b := pgBackend(t)
	a := newProc(t, b, "chat-a")
	bb := newProc(t, b, "chat-b")
	for _, p := range []*proc{a, bb} {
		if err := p.startNoWait(); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []*proc{a, bb} {
		if err := p.waitReady(60 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	b.createAdmin(t)

	// The administrator sets up a team, an agent and a chat site (on B).
	admin := newClient(bb.URL(), "admin")
	if err := admin.login("admin"); err != nil {
		t.Fatal(err)
	}
	var depts struct {
		Items []struct {
			ID       string  `json:"id"`
			ParentID *string `json:"parent_id"`
		} `json:"items"`
	}
	must(t, admin.do("GET", "/api/v1/departments", nil), 200, "departments").decode(&depts)
	root := ""
	for _, d := range depts.Items {
		if d.ParentID == nil {
			root = d.ID
		}
	}
	team := must(t, admin.do("POST", "/api/v1/departments", map[string]any{"name": "在线客服组", "parent_id": root}), 201, "department").str("id")
	must(t, admin.do("POST", "/api/v1/users", map[string]any{"username": "agent", "display_name": "客服小王", "department_id": team,
		"roles": []string{"service"}, "password": adminPassword}), 201, "agent")
	site := must(t, admin.do("POST", "/api/v1/chat-sites", map[string]any{"name": "官网", "allowed_origins": []string{shopOrigin}, "department_id": team}), 201, "chat site")
	key := site.str("site_key")
	agent := newClient(bb.URL(), "agent")
	if err := agent.login("agent"); err != nil {
		t.Fatal(err)
	}

	// The agent watches the inbox on B.
	inbox := openSSE(t, bb.URL()+"/api/v1/inbox/stream", agent.hc.Jar.Cookies(mustURL(bb.URL())))

	// The visitor starts on A.
	visitor := newClient(a.URL(), "visitor")
	chat := func(method, path string, body any, token string) *reply {
		return visitor.do(method, "/api/v1/public/chat/sites/"+key+path, body, "Origin", shopOrigin, "Sec-Fetch-Site", "cross-site", "X-Chat-Token", token)
	}
	st := must(t, chat("POST", "/conversations", map[string]any{"name": "李先生", "phone": "13700001234", "body": "你好，想了解私有化部署", "client_id": uuid4()}, ""), 201, "start")
	var started struct {
		Token   string `json:"token"`
		Message struct {
			ID string `json:"id"`
		} `json:"message"`
	}
	st.decode(&started)
	streamA := openSSE(t, a.URL()+"/api/v1/public/chat/sites/"+key+"/stream?token="+started.Token, nil, "Origin", shopOrigin)
	if ev := streamA.next(t, "message", 10*time.Second); ev.id != started.Message.ID {
		t.Fatalf("backlog on A: %+v", ev)
	}

	// The agent finds the conversation on B (live: the inbox stream saw it).
	var inquiryID string
	deadline := time.Now().Add(10 * time.Second)
	for inquiryID == "" && time.Now().Before(deadline) {
		var page struct {
			Items []struct {
				ID      string `json:"id"`
				Channel string `json:"channel"`
			} `json:"items"`
		}
		must(t, agent.do("GET", "/api/v1/inquiries?view=team&channel=web_chat", nil), 200, "inbox").decode(&page)
		if len(page.Items) > 0 {
			inquiryID = page.Items[0].ID
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if inquiryID == "" {
		t.Fatal("the web chat never reached the team's inbox on B")
	}

	n := envInt("PRELUDE_PROOF_CHAT_N", 60)
	if long() && n == 60 {
		n = 300
	}
	var toVisitor, toAgent, replyPost []time.Duration
	visitorEvery, visitorSent := max(1, n/10), 0
	for i := range n {
		// Agent → visitor: reply on B, event on A.
		t0 := time.Now()
		r := must(t, agent.do("POST", "/api/v1/inquiries/"+inquiryID+"/messages", map[string]any{"body": fmt.Sprintf("您好，这是第 %d 条回复。", i+1)}), 201, "reply")
		replyPost = append(replyPost, time.Since(t0))
		id := r.str("id")
		ev := streamA.next(t, "message", 10*time.Second)
		if ev.id != id {
			t.Fatalf("reply %d: the visitor got %s, want %s (order or loss)", i+1, ev.id, id)
		}
		toVisitor = append(toVisitor, ev.at.Sub(t0))

		// Visitor → agent: write on A, inbox event on B. A visitor types
		// far slower than this loop replies: ten of their messages per run
		// stay within the per-address write limit.
		if i%visitorEvery != visitorEvery-1 {
			continue
		}
		visitorSent++
		t1 := time.Now()
		vm := must(t, chat("POST", "/messages", map[string]any{"body": fmt.Sprintf("收到，第 %d 个问题", i+1), "client_id": uuid4()}, started.Token), 201, "visitor message")
		vid := vm.str("id")
		for {
			ev := inbox.next(t, "message_added", 10*time.Second)
			var data struct {
				MessageID string `json:"message_id"`
			}
			json.Unmarshal([]byte(ev.data), &data)
			if data.MessageID == vid {
				toAgent = append(toAgent, ev.at.Sub(t1))
				break
			}
		}
		// The visitor's own message comes back on A's stream too.
		if ev := streamA.next(t, "message", 10*time.Second); ev.id != vid {
			t.Fatalf("visitor message %d echoed as %s, want %s", i+1, ev.id, vid)
		}
	}
	p50v, p99v, maxV := durPct(toVisitor, 50), durPct(toVisitor, 99), durPct(toVisitor, 100)
	p50a, p99a := durPct(toAgent, 50), durPct(toAgent, 99)
	t.Logf("web chat across instances, %d round trips on PostgreSQL (two `prelude serve`):", n)
	t.Logf("  agent reply on B -> visitor SSE on A: p50 %s, p99 %s, max %s (from the reply request's start; the reply request itself: p50 %s, p99 %s)",
		ms(p50v), ms(p99v), ms(maxV), ms(durPct(replyPost, 50)), ms(durPct(replyPost, 99)))
	t.Logf("  visitor message on A -> agent inbox SSE on B (%d messages): p50 %s, max %s", visitorSent, ms(p50a), ms(p99a))
	limit := time.Second
	if long() {
		limit = 200 * time.Millisecond // the target, held in the long form
	}
	if p99v > limit || p99a > limit {
		t.Errorf("live delivery p99 %s / %s exceeds %s", p99v, p99a, limit)
	}

	// A dies; the agent keeps answering on B; the visitor's browser
	// reconnects once A is back and resumes after the last event it saw.
	lastSeen := streamA.lastID
	streamA.close()
	a.kill()
	var missed []string
	for i := range 3 {
		missed = append(missed, must(t, agent.do("POST", "/api/v1/inquiries/"+inquiryID+"/messages", map[string]any{"body": fmt.Sprintf("您掉线期间的回复 %d", i+1)}), 201, "reply while A is down").str("id"))
	}
	a.start()
	resumed := openSSE(t, a.URL()+"/api/v1/public/chat/sites/"+key+"/stream?token="+started.Token, nil, "Origin", shopOrigin, "Last-Event-ID", lastSeen)
	for i, want := range missed {
		if ev := resumed.next(t, "message", 10*time.Second); ev.id != want {
			t.Fatalf("after the restart, message %d is %s, want %s", i+1, ev.id, want)
		}
	}
	// And live again.
	again := must(t, agent.do("POST", "/api/v1/inquiries/"+inquiryID+"/messages", map[string]any{"body": "欢迎回来"}), 201, "reply after restart").str("id")
	if ev := resumed.next(t, "message", 10*time.Second); ev.id != again {
		t.Fatalf("live after restart: %s, want %s", ev.id, again)
	}
	resumed.close()
	inbox.close()

	// Nothing the visitor sent was lost or doubled; the internal side never
	// leaked.
	var all struct {
		Items []struct {
			From string `json:"from"`
		} `json:"items"`
		NextCursor *string `json:"next_cursor"`
	}
	visitorN, agentN := 0, 0
	after := ""
	for {
		r := must(t, chat("GET", "/messages?limit=200"+after, nil, started.Token), 200, "visitor's list")
		r.decode(&all)
		for _, m := range all.Items {
			if m.From == "visitor" {
				visitorN++
			} else {
				agentN++
			}
		}
		if all.NextCursor == nil {
			break
		}
		after = "&after=" + *all.NextCursor
	}
	if visitorN != visitorSent+1 || agentN != n+4 {
		t.Errorf("the visitor's conversation has %d visitor and %d agent messages, want %d and %d", visitorN, agentN, visitorSent+1, n+4)
	}
	for _, p := range []*proc{a, bb} {
		if errs := p.logErrors(); len(errs) > 0 {
			t.Errorf("%s logged errors:\n%s", p.name, strings.Join(errs, "\n"))
		}
	}
	b.auditVerify(t)
}

func durPct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	c := append([]time.Duration(nil), d...)
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	i := (len(c)*p + 99) / 100
	return c[max(0, min(len(c)-1, i-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func uuid4() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// sseStream reads Server-Sent Events from one connection.
type sseStream struct {
	events chan sseEv
	cancel context.CancelFunc
	lastID string
}

type sseEv struct {
	id, event, data string
	at              time.Time
}

func openSSE(t *testing.T, url string, cookies []*http.Cookie, hdr ...string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := (&http.Client{}).Do(req)
	if err != nil {
		t.Fatalf("stream %s: %v", url, err)
	}
	if res.StatusCode != 200 {
		res.Body.Close()
		t.Fatalf("stream %s: %d", url, res.StatusCode)
	}
	s := &sseStream{events: make(chan sseEv, 1000), cancel: cancel}
	go func() {
		defer close(s.events)
		defer res.Body.Close()
		rd := bufio.NewReader(res.Body)
		var ev sseEv
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case line == "":
				if ev.event != "" {
					ev.at = time.Now()
					s.events <- ev
				}
				ev = sseEv{}
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
	}()
	return s
}

// next returns the next event of a kind (others are skipped).
func (s *sseStream) next(t *testing.T, kind string, within time.Duration) sseEv {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("stream closed waiting for %s", kind)
			}
			if ev.id != "" {
				s.lastID = ev.id
			}
			if ev.event == kind {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event within %s", kind, within)
		}
	}
}

func (s *sseStream) close() { s.cancel() }

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
