package server_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"prelude/internal/pipeline"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

// BenchmarkPipeline: the kanban of a pipeline holding 5,000 open deals
// (first 50 per column + column totals) with PRELUDE_BENCH_DEALS (default
// 200,000) opportunities in the table, for an administrator (all data), a
// department head (department scope) and a salesperson (own deals); and
// moving a card (gates checked, history, timeline and audit written).
// Targets: board p99 ≤ 30 ms, move p99 ≤ 10 ms.
//
//	PRELUDE_BENCH_DEALS=200000 go test ./internal/server/ -run '^$' -bench 'Pipeline' -benchtime 300x -timeout 30m
func BenchmarkPipeline(b *testing.B) {
	total := 200_000
	if s := os.Getenv("PRELUDE_BENCH_DEALS"); s != "" {
		total, _ = strconv.Atoi(s)
	}
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
			root := e.RootDepartment(admin)
			dept := e.Department(admin, "售前一部", root)
			manager := e.User(admin, "bench.manager", []string{"manager"}, dept)
			sales := e.User(admin, "bench.sales", []string{"sales"}, dept)
			others := e.Department(admin, "售前二部", root)
			colleague := e.User(admin, "bench.colleague", []string{"sales"}, others)
			ctx := context.Background()
			t0 := time.Now()
			open := generateDeals(b, d, total, []string{sales.ID, colleague.ID}, []string{dept, others})
			b.Logf("%s: generated %d deals (%d open on the board) in %s", name, total, len(open), time.Since(t0).Round(time.Second))
			// What autovacuum does after a bulk load (PostgreSQL 13+ vacuums
			// after inserts too): statistics, and the visibility map that
			// lets the board's index-only scans skip the table.
			if d.Dialect == db.Postgres {
				d.Exec(ctx, "VACUUM ANALYZE opportunities")
			}
			d.Analyze(ctx) // as the server does hourly on SQLite, autovacuum on PostgreSQL
			principal := func(c *servertest.Client) context.Context {
				p, err := e.Srv.Org.PrincipalFor(ctx, c.ID)
				if err != nil {
					b.Fatal(err)
				}
				return authz.With(ctx, p)
			}
			for _, who := range []struct {
				name string
				c    *servertest.Client
			}{{"board-admin", admin}, {"board-manager", manager}, {"board-sales", sales}} {
				pctx := principal(who.c)
				b.Run(who.name, func(b *testing.B) {
					lat := make([]time.Duration, 0, b.N)
					for i := 0; i < b.N; i++ {
						t1 := time.Now()
						board, err := e.Srv.Pipeline.Board(pctx, "", pipeline.Filter{})
						if err != nil || board.Count == 0 || len(board.Columns[0].Cards) != pipeline.BoardColumnSize {
							b.Fatalf("board: %v %+v", err, board)
						}
						lat = append(lat, time.Since(t1))
					}
					report(b, lat)
				})
			}
			pctx := principal(admin)
			b.Run("move", func(b *testing.B) {
				lat := make([]time.Duration, 0, b.N)
				for i := 0; i < b.N; i++ {
					id := open[i%len(open)]
					o, err := e.Srv.Pipeline.GetOpportunity(pctx, id)
					if err != nil {
						b.Fatal(err)
					}
					// Between 市场调研 and 需求分析: forward passes the research
					// gate (each account has a note), back needs none.
					to := stNeeds
					if o.StageID == stNeeds {
						to = stResearch
					}
					t1 := time.Now()
					if _, err := e.Srv.Pipeline.Move(pctx, id, o.Version, pipeline.MoveInput{StageID: to}); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t1))
				}
				report(b, lat)
			})
		})
	}
}

func report(b *testing.B, lat []time.Duration) {
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ms := func(q int) float64 { return float64(lat[min(len(lat)-1, len(lat)*q/100)].Microseconds()) / 1000 }
	b.ReportMetric(ms(50), "p50-ms")
	b.ReportMetric(ms(99), "p99-ms")
}

// generateDeals writes total opportunities: 5,000 open ones in the default
// pipeline (1,000 per stage, alternating owners and departments) and the
// rest closed (won/lost over five years), on 1,000 accounts each with a
// research note. It returns the IDs of the open deals in the first two
// stages (the ones the move benchmark shuffles).
func generateDeals(b *testing.B, d *db.DB, total int, owners, depts []string) []string {
	ctx := context.Background()
	stages := []string{stResearch, stNeeds, stDesign, stQuote, stSign}
	probs := []int{10, 20, 40, 60, 80}
	var movable []string
	now := time.Now()
	err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		const accounts = 1000
		accIDs := make([]string, accounts)
		for i := range accIDs {
			accIDs[i] = db.NewID()
			ms := db.Ms(now)
			if _, err := tx.Exec(ctx, `INSERT INTO accounts (id, name, name_key, kind, owner_id, department_id, created_at, updated_at) VALUES (?, ?, ?, 'company', ?, ?, ?, ?)`,
				accIDs[i], fmt.Sprintf("基准客户%04d", i), fmt.Sprintf("基准客户%04d", i), owners[i%len(owners)], depts[i%len(depts)], ms, ms); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO research_notes (id, account_id, industry, author_id, created_at, updated_at) VALUES (?, ?, '制造', ?, ?, ?)`,
				db.NewID(), accIDs[i], owners[0], ms, ms); err != nil {
				return err
			}
		}
		st, err := tx.Prepare(ctx, `INSERT INTO opportunities (id, account_id, pipeline_id, stage_id, name, amount, currency, expected_close, probability, source,
			owner_id, department_id, status, close_reason, closed_at, stage_entered_at, rank, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 'CNY', ?, ?, 'other', ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for i := 0; i < total; i++ {
			id := db.NewID()
			stage := i % 5
			status, reason := "open", ""
			var closed any
			created := now.Add(-time.Duration(total-i) * 13 * time.Minute)
			if i >= 5000 {
				status, reason, closed = []string{"won", "lost"}[i%2], "基准", db.Ms(created.Add(30*24*time.Hour))
			} else if stage < 2 {
				movable = append(movable, id)
			}
			ms := db.Ms(created)
			if _, err := st.ExecContext(ctx, id, accIDs[i%accounts], defaultPipeID, stages[stage], fmt.Sprintf("商机 %d", i), int64(10000+i*37),
				created.AddDate(0, 3, 0).Format("2006-01-02"), probs[stage], owners[i%len(owners)], depts[i%len(depts)], status, reason, closed, ms, -ms, ms, ms); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return movable
}
