package proof

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"prelude/internal/platform/db"
)

// The write load and its model. Each worker is one sales user (data scope
// "own") writing only to its own accounts, one request at a time, so the
// expected state of every account is known exactly: the model holds every
// write acknowledged with a 2xx, and every request that got no answer is
// kept as pending until a check after the crash decides (from the audit
// entry carrying its X-Request-ID) whether it committed — all of it — or
// not at all.

// accModel is what an account must look like.
type accModel struct {
	id, owner, name, token string
	needs, level           string
	tags                   []string
	version                int64
	// contacts: contact name -> ID ("" when learned from SQL).
	contacts map[string]string
	// activities: activity ID -> summary.
	activities map[string]string
	// dirty marks accounts written since they were last verified.
	dirty bool
}

// pending is a write that got no answer.
type pending struct {
	kind    string // create, activity, patch, contact
	owner   string
	reqID   string
	idemKey string
	method  string
	path    string
	body    []byte

	accountID string // activity, patch, contact
	name      string // create (account name), contact (contact name)
	contacts  []string
	summary   string // activity
	from      *accModel
	patch     map[string]any

	// Set by resolve.
	committed bool
	entityID  string
}

// world is the model shared by the workers of one deployment.
type world struct {
	tag string
	mu  sync.Mutex
	acc map[string]*accModel
	// byOwner lists each user's accounts in creation order.
	byOwner map[string][]*accModel
	// pend are unanswered writes not yet resolved.
	pend []*pending
	// problems found while the load ran (5xx, wrong answers).
	problems []string
	seq      atomic.Int64

	// uncertain accounts have unresolved pending writes: their version is
	// unknown until resolve, so workers leave them alone.
	uncertain map[string]bool

	acked, unanswered, committedUnanswered, notCommitted atomic.Int64
	byStatus                                             sync.Map // status code -> *atomic.Int64
}

func newWorld(tag string) *world {
	return &world{tag: tag, acc: map[string]*accModel{}, byOwner: map[string][]*accModel{}, uncertain: map[string]bool{}}
}

func (w *world) problem(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.problems) < 200 {
		w.problems = append(w.problems, fmt.Sprintf(format, args...))
	}
}

func (w *world) count(status int) {
	v, _ := w.byStatus.LoadOrStore(status, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

func (w *world) statusSummary() string {
	var parts []string
	w.byStatus.Range(func(k, v any) bool {
		parts = append(parts, fmt.Sprintf("%d×%d", k, v.(*atomic.Int64).Load()))
		return true
	})
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func (w *world) add(a *accModel) {
	w.mu.Lock()
	if _, ok := w.acc[a.id]; !ok {
		w.byOwner[a.owner] = append(w.byOwner[a.owner], a)
	}
	w.acc[a.id] = a
	w.mu.Unlock()
}

// owned lists a user's accounts.
func (w *world) owned(owner string) []*accModel {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.byOwner[owner])
}

// pick returns a random account of owner that has no unresolved write, or
// nil.
func (w *world) pick(owner string, r *rand.Rand) *accModel {
	w.mu.Lock()
	defer w.mu.Unlock()
	list := w.byOwner[owner]
	for range 8 {
		if len(list) == 0 {
			return nil
		}
		if a := list[r.IntN(len(list))]; !w.uncertain[a.id] {
			return a
		}
	}
	return nil
}

func (w *world) all() []*accModel {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]*accModel, 0, len(w.acc))
	for _, a := range w.acc {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// token is a lowercase ASCII word, unique enough to find one account by
// full-text search.
func token(r *rand.Rand) string {
	b := make([]byte, 10)
	for i := range b {
		b[i] = byte('a' + r.IntN(26))
	}
	return string(b)
}

var (
	mobileSeq atomic.Int64
	// mobileBase differs from run to run; the numbers of one run follow it
	// one by one, so they never repeat (a number derived from the clock at
	// each call did, once in some 50,000 accounts, and the second account
	// was refused as a suspected duplicate).
	mobileBase = time.Now().UnixNano() / 1000 % 100000000
)

func uniqueMobile() string {
	return fmt.Sprintf("139%08d", (mobileBase+mobileSeq.Add(1))%100000000)
}

var levels = []string{"A", "B", "C", "D"}

// worker is one user issuing one request at a time.
type worker struct {
	w    *world
	c    *client
	r    *rand.Rand
	name string
	// reads adds GETs of own accounts (read-your-writes across instances).
	reads bool
	// keepGoing: a request without an answer does not stop the worker (an
	// instance died but others answer).
	keepGoing bool
}

func newWorker(w *world, c *client, seed uint64) *worker {
	return &worker{w: w, c: c, name: c.name, r: rand.New(rand.NewPCG(seed, seed*31+7))}
}

// run issues writes until ctx ends or a request gets no answer (the
// server died); the unanswered request is recorded as pending.
func (wk *worker) run(ctx context.Context) {
	for ctx.Err() == nil {
		if stop := wk.step(); stop && !wk.keepGoing {
			return
		}
	}
}

// step issues one request; stop reports that it got no answer.
func (wk *worker) step() (stop bool) {
	a := wk.w.pick(wk.name, wk.r)
	switch x := wk.r.IntN(100); {
	case a == nil || x < 35:
		return wk.createAccount()
	case x < 60:
		return wk.logActivity(a)
	case x < 82:
		return wk.patchAccount(a)
	case x < 92 || !wk.reads:
		return wk.addContact(a)
	default:
		return wk.readAccount(a)
	}
}

// answered handles a reply: false with the request recorded as pending if
// there was no answer; 5xx and unexpected statuses are problems.
func (wk *worker) answered(r *reply, want int, p *pending) bool {
	if r.err != nil {
		wk.w.unanswered.Add(1)
		p.owner, p.reqID = wk.name, r.reqID
		wk.w.mu.Lock()
		wk.w.pend = append(wk.w.pend, p)
		if p.accountID != "" {
			wk.w.uncertain[p.accountID] = true
		}
		wk.w.mu.Unlock()
		return false
	}
	wk.w.count(r.status)
	if r.status != want {
		wk.w.problem("%s %s %s (X-Request-ID %s): want %d, got %s", wk.name, p.method, p.path, r.reqID, want, r)
		return true
	}
	wk.w.acked.Add(1)
	return true
}

func (wk *worker) createAccount() (stop bool) {
	n := wk.w.seq.Add(1)
	tok := token(wk.r)
	idem := wk.r.IntN(2) == 0
	name := fmt.Sprintf("韧性客户%s-%d %s", wk.w.tag, n, tok)
	m := &accModel{owner: wk.name, name: name, token: tok, needs: fmt.Sprintf("需要 CRM 系统，预算 %d 万", 10+wk.r.IntN(90)),
		level: levels[wk.r.IntN(4)], tags: []string{"压测", wk.w.tag}, version: 1, contacts: map[string]string{}, activities: map[string]string{}, dirty: true}
	var contacts []map[string]any
	for i := range 1 + wk.r.IntN(3) {
		cn := fmt.Sprintf("联系人%d-%d", n, i)
		contacts = append(contacts, map[string]any{"name": cn, "title": "经理", "mobile": uniqueMobile(),
			"email": fmt.Sprintf("c%d.%d.%s@example.cn", n, i, tok), "purchase_role": "decision_maker", "is_primary": i == 0})
		m.contacts[cn] = ""
	}
	body := map[string]any{"name": name, "kind": "company", "industry": "软件", "level": m.level, "tags": m.tags, "needs": m.needs,
		"contacts": contacts, "source": "exhibition"}
	p := &pending{kind: "create", method: "POST", path: "/api/v1/accounts", name: name}
	for cn := range m.contacts {
		p.contacts = append(p.contacts, cn)
	}
	hdr := []string{"X-Request-ID", newReqID("c")}
	if idem {
		// An integration that already checked for duplicates: a replay
		// that re-ran would show as a second account, not be hidden by
		// the duplicate check.
		body["confirm_duplicates"] = true
		p.idemKey = newKey()
		hdr = append(hdr, "Idempotency-Key", p.idemKey)
	}
	p.body = mustJSON(body)
	r := wk.c.doRaw("POST", p.path, p.body, hdr...)
	if !wk.answered(r, 201, p) {
		return true
	}
	if r.status != 201 {
		return false
	}
	m.id = r.str("id")
	var got struct {
		Name, Needs, Level, OwnerID string
		Tags                        []string
		Version                     int64
	}
	r.decode(&got)
	got.OwnerID = r.str("owner_id")
	if m.id == "" || got.Name != name || got.Needs != m.needs || got.Level != m.level || !slices.Equal(got.Tags, m.tags) || got.Version != 1 ||
		got.OwnerID != wk.c.id || r.header.Get("Location") != "/api/v1/accounts/"+m.id || r.header.Get("ETag") != `"1"` {
		wk.w.problem("create account answer does not match the request: sent %s, got %s (Location %q, ETag %q)", p.body, r, r.header.Get("Location"), r.header.Get("ETag"))
	}
	wk.w.add(m)
	return false
}

func (wk *worker) logActivity(a *accModel) (stop bool) {
	n := wk.w.seq.Add(1)
	kinds := []string{"call", "meeting", "visit", "note"}
	summary := fmt.Sprintf("沟通纪要 %s-%d：客户关心交付周期 %s", wk.w.tag, n, token(wk.r))
	body := map[string]any{"kind": kinds[wk.r.IntN(4)], "direction": "outbound", "duration_min": wk.r.IntN(60), "summary": summary, "outcome": "继续跟进"}
	p := &pending{kind: "activity", method: "POST", path: "/api/v1/accounts/" + a.id + "/activities", accountID: a.id, summary: summary, body: mustJSON(body)}
	hdr := []string{"X-Request-ID", newReqID("a")}
	if wk.r.IntN(2) == 0 {
		p.idemKey = newKey()
		hdr = append(hdr, "Idempotency-Key", p.idemKey)
	}
	r := wk.c.doRaw("POST", p.path, p.body, hdr...)
	if !wk.answered(r, 201, p) {
		return true
	}
	if r.status != 201 {
		return false
	}
	id := r.str("id")
	if id == "" || r.str("summary") != summary || r.str("account_id") != a.id || r.str("kind") != body["kind"] {
		wk.w.problem("log activity answer does not match: sent %s, got %s", p.body, r)
	}
	wk.w.mu.Lock()
	a.activities[id] = summary
	a.dirty = true
	wk.w.mu.Unlock()
	return false
}

func (wk *worker) patchAccount(a *accModel) (stop bool) {
	n := wk.w.seq.Add(1)
	wk.w.mu.Lock()
	from := *a
	from.tags = slices.Clone(a.tags)
	wk.w.mu.Unlock()
	patch := map[string]any{"needs": fmt.Sprintf("更新需求 %s-%d", wk.w.tag, n), "level": levels[wk.r.IntN(4)]}
	newTags := from.tags
	if wk.r.IntN(2) == 0 {
		newTags = []string{"压测", wk.w.tag, fmt.Sprintf("第%d次", n)}
		patch["tags"] = newTags
	}
	p := &pending{kind: "patch", method: "PATCH", path: "/api/v1/accounts/" + a.id, accountID: a.id, from: &from, patch: patch, body: mustJSON(patch)}
	r := wk.c.doRaw("PATCH", p.path, p.body, "X-Request-ID", newReqID("p"), "If-Match", fmt.Sprintf(`"%d"`, from.version))
	if !wk.answered(r, 200, p) {
		return true
	}
	if r.status != 200 {
		return false
	}
	var got struct {
		Needs, Level string
		Tags         []string
		Version      int64
	}
	r.decode(&got)
	if got.Needs != patch["needs"] || got.Level != patch["level"] || !slices.Equal(got.Tags, newTags) || got.Version != from.version+1 ||
		r.header.Get("ETag") != fmt.Sprintf(`"%d"`, from.version+1) {
		wk.w.problem("patch answer does not match: If-Match %d, sent %s, got %s", from.version, p.body, r)
	}
	wk.w.mu.Lock()
	a.needs, a.level, a.tags, a.version, a.dirty = patch["needs"].(string), patch["level"].(string), newTags, from.version+1, true
	wk.w.mu.Unlock()
	return false
}

func (wk *worker) addContact(a *accModel) (stop bool) {
	n := wk.w.seq.Add(1)
	name := fmt.Sprintf("新联系人%d", n)
	body := map[string]any{"name": name, "title": "采购", "mobile": uniqueMobile(), "email": fmt.Sprintf("n%d@example.cn", n), "purchase_role": "influencer"}
	p := &pending{kind: "contact", method: "POST", path: "/api/v1/accounts/" + a.id + "/contacts", accountID: a.id, name: name, body: mustJSON(body)}
	r := wk.c.doRaw("POST", p.path, p.body, "X-Request-ID", newReqID("n"))
	if !wk.answered(r, 201, p) {
		return true
	}
	if r.status != 201 {
		return false
	}
	id := r.str("id")
	if id == "" || r.str("name") != name || r.header.Get("Location") != "/api/v1/contacts/"+id {
		wk.w.problem("add contact answer does not match: sent %s, got %s", p.body, r)
	}
	wk.w.mu.Lock()
	a.contacts[name] = id
	a.dirty = true
	wk.w.mu.Unlock()
	return false
}

func (wk *worker) readAccount(a *accModel) (stop bool) {
	wk.w.mu.Lock()
	want := *a
	wk.w.mu.Unlock()
	r := wk.c.do("GET", "/api/v1/accounts/"+a.id, nil)
	if r.err != nil {
		return true
	}
	wk.w.mu.Lock()
	changed := a.version != want.version
	wk.w.mu.Unlock()
	if changed {
		return false
	}
	wk.w.count(r.status)
	v, _ := r.m()["version"].(float64)
	if r.status != 200 || r.str("needs") != want.needs || int64(v) != want.version {
		wk.w.problem("read-your-writes: GET account %s (version %d, needs %q): %s", a.id, want.version, want.needs, r)
	}
	return false
}

// ---- after a crash: SQL checks ----

// resolve decides, from the audit entries carrying each request's ID,
// whether every unanswered write committed, and checks that it did so
// completely or not at all. Committed writes join the model.
func resolve(t *testing.T, d *db.DB, w *world) {
	t.Helper()
	ctx := context.Background()
	w.mu.Lock()
	pend := w.pend
	w.uncertain = map[string]bool{}
	w.mu.Unlock()
	for _, p := range pend {
		action := map[string]string{"create": "account.create", "activity": "activity.create", "patch": "account.update", "contact": "contact.create"}[p.kind]
		var ids []string
		rows, err := d.Query(ctx, "SELECT entity_id FROM audit_log WHERE request_id = ? AND action = ?", p.reqID, action)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id string
			rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		p.committed = len(ids) > 0
		if len(ids) > 1 {
			t.Errorf("unanswered %s %s (X-Request-ID %s) left %d %s audit entries", p.method, p.path, p.reqID, len(ids), action)
		}
		if p.committed {
			p.entityID = ids[0]
			w.committedUnanswered.Add(1)
		} else {
			w.notCommitted.Add(1)
		}
		switch p.kind {
		case "create":
			resolveCreate(t, d, w, p)
		case "activity":
			var found []string
			queryStrings(t, d, &found, "SELECT id FROM activities WHERE account_id = ? AND summary = ?", p.accountID, p.summary)
			if len(found) != len(ids) || (p.committed && found[0] != p.entityID) {
				t.Errorf("unanswered activity (X-Request-ID %s): %d audit entries %v but activities %v: not all or nothing", p.reqID, len(ids), ids, found)
			}
			if p.committed {
				var ev int
				d.QueryRow(ctx, "SELECT COUNT(*) FROM timeline_events WHERE ref_type = 'activity' AND ref_id = ?", p.entityID).Scan(&ev)
				if ev != 1 {
					t.Errorf("committed activity %s has %d timeline events", p.entityID, ev)
				}
				w.mu.Lock()
				w.acc[p.accountID].activities[p.entityID] = p.summary
				w.acc[p.accountID].dirty = true
				w.mu.Unlock()
			}
		case "patch":
			var version int64
			var needs, level, tags string
			if err := d.QueryRow(ctx, "SELECT version, needs, level, tags FROM accounts WHERE id = ?", p.accountID).Scan(&version, &needs, &level, &tags); err != nil {
				t.Fatalf("account %s of an unanswered patch: %v", p.accountID, err)
			}
			want := p.from
			if p.committed {
				if version != p.from.version+1 || needs != p.patch["needs"] || level != p.patch["level"] {
					t.Errorf("unanswered PATCH %s (X-Request-ID %s) committed (audit entry) but the row is version %d needs %q level %q; want version %d needs %q",
						p.accountID, p.reqID, version, needs, level, p.from.version+1, p.patch["needs"])
				}
				w.mu.Lock()
				a := w.acc[p.accountID]
				a.needs, a.level, a.version, a.dirty = p.patch["needs"].(string), p.patch["level"].(string), p.from.version+1, true
				if tg, ok := p.patch["tags"].([]string); ok {
					a.tags = tg
				}
				w.mu.Unlock()
			} else if version != want.version || needs != want.needs || level != want.level {
				t.Errorf("unanswered PATCH %s (X-Request-ID %s) has no audit entry but the row changed: version %d needs %q level %q; was version %d needs %q",
					p.accountID, p.reqID, version, needs, level, want.version, want.needs)
			}
		case "contact":
			var found []string
			queryStrings(t, d, &found, `SELECT c.id FROM contacts c JOIN account_contacts ac ON ac.contact_id = c.id WHERE ac.account_id = ? AND c.name = ?`, p.accountID, p.name)
			if len(found) != len(ids) {
				t.Errorf("unanswered add-contact (X-Request-ID %s): %d audit entries but %d linked contacts named %q", p.reqID, len(ids), len(found), p.name)
			}
			if p.committed && len(found) == 1 {
				w.mu.Lock()
				w.acc[p.accountID].contacts[p.name] = found[0]
				w.acc[p.accountID].dirty = true
				w.mu.Unlock()
			}
		}
	}
}

func resolveCreate(t *testing.T, d *db.DB, w *world, p *pending) {
	t.Helper()
	ctx := context.Background()
	var found []string
	queryStrings(t, d, &found, "SELECT id FROM accounts WHERE name = ?", p.name)
	if len(found) > 1 {
		t.Errorf("unanswered create (X-Request-ID %s): %d accounts named %q", p.reqID, len(found), p.name)
		return
	}
	if (len(found) == 1) != p.committed {
		t.Errorf("unanswered create (X-Request-ID %s): account present=%v but audit entry present=%v: not all or nothing", p.reqID, len(found) == 1, p.committed)
		return
	}
	if !p.committed {
		// Nothing of it may exist: no contacts with its names, no audit
		// entries of the request.
		var n int
		d.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE request_id = ?", p.reqID).Scan(&n)
		if n != 0 {
			t.Errorf("uncommitted create (X-Request-ID %s) left %d audit entries", p.reqID, n)
		}
		for _, cn := range p.contacts {
			d.QueryRow(ctx, "SELECT COUNT(*) FROM contacts WHERE name = ?", cn).Scan(&n)
			if n != 0 {
				t.Errorf("uncommitted create (X-Request-ID %s) left contact %q", p.reqID, cn)
			}
		}
		return
	}
	if found[0] != p.entityID {
		t.Errorf("create (X-Request-ID %s): audit names %s, account is %s", p.reqID, p.entityID, found[0])
	}
	var names []string
	queryStrings(t, d, &names, "SELECT c.name FROM contacts c JOIN account_contacts ac ON ac.contact_id = c.id WHERE ac.account_id = ? ORDER BY c.name", p.entityID)
	want := slices.Clone(p.contacts)
	sort.Strings(want)
	if !slices.Equal(names, want) {
		t.Errorf("committed unanswered create %s (X-Request-ID %s): contacts %v, want %v (account without all its contacts)", p.entityID, p.reqID, names, want)
	}
	var ev, audits int
	d.QueryRow(ctx, "SELECT COUNT(*) FROM timeline_events WHERE account_id = ? AND kind = 'account_created'", p.entityID).Scan(&ev)
	d.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE request_id = ? AND action = 'contact.create'", p.reqID).Scan(&audits)
	if ev != 1 || audits != len(p.contacts) {
		t.Errorf("committed create %s: %d account_created events (want 1), %d contact.create audit entries (want %d)", p.entityID, ev, audits, len(p.contacts))
	}
	// It exists, so it joins the model as the request described it.
	var body struct {
		Name, Needs, Level string
		Tags               []string
	}
	jsonUnmarshal(p.body, &body)
	m := &accModel{id: p.entityID, owner: p.owner, name: body.Name, token: p.name[strings.LastIndex(p.name, " ")+1:], needs: body.Needs, level: body.Level,
		tags: body.Tags, version: 1, contacts: map[string]string{}, activities: map[string]string{}, dirty: true}
	for _, cn := range p.contacts {
		m.contacts[cn] = ""
	}
	w.add(m)
}

func queryStrings(t *testing.T, d *db.DB, dst *[]string, q string, args ...any) {
	t.Helper()
	rows, err := d.Query(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		*dst = append(*dst, s)
	}
}

// orphans runs the referential checks; each query counts rows that must
// not exist, and the first few offending IDs are reported.
var orphanChecks = []struct{ what, sql string }{
	{"account_contacts rows without their contact or account",
		`SELECT ac.account_id || '/' || ac.contact_id FROM account_contacts ac WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = ac.contact_id)
		 OR NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = ac.account_id)`},
	{"contacts linked to no account", `SELECT c.id FROM contacts c WHERE c.merged_into IS NULL AND NOT EXISTS (SELECT 1 FROM account_contacts ac WHERE ac.contact_id = c.id)`},
	{"timeline events without their account", `SELECT t.id FROM timeline_events t WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = t.account_id)`},
	{"timeline events of missing activities", `SELECT t.id FROM timeline_events t WHERE t.ref_type = 'activity' AND NOT EXISTS (SELECT 1 FROM activities x WHERE x.id = t.ref_id)`},
	{"timeline events of missing contacts", `SELECT t.id FROM timeline_events t WHERE t.ref_type = 'contact' AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = t.ref_id)`},
	{"activities without their account", `SELECT x.id FROM activities x WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = x.account_id)`},
	{"activities without a timeline event", `SELECT x.id FROM activities x WHERE NOT EXISTS (SELECT 1 FROM timeline_events t WHERE t.ref_type = 'activity' AND t.ref_id = x.id)`},
	{"accounts without an account_created event", `SELECT a.id FROM accounts a WHERE NOT EXISTS (SELECT 1 FROM timeline_events t WHERE t.account_id = a.id AND t.kind = 'account_created')`},
	{"accounts without their account.create audit entry", `SELECT a.id FROM accounts a WHERE NOT EXISTS (SELECT 1 FROM audit_log l WHERE l.entity_type = 'account' AND l.entity_id = a.id AND l.action IN ('account.create', 'account.import'))`},
	{"contacts without their contact.create audit entry", `SELECT c.id FROM contacts c WHERE NOT EXISTS (SELECT 1 FROM audit_log l WHERE l.entity_type = 'contact' AND l.entity_id = c.id)`},
	{"activities without their activity.create audit entry", `SELECT x.id FROM activities x WHERE NOT EXISTS (SELECT 1 FROM audit_log l WHERE l.entity_type = 'activity' AND l.entity_id = x.id AND l.action = 'activity.create')`},
	{"account versions without an audit entry per change (version ≠ 1 + updates)",
		`SELECT a.id FROM accounts a WHERE a.archived_at IS NULL AND a.merged_into IS NULL AND a.version <> 1 + (SELECT COUNT(*) FROM audit_log l WHERE l.entity_type = 'account' AND l.entity_id = a.id AND l.action = 'account.update')`},
	{"audit entries of accounts that do not exist", `SELECT l.id FROM audit_log l WHERE l.entity_type = 'account' AND l.entity_id <> '' AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = l.entity_id)`},
	{"audit entries of contacts that do not exist", `SELECT l.id FROM audit_log l WHERE l.entity_type = 'contact' AND l.entity_id <> '' AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = l.entity_id)`},
	{"audit entries of activities that do not exist", `SELECT l.id FROM audit_log l WHERE l.entity_type = 'activity' AND l.action <> 'activity.delete' AND NOT EXISTS (SELECT 1 FROM activities x WHERE x.id = l.entity_id)`},
	{"audit entries of users that do not exist", `SELECT l.id FROM audit_log l WHERE l.entity_type = 'user' AND l.entity_id <> '' AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = l.entity_id)`},
	{"search outbox rows of documents that never existed",
		`SELECT s.doc_type || ':' || s.doc_id FROM search_dirty s WHERE (s.doc_type = 'account' AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = s.doc_id))
		 OR (s.doc_type = 'contact' AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = s.doc_id))
		 OR (s.doc_type = 'activity' AND NOT EXISTS (SELECT 1 FROM activities x WHERE x.id = s.doc_id))`},
	{"idempotency keys of this run still reserved without a stored response", `SELECT owner || '/' || key FROM idempotency_keys WHERE status = 0 AND key LIKE 'proof-%'`},
}

// orphans reports every check that finds rows. skip names checks not to
// run (by prefix of their description).
func orphans(t *testing.T, d *db.DB, skip ...string) {
	t.Helper()
	for _, c := range orphanChecks {
		if slices.ContainsFunc(skip, func(s string) bool { return strings.HasPrefix(c.what, s) }) {
			continue
		}
		var ids []string
		queryStrings(t, d, &ids, c.sql)
		if len(ids) > 0 {
			if len(ids) > 5 {
				ids = append(ids[:5], "…")
			}
			t.Errorf("%s: %d, e.g. %v", c.what, len(ids), ids)
		}
	}
}

// ---- after a restart: idempotent retries and API checks ----

// retryIdempotent retries every unanswered POST that carried an
// Idempotency-Key, as a client would: with the same key and body. The
// first answer must describe exactly one resource. A reservation left by the
// crash (409 idempotency_in_progress) blocks retries for abandonAfter (2
// minutes); the test skips the wait by ageing the reservation in SQL.
func retryIdempotent(t *testing.T, d *db.DB, w *world, clients map[string]*client) {
	t.Helper()
	ctx := context.Background()
	w.mu.Lock()
	pend := w.pend
	w.mu.Unlock()
	for _, p := range pend {
		if p.idemKey == "" {
			continue
		}
		c := clients[p.owner]
		r := c.doRaw(p.method, p.path, p.body, "Idempotency-Key", p.idemKey, "X-Request-ID", newReqID("retry"))
		inProgress := false
		if r.status == 409 && r.code() == "idempotency_in_progress" {
			inProgress = true
			if _, err := d.Exec(ctx, "UPDATE idempotency_keys SET created_at = created_at - 180000 WHERE key = ? AND status = 0", p.idemKey); err != nil {
				t.Fatal(err)
			}
			r = c.doRaw(p.method, p.path, p.body, "Idempotency-Key", p.idemKey, "X-Request-ID", newReqID("retry"))
		}
		processed := r.status == 409 && r.code() == "idempotency_key_processed"
		switch {
		case processed && !p.committed:
			t.Errorf("retry of %s refused as already processed, but nothing of the request committed: %s", p.idemKey, r)
			continue
		case processed:
			// The request committed before the crash but its answer was
			// never stored: the server refuses to run it a second time.
		case r.status != 201:
			t.Errorf("retry of unanswered %s %s with Idempotency-Key %s (committed=%v, key was in progress=%v): %s", p.method, p.path, p.idemKey, p.committed, inProgress, r)
			continue
		}
		replayed := r.header.Get("Idempotent-Replayed") == "true"
		id := r.str("id")
		switch {
		case p.committed && !replayed && !processed:
			t.Errorf("DUPLICATE: %s %s with Idempotency-Key %s committed before the crash (X-Request-ID %s, %s %s) but its retry ran again and created %s (key left in progress: %v)",
				p.method, p.path, p.idemKey, p.reqID, p.kind, p.entityID, id, inProgress)
		case p.committed && !processed && id != p.entityID:
			t.Errorf("replay of %s returned %s, the request had created %s", p.idemKey, id, p.entityID)
		case !p.committed && replayed:
			t.Errorf("replay of %s returned a stored response, but nothing of the request committed: %s", p.idemKey, r)
		}
		// Exactly one resource for the request now exists.
		switch p.kind {
		case "create":
			var found []string
			queryStrings(t, d, &found, "SELECT id FROM accounts WHERE name = ?", p.name)
			if len(found) != 1 {
				t.Errorf("after retrying create %q with its Idempotency-Key: %d accounts %v", p.name, len(found), found)
			}
			if id != "" && id != p.entityID {
				// A new account (or, after a bug, a second one): it exists,
				// so it joins the model.
				var body struct {
					Name, Needs, Level string
					Tags               []string
				}
				jsonUnmarshal(p.body, &body)
				m := &accModel{id: id, owner: p.owner, name: body.Name, token: p.name[strings.LastIndex(p.name, " ")+1:], needs: body.Needs, level: body.Level,
					tags: body.Tags, version: 1, contacts: map[string]string{}, activities: map[string]string{}, dirty: true}
				for _, cn := range p.contacts {
					m.contacts[cn] = ""
				}
				w.add(m)
			}
		case "activity":
			var found []string
			queryStrings(t, d, &found, "SELECT id FROM activities WHERE account_id = ? AND summary = ?", p.accountID, p.summary)
			if len(found) != 1 {
				t.Errorf("after retrying activity %q with its Idempotency-Key: %d activities %v", p.summary, len(found), found)
			}
			w.mu.Lock()
			for _, f := range found {
				w.acc[p.accountID].activities[f] = p.summary
			}
			w.acc[p.accountID].dirty = true
			w.mu.Unlock()
		}
	}
	w.mu.Lock()
	w.pend = nil
	w.mu.Unlock()
}

// verifyAccounts reads accounts through the API as their owners and compares
// them with the model: fields, version, contacts and logged activities.
func verifyAccounts(t *testing.T, w *world, clients map[string]*client, accs []*accModel) {
	t.Helper()
	for _, a := range accs {
		c := clients[a.owner]
		r := c.do("GET", "/api/v1/accounts/"+a.id, nil)
		if r.status != 200 {
			t.Errorf("LOST: acknowledged account %s (%s) of %s: GET %s", a.id, a.name, a.owner, r)
			continue
		}
		var got struct {
			Name, Needs, Level string
			Tags               []string
			Version            int64
		}
		r.decode(&got)
		if got.Name != a.name || got.Needs != a.needs || got.Level != a.level || !slices.Equal(got.Tags, a.tags) || got.Version != a.version {
			t.Errorf("account %s differs from what was acknowledged: want name %q needs %q level %q tags %v version %d; got %s",
				a.id, a.name, a.needs, a.level, a.tags, a.version, r)
		}
		if et := r.header.Get("ETag"); et != fmt.Sprintf(`"%d"`, got.Version) {
			t.Errorf("account %s: ETag %s for version %d", a.id, et, got.Version)
		}
		var contacts struct {
			Items []struct{ ID, Name string } `json:"items"`
		}
		must(t, c.do("GET", "/api/v1/accounts/"+a.id+"/contacts", nil), 200, "contacts of "+a.id).decode(&contacts)
		got2 := map[string]string{}
		for _, it := range contacts.Items {
			got2[it.Name] = it.ID
		}
		for name, id := range a.contacts {
			gid, ok := got2[name]
			if !ok || (id != "" && gid != id) {
				t.Errorf("LOST: contact %q (%s) of account %s: contacts now %v", name, id, a.id, got2)
			}
		}
		if len(got2) != len(a.contacts) {
			t.Errorf("account %s has contacts %v, acknowledged %v", a.id, keys(got2), keys(a.contacts))
		}
		refs := timelineRefs(t, c, a.id)
		for id, summary := range a.activities {
			if refs[id] != summary {
				t.Errorf("LOST: activity %s (%q) of account %s not on its timeline", id, summary, a.id)
			}
		}
		if len(refs) != len(a.activities) {
			t.Errorf("account %s: %d activities on the timeline, %d acknowledged", a.id, len(refs), len(a.activities))
		}
		w.mu.Lock()
		a.dirty = false
		w.mu.Unlock()
	}
}

// timelineRefs pages through an account's activity events: ref_id -> body.
func timelineRefs(t *testing.T, c *client, accountID string) map[string]string {
	t.Helper()
	out := map[string]string{}
	cursor := ""
	for range 100 {
		var page struct {
			Items []struct {
				RefType string `json:"ref_type"`
				RefID   string `json:"ref_id"`
				Body    string `json:"body"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		must(t, c.do("GET", "/api/v1/accounts/"+accountID+"/timeline?kind=call,meeting,visit,note&limit=200"+cursor, nil), 200, "timeline").decode(&page)
		for _, it := range page.Items {
			if it.RefType == "activity" {
				if _, dup := out[it.RefID]; dup {
					t.Errorf("timeline of %s repeats activity %s", accountID, it.RefID)
				}
				out[it.RefID] = it.Body
			}
		}
		if page.NextCursor == nil {
			break
		}
		cursor = "&cursor=" + url.QueryEscape(*page.NextCursor)
	}
	return out
}

// verifyTotals checks that each user's account list holds exactly the
// model's accounts: nothing lost, nothing extra.
func verifyTotals(t *testing.T, w *world, clients map[string]*client) {
	t.Helper()
	for name, c := range clients {
		if name == "admin" {
			continue
		}
		want := len(w.owned(name))
		var page struct {
			Total int `json:"total"`
		}
		must(t, c.do("GET", "/api/v1/accounts?limit=1", nil), 200, "list accounts").decode(&page)
		// The list counts up to 2,000 (customers.maxCount); the long
		// form gives each user more than that.
		if page.Total != min(want, 2000) {
			t.Errorf("%s lists %d accounts, %d acknowledged or committed", name, page.Total, want)
		}
	}
}

// waitSearchDrained waits until the search outbox is empty.
func waitSearchDrained(t *testing.T, d *db.DB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var n int
		if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM search_dirty").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("search outbox still holds %d rows after %s", n, timeout)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// verifySearch finds sampled accounts by their token through c's instance.
func verifySearch(t *testing.T, clients map[string]*client, accs []*accModel, deadline time.Time) {
	t.Helper()
	for _, a := range accs {
		c := clients[a.owner]
		for {
			var page struct {
				Items []struct{ Type, ID string } `json:"items"`
			}
			r := c.do("GET", "/api/v1/search?q="+a.token+"&types=account", nil)
			if r.status != 200 {
				t.Errorf("search %s: %s", a.token, r)
				break
			}
			r.decode(&page)
			if len(page.Items) == 1 && page.Items[0].ID == a.id {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("search for %q on %s finds %+v, want account %s", a.token, c.base, page.Items, a.id)
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sample returns the dirty accounts plus up to n others.
func sample(w *world, r *rand.Rand, n int) []*accModel {
	var out, rest []*accModel
	for _, a := range w.all() {
		w.mu.Lock()
		dirty := a.dirty
		w.mu.Unlock()
		if dirty {
			out = append(out, a)
		} else {
			rest = append(rest, a)
		}
	}
	r.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
	return append(out, rest[:min(n, len(rest))]...)
}
