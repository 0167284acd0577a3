package proof

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestReminderDeliveryKilledMidSend kills (SIGKILL) the instance whose
// webhook request for a follow-up reminder is in flight. Another instance
// (PostgreSQL) or the restarted one (SQLite) takes the job over once its
// lease runs out and sends it again with the same X-Prelude-Delivery key: a
// receiver deduplicating on the key acts on the reminder exactly once, the
// delivery ends "delivered", and no third send follows.
func TestReminderDeliveryKilledMidSend(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { killMidDelivery(t, sqliteBackend(t), false) })
	t.Run("postgres", func(t *testing.T) { killMidDelivery(t, pgBackend(t), true) })
}

// holdingRobot is a WeCom-style robot that holds the first request open
// (the sender is killed while waiting for the answer) and answers the rest.
type holdingRobot struct {
	*httptest.Server
	mu       sync.Mutex
	received []robotHit
	held     chan string // the key of the held request
	holding  bool
}

type robotHit struct {
	key, text string
}

func newHoldingRobot(t *testing.T) *holdingRobot {
	r := &holdingRobot{held: make(chan string, 1)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		raw, _ := io.ReadAll(req.Body)
		var body struct {
			Text struct {
				Content string `json:"content"`
			} `json:"text"`
		}
		json.Unmarshal(raw, &body)
		hit := robotHit{key: req.Header.Get("X-Prelude-Delivery"), text: body.Text.Content}
		r.mu.Lock()
		r.received = append(r.received, hit)
		hold := !r.holding && strings.Contains(hit.text, "跟进提醒")
		if hold {
			r.holding = true
		}
		r.mu.Unlock()
		if hold {
			r.held <- hit.key
			// Wait until the sender is gone (its connection closes).
			select {
			case <-req.Context().Done():
			case <-time.After(time.Minute):
			}
			return
		}
		w.Write([]byte(`{"errcode":0,"errmsg":"ok"}`))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *holdingRobot) hits() []robotHit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]robotHit(nil), r.received...)
}

func killMidDelivery(t *testing.T, b *backend, second bool) {
	b.createAdmin(t)
	// A short lease so the takeover happens within the test's patience.
	lease := "PRELUDE_JOB_LEASE=2s"
	a := newProc(t, b, "a", lease)
	a.start()
	admin := newClient(a.URL(), "admin")
	if err := admin.login("admin"); err != nil {
		t.Fatal(err)
	}
	robot := newHoldingRobot(t)
	must(t, admin.do("POST", "/api/v1/me/channels", map[string]any{"kind": "wecom", "target": robot.URL + "/wecom"}), 201, "add channel")
	due := time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339)
	must(t, admin.do("POST", "/api/v1/tasks", map[string]any{"title": "给王总回电话", "due_at": due, "remind_before_min": 0}), 201, "create task")

	var key string
	select {
	case key = <-robot.held:
	case <-time.After(30 * time.Second):
		t.Fatalf("no reminder reached the robot; got %v\n%s", robot.hits(), a.logTail(3000))
	}
	if key == "" {
		t.Fatal("the webhook request carries no X-Prelude-Delivery key")
	}
	a.kill()

	next := a
	if second {
		next = newProc(t, b, "b", lease)
	}
	next.start()

	// The reminder comes again, with the same key, once.
	deadline := time.Now().Add(40 * time.Second)
	for {
		n := 0
		for _, h := range robot.hits() {
			if h.key == key {
				n++
			}
		}
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reminder was not sent again after the kill; hits %v\n%s", robot.hits(), next.logTail(3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Let any further (wrong) retry show up.
	time.Sleep(5 * time.Second)
	// A send retried after the kill may repeat another delivery that was
	// in flight too (the overdue notice): always with its own key, so each
	// notification stays one delivery in effect.
	perKey := map[string]int{}
	keysByKind := map[string]map[string]bool{}
	for _, h := range robot.hits() {
		perKey[h.key]++
		kind := "other"
		switch {
		case strings.Contains(h.text, "跟进提醒"):
			kind = "reminder"
		case strings.Contains(h.text, "任务已逾期"):
			kind = "overdue"
		}
		if keysByKind[kind] == nil {
			keysByKind[kind] = map[string]bool{}
		}
		keysByKind[kind][h.key] = true
	}
	if perKey[key] != 2 {
		t.Errorf("the killed delivery was sent %d times, want 2 (once killed, once taken over): %v", perKey[key], robot.hits())
	}
	for kind, keys := range keysByKind {
		if len(keys) != 1 || keys[""] {
			t.Errorf("%s: %d distinct delivery keys, want exactly 1 in effect: %v", kind, len(keys), robot.hits())
		}
	}

	d := b.open(t)
	defer d.Close()
	var status string
	var attempts int
	if err := d.QueryRow(context.Background(), "SELECT status, attempts FROM deliveries WHERE id = ?", key).Scan(&status, &attempts); err != nil {
		t.Fatal(err)
	}
	if status != "delivered" {
		t.Errorf("delivery status %q after takeover, want delivered", status)
	}
	// The deliveries list shows the same outcome to the user.
	c := newClient(next.URL(), "admin")
	if err := c.login("admin"); err != nil {
		t.Fatal(err)
	}
	var page struct {
		Items []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"items"`
	}
	must(t, c.do("GET", "/api/v1/me/deliveries", nil), 200, "deliveries").decode(&page)
	found := false
	for _, it := range page.Items {
		if it.ID == key {
			found = it.Status == "delivered"
		}
	}
	if !found {
		t.Errorf("GET /api/v1/me/deliveries does not show %s delivered: %+v", key, page.Items)
	}
}
