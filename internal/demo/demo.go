// Package demo generates realistic Chinese presales data — departments,
// staff, accounts with valid USCCs and real regions, contacts, calls,
// meetings and visits over two years, and the timeline — deterministically
// from a seed, for demos and for benchmarks at scale (issue: 100k accounts,
// 300k contacts, 1M timeline events).
package demo

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"prelude/internal/customers"
	"prelude/internal/platform/auth"
	"prelude/internal/platform/db"
	"prelude/internal/platform/region"
	"prelude/internal/platform/search"
	"prelude/internal/platform/valid"
)

// Options size the data.
type Options struct {
	Seed                 uint64
	Accounts             int
	ContactsPerAccount   int // average
	ActivitiesPerAccount int // average calls/meetings/visits/notes
	// Now anchors the two years of history (default: today 00:00 UTC, so
	// one seed gives the same data all day).
	Now      time.Time
	Progress io.Writer
	// SkipIndex leaves the search index to the background indexer.
	SkipIndex bool
}

// Scale returns the options of a named scale.
func Scale(name string) (Options, error) {
	switch name {
	case "small":
		return Options{Seed: 1, Accounts: 300, ContactsPerAccount: 3, ActivitiesPerAccount: 6}, nil
	case "large":
		// 100k accounts, 300k contacts, 600k activities: with the creation
		// events that is 1M timeline events.
		return Options{Seed: 1, Accounts: 100_000, ContactsPerAccount: 3, ActivitiesPerAccount: 6}, nil
	}
	return Options{}, fmt.Errorf("unknown scale %q (small, large or custom)", name)
}

// Password is the password of every generated user.
const Password = "Demo-passw0rd!"

// Result counts what was generated.
type Result struct {
	Users, Accounts, Contacts, Activities, TimelineEvents int
	Took                                                  time.Duration
}

type gen struct {
	o       Options
	r       *rand.Rand
	d       *db.DB
	out     io.Writer
	regions []string // district codes (with their parents derivable)
	now     time.Time
	start   time.Time
}

func (g *gen) logf(format string, args ...any) {
	if g.out != nil {
		fmt.Fprintf(g.out, "[%6.1fs] "+format+"\n", append([]any{time.Since(g.start).Seconds()}, args...)...)
	}
}

// id returns a deterministic UUIDv7-shaped ID for an instant.
func (g *gen) id(at time.Time) string {
	var b [16]byte
	ms := uint64(at.UnixMilli())
	for i := 0; i < 6; i++ {
		b[i] = byte(ms >> (40 - 8*i))
	}
	x, y := g.r.Uint64(), g.r.Uint64()
	for i := 6; i < 16; i++ {
		if i < 14 {
			b[i] = byte(x >> (8 * (i - 6)))
		} else {
			b[i] = byte(y >> (8 * (i - 14)))
		}
	}
	b[6] = 0x70 | (b[6] & 0x0f)
	b[8] = 0x80 | (b[8] & 0x3f)
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

type staff struct {
	id, dept string
}

// Generate writes the data. It adds to an existing installation: the
// departments go under the root department, the users are demo.*.
func Generate(ctx context.Context, d *db.DB, ix *search.Index, o Options) (Result, error) {
	start := time.Now()
	if o.Now.IsZero() {
		o.Now = time.Now().UTC().Truncate(24 * time.Hour)
	}
	g := &gen{o: o, r: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)), d: d, out: o.Progress, now: o.Now, start: start}
	for _, p := range region.Provinces() {
		for _, c := range region.Children(p.Code) {
			for _, dist := range region.Children(c.Code) {
				g.regions = append(g.regions, dist.Code)
			}
		}
	}
	var res Result
	var n int
	if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM users WHERE username_key LIKE 'demo.%'").Scan(&n); err != nil {
		return res, err
	}
	if n > 0 {
		return res, fmt.Errorf("demo data already present (%d demo.* users); use a fresh data directory", n)
	}
	owners, err := g.org(ctx, &res)
	if err != nil {
		return res, err
	}
	if err := g.customers(ctx, owners, &res); err != nil {
		return res, err
	}
	if !o.SkipIndex && ix != nil {
		if err := g.index(ctx, ix); err != nil {
			return res, err
		}
	}
	res.Took = time.Since(start)
	return res, nil
}

func (g *gen) org(ctx context.Context, res *Result) ([]staff, error) {
	hash, err := auth.HashPassword(Password)
	if err != nil {
		return nil, err
	}
	now := db.Ms(g.now.Add(-730 * 24 * time.Hour))
	var root string
	err = g.d.QueryRow(ctx, "SELECT id FROM departments WHERE parent_id IS NULL ORDER BY created_at LIMIT 1").Scan(&root)
	if err == db.ErrNotFound {
		root = g.id(g.now.Add(-730 * 24 * time.Hour))
		if _, err := g.d.Exec(ctx, "INSERT INTO departments (id, name, created_at, updated_at) VALUES (?, '总部', ?, ?)", root, now, now); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	depts := []struct {
		name  string
		roles []string
		n     int
	}{
		{"华东销售部", []string{"sales"}, 6}, {"华南销售部", []string{"sales"}, 6}, {"华北销售部", []string{"sales"}, 5},
		{"售前技术部", []string{"presales"}, 5}, {"客服中心", []string{"service"}, 4}, {"市场部", []string{"marketing"}, 3},
		{"产品技术部", []string{"tech"}, 3}, {"售后服务部", []string{"aftersales"}, 3},
	}
	var owners []staff
	users := newBatch(g.d, "users", "id", "username", "username_key", "display_name", "email", "mobile", "department_id", "password_hash", "created_at", "updated_at")
	roles := newBatch(g.d, "user_roles", "user_id", "role")
	for di, dp := range depts {
		deptID := g.id(g.now.Add(-730 * 24 * time.Hour))
		if _, err := g.d.Exec(ctx, "INSERT INTO departments (id, name, parent_id, sort_order, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
			deptID, dp.name, root, di, now, now); err != nil {
			return nil, err
		}
		for i := 0; i <= dp.n; i++ {
			name := pick(g.r, surnames) + pick(g.r, given)
			role := dp.roles
			username := fmt.Sprintf("demo.%s%02d", dp.roles[0], di*10+i)
			if i == 0 {
				role = []string{"manager"}
				username = fmt.Sprintf("demo.head%02d", di)
			}
			uid := g.id(g.now.Add(-729 * 24 * time.Hour))
			if err := users.add(ctx, uid, username, username, name, username+"@demo.prelude.local", g.mobile(), deptID, hash, now, now); err != nil {
				return nil, err
			}
			for _, r := range role {
				if err := roles.add(ctx, uid, r); err != nil {
					return nil, err
				}
			}
			res.Users++
			if role[0] == "sales" || role[0] == "presales" {
				owners = append(owners, staff{uid, deptID})
			}
		}
	}
	if err := flushAll(ctx, true, users, roles); err != nil {
		return nil, err
	}
	g.logf("organisation: %d departments, %d users (password %s)", len(depts), res.Users, Password)
	return owners, nil
}

func (g *gen) mobile() string {
	prefixes := []string{"138", "139", "137", "136", "135", "150", "151", "152", "158", "159", "186", "187", "188", "189", "133", "153", "177", "180", "181", "199"}
	return fmt.Sprintf("%s%08d", pick(g.r, prefixes), g.r.IntN(100_000_000))
}

const usccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

func (g *gen) uscc(district string) string {
	var b strings.Builder
	b.WriteString("91")
	b.WriteString(district)
	for i := 0; i < 9; i++ {
		b.WriteByte(usccChars[g.r.IntN(len(usccChars))])
	}
	c, _ := valid.USCCCheckChar(b.String())
	b.WriteByte(c)
	return b.String()
}

func (g *gen) at(daysAgoMax int) time.Time {
	return g.now.Add(-time.Duration(g.r.Int64N(int64(daysAgoMax)*24*int64(time.Hour/time.Second))) * time.Second)
}

func (g *gen) customers(ctx context.Context, owners []staff, res *Result) error {
	accounts := newBatch(g.d, "accounts", "id", "name", "name_key", "kind", "uscc", "industry", "size", "province_code", "city_code", "district_code",
		"address", "source", "level", "status", "tags", "owner_id", "department_id", "needs", "concerns", "last_contact_at", "created_by", "created_at", "updated_at")
	contacts := newBatch(g.d, "contacts", "id", "name", "title", "mobile", "phone", "email", "wechat", "owner_id", "department_id", "created_at", "updated_at")
	links := newBatch(g.d, "account_contacts", "account_id", "contact_id", "purchase_role", "is_primary", "created_at")
	acts := newBatch(g.d, "activities", "id", "account_id", "contact_id", "kind", "direction", "occurred_at", "duration_min", "subject", "summary", "outcome",
		"next_step", "owner_id", "created_at", "updated_at")
	events := newBatch(g.d, "timeline_events", "id", "account_id", "kind", "ref_type", "ref_id", "actor_id", "occurred_at", "title", "body", "data", "created_at")
	step := max(1, g.o.Accounts/20)
	sizes, sources, levels := customers.Sizes, customers.Sources, []string{"A", "B", "B", "C", "C", "C", "D"}
	statuses := []string{"prospect", "prospect", "active", "active", "active", "dormant", "lost"}
	seen := map[string]bool{}
	for i := 0; i < g.o.Accounts; i++ {
		owner := pick(g.r, owners)
		district := pick(g.r, g.regions)
		dr, _ := region.Lookup(district)
		cr, _ := region.Lookup(dr.Parent)
		cityShort := strings.TrimSuffix(cr.Name, "市")
		var name string
		for {
			name = cityShort + pick(g.r, brandA) + pick(g.r, brandB) + pick(g.r, trades) + pick(g.r, forms)
			if !seen[name] {
				break
			}
			name = cityShort + pick(g.r, brandA) + pick(g.r, brandA) + pick(g.r, brandB) + pick(g.r, trades) + pick(g.r, forms)
			if !seen[name] {
				break
			}
		}
		seen[name] = true
		created := g.at(730)
		aid := g.id(created)
		var tags []string
		for t := g.r.IntN(3); t > 0; t-- {
			tags = append(tags, pick(g.r, tagWords))
		}
		tagJSON, _ := json.Marshal(dedupe(tags))
		last := created
		nContacts := 1 + g.r.IntN(2*g.o.ContactsPerAccount-1)
		var contactIDs []string
		for c := 0; c < nContacts; c++ {
			sur := pick(g.r, surnames)
			cname := sur + pick(g.r, given)
			cid := g.id(created)
			email := fmt.Sprintf("%s.%d@%s", pinyin[sur], g.r.IntN(100000), pick(g.r, domains))
			phone := ""
			if g.r.IntN(3) == 0 {
				phone = fmt.Sprintf("0%d-%08d", 10+g.r.IntN(900), g.r.IntN(100_000_000))
			}
			if err := contacts.add(ctx, cid, cname, pick(g.r, titles), g.mobile(), phone, email, "", owner.id, owner.dept, db.Ms(created), db.Ms(created)); err != nil {
				return err
			}
			role := pick(g.r, customers.PurchaseRoles)
			if err := links.add(ctx, aid, cid, role, c == 0, db.Ms(created)); err != nil {
				return err
			}
			if err := events.add(ctx, g.id(created), aid, "contact_added", "contact", cid, owner.id, db.Ms(created), cname, "", "", db.Ms(created)); err != nil {
				return err
			}
			contactIDs = append(contactIDs, cid)
			res.Contacts++
			res.TimelineEvents++
		}
		nActs := g.r.IntN(2*g.o.ActivitiesPerAccount + 1)
		for k := 0; k < nActs; k++ {
			at := created.Add(time.Duration(g.r.Int64N(int64(g.now.Sub(created)) + 1)))
			kind := pick(g.r, []string{"call", "call", "call", "meeting", "visit", "note"})
			summary := pick(g.r, callSummaries)
			if kind == "meeting" || kind == "visit" {
				summary = pick(g.r, meetingSummaries)
			}
			dir := ""
			if kind == "call" {
				dir = pick(g.r, []string{"inbound", "outbound"})
			}
			outcome, next := pick(g.r, outcomes), pick(g.r, nextSteps)
			actID := g.id(at)
			if err := acts.add(ctx, actID, aid, pick(g.r, contactIDs), kind, dir, db.Ms(at), 5+g.r.IntN(55), "", summary, outcome, next, owner.id, db.Ms(at), db.Ms(at)); err != nil {
				return err
			}
			data, _ := json.Marshal(map[string]any{"direction": dir, "outcome": outcome, "next_step": next})
			if err := events.add(ctx, g.id(at), aid, kind, "activity", actID, owner.id, db.Ms(at), summary, summary, string(data), db.Ms(at)); err != nil {
				return err
			}
			if kind != "note" && at.After(last) {
				last = at
			}
			res.Activities++
			res.TimelineEvents++
		}
		var lastContact any
		if last.After(created) {
			lastContact = db.Ms(last)
		}
		if err := accounts.add(ctx, aid, name, customers.NameKey(name), "company", g.uscc(district), pick(g.r, industries), pick(g.r, sizes),
			cr.Parent, cr.Code, district, fmt.Sprintf("%s%d号", pick(g.r, []string{"科技园路", "人民路", "中山路", "建设大道", "解放路", "创业路"}), 1+g.r.IntN(999)),
			pick(g.r, sources), pick(g.r, levels), pick(g.r, statuses), string(tagJSON), owner.id, owner.dept,
			pick(g.r, needs), pick(g.r, concerns), lastContact, owner.id, db.Ms(created), db.Ms(last)); err != nil {
			return err
		}
		if err := events.add(ctx, g.id(created), aid, "account_created", "account", aid, owner.id, db.Ms(created), name, "", "", db.Ms(created)); err != nil {
			return err
		}
		res.Accounts++
		res.TimelineEvents++
		if (i+1)%step == 0 {
			g.logf("accounts %d/%d, contacts %d, activities %d, timeline events %d", i+1, g.o.Accounts, res.Contacts, res.Activities, res.TimelineEvents)
		}
		if err := flushAll(ctx, false, accounts, contacts, links, acts, events); err != nil {
			return err
		}
	}
	return flushAll(ctx, true, accounts, contacts, links, acts, events)
}

func dedupe(tags []string) []string {
	out := []string{}
	for _, t := range tags {
		found := false
		for _, o := range out {
			found = found || o == t
		}
		if !found {
			out = append(out, t)
		}
	}
	return out
}

// index builds the search index for everything generated, in batches.
// On PostgreSQL the GIN index over the tokens is dropped for the load and
// built once afterwards (inserting a million documents one by one into a
// GIN index without fastupdate is most of the generation time, and leaves
// a larger index than one bulk build), and the tables are analyzed, so
// that the data are ready for the planner as soon as this returns.
func (g *gen) index(ctx context.Context, ix *search.Index) (err error) {
	if g.d.Dialect == db.Postgres {
		if _, err := g.d.Exec(ctx, "DROP INDEX IF EXISTS search_docs_tsv"); err != nil {
			return err
		}
		defer func() {
			// As migration 0003 creates it (internal/migrations).
			if _, cerr := g.d.Exec(ctx, "CREATE INDEX IF NOT EXISTS search_docs_tsv ON search_docs USING gin (tsv) WITH (fastupdate = off)"); cerr != nil && err == nil {
				err = cerr
			}
			if err == nil {
				g.logf("search index: GIN index built")
				_, err = g.d.Exec(ctx, "ANALYZE departments, users, user_roles, accounts, contacts, account_contacts, activities, timeline_events, search_docs")
			}
		}()
	}
	for _, t := range []struct{ docType, table string }{{"account", "accounts"}, {"contact", "contacts"}, {"activity", "activities"}} {
		var total, done int
		if err := g.d.QueryRow(ctx, "SELECT COUNT(*) FROM "+t.table).Scan(&total); err != nil {
			return err
		}
		last := ""
		for {
			rows, err := g.d.Query(ctx, "SELECT id FROM "+t.table+" WHERE id > ? ORDER BY id LIMIT 2000", last)
			if err != nil {
				return err
			}
			var ids []string
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				ids = append(ids, id)
			}
			rows.Close()
			if len(ids) == 0 {
				break
			}
			if err := ix.Reindex(ctx, t.docType, ids); err != nil {
				return err
			}
			last = ids[len(ids)-1]
			done += len(ids)
			if done%20000 < 2000 || done == total {
				g.logf("search index: %s %d/%d", t.docType, done, total)
			}
		}
	}
	return nil
}
