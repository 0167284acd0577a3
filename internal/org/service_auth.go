package org

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/auth"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/i18n"
	"prelude/internal/platform/mask"
	"prelude/internal/platform/valid"
)

// Config tunes sign-in rules.
type Config struct {
	SessionTTL  time.Duration // absolute lifetime of a session (default 30 days)
	SessionIdle time.Duration // idle timeout (default 7 days)
	LockAfter   int           // failed sign-ins before a temporary lock (default 5)
	LockFor     time.Duration // lock duration (default 15 min)
	Issuer      string        // TOTP issuer label
	LoginRate   int           // sign-in attempts per minute per address (default 30)
}

// Service holds the organisation and identity rules.
type Service struct {
	db       *db.DB
	audit    *audit.Log
	log      *slog.Logger
	cfg      Config
	loginIPs *auth.Limiter

	principalQueries sync.Map // [head, from, where] -> statement
}

// NewService wires the service.
func NewService(d *db.DB, a *audit.Log, log *slog.Logger, cfg Config) *Service {
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 30 * 24 * time.Hour
	}
	if cfg.SessionIdle == 0 {
		cfg.SessionIdle = 7 * 24 * time.Hour
	}
	if cfg.LockAfter == 0 {
		cfg.LockAfter = 5
	}
	if cfg.LockFor == 0 {
		cfg.LockFor = 15 * time.Minute
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "Prelude"
	}
	if cfg.LoginRate == 0 {
		cfg.LoginRate = 30
	}
	return &Service{db: d, audit: a, log: log, cfg: cfg, loginIPs: auth.NewLimiter(cfg.LoginRate, max(1, cfg.LoginRate/2))}
}

// Bootstrap seeds built-in roles. Run at every start (idempotent).
func (s *Service) Bootstrap(ctx context.Context) error {
	return s.db.InTx(ctx, seedRoles)
}

// SessionCookie is the name of the session cookie.
const SessionCookie = "prelude_session"

// tokenPrefix marks Prelude API tokens so secret scanners can find leaks.
const tokenPrefix = "prl_"

// ---- first-run setup ----

// SetupNeeded reports whether no user exists yet.
func (s *Service) SetupNeeded(ctx context.Context) (bool, error) {
	var n int
	err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM users").Scan(&n)
	return n == 0, err
}

// EnsureSetupToken returns the one-time setup token while no user exists,
// creating it on first use. The token is kept (it is only a bootstrap secret
// until the first administrator exists), so a restart or a second instance
// prints the same link instead of invalidating the first. "" once set up.
func (s *Service) EnsureSetupToken(ctx context.Context) (string, error) {
	var token string
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM users").Scan(&n); err != nil || n > 0 {
			return err
		}
		err := tx.QueryRow(ctx, "SELECT value FROM settings WHERE key = 'setup.token'").Scan(&token)
		if err == nil && token != "" {
			return nil
		}
		if err != nil && !isNotFound(err) {
			return err
		}
		// Two instances starting together can both get here: the first
		// token written wins (the other's insert waits for it, then leaves
		// it), and each reads back the one kept, so both print one link.
		if _, err := tx.Exec(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('setup.token', ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at WHERE settings.value = ''`,
			auth.NewToken(""), db.Ms(tx.Now())); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT value FROM settings WHERE key = 'setup.token'").Scan(&token)
	})
	return token, err
}

// Setup creates the first administrator and a root department, and signs in.
func (s *Service) Setup(ctx context.Context, in SetupInput, lang i18n.Lang, ip, ua string) (*Me, string, error) {
	if needed, err := s.SetupNeeded(ctx); err != nil {
		return nil, "", err
	} else if !needed {
		return nil, "", errs.New(errs.Conflict, "setup_done", "auth.setup_done")
	}
	var v errs.Validation
	in.Username = strings.TrimSpace(in.Username)
	if !usernameRe.MatchString(in.Username) {
		v.Add("username", "field.username")
	}
	in.DisplayName = valid.Text(&v, "display_name", in.DisplayName, true, 64)
	in.Email = valid.Email(&v, "email", in.Email, false)
	if auth.WeakPassword(in.Password, in.Username) {
		v.Add("password", "field.weak_password")
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return nil, "", err
	}
	var userID, cookie string
	err = s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM users").Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errs.New(errs.Conflict, "setup_done", "auth.setup_done")
		}
		var stored string
		err := tx.QueryRow(ctx, "SELECT value FROM settings WHERE key = 'setup.token'").Scan(&stored)
		if err != nil && !isNotFound(err) {
			return err
		}
		if stored == "" || subtle.ConstantTimeCompare([]byte(in.Token), []byte(stored)) != 1 {
			return &errs.Error{Kind: errs.Forbidden, Code: "invalid_setup_token", Key: "auth.setup_token"}
		}
		if err := seedRoles(ctx, tx); err != nil {
			return err
		}
		deptID := db.NewID()
		rootName := "总部"
		if lang == i18n.EN {
			rootName = "Headquarters"
		}
		now := db.Ms(tx.Now())
		if _, err := tx.Exec(ctx, "INSERT INTO departments (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)", deptID, rootName, now, now); err != nil {
			return err
		}
		userID = db.NewID()
		if _, err := tx.Exec(ctx, `INSERT INTO users (id, username, username_key, display_name, email, department_id, password_hash, locale, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, userID, in.Username, strings.ToLower(in.Username), in.DisplayName, in.Email, deptID, hash, string(lang), now, now); err != nil {
			return err
		}
		if err := setUserRoles(ctx, tx, userID, []string{authz.RoleAdmin}); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM settings WHERE key = 'setup.token'"); err != nil {
			return err
		}
		cookie, err = s.newSession(ctx, tx, userID, ip, ua)
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "setup.complete", EntityType: "user", EntityID: userID, ActorName: in.Username, IP: ip,
			Detail: map[string]any{"roles": []string{authz.RoleAdmin}}})
	})
	if err != nil {
		return nil, "", err
	}
	p, err := s.principalFor(ctx, userID)
	if err != nil {
		return nil, "", err
	}
	me, err := s.Me(authz.With(ctx, p))
	return me, cookie, err
}

// ---- sign-in ----

// Login checks credentials (and the TOTP code when enabled) and returns a
// new session cookie value.
func (s *Service) Login(ctx context.Context, in LoginInput, ip, ua string) (*Me, string, error) {
	if ok, wait := s.loginIPs.Allow(ip); !ok {
		return nil, "", &errs.Error{Kind: errs.RateLimited, Code: "rate_limited", Key: "err.rate_limited", Args: []any{wait}, RetryAfter: wait}
	}
	invalid := &errs.Error{Kind: errs.Unauthorized, Code: "invalid_credentials", Key: "auth.invalid_credentials"}
	name := strings.ToLower(strings.TrimSpace(in.Username))
	if name == "" || in.Password == "" || len(name) > 64 || len(in.Password) > 256 {
		return nil, "", invalid
	}
	u, err := getUser(ctx, s.db, "u.username_key = ?", name)
	if isNotFound(err) {
		auth.BurnPasswordCheck(in.Password)
		s.recordLoginFailure(ctx, "", in.Username, ip, "unknown_user")
		return nil, "", invalid
	}
	if err != nil {
		return nil, "", err
	}
	now := s.db.Now()
	if u.LockedUntil.After(now) {
		mins := int(u.LockedUntil.Sub(now).Minutes()) + 1
		s.recordLoginFailure(ctx, u.ID, u.Username, ip, "locked")
		return nil, "", &errs.Error{Kind: errs.RateLimited, Code: "account_locked", Key: "auth.locked", Args: []any{mins}, RetryAfter: mins * 60}
	}
	ok, err := auth.CheckPassword(u.PasswordHash, in.Password)
	if err != nil {
		return nil, "", err
	}
	if !ok {
		return nil, "", s.failLogin(ctx, u, ip, "wrong_password", invalid)
	}
	if !u.Active {
		s.recordLoginFailure(ctx, u.ID, u.Username, ip, "disabled")
		return nil, "", &errs.Error{Kind: errs.Unauthorized, Code: "account_disabled", Key: "auth.disabled"}
	}
	var step int64
	if u.TOTPEnabled {
		code := strings.TrimSpace(in.TOTPCode)
		if code == "" {
			return nil, "", &errs.Error{Kind: errs.Unauthorized, Code: "totp_required", Key: "auth.totp_required"}
		}
		var ok bool
		step, ok = auth.CheckTOTP(u.TOTPSecret, code, now)
		if !ok || step <= u.TOTPLastStep { // a code is good once
			return nil, "", s.failLogin(ctx, u, ip, "wrong_totp", &errs.Error{Kind: errs.Unauthorized, Code: "totp_invalid", Key: "auth.totp_invalid"})
		}
	}
	var cookie string
	err = s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		q := "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = ?"
		args := []any{db.Ms(tx.Now())}
		if step > 0 {
			q += ", totp_last_step = ?"
			args = append(args, step)
		}
		if _, err := tx.Exec(ctx, q+" WHERE id = ?", append(args, u.ID)...); err != nil {
			return err
		}
		var err error
		if cookie, err = s.newSession(ctx, tx, u.ID, ip, ua); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "auth.login", EntityType: "user", EntityID: u.ID,
			ActorName: u.DisplayName + " (" + u.Username + ")", IP: ip, Detail: map[string]any{"user_agent": ua, "totp": u.TOTPEnabled}})
	})
	if err != nil {
		return nil, "", err
	}
	p, err := s.principalFor(ctx, u.ID)
	if err != nil {
		return nil, "", err
	}
	me, err := s.Me(authz.With(ctx, p))
	return me, cookie, err
}

// failLogin counts a failure, locks the account after too many, and records it.
func (s *Service) failLogin(ctx context.Context, u *userRow, ip, reason string, result *errs.Error) error {
	locked := false
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var failed int
		if err := tx.QueryRow(ctx, "SELECT failed_logins FROM users WHERE id = ?", u.ID).Scan(&failed); err != nil {
			return err
		}
		failed++
		if failed >= s.cfg.LockAfter {
			locked = true
			if _, err := tx.Exec(ctx, "UPDATE users SET failed_logins = 0, locked_until = ? WHERE id = ?", db.Ms(tx.Now().Add(s.cfg.LockFor)), u.ID); err != nil {
				return err
			}
		} else if _, err := tx.Exec(ctx, "UPDATE users SET failed_logins = ? WHERE id = ?", failed, u.ID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "auth.login_failed", EntityType: "user", EntityID: u.ID,
			ActorName: u.Username, IP: ip, Detail: map[string]any{"reason": reason, "locked": locked}})
	})
	if err != nil {
		return err
	}
	if locked {
		mins := int(s.cfg.LockFor.Minutes())
		return &errs.Error{Kind: errs.RateLimited, Code: "account_locked", Key: "auth.locked", Args: []any{mins}, RetryAfter: mins * 60}
	}
	return result
}

func (s *Service) recordLoginFailure(ctx context.Context, userID, name, ip, reason string) {
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		return s.audit.Record(ctx, tx, audit.Event{Action: "auth.login_failed", EntityType: "user", EntityID: userID,
			ActorName: truncate(name, 64), IP: ip, Detail: map[string]any{"reason": reason}})
	})
	if err != nil {
		s.log.Error("audit login failure", "err", err)
	}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

func (s *Service) newSession(ctx context.Context, tx *db.Tx, userID, ip, ua string) (string, error) {
	token := auth.NewToken("")
	now := tx.Now()
	_, err := tx.Exec(ctx, "INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)",
		auth.HashToken(token), userID, db.Ms(now), db.Ms(now), db.Ms(now.Add(s.cfg.SessionTTL)), ip, truncate(ua, 256))
	return token, err
}

// Logout ends the current session.
func (s *Service) Logout(ctx context.Context) error {
	p := authz.From(ctx)
	if p == nil || p.SessionID == "" {
		return nil
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE id = ?", p.SessionID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "auth.logout", EntityType: "user", EntityID: p.UserID})
	})
}

// LogoutEverywhere ends every session of the caller.
func (s *Service) LogoutEverywhere(ctx context.Context) error {
	p := authz.From(ctx)
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		res, err := tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = ?", p.UserID)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		return s.audit.Record(ctx, tx, audit.Event{Action: "auth.logout_all", EntityType: "user", EntityID: p.UserID, Detail: map[string]any{"sessions": n}})
	})
}

// ---- resolving the caller ----

// touchEvery limits last-seen writes to one per session per minute, so reads
// stay reads.
const touchEvery = time.Minute

// PrincipalFromSession resolves a session cookie; nil, nil if invalid. The
// session, the user and their roles come in one query: this runs on every
// request, and on PostgreSQL each round trip costs more than the work.
func (s *Service) PrincipalFromSession(ctx context.Context, cookie, ip, ua string) (*authz.Principal, error) {
	if cookie == "" || len(cookie) > 128 {
		return nil, nil
	}
	id := auth.HashToken(cookie)
	var expires, lastSeen db.Time
	p, found, err := s.loadPrincipal(ctx, "s.expires_at, s.last_seen_at", "sessions s JOIN users u ON u.id = s.user_id", "s.id = ?", id,
		func(sc func(dest ...any) error, rest ...any) error {
			return sc(append([]any{&expires, &lastSeen}, rest...)...)
		})
	if err != nil || !found {
		return nil, err
	}
	now := s.db.Now()
	if now.After(time.Time(expires)) || now.Sub(time.Time(lastSeen)) > s.cfg.SessionIdle {
		s.db.Exec(ctx, "DELETE FROM sessions WHERE id = ?", id)
		return nil, nil
	}
	if p == nil { // user disabled
		return nil, nil
	}
	if now.Sub(time.Time(lastSeen)) > touchEvery {
		s.db.Exec(ctx, "UPDATE sessions SET last_seen_at = ?, ip = ? WHERE id = ?", db.Ms(now), ip, id)
	}
	p.SessionID, p.IP, p.UserAgent = id, ip, ua
	return p, nil
}

// PrincipalFromToken resolves a bearer API token; nil, nil if invalid.
func (s *Service) PrincipalFromToken(ctx context.Context, token, ip, ua string) (*authz.Principal, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 128 {
		return nil, nil
	}
	var id, userID string
	var expires, lastUsed, revoked db.Time
	err := s.db.QueryRow(ctx, "SELECT id, user_id, expires_at, last_used_at, revoked_at FROM api_tokens WHERE token_hash = ?", auth.HashToken(token)).
		Scan(&id, &userID, &expires, &lastUsed, &revoked)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := s.db.Now()
	if !time.Time(revoked).IsZero() || (!time.Time(expires).IsZero() && now.After(time.Time(expires))) {
		return nil, nil
	}
	p, err := s.principalFor(ctx, userID)
	if err != nil || p == nil {
		return nil, err
	}
	if now.Sub(time.Time(lastUsed)) > touchEvery {
		s.db.Exec(ctx, "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", db.Ms(now), id)
	}
	p.TokenID, p.IP, p.UserAgent = id, ip, ua
	return p, nil
}

// principalFor builds the principal of an active user: roles, the union of
// their permissions, the widest data scope, and the department subtree.
func (s *Service) principalFor(ctx context.Context, userID string) (*authz.Principal, error) {
	p, _, err := s.loadPrincipal(ctx, "", "users u", "u.id = ?", userID, nil)
	return p, err
}

// loadPrincipal reads a user and their roles in one query, from a FROM
// clause that joins users as u (and maybe a session), with head columns
// selected first and scanned by scanHead. found reports whether any row
// matched; p is nil when the user is inactive.
func (s *Service) loadPrincipal(ctx context.Context, head, from, where string, arg any,
	scanHead func(scan func(dest ...any) error, rest ...any) error) (p *authz.Principal, found bool, err error) {
	// A point lookup (see db.LookupRow): on SQLite it skips the remapping
	// a mapping reader pays after every commit, on every request.
	rows, err := s.db.Lookup(ctx, s.principalQuery(head, from, where), arg)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var permLists []string
	var depts sql.NullString
	var userID, username, display, dept, locale, role, scope, perms string
	var active bool
	var roleDepts sql.NullString
	rest := []any{&userID, &username, &display, &dept, &locale, &active, &role, &scope, &perms, &roleDepts}
	for rows.Next() {
		roleDepts = sql.NullString{}
		if scanHead != nil {
			err = scanHead(rows.Scan, rest...)
		} else {
			err = rows.Scan(rest...)
		}
		if err != nil {
			return nil, false, err
		}
		found = true
		if !active {
			return nil, true, nil
		}
		if p == nil {
			lang, _ := i18n.Parse(locale)
			p = &authz.Principal{UserID: userID, Username: username, DisplayName: display, DepartmentID: dept, Locale: lang,
				Scope: authz.ScopeOwn}
		}
		if role == "" {
			continue
		}
		if roleDepts.Valid {
			depts = roleDepts
		}
		p.Roles = append(p.Roles, role)
		if sc := authz.Scope(scope); sc.Rank() > p.Scope.Rank() {
			p.Scope = sc
		}
		permLists = append(permLists, perms)
	}
	if err := rows.Err(); err != nil || p == nil {
		return nil, found, err
	}
	rows.Close()
	if p.Permissions, err = permissionSet(permLists); err != nil {
		return nil, false, err
	}
	if p.Scope == authz.ScopeDepartment && p.DepartmentID != "" {
		p.Departments = splitSubtree(depts.String, p.DepartmentID)
	}
	return p, true, nil
}

// principalQuery is loadPrincipal's statement for one caller's head, from
// and where (each a constant of its call site), built once: put together
// on every request it was a tenth of an authenticated request's
// allocations.
func (s *Service) principalQuery(head, from, where string) string {
	k := [3]string{head, from, where}
	if q, ok := s.principalQueries.Load(k); ok {
		return q.(string)
	}
	cols := `u.id, u.username, u.display_name, COALESCE(u.department_id, ''), u.locale, u.active,
		COALESCE(r.name, ''), COALESCE(r.data_scope, ''), COALESCE(r.permissions, ''), ` + s.subtreeColumn()
	if head != "" {
		cols = head + ", " + cols
	}
	q := `SELECT ` + cols + ` FROM ` + from + `
		LEFT JOIN user_roles ur ON ur.user_id = u.id LEFT JOIN roles r ON r.name = ur.role
		WHERE ` + where + ` ORDER BY r.name`
	s.principalQueries.Store(k, q)
	return q
}

// subtreeColumn is the select-list expression that gives, on the rows of a
// department-scoped role, the IDs of the user's department and of every
// department below it, comma-separated (IDs are UUIDs). Reading the subtree
// in the principal's own query saves every request of a department head a
// second round trip that read the whole departments table; the other roles'
// rows skip the subquery. UNION (not UNION ALL) stops on a cycle, and
// matching on COALESCE of parent_id walks the departments_sibling_name
// index.
func (s *Service) subtreeColumn() string {
	agg := "group_concat(id, ',')"
	if s.db.Dialect == db.Postgres {
		agg = "string_agg(id, ',')"
	}
	return `CASE WHEN r.data_scope = '` + string(authz.ScopeDepartment) + `' AND u.department_id IS NOT NULL THEN
		(WITH RECURSIVE sub(id) AS (SELECT u.department_id UNION SELECT d.id FROM departments d JOIN sub ON COALESCE(d.parent_id, '') = sub.id)
		SELECT ` + agg + ` FROM sub) END`
}

// splitSubtree turns subtreeColumn's list into the principal's departments,
// the user's own first (as before) and the rest in a stable order.
func splitSubtree(list, root string) []string {
	out := []string{root}
	var rest []string
	for _, id := range strings.Split(list, ",") {
		if id != "" && id != root {
			rest = append(rest, id)
		}
	}
	slices.Sort(rest)
	return append(out, slices.Compact(rest)...)
}

// permSets caches the permission set of each combination of role
// permission lists, keyed by their stored JSON (the content itself, so a
// changed role is a new key and nothing can go stale). Resolving the
// principal runs on every request; decoding the lists and building the set
// was a fifth of a request's allocations. The sets are shared: read-only.
var permSets struct {
	sync.Mutex
	m map[string]map[string]bool
}

func permissionSet(lists []string) (map[string]bool, error) {
	key := strings.Join(lists, "\x00")
	permSets.Lock()
	set, ok := permSets.m[key]
	permSets.Unlock()
	if ok {
		return set, nil
	}
	set = map[string]bool{}
	for _, perms := range lists {
		var list []string
		if err := json.Unmarshal([]byte(perms), &list); err != nil {
			return nil, err
		}
		for _, k := range list {
			set[k] = true
		}
	}
	permSets.Lock()
	if permSets.m == nil || len(permSets.m) >= 256 {
		permSets.m = map[string]map[string]bool{}
	}
	permSets.m[key] = set
	permSets.Unlock()
	return set, nil
}

// ---- the signed-in user ----

// Me returns the caller's own record (never masked).
func (s *Service) Me(ctx context.Context) (*Me, error) {
	p := authz.From(ctx)
	// The principal already holds the roles; read just the user row.
	u, err := scanUser(s.db.QueryRow(ctx, "SELECT "+userCols+userFrom+" WHERE u.id = ?", p.UserID))
	if err != nil {
		return nil, err
	}
	u.Roles = append([]string{}, p.Roles...)
	return &Me{User: u.User, Permissions: p.PermissionList(), DataScope: p.Scope}, nil
}

// UpdateMe changes the caller's own profile and language.
func (s *Service) UpdateMe(ctx context.Context, version int64, in MePatch) (*Me, error) {
	p := authz.From(ctx)
	var v errs.Validation
	if in.DisplayName != nil {
		*in.DisplayName = valid.Text(&v, "display_name", *in.DisplayName, true, 64)
	}
	if in.Email != nil {
		*in.Email = valid.Email(&v, "email", *in.Email, false)
	}
	if in.Mobile != nil {
		*in.Mobile = valid.Mobile(&v, "mobile", *in.Mobile, false)
	}
	if in.Locale != nil && !slices.Contains(locales, *in.Locale) {
		v.Add("locale", "field.one_of", strings.Join(locales, ", "))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		before, err := getUser(ctx, tx, "u.id = ?", p.UserID)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, before.Version); err != nil {
			return err
		}
		after := before.User
		set := []string{}
		args := []any{}
		if in.DisplayName != nil {
			after.DisplayName = *in.DisplayName
			set, args = append(set, "display_name = ?"), append(args, after.DisplayName)
		}
		if in.Email != nil {
			after.Email = *in.Email
			set, args = append(set, "email = ?"), append(args, after.Email)
		}
		if in.Mobile != nil {
			after.Mobile = *in.Mobile
			set, args = append(set, "mobile = ?"), append(args, after.Mobile)
		}
		if in.Locale != nil {
			after.Locale = *in.Locale
			set, args = append(set, "locale = ?"), append(args, after.Locale)
		}
		if len(set) == 0 {
			return nil
		}
		if err := updateVersioned(ctx, tx, "users", p.UserID, before.Version, set, args); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "user.update_self", EntityType: "user", EntityID: p.UserID, Changes: audit.Diff(before.User, after)})
	})
	if err != nil {
		return nil, err
	}
	return s.Me(ctx)
}

// updateVersioned applies set to one row if its version still matches and
// bumps the version; a lost race is a 412, never a silent overwrite.
func updateVersioned(ctx context.Context, tx *db.Tx, table, id string, version int64, set []string, args []any) error {
	set = append(set, "version = version + 1", "updated_at = ?")
	args = append(args, db.Ms(tx.Now()), id, version)
	res, err := tx.Exec(ctx, "UPDATE "+table+" SET "+strings.Join(set, ", ")+" WHERE id = ? AND version = ?", args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.StaleVersion()
	}
	return nil
}

// ChangePassword checks the current password, sets a new one and ends every
// other session of the user.
func (s *Service) ChangePassword(ctx context.Context, in PasswordChange) error {
	p := authz.From(ctx)
	u, err := getUser(ctx, s.db, "u.id = ?", p.UserID)
	if err != nil {
		return err
	}
	ok, err := auth.CheckPassword(u.PasswordHash, in.CurrentPassword)
	if err != nil {
		return err
	}
	var v errs.Validation
	if !ok {
		v.Add("current_password", "field.wrong_password")
	}
	if auth.WeakPassword(in.NewPassword, u.Username) {
		v.Add("new_password", "field.weak_password")
	}
	if err := v.Err(); err != nil {
		return err
	}
	hash, err := auth.HashPassword(in.NewPassword)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE users SET password_hash = ?, updated_at = ?, version = version + 1 WHERE id = ?", hash, db.Ms(tx.Now()), p.UserID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = ? AND id <> ?", p.UserID, p.SessionID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "user.password_change", EntityType: "user", EntityID: p.UserID})
	})
}

// StartTOTP creates a new secret (not active until confirmed with a code).
func (s *Service) StartTOTP(ctx context.Context) (*TOTPSetup, error) {
	p := authz.From(ctx)
	u, err := getUser(ctx, s.db, "u.id = ?", p.UserID)
	if err != nil {
		return nil, err
	}
	if u.TOTPEnabled {
		return nil, errs.New(errs.Conflict, "totp_already_enabled", "auth.totp_already")
	}
	secret, url, qr, err := auth.NewTOTP(s.cfg.Issuer, u.Username)
	if err != nil {
		return nil, err
	}
	if _, err := s.db.Exec(ctx, "UPDATE users SET totp_secret = ?, updated_at = ? WHERE id = ?", secret, db.Ms(s.db.Now()), p.UserID); err != nil {
		return nil, err
	}
	return &TOTPSetup{Secret: secret, OTPAuthURL: url, QRDataURL: qr}, nil
}

// EnableTOTP turns two-factor on after the first correct code.
func (s *Service) EnableTOTP(ctx context.Context, code string) error {
	p := authz.From(ctx)
	u, err := getUser(ctx, s.db, "u.id = ?", p.UserID)
	if err != nil {
		return err
	}
	if u.TOTPEnabled {
		return errs.New(errs.Conflict, "totp_already_enabled", "auth.totp_already")
	}
	if u.TOTPSecret == "" {
		return errs.New(errs.Conflict, "totp_not_started", "auth.totp_not_started")
	}
	step, ok := auth.CheckTOTP(u.TOTPSecret, strings.TrimSpace(code), s.db.Now())
	if !ok {
		var v errs.Validation
		v.Add("code", "field.totp_code")
		return v.Err()
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE users SET totp_enabled = ?, totp_last_step = ?, version = version + 1, updated_at = ? WHERE id = ?", true, step, db.Ms(tx.Now()), p.UserID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "user.totp_enable", EntityType: "user", EntityID: p.UserID})
	})
}

// DisableTOTP turns two-factor off after re-checking the password.
func (s *Service) DisableTOTP(ctx context.Context, password string) error {
	p := authz.From(ctx)
	u, err := getUser(ctx, s.db, "u.id = ?", p.UserID)
	if err != nil {
		return err
	}
	if !u.TOTPEnabled {
		return errs.New(errs.Conflict, "totp_not_enabled", "auth.totp_off")
	}
	if ok, _ := auth.CheckPassword(u.PasswordHash, password); !ok {
		var v errs.Validation
		v.Add("password", "field.wrong_password")
		return v.Err()
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE users SET totp_enabled = ?, totp_secret = '', version = version + 1, updated_at = ? WHERE id = ?", false, db.Ms(tx.Now()), p.UserID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "user.totp_disable", EntityType: "user", EntityID: p.UserID})
	})
}

// toAPI masks contact details unless the caller is the user themself.
func toAPI(p *authz.Principal, u *userRow) User {
	out := u.User
	if p == nil || p.UserID != u.ID {
		if out.Email != "" || out.Mobile != "" {
			out.Masked = true
		}
		out.Email = mask.Email(out.Email)
		out.Mobile = mask.Mobile(out.Mobile)
	}
	return out
}

// PrincipalFor builds the principal of an active user (nil if inactive or
// unknown), for background work done on a user's behalf (imports).
func (s *Service) PrincipalFor(ctx context.Context, userID string) (*authz.Principal, error) {
	return s.principalFor(ctx, userID)
}
