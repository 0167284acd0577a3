package inquiries

import (
	"context"
	"strconv"
	"strings"
	"time"

	"prelude/internal/customers"
	"prelude/internal/followups"
	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
	"prelude/internal/platform/jobs"
	"prelude/internal/platform/search"
	"prelude/internal/platform/valid"
	"prelude/internal/platform/workcal"
)

// Service holds the inquiry rules.
type Service struct {
	db        *db.DB
	audit     *audit.Log
	customers *customers.Service
	followups *followups.Service
	search    *search.Index
	jobs      *jobs.Queue
	cfg       Config
	hub       *hub
}

// Config wires the mechanisms other packages provide. Each is optional:
// without a work calendar the office calendar (Mon–Fri 09:00–18:00) counts
// business time; without a standards checker replies are not checked;
// without a live broker events are delivered in this process only; without
// mail, email replies are stored but not sent.
type Config struct {
	Calendar  func(ctx context.Context) (Calendar, error)
	Check     CheckFunc
	Live      Publisher
	Subscribe SubscribeFunc
	SendMail  MailSender
	// Company fills {{company}} in canned answers.
	Company string
	// BaseURL makes absolute links.
	BaseURL string
	// Zone is the business time zone (default Asia/Shanghai).
	Zone *time.Location
	// MaxBody bounds a message's text in characters (default 20,000).
	MaxBody int
	// OpenAttachment reads attachments of received mail.
	OpenAttachment AttachmentOpener
}

// NewService wires inquiries into customers (merges move inquiries along),
// search (messages are searchable) and jobs (SLA alarms).
func NewService(d *db.DB, a *audit.Log, c *customers.Service, f *followups.Service, ix *search.Index, q *jobs.Queue, cfg Config) *Service {
	if cfg.Zone == nil {
		cfg.Zone = workcal.Shanghai()
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 20000
	}
	if cfg.Calendar == nil {
		office := NewOfficeCalendar(cfg.Zone)
		cfg.Calendar = func(context.Context) (Calendar, error) { return office, nil }
	}
	s := &Service{db: d, audit: a, customers: c, followups: f, search: ix, jobs: q, cfg: cfg, hub: newHub()}
	if s.cfg.Subscribe == nil {
		s.cfg.Subscribe = s.hub.Subscribe
	}
	ix.Register(docMessage, s.loadMessageDocs)
	c.OnMerge("inquiries", s.moveAccount)
	return s
}

// scope is the SQL form of who sees an inquiry: the assignee, their
// department (department scope), people it was shared with (mentioned),
// and — so that staff can pick up work — the unassigned queue of their own
// department.
func scope(p *authz.Principal) (string, []any) {
	if p == nil {
		return "1 = 0", nil
	}
	if p.Scope == authz.ScopeAll {
		return "1 = 1", nil
	}
	base, args := p.Filter(authz.Columns{Owner: "i.assignee_id", Department: "i.department_id", RecordType: "inquiry", ID: "i.id"})
	if p.DepartmentID != "" {
		base = "(" + base + " OR (i.assignee_id IS NULL AND i.department_id = ?))"
		args = append(args, p.DepartmentID)
	}
	return base, args
}

// sees is scope for one loaded inquiry.
func (s *Service) sees(ctx context.Context, q db.Querier, p *authz.Principal, r *row) (bool, error) {
	if p == nil {
		return false, nil
	}
	rec := authz.Record{OwnerID: deref(r.AssigneeID), DepartmentID: deref(r.DepartmentID)}
	if p.Sees(rec) || (r.AssigneeID == nil && r.DepartmentID != nil && *r.DepartmentID == p.DepartmentID) {
		return true, nil
	}
	var one int
	err := q.QueryRow(ctx, "SELECT 1 FROM record_shares WHERE record_type = 'inquiry' AND record_id = ? AND user_id = ?", r.ID, p.UserID).Scan(&one)
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// visible loads an inquiry inside the caller's scope (else 404).
func (s *Service) visible(ctx context.Context, q db.Querier, id string) (*row, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.InquiriesRead); err != nil {
		return nil, err
	}
	r, err := getInquiry(ctx, q, p.UserID, id)
	if isNotFound(err) {
		return nil, errs.NotFoundf("entity.inquiry")
	}
	if err != nil {
		return nil, err
	}
	ok, err := s.sees(ctx, q, p, r)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.NotFoundf("entity.inquiry")
	}
	return r, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (s *Service) calendar(ctx context.Context) (Calendar, error) { return s.cfg.Calendar(ctx) }

// Get returns one inquiry with its SLA view.
func (s *Service) Get(ctx context.Context, id string) (*Inquiry, error) {
	r, err := s.visible(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	cal, err := s.calendar(ctx)
	if err != nil {
		return nil, err
	}
	r.fill(cal, s.db.Now())
	return r.Inquiry, nil
}

// Revealed is an inquiry's unmasked customer details.
type Revealed struct {
	CustomerEmail string `json:"customer_email"`
	CustomerPhone string `json:"customer_phone"`
}

// Reveal returns the customer's email and number of an inquiry to someone
// allowed to reveal customer contact details; every reveal is audited.
func (s *Service) Reveal(ctx context.Context, id string) (*Revealed, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersReveal); err != nil {
		return nil, err
	}
	var out Revealed
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		r, err := s.visible(ctx, tx, id)
		if err != nil {
			return err
		}
		out = Revealed{CustomerEmail: r.CustomerEmail, CustomerPhone: r.CustomerPhone}
		return s.audit.Record(ctx, tx, audit.Event{Action: "inquiry.reveal", EntityType: "inquiry", EntityID: id})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// customerMatch is the account and contact an inquiry belongs to, or the
// account to create for it (create) in the inquiry's own transaction.
type customerMatch struct {
	accountID, contactID *string
	create               *customers.AccountInput
}

// createAccount creates the pending account of m in tx (the inquiry's
// transaction: if the inquiry fails, no orphan account is left) and links
// its contact.
func (s *Service) createAccount(ctx context.Context, tx *db.Tx, m *customerMatch) error {
	if m.create == nil {
		return nil
	}
	id, err := s.customers.CreateAccountTx(ctx, tx, *m.create)
	if err != nil {
		return err
	}
	m.accountID, m.create = &id, nil
	var con string
	err = tx.QueryRow(ctx, "SELECT contact_id FROM account_contacts WHERE account_id = ? ORDER BY contact_id LIMIT 1", id).Scan(&con)
	if err == nil {
		m.contactID = &con
	} else if !isNotFound(err) {
		return err
	}
	return nil
}

// matchCustomer finds the account of a customer by contact email or mobile
// (seed 4 五.2: build the archive from consultations). The most recently
// updated live account wins when several match.
func matchCustomer(ctx context.Context, q db.Querier, email, mobile string) (customerMatch, error) {
	var m customerMatch
	try := func(cond, v string) error {
		var acc, con string
		err := q.QueryRow(ctx, `SELECT ac.account_id, c.id FROM contacts c JOIN account_contacts ac ON ac.contact_id = c.id
			JOIN accounts a ON a.id = ac.account_id WHERE `+cond+` AND c.merged_into IS NULL AND a.merged_into IS NULL
			ORDER BY a.updated_at DESC LIMIT 1`, v).Scan(&acc, &con)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		m.accountID, m.contactID = &acc, &con
		return nil
	}
	if email != "" {
		if err := try("LOWER(c.email) = ?", strings.ToLower(email)); err != nil || m.accountID != nil {
			return m, err
		}
	}
	if mobile != "" {
		if err := try("c.mobile = ?", mobile); err != nil {
			return m, err
		}
	}
	return m, nil
}

// resolveCustomer validates the customer part of a new inquiry and returns
// what to link. An account to create on the spot is only prepared here; the
// caller creates it in the inquiry's transaction (createAccount), through
// the customer service with its validation and duplicate checks.
func (s *Service) resolveCustomer(ctx context.Context, c *CustomerInput, v *errs.Validation) (customerMatch, error) {
	c.Name = valid.Text(v, "customer.name", c.Name, false, 64)
	c.Email = valid.Email(v, "customer.email", c.Email, false)
	c.Mobile = valid.Mobile(v, "customer.mobile", c.Mobile, false)
	c.Company = valid.Text(v, "customer.company", c.Company, false, 200)
	var m customerMatch
	if c.AccountID != "" {
		if _, err := s.customers.GetAccount(ctx, c.AccountID); err != nil {
			if errs.KindOf(err) == errs.Internal {
				return m, err
			}
			v.Add("customer.account_id", "field.not_found")
			return m, nil
		}
		m.accountID = &c.AccountID
		if c.ContactID != "" {
			var one int
			err := s.db.QueryRow(ctx, "SELECT 1 FROM account_contacts WHERE account_id = ? AND contact_id = ?", c.AccountID, c.ContactID).Scan(&one)
			if err != nil {
				if !isNotFound(err) {
					return m, err
				}
				v.Add("customer.contact_id", "field.not_found")
			}
			m.contactID = &c.ContactID
		}
		return m, nil
	}
	if c.ContactID != "" {
		v.Add("customer.account_id", "field.required")
		return m, nil
	}
	if v.Err() != nil {
		return m, nil
	}
	m, err := matchCustomer(ctx, s.db, c.Email, c.Mobile)
	if err != nil || m.accountID != nil || !c.CreateAccount {
		return m, err
	}
	if err := authz.From(ctx).Require(authz.CustomersCreate); err != nil {
		return m, err
	}
	name, kind := c.Company, "company"
	if name == "" {
		name, kind = c.Name, "individual"
	}
	if name == "" {
		v.Add("customer.name", "field.required")
		return m, nil
	}
	contact := customers.ContactInput{Name: firstNonEmpty(c.Name, name), Email: c.Email, Mobile: c.Mobile, IsPrimary: true}
	m.create = &customers.AccountInput{Name: name, Kind: kind, Source: "inquiry", Contacts: []customers.ContactInput{contact}}
	return m, nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// subjectFrom makes a subject from the first line of the body.
func subjectFrom(body string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(body), "\n")
	r := []rune(strings.TrimSpace(line))
	if len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return string(r)
}

// Create opens an inquiry with the customer's first message.
func (s *Service) Create(ctx context.Context, in InquiryInput) (*Inquiry, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.InquiriesCreate); err != nil {
		return nil, err
	}
	var v errs.Validation
	in.Body = valid.Text(&v, "body", in.Body, true, s.cfg.MaxBody)
	if strings.TrimSpace(in.Subject) == "" {
		in.Subject = subjectFrom(in.Body)
	}
	in.Subject = valid.Text(&v, "subject", in.Subject, true, 200)
	if in.Channel == "" {
		in.Channel = "other"
	}
	if !oneOf(Channels, in.Channel) {
		v.Add("channel", "field.one_of", strings.Join(Channels, ", "))
	}
	if in.Priority == "" {
		in.Priority = "normal"
	}
	if !oneOf(Priorities, in.Priority) {
		v.Add("priority", "field.one_of", strings.Join(Priorities, ", "))
	}
	received := s.db.Now()
	if in.ReceivedAt != nil {
		if in.ReceivedAt.After(received.Add(time.Minute)) || in.ReceivedAt.Before(received.AddDate(-1, 0, 0)) {
			v.Add("received_at", "inquiries.received_at")
		} else {
			received = in.ReceivedAt.UTC()
		}
	}
	atts := validAttachments(&v, "attachments", in.Attachments)
	if v.Err() != nil {
		return nil, v.Err()
	}
	m, err := s.resolveCustomer(ctx, &in.Customer, &v)
	if err != nil {
		return nil, err
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var id string
	err = s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if err := s.createAccount(ctx, tx, &m); err != nil {
			return err
		}
		var err error
		id, _, err = s.createTx(ctx, tx, newInquiry{
			subject: in.Subject, channel: in.Channel, priority: in.Priority, match: m, customer: in.Customer,
			body: in.Body, attachments: atts, assigneeID: in.AssigneeID, departmentID: in.DepartmentID, received: received,
			authorName: in.Customer.Name, createdBy: p.UserID,
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// newInquiry is what createTx needs, from the API, a call log or a mail.
type newInquiry struct {
	subject, channel, priority string
	match                      customerMatch
	customer                   CustomerInput
	body, html                 string
	attachments                []Attachment
	assigneeID, departmentID   string
	received                   time.Time
	authorName, createdBy      string
	mailboxID, messageID       string
	inReplyTo                  string
	kind, direction            string
	data                       string
	// team routes the inquiry within one department (a web-chat site's).
	team string
}

// createTx inserts an inquiry and its first message, routes it (by hand or
// by rules), starts its response targets and records it on the account's
// timeline, all in tx. It returns the inquiry's and the message's ids.
func (s *Service) createTx(ctx context.Context, tx *db.Tx, n newInquiry) (string, string, error) {
	p := authz.From(ctx)
	var v errs.Validation
	var assignee, dept *string
	if n.assigneeID != "" {
		d, err := s.assignable(ctx, tx, p, n.assigneeID, &v, "assignee_id")
		if err != nil {
			return "", "", err
		}
		assignee, dept = &n.assigneeID, d
	}
	if n.departmentID != "" {
		if err := s.checkDepartment(ctx, tx, p, n.departmentID, &v, "department_id"); err != nil {
			return "", "", err
		}
		dept = &n.departmentID
	}
	if err := v.Err(); err != nil {
		return "", "", err
	}
	if assignee == nil && dept == nil {
		a, d, err := s.route(ctx, tx, n.channel, n.priority, n.team)
		if err != nil {
			return "", "", err
		}
		assignee, dept = a, d
	}
	if dept == nil && p != nil && p.DepartmentID != "" {
		// Nobody routed it: it waits in the creator's team queue.
		dept = &p.DepartmentID
	}
	status := StatusNew
	if assignee != nil {
		status = StatusAssigned
	}
	pol, hasPolicy, err := s.policyFor(ctx, tx, n.channel, n.priority)
	if err != nil {
		return "", "", err
	}
	cal, err := s.calendar(ctx)
	if err != nil {
		return "", "", err
	}
	st := slaState{Active: true, HasPolicy: hasPolicy, FirstMin: pol.FirstResponseMin, NextMin: pol.NextResponseMin, ResolutionMin: pol.ResolutionMin,
		WarnBefore: time.Duration(pol.WarnBeforeMin) * time.Minute}
	st.start(cal, n.received)
	st.alarms(tx.Now())
	var policyID any
	if hasPolicy {
		policyID = pol.ID
	}
	id := db.NewID()
	now := db.Ms(tx.Now())
	var lastIn any
	if n.direction == "" || n.direction == "in" {
		lastIn = db.Ms(n.received)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO inquiries (id, subject, channel, priority, status, active, account_id, contact_id, customer_name, customer_email,
		customer_phone, assignee_id, department_id, mailbox_id, created_by, message_count, last_message_at, last_inbound_at, sla_policy_id,
		first_response_due, resolution_due, due_at, due_kind, warn_at, breach_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, n.subject, n.channel, n.priority, status, true, n.match.accountID, n.match.contactID, n.customer.Name, n.customer.Email,
		n.customer.Mobile, assignee, dept, n.mailboxID, n.createdBy, db.Ms(n.received), lastIn, policyID,
		msOrNil(st.FirstDue), msOrNil(st.ResolutionDue), msOrNil(st.DueAt), st.DueKind, msOrNil(st.WarnAt), msOrNil(st.BreachAt), now, now); err != nil {
		return "", "", err
	}
	kind, dir := firstNonEmpty(n.kind, "message"), firstNonEmpty(n.direction, "in")
	author := ""
	if dir != "in" && p != nil {
		author = p.UserID
	}
	mid := db.NewID()
	if _, err := tx.Exec(ctx, `INSERT INTO inquiry_messages (id, inquiry_id, kind, direction, author_id, author_name, body, html, attachments, data, message_id, in_reply_to, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, mid, id, kind, dir, author, n.authorName, n.body, n.html, jsonText(n.attachments), n.data,
		nullable(n.messageID), n.inReplyTo, db.Ms(n.received)); err != nil {
		return "", "", err
	}
	if n.match.accountID != nil {
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: *n.match.accountID, Kind: "inquiry_opened", RefType: "inquiry", RefID: id,
			Title: n.subject, Body: firstLine(n.body, 200), OccurredAt: n.received, Data: map[string]any{"channel": n.channel}}); err != nil {
			return "", "", err
		}
	}
	if err := s.search.MarkDirty(ctx, docMessage, mid); err != nil {
		return "", "", err
	}
	if assignee != nil && (p == nil || *assignee != p.UserID) {
		if err := s.notifyUser(ctx, tx, *assignee, "inquiry_assigned", "notify.inquiry_assigned", []any{n.subject}, "/inbox/"+id, "inq-assigned:"+id+":"+*assignee); err != nil {
			return "", "", err
		}
	}
	s.publish(ctx, tx, event{Type: "inquiry_created", InquiryID: id, AssigneeID: deref(assignee), DepartmentID: deref(dept), Status: status, MessageID: mid})
	return id, mid, s.audit.Record(ctx, tx, audit.Event{Action: "inquiry.create", EntityType: "inquiry", EntityID: id,
		Detail: map[string]any{"subject": n.subject, "channel": n.channel, "priority": n.priority, "account_id": deref(n.match.accountID),
			"assignee_id": deref(assignee), "department_id": deref(dept), "sla_policy_id": policyID}})
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func firstLine(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return string(r)
}

// assignable checks that userID is an active user the caller may give work
// to (inside their scope) and returns the user's department.
func (s *Service) assignable(ctx context.Context, q db.Querier, p *authz.Principal, userID string, v *errs.Validation, field string) (*string, error) {
	var dept string
	var active bool
	err := q.QueryRow(ctx, "SELECT COALESCE(department_id, ''), active FROM users WHERE id = ?", userID).Scan(&dept, &active)
	if isNotFound(err) || (err == nil && !active) {
		v.Add(field, "field.not_found")
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if p != nil && userID != p.UserID && !p.Sees(authz.Record{OwnerID: userID, DepartmentID: dept}) {
		v.Add(field, "field.not_found")
		return nil, nil
	}
	if dept == "" {
		return nil, nil
	}
	return &dept, nil
}

func (s *Service) checkDepartment(ctx context.Context, q db.Querier, p *authz.Principal, id string, v *errs.Validation, field string) error {
	var one int
	err := q.QueryRow(ctx, "SELECT 1 FROM departments WHERE id = ?", id).Scan(&one)
	if isNotFound(err) {
		v.Add(field, "field.not_found")
		return nil
	}
	return err
}

// ListFilter narrows an inbox view.
type ListFilter struct {
	View       string
	Status     string
	Channel    string
	Priority   string
	AccountID  string
	AssigneeID string
	Unread     bool
	// Q finds inquiries by subject, customer, account or the text of
	// their messages (through the search index).
	Q string
	// Within is how soon "breaching" looks ahead (default 2 h).
	Within time.Duration
}

// List calls each for the inquiries of a page of an inbox view inside the
// caller's scope, in order, each with its SLA time left, and returns the
// next page's cursor. Every view is served by one index ending in the list
// order (see the migration), so a page costs the same at 1M messages. An
// inquiry passed to each is only valid during the call (see
// queryInquiries): each writes it out or copies it.
func (s *Service) List(ctx context.Context, f ListFilter, lp httpx.ListParams, each func(*Inquiry)) (*httpx.Cursor, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.InquiriesRead); err != nil {
		return nil, err
	}
	where, args, byDue, err := s.viewWhere(p, f)
	if err != nil {
		return nil, err
	}
	add := func(c string, a ...any) { where = append(where, c); args = append(args, a...) }
	viewConds := len(where)
	// In a fixed order: the same filters make the same statement text, one
	// prepared statement rather than one per order a map happens to give.
	for _, fv := range [...]struct{ col, val string }{{"i.status", f.Status}, {"i.channel", f.Channel}, {"i.priority", f.Priority},
		{"i.account_id", f.AccountID}, {"i.assignee_id", f.AssigneeID}} {
		col, val := fv.col, fv.val
		if val == "" {
			continue
		}
		switch col {
		case "i.status":
			if !oneOf(Statuses, val) {
				return nil, httpx.BadParam("status")
			}
		case "i.channel":
			if !oneOf(Channels, val) {
				return nil, httpx.BadParam("channel")
			}
		case "i.priority":
			if !oneOf(Priorities, val) {
				return nil, httpx.BadParam("priority")
			}
		}
		add(col+" = ?", val)
	}
	joined := false // a condition refers to inquiryFrom's joined tables
	if f.Unread {
		add("i.last_inbound_at > COALESCE(r.read_at, 0)")
		joined = true
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		joined = true
		cond, qargs, err := s.searchCond(ctx, q)
		if err != nil {
			return nil, err
		}
		add(cond, qargs...)
	}
	filtered := len(where) > viewConds
	order := " ORDER BY i.last_message_at DESC, i.id DESC"
	if byDue {
		order = " ORDER BY i.due_at, i.id"
	}
	if lp.Cursor != nil {
		ms, err := strconv.ParseInt(lp.Cursor.Key, 10, 64)
		if err != nil {
			return nil, httpx.BadParam("cursor")
		}
		if byDue {
			add("(i.due_at > ? OR (i.due_at = ? AND i.id > ?))", ms, ms, lp.Cursor.ID)
		} else {
			add("(i.last_message_at < ? OR (i.last_message_at = ? AND i.id < ?))", ms, ms, lp.Cursor.ID)
		}
	}
	cal, err := s.calendar(ctx)
	if err != nil {
		return nil, err
	}
	now := s.db.Now()
	// The page's rows go to each as they are read; a row after them means
	// there is a next page, which starts after the page's last row.
	var next *httpx.Cursor
	n, lastKey, lastID := 0, int64(0), ""
	emit := func(r *row) {
		if n++; n > lp.Limit {
			next = &httpx.Cursor{Key: strconv.FormatInt(lastKey, 10), ID: lastID}
			return
		}
		lastKey, lastID = db.Ms(r.LastMessageAt), r.ID
		if byDue {
			lastKey = db.Ms(r.sla.DueAt)
		}
		r.fill(cal, now)
		each(r.Inquiry)
	}
	if branches := scopeBranches(p); f.View != "mine" && len(branches) > 1 {
		err = s.listBranches(ctx, p, branches, where[1:], args[len(scopeArgs(p)):], joined, order, lp.Limit+1, emit)
	} else {
		args = append([]any{p.UserID}, args...)
		limit := limitClause(lp.Limit + 1)
		if filtered {
			limit = " LIMIT ?"
			args = append(args, lp.Limit+1)
		}
		err = queryInquiries(ctx, s.db, emit, strings.Join(where, " AND ")+order+limit, args...)
	}
	if err != nil {
		return nil, err
	}
	return next, nil
}

// scopeBranches splits a partial scope into the conditions it ORs together
// (see scope): authz's owner and department branches, shared with me, and
// unassigned in my department. Nil for a scope that sees everything.
func scopeBranches(p *authz.Principal) []scopeBranch {
	if p == nil || p.Scope == authz.ScopeAll {
		return nil
	}
	var out []scopeBranch
	// Without RecordType: the share branch is written below, driven by
	// record_shares.
	for _, b := range p.Branches(authz.Columns{Owner: "i.assignee_id", Department: "i.department_id"}) {
		out = append(out, scopeBranch{cond: b.Cond, args: b.Args})
	}
	// Shares are few: read them first (CROSS JOIN fixes that join order
	// on SQLite), not the view's index filtered by a share lookup per row.
	out = append(out, scopeBranch{from: "record_shares rs CROSS JOIN inquiries i",
		cond: "rs.user_id = ? AND rs.record_type = 'inquiry' AND i.id = rs.record_id", args: []any{p.UserID}})
	if p.DepartmentID != "" {
		out = append(out, scopeBranch{cond: "i.assignee_id IS NULL AND i.department_id = ?", args: []any{p.DepartmentID}})
	}
	return out
}

type scopeBranch struct {
	from string // the tables before inquiryFrom's joins; "inquiries i" when empty
	cond string
	args []any
}

func scopeArgs(p *authz.Principal) []any { _, a := scope(p); return a }

// listBranches is List for a partial scope. One query with the scope's OR
// makes the database walk the view's index and test every row against
// every branch (an agent's "breaching" page read a thousand rows to keep
// fifty); instead each branch takes its first `limit` rows in list order
// through its own index, and the page is the first `limit` of their union.
// rest are the view's and filters' conditions, restArgs their arguments;
// joined says whether they refer to inquiryFrom's joined tables.
func (s *Service) listBranches(ctx context.Context, p *authz.Principal, branches []scopeBranch, rest []string, restArgs []any, joined bool, order string, limit int, each func(*row)) error {
	cond := ""
	if len(rest) > 0 {
		cond = " AND " + strings.Join(rest, " AND ")
	}
	// A branch reads inquiries alone unless a filter's condition needs a
	// joined table (the read marker, a name searched). The joins were
	// removed again by both planners, but PostgreSQL first planned them in
	// every branch: a tenth of planning the team view (2.1-2.8 ms, for
	// each of a connection's first runs before it keeps a generic plan).
	base, baseArgs := " FROM inquiries i", []any(nil)
	if joined {
		base, baseArgs = inquiryFrom, []any{p.UserID}
	}
	var subs []string
	args := []any{p.UserID}
	for i, b := range branches {
		from := base
		if b.from != "" {
			from = " FROM " + b.from + strings.TrimPrefix(base, " FROM inquiries i")
		}
		subs = append(subs, "SELECT id FROM (SELECT i.id"+from+" WHERE "+b.cond+cond+order+" LIMIT ?) b"+strconv.Itoa(i))
		args = append(args, baseArgs...)
		args = append(args, b.args...)
		args = append(args, restArgs...)
		args = append(args, limit)
	}
	args = append(args, limit)
	// LIMIT stays a parameter here, unlike in List (see limitClause): a
	// branch's condition the index does not hold (the team view's
	// department on the owner branch) made the generic plan read all of
	// an agent's inquiries and sort them; planned with the values, each
	// branch stops after a page.
	return queryInquiries(ctx, s.db, each, "i.id IN ("+strings.Join(subs, " UNION ")+")"+order+" LIMIT ?", args...)
}

// limitClause writes a page's LIMIT as a number, not a parameter, for a
// view without filters. On PostgreSQL a prepared statement switches to its
// generic plan only when that plan looks no dearer than the custom ones,
// and a generic plan assumes LIMIT $n keeps a tenth of the rows: for the
// whole inbox that is thousands of rows against fifty, so every request
// planned its query afresh (two to three CPU-milliseconds with six joins,
// several times the cost of running it). With the number in the text the
// generic plan is the custom plan and is kept. A view's conditions (and a
// cursor's) are all held by the index it walks in list order, so its plan
// does not depend on the values; with filters it may (which index, how
// many rows they keep), and the values still choose it. A page's size is
// at most httpx.MaxLimit+1: a connection caches a bounded number of texts.
func limitClause(n int) string { return " LIMIT " + strconv.Itoa(n) }

// searchCond is the inbox search: the subject, the customer's name, the
// account's and contact's names (substring, any case), or a message text
// the search index finds (two-character Chinese words included). The index
// is asked for a bounded number of recent messages; the view's scope still
// applies to every inquiry they lead to.
func (s *Service) searchCond(ctx context.Context, q string) (string, []any, error) {
	if r := []rune(q); len(r) > 100 {
		q = string(r[:100])
	}
	like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(q)) + "%"
	cond := `(LOWER(i.subject) LIKE ? ESCAPE '\' OR LOWER(i.customer_name) LIKE ? ESCAPE '\' OR LOWER(COALESCE(a.name, '')) LIKE ? ESCAPE '\'
		OR LOWER(COALESCE(c.name, '')) LIKE ? ESCAPE '\'`
	args := []any{like, like, like, like}
	hits, _, err := s.search.Search(ctx, search.Query{Text: q, Types: []string{docMessage}, Limit: search.MaxLimit})
	if err != nil {
		return "", nil, err
	}
	if len(hits) > 0 {
		cond += " OR i.id IN (SELECT m.inquiry_id FROM inquiry_messages m WHERE m.id IN (" + db.Placeholders(len(hits)) + "))"
		for _, h := range hits {
			args = append(args, h.ID)
		}
	}
	return cond + ")", args, nil
}

// viewWhere is the condition of an inbox view (scope included).
func (s *Service) viewWhere(p *authz.Principal, f ListFilter) ([]string, []any, bool, error) {
	sc, args := scope(p)
	where := []string{sc}
	byDue := false
	switch f.View {
	case "", "all":
	case "mine":
		where, args = append(where, "i.assignee_id = ?", "i.active = ?"), append(args, p.UserID, true)
	case "unassigned":
		where, args = append(where, "i.assignee_id IS NULL", "i.active = ?"), append(args, true)
	case "team":
		if p.DepartmentID == "" {
			where = append(where, "1 = 0")
		} else {
			where, args = append(where, "i.department_id = ?", "i.active = ?"), append(args, p.DepartmentID, true)
		}
	case "breaching":
		within := f.Within
		if within <= 0 {
			within = 2 * time.Hour
		}
		where = append(where, "i.active = ?", "i.due_at IS NOT NULL", "i.due_at < ?", "i.paused_at IS NULL")
		args = append(args, true, db.Ms(s.db.Now().Add(within)))
		byDue = true
	case "waiting":
		where, args = append(where, "i.status = ?"), append(args, StatusWaiting)
	default:
		return nil, nil, false, httpx.BadParam("view")
	}
	return where, args, byDue, nil
}

// UnreadCounts counts unread inquiries per view (capped, like every total
// over a large table).
func (s *Service) UnreadCounts(ctx context.Context) (Counts, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.InquiriesRead); err != nil {
		return nil, err
	}
	out := Counts{}
	for _, view := range Views {
		where, args, _, err := s.viewWhere(p, ListFilter{View: view})
		if err != nil {
			return nil, err
		}
		where = append(where, "i.active = ?", "i.last_inbound_at > COALESCE(r.read_at, 0)")
		args = append([]any{p.UserID}, append(args, true)...)
		var n int
		if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM inquiries i LEFT JOIN inquiry_reads r ON r.inquiry_id = i.id AND r.user_id = ?
			WHERE `+strings.Join(where, " AND ")+" LIMIT 1000) x", args...).Scan(&n); err != nil {
			return nil, err
		}
		out[view] = n
	}
	return out, nil
}

// MarkRead records that the caller has seen the inquiry up to now.
func (s *Service) MarkRead(ctx context.Context, id string) error {
	p := authz.From(ctx)
	if _, err := s.visible(ctx, s.db, id); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO inquiry_reads (user_id, inquiry_id, read_at) VALUES (?, ?, ?)
			ON CONFLICT (user_id, inquiry_id) DO UPDATE SET read_at = excluded.read_at`, p.UserID, id, db.Ms(tx.Now()))
		return err
	})
}

// Messages lists an inquiry's messages oldest first.
func (s *Service) Messages(ctx context.Context, id string, lp httpx.ListParams) ([]*Message, *httpx.Cursor, error) {
	if _, err := s.visible(ctx, s.db, id); err != nil {
		return nil, nil, err
	}
	q := "SELECT " + messageCols + messageFrom + " WHERE m.inquiry_id = ?"
	args := []any{id}
	if lp.Cursor != nil {
		ms, err := strconv.ParseInt(lp.Cursor.Key, 10, 64)
		if err != nil {
			return nil, nil, httpx.BadParam("cursor")
		}
		q += " AND (m.created_at > ? OR (m.created_at = ? AND m.id > ?))"
		args = append(args, ms, ms, lp.Cursor.ID)
	}
	q += " ORDER BY m.created_at, m.id LIMIT ?"
	args = append(args, lp.Limit+1)
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	out := []*Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	var next *httpx.Cursor
	if len(out) > lp.Limit {
		out = out[:lp.Limit]
		last := out[len(out)-1]
		next = &httpx.Cursor{Key: strconv.FormatInt(db.Ms(last.CreatedAt), 10), ID: last.ID}
	}
	return out, next, nil
}

// moveAccount keeps inquiries with the surviving account of a merge.
func (s *Service) moveAccount(ctx context.Context, tx *db.Tx, fromID, intoID string) (int64, error) {
	res, err := tx.Exec(ctx, "UPDATE inquiries SET account_id = ?, version = version + 1, updated_at = ? WHERE account_id = ?", intoID, db.Ms(tx.Now()), fromID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func oneOf(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func validAttachments(v *errs.Validation, field string, in []Attachment) []Attachment {
	if len(in) > 20 {
		v.Add(field, "field.too_many", 20)
		return nil
	}
	out := make([]Attachment, 0, len(in))
	for i, a := range in {
		pre := field + "." + strconv.Itoa(i) + "."
		a.ID = valid.Text(v, pre+"id", a.ID, true, 100)
		a.Filename = valid.Text(v, pre+"filename", a.Filename, true, 255)
		a.ContentType = valid.Text(v, pre+"content_type", a.ContentType, false, 100)
		if a.Size < 0 {
			v.Add(pre+"size", "field.invalid")
		}
		out = append(out, a)
	}
	return out
}
