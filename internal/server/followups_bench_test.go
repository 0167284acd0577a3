package server_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
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

// BenchmarkMyDay: "my day" for a user with 2,000 open tasks (target p99 ≤ 10 ms)
// among 20,000 open tasks of ten people. Reports p99-ms and cpu-ms/op, the
// CPU time of the whole process per call (on SQLite that is all of the
// work; on PostgreSQL the client's share), which a busy machine disturbs
// less than the latency.
//
//	PRELUDE_TEST_DATABASE_URL=… go test ./internal/server/ -run '^$' -bench 'MyDay' -benchtime 200x -count 5
func BenchmarkMyDay(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			d := dbtest.Open(b, name, dbtest.Options{})
			e := servertest.Start(b, d)
			admin := e.Admin()
			ctx := context.Background()
			now := time.Now()
			var owner string
			d.QueryRow(ctx, "SELECT id FROM users WHERE username_key = 'admin'").Scan(&owner)
			insertTasks(b, d, owner, 2000, now.Add(-24*time.Hour), 7*24*time.Hour)
			// Colleagues' tasks over the same days, as in a real team.
			for i := range 9 {
				u := e.User(admin, fmt.Sprint("myday.", i), []string{"sales"}, e.RootDepartment(admin))
				insertTasks(b, d, u.ID, 2000, now.Add(-24*time.Hour), 7*24*time.Hour)
			}
			if name == "postgres" {
				// As autovacuum would after a bulk change. Nothing runs
				// ANALYZE on SQLite in production, and with its STAT4
				// statistics every statement whose plan used a bound value
				// would be re-parsed on each run (measured: a fifth of
				// the time here), which a deployment never sees.
				d.Exec(ctx, "VACUUM ANALYZE tasks")
			}
			p, err := e.Srv.Org.PrincipalFor(ctx, admin.ID)
			if err != nil {
				b.Fatal(err)
			}
			pctx := authz.With(ctx, p)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				day, err := e.Srv.Followups.MyDay(pctx)
				if err != nil || len(day.Overdue)+len(day.Today)+len(day.Upcoming) == 0 {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
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

// BenchmarkReminders: "the scheduler picks due reminders among 1M open
// tasks within 1 s of their due time", on the real server with its job
// queue and schedules running. One setup of PRELUDE_BENCH_TASKS open tasks
// (default 1,000,000: a third overdue and already notified, the rest due
// over the coming year, some of them promises, across ten owners), then:
//
//   - tick: one Tick (all four rules and the look-ahead) per op, the
//     duration of the safety net that runs every second;
//
//   - delay: b.N tasks created one after another (every 0–40 ms) through
//     the service, each reminding at an arbitrary millisecond 0.1–3 s
//     ahead; for each, the delay from its reminder time to the moment its
//     reminder notification is visible in the database (polled every 5 ms,
//     so up to 5 ms pessimistic): delay-p50/p99/max-ms, and rec-max-ms, the
//     largest gap to the notification's own created_at.
//
//     PRELUDE_TEST_DATABASE_URL=… go test ./internal/server/ -run '^$' -bench Reminders -benchtime 200x -timeout 60m
func BenchmarkReminders(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("PRELUDE_BENCH_TASKS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("PRELUDE_BENCH_TASKS=%q: want a number ≥ 1000", v)
		}
	}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			d := dbtest.Open(b, name, dbtest.Options{})
			e := servertest.Start(b, d)
			admin := e.Admin()
			ctx := context.Background()
			owners := []string{admin.ID}
			for i := range 9 {
				owners = append(owners, e.User(admin, fmt.Sprint("remind.", i), []string{"sales"}, e.RootDepartment(admin)).ID)
			}
			t0 := time.Now()
			bulkTasks(b, d, owners, n)
			if name == "postgres" {
				d.Exec(ctx, "VACUUM ANALYZE tasks") // as autovacuum would after a bulk load
			}
			b.Logf("%s: %d open tasks loaded in %v", name, n, time.Since(t0).Round(time.Second))
			p, err := e.Srv.Org.PrincipalFor(ctx, admin.ID)
			if err != nil {
				b.Fatal(err)
			}
			pctx := authz.With(ctx, p)

			b.Run("tick", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if _, err := e.Srv.Followups.Tick(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("delay", func(b *testing.B) {
				remindAt := map[string]time.Time{}
				var mu sync.Mutex
				seen := map[string]bool{}
				var delays []time.Duration
				var recMax time.Duration
				start := time.Now()
				stop := make(chan struct{})
				polled := make(chan struct{})
				go func() { // watch for reminder notifications as they commit
					defer close(polled)
					for {
						select {
						case <-stop:
							return
						case <-time.After(5 * time.Millisecond):
						}
						rows, err := d.Query(ctx, "SELECT link, created_at FROM notifications WHERE user_id = ? AND event = 'task_reminder' AND created_at >= ?", admin.ID, db.Ms(start))
						if err != nil {
							continue
						}
						at := time.Now()
						for rows.Next() {
							var link string
							var created db.Time
							if rows.Scan(&link, &created) != nil {
								continue
							}
							id := strings.TrimPrefix(link, "/tasks/")
							mu.Lock()
							if r, ok := remindAt[id]; ok && !seen[id] {
								seen[id] = true
								delays = append(delays, at.Sub(r))
								recMax = max(recMax, time.Time(created).Sub(r))
							}
							mu.Unlock()
						}
						rows.Close()
					}
				}()
				rnd := rand.New(rand.NewPCG(1, 2))
				zero := 0
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					due := time.Now().Add(100*time.Millisecond + time.Duration(rnd.Int64N(2900))*time.Millisecond + time.Duration(rnd.Int64N(1000))*time.Microsecond)
					t, err := e.Srv.Followups.CreateTask(pctx, followups.TaskInput{Title: fmt.Sprint("回电 ", i), Kind: "call", DueAt: due, RemindBeforeMin: &zero})
					if err != nil {
						b.Fatal(err)
					}
					mu.Lock()
					remindAt[t.ID] = t.DueAt // reminding 0 minutes before
					mu.Unlock()
					time.Sleep(time.Duration(rnd.Int64N(40)) * time.Millisecond)
				}
				deadline := time.Now().Add(30 * time.Second)
				for {
					mu.Lock()
					done := len(seen) == b.N
					mu.Unlock()
					if done || time.Now().After(deadline) {
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
				b.StopTimer()
				close(stop)
				<-polled
				if len(delays) < b.N {
					b.Fatalf("%d of %d reminders recorded within 30 s", len(delays), b.N)
				}
				sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
				ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
				b.ReportMetric(ms(delays[len(delays)/2]), "delay-p50-ms")
				b.ReportMetric(ms(delays[len(delays)*99/100]), "delay-p99-ms")
				b.ReportMetric(ms(delays[len(delays)-1]), "delay-max-ms")
				b.ReportMetric(ms(recMax), "rec-max-ms")
			})
		})
	}
}

// bulkTasks inserts n open tasks across owners with multi-row INSERTs: a
// third overdue (due in the last 90 days, every notice already sent, their
// promises broken), the rest due from two hours to a year ahead with their
// reminders 30 minutes before; one in twenty a promise.
func bulkTasks(b *testing.B, d *db.DB, owners []string, n int) {
	ctx := context.Background()
	now := time.Now()
	const perStmt, perTx = 500, 20_000
	const cols = 14
	row := "(" + db.Placeholders(cols) + ")"
	rnd := rand.New(rand.NewPCG(3, 4))
	for done := 0; done < n; {
		batch := min(perTx, n-done)
		err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			for off := 0; off < batch; off += perStmt {
				m := min(perStmt, batch-off)
				args := make([]any, 0, m*cols)
				for j := range m {
					i := done + off + j
					var due time.Time
					var reminded, notified any
					state := ""
					promise := i%20 == 0
					if i%3 == 0 {
						due = now.Add(-time.Duration(rnd.Int64N(int64(90 * 24 * time.Hour))))
						reminded, notified = db.Ms(due.Add(-30*time.Minute)), db.Ms(due)
						if promise {
							state = "broken"
						}
					} else {
						due = now.Add(2*time.Hour + time.Duration(rnd.Int64N(int64(365*24*time.Hour))))
						if promise {
							state = "pending"
						}
					}
					args = append(args, db.NewID(), fmt.Sprint("跟进客户 ", i), db.Ms(due), db.Ms(due.Add(-30*time.Minute)), owners[i%len(owners)],
						promise, state, reminded, notified, notified, db.Ms(now), db.Ms(now), "call", "open")
				}
				if _, err := tx.Exec(ctx, `INSERT INTO tasks (id, title, due_at, remind_at, owner_id, is_promise, promise_state, reminded_at, overdue_notified_at, escalated_at, created_at, updated_at, kind, status)
					VALUES `+strings.TrimSuffix(strings.Repeat(row+", ", m), ", "), args...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		done += batch
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
