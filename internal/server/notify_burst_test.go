package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"prelude/internal/followups"
	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

// Notices of one transaction are written together at its commit (one
// statement per table, not four per notice): the result must be what one
// Notify at a time gave — once per dedupe key (also within the burst), a
// delivery per subscribed channel and nothing for the others, every delivery
// sent once, and a bad recipient failing the whole transaction.
func TestNotifyBurstInOneTransaction(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		other := e.User(admin, "burst.other", []string{"sales"}, e.RootDepartment(admin))
		var mu sync.Mutex
		got := map[string]int{} // path -> deliveries received
		keys := map[string]bool{}
		robot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			mu.Lock()
			if k := r.Header.Get("X-Prelude-Delivery"); !keys[k] {
				keys[k] = true
				got[r.URL.Path]++
			}
			mu.Unlock()
			w.Write([]byte(`{"errcode":0,"code":0}`))
		}))
		defer robot.Close()
		admin.Do("POST", "/api/v1/me/channels", map[string]any{"kind": "wecom", "target": robot.URL + "/all"}).Expect(t, 201)
		admin.Do("POST", "/api/v1/me/channels", map[string]any{"kind": "wecom", "target": robot.URL + "/overdue", "events": []string{"task_overdue"}}).Expect(t, 201)
		ctx := context.Background()
		notify := func(ctx context.Context, tx *db.Tx, user, event, key string) error {
			return e.Srv.Followups.Notify(ctx, tx, followups.Notice{UserID: user, Event: event, TitleKey: "notify.task_reminder", TitleArgs: []any{key}, DedupeKey: key})
		}
		err := e.DB.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			for i := range 100 { // 50 keys, each twice
				if err := notify(ctx, tx, admin.ID, "task_reminder", fmt.Sprint("burst:", i%50)); err != nil {
					return err
				}
			}
			for i := range 10 {
				if err := notify(ctx, tx, admin.ID, "task_overdue", fmt.Sprint("overdue:", i)); err != nil {
					return err
				}
			}
			for i := range 20 {
				if err := notify(ctx, tx, other.ID, "task_reminder", fmt.Sprint("other:", i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Already notified: nothing new.
		if err := e.DB.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			return notify(ctx, tx, admin.ID, "task_reminder", "burst:0")
		}); err != nil {
			t.Fatal(err)
		}
		// An unknown recipient fails the transaction, notices and all.
		err = e.DB.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			if err := notify(ctx, tx, admin.ID, "task_reminder", "lost:1"); err != nil {
				return err
			}
			return notify(ctx, tx, "no-such-user", "task_reminder", "lost:2")
		})
		if !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("unknown recipient: %v", err)
		}
		count := func(q string, args ...any) int {
			var n int
			if err := e.DB.QueryRow(ctx, q, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count("SELECT COUNT(*) FROM notifications WHERE user_id = ?", admin.ID); n != 60 {
			t.Errorf("admin has %d notifications, want 60", n)
		}
		if n := count("SELECT COUNT(*) FROM notifications WHERE user_id = ?", other.ID); n != 20 {
			t.Errorf("other has %d notifications, want 20", n)
		}
		var page struct{ Items []map[string]any }
		admin.Do("GET", "/api/v1/me/notifications?limit=100", nil).Expect(t, 200).JSON(&page)
		if len(page.Items) != 60 || page.Items[0]["title"] == "" {
			t.Errorf("admin sees %d notifications (first %v)", len(page.Items), page.Items[0])
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			all, overdue := got["/all"], got["/overdue"]
			mu.Unlock()
			if all == 60 && overdue == 10 && count("SELECT COUNT(*) FROM deliveries WHERE status = 'delivered'") == 70 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("deliveries: %d to all (want 60), %d to overdue (want 10), %d delivered", all, overdue,
					count("SELECT COUNT(*) FROM deliveries WHERE status = 'delivered'"))
			}
			time.Sleep(20 * time.Millisecond)
		}
		if n := count("SELECT COUNT(*) FROM deliveries"); n != 70 {
			t.Errorf("%d deliveries, want 70", n)
		}
	})
}
