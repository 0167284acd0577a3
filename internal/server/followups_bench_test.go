package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"prelude/internal/followups"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

// BenchmarkMyDay: "my day" for a user with 2,000 open tasks (target p99 ≤ 10 ms),
// and one reminder tick over 100k open tasks of which a few are due.
//
//	go test ./internal/server/ -run '^$' -bench 'MyDay|Tick' -benchtime 200x
func BenchmarkMyDay(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			var d *db.DB
			if name == "sqlite" {
				d = dbtest.OpenSQLite(b, dbtest.Options{})
			} else {
				d = dbtest.OpenPostgres(b, dbtest.Options{})
			}
			e := servertest.Start(b, d)
			admin := e.Admin()
			ctx := context.Background()
			now := time.Now()
			var owner string
			d.QueryRow(ctx, "SELECT id FROM users WHERE username_key = 'admin'").Scan(&owner)
			insertTasks(b, d, owner, 2000, now.Add(-24*time.Hour), 7*24*time.Hour)
			d.Exec(ctx, "ANALYZE tasks")
			p, err := e.Srv.Org.PrincipalFor(ctx, admin.ID)
			if err != nil {
				b.Fatal(err)
			}
			pctx := authz.With(ctx, p)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				day, err := e.Srv.Followups.MyDay(pctx)
				if err != nil || len(day.Overdue)+len(day.Today)+len(day.Upcoming) == 0 {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

func insertTasks(b *testing.B, d *db.DB, owner string, n int, from time.Time, span time.Duration) {
	ctx := context.Background()
	err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		for i := 0; i < n; i++ {
			due := from.Add(time.Duration(int64(span) * int64(i) / int64(n)))
			if _, err := tx.Exec(ctx, `INSERT INTO tasks (id, title, kind, status, due_at, remind_at, owner_id, reminded_at, overdue_notified_at, escalated_at, created_at, updated_at)
				VALUES (?, ?, 'call', 'open', ?, ?, ?, ?, ?, ?, ?, ?)`, db.NewID(), fmt.Sprint("跟进客户 ", i), db.Ms(due), db.Ms(due.Add(-30*time.Minute)), owner,
				db.Ms(due), db.Ms(due), db.Ms(due), db.Ms(from), db.Ms(from)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

func BenchmarkTickOverManyOpenTasks(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			var d *db.DB
			if name == "sqlite" {
				d = dbtest.OpenSQLite(b, dbtest.Options{})
			} else {
				d = dbtest.OpenPostgres(b, dbtest.Options{})
			}
			e := servertest.Start(b, d)
			e.Admin()
			ctx := context.Background()
			var owner string
			d.QueryRow(ctx, "SELECT id FROM users WHERE username_key = 'admin'").Scan(&owner)
			// 100k open tasks in the future, already handled markers unset:
			// the tick must find the due few through the index, not a scan.
			insertTasks(b, d, owner, 100_000, time.Now().Add(24*time.Hour), 365*24*time.Hour)
			d.Exec(ctx, "UPDATE tasks SET reminded_at = NULL, overdue_notified_at = NULL, escalated_at = NULL")
			d.Exec(ctx, "ANALYZE tasks") // as autovacuum would after a bulk change
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := e.Srv.Followups.Tick(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNotificationThroughput: notifications delivered per second through
// the durable queue to a local WeCom-style robot, with two instances on one
// PostgreSQL database (target ≥ 1,000/s) and one on SQLite. Each iteration
// commits a burst of notices (followups.Notify, batches of 250 per
// transaction like a busy reminder tick) and waits until the robot has
// received every one; deliveries/s is the metric.
//
//	PRELUDE_TEST_DATABASE_URL=… go test ./internal/server/ -run '^$' -bench NotificationThroughput -benchtime 3x
func BenchmarkNotificationThroughput(b *testing.B) {
	const burst = 5000
	for _, name := range []string{"sqlite", "postgres-2-instances"} {
		b.Run(name, func(b *testing.B) {
			cfg := map[string]string{"PRELUDE_WORKERS": "8"}
			var envs []*servertest.Env
			if name == "sqlite" {
				envs = append(envs, servertest.StartWith(b, dbtest.OpenSQLite(b, dbtest.Options{}), servertest.Config(b, cfg)))
			} else {
				url := dbtest.SchemaURL(b)
				for range 2 {
					d, err := db.Open(context.Background(), db.Config{URL: url})
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { d.Close() })
					envs = append(envs, servertest.StartWith(b, d, servertest.Config(b, cfg)))
				}
			}
			e := envs[0]
			admin := e.Admin()
			var got atomic.Int64
			seen := sync.Map{}
			robot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				if _, dup := seen.LoadOrStore(r.Header.Get("X-Prelude-Delivery"), true); !dup {
					got.Add(1)
				}
				w.Write([]byte(`{"errcode":0,"errmsg":"ok"}`))
			}))
			b.Cleanup(robot.Close)
			admin.Do("POST", "/api/v1/me/channels", map[string]any{"kind": "wecom", "target": robot.URL + "/wecom"}).Expect(b, 201)
			ctx := context.Background()
			b.ResetTimer()
			var total, enq time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				want := got.Load() + burst
				b.StartTimer()
				t0 := time.Now()
				for k := 0; k < burst; k += 250 {
					err := e.DB.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
						for j := k; j < k+250 && j < burst; j++ {
							if err := e.Srv.Followups.Notify(ctx, tx, followups.Notice{UserID: admin.ID, Event: "task_reminder", TitleKey: "notify.task_reminder",
								TitleArgs: []any{fmt.Sprint("回访客户 ", i, "-", j)}}); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
				}
				enq += time.Since(t0)
				deadline := time.Now().Add(2 * time.Minute)
				for got.Load() < want {
					if time.Now().After(deadline) {
						b.Fatalf("only %d of %d delivered", got.Load()-(want-burst), burst)
					}
					time.Sleep(2 * time.Millisecond)
				}
				total += time.Since(t0)
			}
			b.StopTimer()
			b.ReportMetric(float64(burst*b.N)/total.Seconds(), "deliveries/s")
			b.ReportMetric(float64(burst*b.N)/enq.Seconds(), "enqueued/s")
		})
	}
}
