package customers

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"time"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
	"prelude/internal/platform/region"
	"prelude/internal/platform/search"
	"prelude/internal/platform/valid"
)

// Service holds the customer-archive rules.
type Service struct {
	db           *db.DB
	audit        *audit.Log
	search       *search.Index
	mergeHooks   []namedHook
	contactHooks []ContactHook
}

// NewService wires the service and registers its search documents.
func NewService(d *db.DB, a *audit.Log, ix *search.Index) *Service {
	s := &Service{db: d, audit: a, search: ix}
	ix.Register("account", s.loadAccountDocs)
	ix.Register("contact", s.loadContactDocs)
	ix.Register("activity", s.loadActivityDocs)
	return s
}

// accountScope filters account lists with indexed lookups; accountScopeRow
// is the per-row form for EXISTS checks (search hits, contacts), where the
// planner would otherwise rebuild the ID set for every row.
var (
	accountScope    = authz.Columns{Owner: "a.owner_id", Department: "a.department_id", RecordType: "account", ID: "a.id", Table: "accounts"}
	accountScopeRow = authz.Columns{Owner: "a.owner_id", Department: "a.department_id", RecordType: "account", ID: "a.id"}
	// searchScope is the scope's branches over search_docs d on PostgreSQL,
	// whose owner_id and department_id copy its account's.
	searchScope = authz.Columns{Owner: "d.owner_id", Department: "d.department_id", RecordType: "account", ID: "d.account_id"}
)

// visibleAccount loads an account if it is inside the caller's scope, else
// 404 — the same answer as for an account that does not exist.
func (s *Service) visibleAccount(ctx context.Context, q db.Querier, id string) (*Account, error) {
	a, _, err := s.visibleAccountShares(ctx, q, id)
	return a, err
}

// visibleAccountShares is visibleAccount that also returns the account's
// collaborators, read in the same query as the account.
func (s *Service) visibleAccountShares(ctx context.Context, q db.Querier, id string) (*Account, []string, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersRead); err != nil {
		return nil, nil, err
	}
	a, shares, err := getAccountShares(ctx, q, id)
	if isNotFound(err) {
		return nil, nil, errs.NotFoundf("entity.account")
	}
	if err != nil {
		return nil, nil, err
	}
	shared := p != nil && p.Scope != authz.ScopeAll && a.OwnerID != p.UserID && slices.Contains(shares, p.UserID)
	if !p.Sees(authz.Record{OwnerID: a.OwnerID, DepartmentID: deref(a.DepartmentID), SharedWith: shared}) {
		return nil, nil, errs.NotFoundf("entity.account")
	}
	return a, shares, nil
}

// visibleIn is a predicate, for a query about one account's records, that
// holds only if the account is live and inside the caller's scope: the same
// rule as visibleAccount (owner, department subtree, shared with them, or
// everything), as SQL. It is uncorrelated, so both databases evaluate it
// once per statement. A page that comes back empty must still ask
// visibleAccount whether it is empty or hidden (404).
func visibleIn(p *authz.Principal, accountID string) (string, []any) {
	scope, args := p.Filter(accountScopeRow)
	return "EXISTS (SELECT 1 FROM accounts a WHERE a.id = ? AND a.merged_into IS NULL AND " + scope + ")", append([]any{accountID}, args...)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// GetAccount returns one account with its collaborators.
func (s *Service) GetAccount(ctx context.Context, id string) (*Account, error) {
	a, shares, err := s.visibleAccountShares(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	a.Collaborators = shares
	return a, nil
}

// sortKey describes one supported list order.
type sortKey struct {
	expr string // SQL expression of the key
	desc bool
	str  bool // string key (else integer)
}

var accountSorts = map[string]sortKey{
	"-updated_at":      {"a.updated_at", true, false},
	"-created_at":      {"a.created_at", true, false},
	"-last_contact_at": {"COALESCE(a.last_contact_at, 0)", true, false},
	"last_contact_at":  {"COALESCE(a.last_contact_at, 0)", false, false},
	"name":             {"a.name", false, true},
}

// maxCount caps list totals: exact counts over very large tables cost more
// than the page itself (shared/STACK.md).
const maxCount = 2000

// ListAccounts lists accounts in the caller's scope.
func (s *Service) ListAccounts(ctx context.Context, f AccountFilter, lp httpx.ListParams) ([]*Account, *httpx.Cursor, int, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersRead); err != nil {
		return nil, nil, 0, err
	}
	if f.Sort == "" {
		f.Sort = "-updated_at"
	}
	sk, ok := accountSorts[f.Sort]
	if !ok {
		return nil, nil, 0, httpx.BadParam("sort")
	}
	// The scope's branches (owned, in my departments, shared with me) are
	// queried one by one along their own indexes and merged: one predicate
	// ORing them made a department head's list read and sort every account
	// in the department (420–560 ms for a page at 100k accounts).
	branches := p.Branches(accountScopeRow)
	where := []string{"a.merged_into IS NULL"}
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if !f.IncludeArchive {
		add("a.archived_at IS NULL")
	}
	for col, v := range map[string]string{"a.owner_id": f.OwnerID, "a.status": f.Status, "a.level": f.Level, "a.source": f.Source,
		"a.kind": f.Kind, "a.industry": f.Industry, "a.province_code": f.ProvinceCode, "a.city_code": f.CityCode} {
		if v != "" {
			add(col+" = ?", v)
		}
	}
	if f.Tag != "" {
		add(`a.tags LIKE ? ESCAPE '\'`, likePattern(`"`+f.Tag+`"`))
	}
	if f.NoContactDays > 0 {
		add("COALESCE(a.last_contact_at, a.created_at) < ?", db.Ms(s.db.Now().Add(-time.Duration(f.NoContactDays)*24*time.Hour)))
	}
	if f.Q != "" {
		ids, err := s.searchAccountIDs(ctx, f.Q)
		if err != nil {
			return nil, nil, 0, err
		}
		like := likePattern(f.Q)
		cond := `(LOWER(a.name) LIKE ? ESCAPE '\' OR a.uscc LIKE ? ESCAPE '\'`
		args2 := []any{like, like}
		if len(ids) > 0 {
			cond += " OR a.id IN (" + db.Placeholders(len(ids)) + ")"
			for _, id := range ids {
				args2 = append(args2, id)
			}
		}
		add(cond+")", args2...)
	}
	filter := strings.Join(where, " AND ")
	// branchSQL renders "SELECT a.id FROM accounts a WHERE branch AND
	// filter[ AND extra] tail" for each branch, joined by union, and its
	// arguments (branch, filter, extra, tail for each).
	branchSQL := func(union, extra string, extraArgs []any, tail string, tailArgs ...any) (string, []any) {
		var sb strings.Builder
		var bargs []any
		for i, b := range branches {
			if i > 0 {
				sb.WriteString(" " + union + " ")
			}
			sb.WriteString("SELECT id FROM (SELECT a.id FROM accounts a WHERE " + b.Cond + " AND " + filter + extra + tail + ") b" + strconv.Itoa(i))
			bargs = append(bargs, b.Args...)
			bargs = append(bargs, args...)
			bargs = append(bargs, extraArgs...)
			bargs = append(bargs, tailArgs...)
		}
		return sb.String(), bargs
	}
	var total int
	if len(branches) == 1 {
		cargs := append(append([]any{}, branches[0].Args...), args...)
		if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM accounts a WHERE "+branches[0].Cond+" AND "+filter+" LIMIT "+strconv.Itoa(maxCount)+") c", cargs...).Scan(&total); err != nil {
			return nil, nil, 0, err
		}
	} else {
		// Each branch capped at maxCount: if any reaches it, so does the union.
		q, cargs := branchSQL("UNION", "", nil, " LIMIT "+strconv.Itoa(maxCount))
		if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM ("+q+") c", cargs...).Scan(&total); err != nil {
			return nil, nil, 0, err
		}
		total = min(total, maxCount)
	}
	op, order := ">", "ASC"
	if sk.desc {
		op, order = "<", "DESC"
	}
	var after string
	var afterArgs []any
	if lp.Cursor != nil {
		var key any = lp.Cursor.Key
		if !sk.str {
			n, err := strconv.ParseInt(lp.Cursor.Key, 10, 64)
			if err != nil {
				return nil, nil, 0, httpx.BadParam("cursor")
			}
			key = n
		}
		after = " AND (" + sk.expr + " " + op + " ? OR (" + sk.expr + " = ? AND a.id " + op + " ?))"
		afterArgs = []any{key, key, lp.Cursor.ID}
	}
	orderBy := " ORDER BY " + sk.expr + " " + order + ", a.id " + order + " LIMIT ?"
	var rows *sql.Rows
	var err error
	if len(branches) == 1 {
		largs := append(append(append(append([]any{}, branches[0].Args...), args...), afterArgs...), lp.Limit+1)
		rows, err = s.db.Query(ctx, "SELECT "+accountCols+", "+sk.expr+accountFrom+" WHERE "+branches[0].Cond+" AND "+filter+after+orderBy, largs...)
	} else {
		// The first page of each branch, then the first page of their union.
		q, largs := branchSQL("UNION ALL", after, afterArgs, orderBy, lp.Limit+1)
		rows, err = s.db.Query(ctx, "SELECT "+accountCols+", "+sk.expr+accountFrom+" WHERE a.id IN ("+q+")"+orderBy, append(largs, lp.Limit+1)...)
	}
	if err != nil {
		return nil, nil, 0, err
	}
	defer rows.Close()
	var out []*Account
	var keys []string
	for rows.Next() {
		var key any
		a, err := scanAccount(scanPlus{rows, &key})
		if err != nil {
			return nil, nil, 0, err
		}
		out = append(out, a)
		keys = append(keys, keyString(key))
	}
	if err := rows.Err(); err != nil {
		return nil, nil, 0, err
	}
	var next *httpx.Cursor
	if len(out) > lp.Limit {
		out = out[:lp.Limit]
		next = &httpx.Cursor{Key: keys[lp.Limit-1], ID: out[lp.Limit-1].ID}
	}
	return out, next, total, nil
}

// scanPlus scans the account columns plus one trailing sort-key column.
type scanPlus struct {
	sc  interface{ Scan(...any) error }
	key *any
}

func (s scanPlus) Scan(dest ...any) error { return s.sc.Scan(append(dest, s.key)...) }

func keyString(v any) string {
	switch k := v.(type) {
	case int64:
		return strconv.FormatInt(k, 10)
	case []byte:
		return string(k)
	case string:
		return k
	case float64:
		return strconv.FormatInt(int64(k), 10)
	}
	return ""
}

func (s *Service) searchAccountIDs(ctx context.Context, q string) ([]string, error) {
	hits, _, err := s.search.Search(ctx, search.Query{Text: q, Types: []string{"account", "contact"}, Limit: 200})
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, h := range hits {
		if h.AccountID != "" && !slices.Contains(ids, h.AccountID) {
			ids = append(ids, h.AccountID)
		}
	}
	return ids, nil
}

// levels are the configured account levels (A/B/C/D by default).
func (s *Service) levels(ctx context.Context, q db.Querier) []string {
	var raw string
	if err := q.QueryRow(ctx, "SELECT value FROM settings WHERE key = 'customers.levels'").Scan(&raw); err == nil && raw != "" {
		if l := splitKinds(raw); len(l) > 0 {
			return l
		}
	}
	return DefaultLevels
}

// validateAccount checks an account's fields (after defaults).
func (s *Service) validateAccount(ctx context.Context, q db.Querier, a *Account, v *errs.Validation) {
	a.Name = valid.Text(v, "name", a.Name, true, 128)
	if !oneOf(Kinds, a.Kind) {
		v.Add("kind", "field.one_of", strings.Join(Kinds, ", "))
	}
	if a.Kind == "company" {
		a.USCC = valid.USCC(v, "uscc", a.USCC, false)
	} else if strings.TrimSpace(a.USCC) != "" {
		v.Add("uscc", "customers.uscc_company_only")
	}
	a.Industry = valid.Text(v, "industry", a.Industry, false, 64)
	if a.Size != "" && !oneOf(Sizes, a.Size) {
		v.Add("size", "field.one_of", strings.Join(Sizes, ", "))
	}
	if field, ok := region.Validate(a.ProvinceCode, a.CityCode, a.DistrictCode); !ok {
		v.Add(field, "field.region")
	}
	a.RegionName = region.FullName(firstNonEmpty(a.DistrictCode, a.CityCode, a.ProvinceCode))
	a.Address = valid.Text(v, "address", a.Address, false, 256)
	if a.Source != "" && !oneOf(Sources, a.Source) {
		v.Add("source", "field.one_of", strings.Join(Sources, ", "))
	}
	if levels := s.levels(ctx, q); a.Level != "" && !oneOf(levels, a.Level) {
		v.Add("level", "field.one_of", strings.Join(levels, ", "))
	}
	if !oneOf(Statuses, a.Status) {
		v.Add("status", "field.one_of", strings.Join(Statuses, ", "))
	}
	a.Tags = cleanTags(v, a.Tags)
	a.Needs = valid.Text(v, "needs", a.Needs, false, 4000)
	a.Concerns = valid.Text(v, "concerns", a.Concerns, false, 4000)
	a.Opinions = valid.Text(v, "opinions", a.Opinions, false, 4000)
	a.Suggestions = valid.Text(v, "suggestions", a.Suggestions, false, 4000)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func cleanTags(v *errs.Validation, tags []string) []string {
	out := []string{}
	for _, t := range tags {
		t = valid.Text(v, "tags", t, false, 32)
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) > 20 {
		v.Add("tags", "field.too_many", 20)
	}
	return out
}

// ownerDepartment returns an active user's department (the account's
// department follows its owner, which is what department scopes use).
func ownerDepartment(ctx context.Context, q db.Querier, userID string) (dept *string, ok bool, err error) {
	var d string
	var active bool
	err = q.QueryRow(ctx, "SELECT COALESCE(department_id, ''), active FROM users WHERE id = ?", userID).Scan(&d, &active)
	if isNotFound(err) {
		return nil, false, nil
	}
	if err != nil || !active {
		return nil, false, err
	}
	if d == "" {
		return nil, true, nil
	}
	return &d, true, nil
}

// CreateAccount creates an account (and optionally its first contacts).
func (s *Service) CreateAccount(ctx context.Context, in AccountInput) (*Account, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersCreate); err != nil {
		return nil, err
	}
	var id string
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var err error
		id, err = s.createAccountTx(ctx, tx, in, "account.create")
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.GetAccount(ctx, id)
}

// CreateAccountTx creates an account in the caller's transaction, for a
// capability that creates it together with its own record (an inquiry from
// a new customer, regulation 4: 建立客户档案), so a failure of that record
// leaves no orphan account. It returns the new account's id.
func (s *Service) CreateAccountTx(ctx context.Context, tx *db.Tx, in AccountInput) (string, error) {
	if err := authz.From(ctx).Require(authz.CustomersCreate); err != nil {
		return "", err
	}
	return s.createAccountTx(ctx, tx, in, "account.create")
}

// prepareAccount applies defaults and validates a new account and its
// contacts without writing anything; v collects every problem. Imports use
// it for their dry run.
func (s *Service) prepareAccount(ctx context.Context, q db.Querier, in AccountInput, v *errs.Validation) (*Account, []ContactInput, *string, error) {
	p := authz.From(ctx)
	a := &Account{Name: in.Name, Kind: in.Kind, USCC: in.USCC, Industry: in.Industry, Size: in.Size, ProvinceCode: in.ProvinceCode,
		CityCode: in.CityCode, DistrictCode: in.DistrictCode, Address: in.Address, Source: in.Source, Level: in.Level, Status: in.Status,
		Tags: in.Tags, OwnerID: in.OwnerID, Needs: in.Needs, Concerns: in.Concerns, Opinions: in.Opinions, Suggestions: in.Suggestions}
	if a.Kind == "" {
		a.Kind = "company"
	}
	if a.Status == "" {
		a.Status = "prospect"
	}
	if a.OwnerID == "" {
		a.OwnerID = p.UserID
	}
	s.validateAccount(ctx, q, a, v)
	contacts := make([]ContactInput, len(in.Contacts))
	for i, c := range in.Contacts {
		contacts[i] = validateContactInput(v, "contacts."+strconv.Itoa(i)+".", c)
	}
	dept, ok, err := ownerDepartment(ctx, q, a.OwnerID)
	if err != nil {
		return nil, nil, nil, err
	}
	if !ok {
		v.Add("owner_id", "field.not_found")
	} else if a.OwnerID != p.UserID && !p.Sees(authz.Record{OwnerID: a.OwnerID, DepartmentID: deref(dept)}) {
		// Assigning to someone else needs them inside one's own scope.
		v.Add("owner_id", "field.not_found")
	}
	return a, contacts, dept, nil
}

// createAccountTx validates and inserts an account with its contacts in tx,
// refusing likely duplicates unless in.ConfirmDuplicates. action names the
// audit action ("account.create", or "account.import" for imports).
func (s *Service) createAccountTx(ctx context.Context, tx *db.Tx, in AccountInput, action string) (string, error) {
	p := authz.From(ctx)
	var v errs.Validation
	a, contacts, dept, err := s.prepareAccount(ctx, tx, in, &v)
	if err != nil {
		return "", err
	}
	if err := v.Err(); err != nil {
		return "", err
	}
	if !in.ConfirmDuplicates {
		q := DuplicateQuery{Name: a.Name, USCC: a.USCC}
		for _, c := range contacts {
			q.Mobiles = append(q.Mobiles, c.Mobile)
			q.Emails = append(q.Emails, c.Email)
		}
		dups, err := s.findDuplicates(ctx, tx, q)
		if err != nil {
			return "", err
		}
		if len(dups) > 0 {
			return "", duplicateError(dups)
		}
	}
	id := db.NewID()
	now := db.Ms(tx.Now())
	_, err = tx.Exec(ctx, `INSERT INTO accounts (id, name, name_key, kind, uscc, industry, size, province_code, city_code, district_code, address,
		source, level, status, tags, owner_id, department_id, needs, concerns, opinions, suggestions, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, a.Name, NameKey(a.Name), a.Kind, a.USCC, a.Industry, a.Size, a.ProvinceCode, a.CityCode, a.DistrictCode, a.Address,
		a.Source, a.Level, a.Status, encodeTags(a.Tags), a.OwnerID, dept, a.Needs, a.Concerns, a.Opinions, a.Suggestions, p.UserID, now, now)
	if err != nil {
		return "", err
	}
	for _, c := range contacts {
		if _, err := s.insertContact(ctx, tx, c, id, a.OwnerID, dept); err != nil {
			return "", err
		}
	}
	a.ID = id
	if err := s.AddEvent(ctx, tx, Entry{AccountID: id, Kind: "account_created", RefType: "account", RefID: id, Title: a.Name}); err != nil {
		return "", err
	}
	if err := s.search.MarkDirty(ctx, "account", id); err != nil {
		return "", err
	}
	return id, s.audit.Record(ctx, tx, audit.Event{Action: action, EntityType: "account", EntityID: id, Changes: audit.Diff(nil, a)})
}

// DuplicatesError carries likely duplicates in a 409 answer.
func duplicateError(d []Duplicate) error {
	names := make([]string, 0, len(d))
	for _, x := range d {
		names = append(names, x.Name)
	}
	return &errs.Error{Kind: errs.Conflict, Code: "duplicate_suspected", Key: "customers.duplicates", Args: []any{strings.Join(names, "、")},
		Details: map[string]any{"duplicates": d}}
}

// UpdateAccount changes an account (If-Match version).
func (s *Service) UpdateAccount(ctx context.Context, id string, version int64, in AccountPatch) (*Account, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersUpdate); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		before, err := s.visibleAccount(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, before.Version); err != nil {
			return err
		}
		after := *before
		setStr := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		setStr(&after.Name, in.Name)
		setStr(&after.Kind, in.Kind)
		setStr(&after.USCC, in.USCC)
		setStr(&after.Industry, in.Industry)
		setStr(&after.Size, in.Size)
		setStr(&after.ProvinceCode, in.ProvinceCode)
		setStr(&after.CityCode, in.CityCode)
		setStr(&after.DistrictCode, in.DistrictCode)
		setStr(&after.Address, in.Address)
		setStr(&after.Source, in.Source)
		setStr(&after.Level, in.Level)
		setStr(&after.Status, in.Status)
		setStr(&after.Needs, in.Needs)
		setStr(&after.Concerns, in.Concerns)
		setStr(&after.Opinions, in.Opinions)
		setStr(&after.Suggestions, in.Suggestions)
		if in.Tags != nil {
			after.Tags = *in.Tags
		}
		var v errs.Validation
		s.validateAccount(ctx, tx, &after, &v)
		if err := v.Err(); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE accounts SET name = ?, name_key = ?, kind = ?, uscc = ?, industry = ?, size = ?, province_code = ?, city_code = ?,
			district_code = ?, address = ?, source = ?, level = ?, status = ?, tags = ?, needs = ?, concerns = ?, opinions = ?, suggestions = ?,
			version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
			after.Name, NameKey(after.Name), after.Kind, after.USCC, after.Industry, after.Size, after.ProvinceCode, after.CityCode,
			after.DistrictCode, after.Address, after.Source, after.Level, after.Status, encodeTags(after.Tags), after.Needs, after.Concerns,
			after.Opinions, after.Suggestions, db.Ms(tx.Now()), id, before.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		changes := audit.Diff(before, &after, "region_name")
		delete(changes, "region_name")
		if len(changes) == 0 {
			return nil
		}
		// Needs, concerns, opinions and suggestions are the archive's memory
		// (regulation 3): their changes go on the timeline too.
		for _, f := range []string{"needs", "concerns", "opinions", "suggestions", "status", "level"} {
			if ch, ok := changes[f]; ok {
				if err := s.AddEvent(ctx, tx, Entry{AccountID: id, Kind: "account_" + f + "_changed", RefType: "account", RefID: id,
					Body: toString(ch[1]), Data: map[string]any{"from": ch[0], "to": ch[1]}}); err != nil {
					return err
				}
			}
		}
		if err := s.search.MarkDirty(ctx, "account", id); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "account.update", EntityType: "account", EntityID: id, Changes: changes})
	})
	if err != nil {
		return nil, err
	}
	return s.GetAccount(ctx, id)
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

// ArchiveAccount hides an account from lists (DELETE); its history stays.
func (s *Service) ArchiveAccount(ctx context.Context, id string, version int64) error {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersDelete); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		a, err := s.visibleAccount(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, a.Version); err != nil {
			return err
		}
		if a.Archived {
			return nil
		}
		if _, err := tx.Exec(ctx, "UPDATE accounts SET archived_at = ?, version = version + 1, updated_at = ? WHERE id = ?", db.Ms(tx.Now()), db.Ms(tx.Now()), id); err != nil {
			return err
		}
		if err := s.AddEvent(ctx, tx, Entry{AccountID: id, Kind: "account_archived", RefType: "account", RefID: id}); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "account.archive", EntityType: "account", EntityID: id, Changes: map[string][2]any{"archived": {false, true}}})
	})
}

// Transfer hands an account to another owner, with a reason (recorded).
func (s *Service) Transfer(ctx context.Context, id string, in TransferInput) (*Account, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersTransfer); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		a, err := s.visibleAccount(ctx, tx, id)
		if err != nil {
			return err
		}
		var v errs.Validation
		in.Reason = valid.Text(&v, "reason", in.Reason, true, 500)
		dept, ok, err := ownerDepartment(ctx, tx, in.OwnerID)
		if err != nil {
			return err
		}
		if !ok {
			v.Add("owner_id", "field.not_found")
		}
		if err := v.Err(); err != nil {
			return err
		}
		if in.OwnerID == a.OwnerID {
			return errs.New(errs.Conflict, "same_owner", "customers.same_owner")
		}
		if err := s.transferTx(ctx, tx, a, in.OwnerID, dept, in.Reason); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The caller may no longer see it; answer with what they can know.
	a, err := s.GetAccount(ctx, id)
	if errs.KindOf(err) == errs.NotFound {
		return &Account{ID: id, OwnerID: in.OwnerID}, nil
	}
	return a, err
}

func (s *Service) transferTx(ctx context.Context, tx *db.Tx, a *Account, ownerID string, dept *string, reason string) error {
	if _, err := tx.Exec(ctx, "UPDATE accounts SET owner_id = ?, department_id = ?, version = version + 1, updated_at = ? WHERE id = ?",
		ownerID, dept, db.Ms(tx.Now()), a.ID); err != nil {
		return err
	}
	var toName string
	tx.QueryRow(ctx, "SELECT display_name FROM users WHERE id = ?", ownerID).Scan(&toName)
	data := map[string]any{"from_owner_id": a.OwnerID, "from_owner_name": a.OwnerName, "to_owner_id": ownerID, "to_owner_name": toName, "reason": reason}
	if err := s.AddEvent(ctx, tx, Entry{AccountID: a.ID, Kind: "account_transferred", RefType: "account", RefID: a.ID, Body: reason, Data: data}); err != nil {
		return err
	}
	return s.audit.Record(ctx, tx, audit.Event{Action: "account.transfer", EntityType: "account", EntityID: a.ID,
		Changes: map[string][2]any{"owner_id": {a.OwnerID, ownerID}}, Detail: map[string]any{"reason": reason}})
}

// SetCollaborators replaces the users an account is shared with.
func (s *Service) SetCollaborators(ctx context.Context, id string, in CollaboratorsInput) (*Account, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersUpdate); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := s.visibleAccount(ctx, tx, id); err != nil {
			return err
		}
		before, err := collaborators(ctx, tx, id)
		if err != nil {
			return err
		}
		var v errs.Validation
		var ids []string
		for _, u := range in.UserIDs {
			if slices.Contains(ids, u) {
				continue
			}
			if _, ok, err := ownerDepartment(ctx, tx, u); err != nil {
				return err
			} else if !ok {
				v.Add("user_ids", "field.not_found")
			}
			ids = append(ids, u)
		}
		if len(ids) > 50 {
			v.Add("user_ids", "field.too_many", 50)
		}
		if err := v.Err(); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM record_shares WHERE record_type = 'account' AND record_id = ?", id); err != nil {
			return err
		}
		for _, u := range ids {
			if _, err := tx.Exec(ctx, "INSERT INTO record_shares (record_type, record_id, user_id, created_at) VALUES ('account', ?, ?, ?)", id, u, db.Ms(tx.Now())); err != nil {
				return err
			}
		}
		slices.Sort(ids)
		slices.Sort(before)
		if slices.Equal(ids, before) {
			return nil
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "account.share", EntityType: "account", EntityID: id,
			Changes: map[string][2]any{"collaborator_ids": {before, ids}}})
	})
	if err != nil {
		return nil, err
	}
	return s.GetAccount(ctx, id)
}

// Bulk assigns an owner and/or adds/removes tags on many accounts at once;
// accounts outside the caller's scope are refused as a whole (404).
func (s *Service) Bulk(ctx context.Context, in BulkInput) (*BulkResult, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersUpdate); err != nil {
		return nil, err
	}
	if in.OwnerID != "" {
		if err := p.Require(authz.CustomersTransfer); err != nil {
			return nil, err
		}
	}
	var v errs.Validation
	if len(in.AccountIDs) == 0 {
		v.Add("account_ids", "field.required")
	}
	if len(in.AccountIDs) > 500 {
		v.Add("account_ids", "field.too_many", 500)
	}
	add := cleanTags(&v, in.AddTags)
	remove := cleanTags(&v, in.RemoveTags)
	if in.OwnerID == "" && len(add) == 0 && len(remove) == 0 {
		v.Add("owner_id", "field.required")
	}
	if in.OwnerID != "" {
		in.Reason = valid.Text(&v, "reason", in.Reason, true, 500)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	res := &BulkResult{}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var dept *string
		if in.OwnerID != "" {
			d, ok, err := ownerDepartment(ctx, tx, in.OwnerID)
			if err != nil {
				return err
			}
			if !ok {
				v.Add("owner_id", "field.not_found")
				return v.Err()
			}
			dept = d
		}
		for _, id := range in.AccountIDs {
			a, err := s.visibleAccount(ctx, tx, id)
			if err != nil {
				return err
			}
			if len(add) > 0 || len(remove) > 0 {
				tags := slices.DeleteFunc(append([]string{}, a.Tags...), func(t string) bool { return slices.Contains(remove, t) })
				for _, t := range add {
					if !slices.Contains(tags, t) {
						tags = append(tags, t)
					}
				}
				if !slices.Equal(tags, a.Tags) {
					if _, err := tx.Exec(ctx, "UPDATE accounts SET tags = ?, version = version + 1, updated_at = ? WHERE id = ?", encodeTags(tags), db.Ms(tx.Now()), id); err != nil {
						return err
					}
					if err := s.audit.Record(ctx, tx, audit.Event{Action: "account.update", EntityType: "account", EntityID: id,
						Changes: map[string][2]any{"tags": {a.Tags, tags}}, Detail: map[string]any{"bulk": true}}); err != nil {
						return err
					}
					if err := s.search.MarkDirty(ctx, "account", id); err != nil {
						return err
					}
				}
			}
			if in.OwnerID != "" && in.OwnerID != a.OwnerID {
				if err := s.transferTx(ctx, tx, a, in.OwnerID, dept, in.Reason); err != nil {
					return err
				}
			}
			res.Updated++
		}
		return nil
	})
	return res, err
}
