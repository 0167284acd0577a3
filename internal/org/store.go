package org

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/httpx"
)

// userRow is a users row with the secrets services need and the API never shows.
type userRow struct {
	User
	DepartmentID string
	PasswordHash string
	TOTPSecret   string
	TOTPLastStep int64
	FailedLogins int
	LockedUntil  time.Time
}

const userCols = `u.id, u.username, u.display_name, u.email, u.mobile, COALESCE(u.department_id, ''), COALESCE(d.name, ''),
	u.password_hash, u.active, u.locale, u.totp_secret, u.totp_enabled, u.totp_last_step, u.failed_logins, u.locked_until,
	u.last_login_at, u.version, u.created_at, u.updated_at`

const userFrom = ` FROM users u LEFT JOIN departments d ON d.id = u.department_id`

func scanUser(sc interface{ Scan(...any) error }) (*userRow, error) {
	var u userRow
	var locked, lastLogin, created, updated db.Time
	err := sc.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Email, &u.Mobile, &u.DepartmentID, &u.DepartmentName,
		&u.PasswordHash, &u.Active, &u.Locale, &u.TOTPSecret, &u.TOTPEnabled, &u.TOTPLastStep, &u.FailedLogins, &locked,
		&lastLogin, &u.Version, &created, &updated)
	if err != nil {
		return nil, err
	}
	u.LockedUntil = time.Time(locked)
	if !time.Time(lastLogin).IsZero() {
		t := time.Time(lastLogin)
		u.LastLoginAt = &t
	}
	u.CreatedAt, u.UpdatedAt = time.Time(created), time.Time(updated)
	if u.DepartmentID != "" {
		id := u.DepartmentID
		u.User.DepartmentID = &id
	}
	return &u, nil
}

func getUser(ctx context.Context, q db.Querier, where string, args ...any) (*userRow, error) {
	u, err := scanUser(q.QueryRow(ctx, "SELECT "+userCols+userFrom+" WHERE "+where, args...))
	if err != nil {
		return nil, err
	}
	u.Roles, err = userRoles(ctx, q, u.ID)
	return u, err
}

func userRoles(ctx context.Context, q db.Querier, userID string) ([]string, error) {
	rows, err := q.Query(ctx, "SELECT role FROM user_roles WHERE user_id = ? ORDER BY role", userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func setUserRoles(ctx context.Context, tx *db.Tx, userID string, roles []string) error {
	if _, err := tx.Exec(ctx, "DELETE FROM user_roles WHERE user_id = ?", userID); err != nil {
		return err
	}
	for _, r := range roles {
		if _, err := tx.Exec(ctx, "INSERT INTO user_roles (user_id, role) VALUES (?, ?)", userID, r); err != nil {
			return err
		}
	}
	return nil
}

func listUsers(ctx context.Context, q db.Querier, p *authz.Principal, f UserFilter, lp httpx.ListParams) ([]*userRow, *httpx.Cursor, int, error) {
	scope, args := p.Filter(authz.Columns{Owner: "u.id", Department: "u.department_id"})
	where := []string{scope}
	if f.Q != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(f.Q)) + "%"
		// Email is searched only for those allowed to see it in clear;
		// otherwise a search would confirm a masked address.
		if p.Can(authz.UsersReveal) {
			where = append(where, `(LOWER(u.username) LIKE ? ESCAPE '\' OR LOWER(u.display_name) LIKE ? ESCAPE '\' OR LOWER(u.email) LIKE ? ESCAPE '\')`)
			args = append(args, like, like, like)
		} else {
			where = append(where, `(LOWER(u.username) LIKE ? ESCAPE '\' OR LOWER(u.display_name) LIKE ? ESCAPE '\')`)
			args = append(args, like, like)
		}
	}
	if f.DepartmentID != "" {
		where = append(where, "u.department_id = ?")
		args = append(args, f.DepartmentID)
	}
	if f.Role != "" {
		where = append(where, "EXISTS (SELECT 1 FROM user_roles ur WHERE ur.user_id = u.id AND ur.role = ?)")
		args = append(args, f.Role)
	}
	if f.Active != nil {
		where = append(where, "u.active = ?")
		args = append(args, *f.Active)
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM users u WHERE "+cond, args...).Scan(&total); err != nil {
		return nil, nil, 0, err
	}
	// Newest first; keyset on (created_at, id) so pages never skip or repeat.
	if lp.Cursor != nil {
		ms, err := parseMs(lp.Cursor.Key)
		if err != nil {
			return nil, nil, 0, httpx.BadParam("cursor")
		}
		cond += " AND (u.created_at < ? OR (u.created_at = ? AND u.id < ?))"
		args = append(args, ms, ms, lp.Cursor.ID)
	}
	args = append(args, lp.Limit+1)
	rows, err := q.Query(ctx, "SELECT "+userCols+userFrom+" WHERE "+cond+" ORDER BY u.created_at DESC, u.id DESC LIMIT ?", args...)
	if err != nil {
		return nil, nil, 0, err
	}
	var out []*userRow
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			rows.Close()
			return nil, nil, 0, err
		}
		out = append(out, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, 0, err
	}
	var next *httpx.Cursor
	if len(out) > lp.Limit {
		out = out[:lp.Limit]
		last := out[len(out)-1]
		next = &httpx.Cursor{Key: formatMs(last.CreatedAt), ID: last.ID}
	}
	for _, u := range out {
		if u.Roles, err = userRoles(ctx, q, u.ID); err != nil {
			return nil, nil, 0, err
		}
	}
	return out, next, total, nil
}

func getDepartment(ctx context.Context, q db.Querier, id string) (*Department, error) {
	return scanDepartment(q.QueryRow(ctx, "SELECT id, name, parent_id, manager_id, sort_order, version, created_at, updated_at FROM departments WHERE id = ?", id))
}

func scanDepartment(sc interface{ Scan(...any) error }) (*Department, error) {
	var d Department
	var parent, manager sql.NullString
	var created, updated db.Time
	if err := sc.Scan(&d.ID, &d.Name, &parent, &manager, &d.SortOrder, &d.Version, &created, &updated); err != nil {
		return nil, err
	}
	if parent.Valid {
		d.ParentID = &parent.String
	}
	if manager.Valid {
		d.ManagerID = &manager.String
	}
	d.CreatedAt, d.UpdatedAt = time.Time(created), time.Time(updated)
	return &d, nil
}

func listDepartments(ctx context.Context, q db.Querier) ([]*Department, error) {
	rows, err := q.Query(ctx, "SELECT id, name, parent_id, manager_id, sort_order, version, created_at, updated_at FROM departments ORDER BY sort_order, name, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Department
	for rows.Next() {
		d, err := scanDepartment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// subtree returns root and every department below it.
func subtree(all []*Department, root string) []string {
	children := map[string][]string{}
	for _, d := range all {
		if d.ParentID != nil {
			children[*d.ParentID] = append(children[*d.ParentID], d.ID)
		}
	}
	out := []string{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

func getRole(ctx context.Context, q db.Querier, name string) (*Role, error) {
	var r Role
	var perms string
	var updated db.Time
	err := q.QueryRow(ctx, "SELECT name, data_scope, permissions, builtin, version, updated_at FROM roles WHERE name = ?", name).
		Scan(&r.Name, &r.DataScope, &perms, &r.Builtin, &r.Version, &updated)
	if err != nil {
		return nil, err
	}
	r.UpdatedAt = time.Time(updated)
	if err := json.Unmarshal([]byte(perms), &r.Permissions); err != nil {
		return nil, err
	}
	return &r, nil
}

func listRoles(ctx context.Context, q db.Querier) ([]*Role, error) {
	rows, err := q.Query(ctx, "SELECT name FROM roles")
	if err != nil {
		return nil, err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	order := map[string]int{}
	for i, r := range authz.BuiltinRoles() {
		order[r.Name] = i
	}
	var out []*Role
	for _, n := range names {
		r, err := getRole(ctx, q, n)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	sortRoles(out, order)
	return out, nil
}

// seedRoles inserts missing built-in roles and grants built-in roles the
// default permissions that arrived with an upgrade. Each (role, permission)
// default is applied once and remembered, so an administrator who later
// removes it is not overruled at the next start.
func seedRoles(ctx context.Context, tx *db.Tx) error {
	var appliedJSON string
	err := tx.QueryRow(ctx, "SELECT value FROM settings WHERE key = 'roles.defaults_applied'").Scan(&appliedJSON)
	if err != nil && !isNotFound(err) {
		return err
	}
	applied := map[string]bool{}
	if appliedJSON != "" {
		var list []string
		if err := json.Unmarshal([]byte(appliedJSON), &list); err != nil {
			return err
		}
		for _, k := range list {
			applied[k] = true
		}
	}
	for _, def := range authz.BuiltinRoles() {
		perms, _ := json.Marshal(def.Permissions)
		if _, err := tx.Exec(ctx, `INSERT INTO roles (name, data_scope, permissions, builtin, version, updated_at) VALUES (?, ?, ?, ?, 1, ?)
			ON CONFLICT (name) DO NOTHING`, def.Name, string(def.Scope), string(perms), true, db.Ms(tx.Now())); err != nil {
			return err
		}
		r, err := getRole(ctx, tx, def.Name)
		if err != nil {
			return err
		}
		changed := false
		for _, p := range def.Permissions {
			key := def.Name + ":" + p
			if applied[key] {
				continue
			}
			applied[key] = true
			if !slices.Contains(r.Permissions, p) {
				r.Permissions = append(r.Permissions, p)
				changed = true
			}
		}
		if changed {
			slices.Sort(r.Permissions)
			perms, _ := json.Marshal(r.Permissions)
			if _, err := tx.Exec(ctx, "UPDATE roles SET permissions = ?, version = version + 1, updated_at = ? WHERE name = ?", string(perms), db.Ms(tx.Now()), def.Name); err != nil {
				return err
			}
		}
	}
	list := make([]string, 0, len(applied))
	for k := range applied {
		list = append(list, k)
	}
	slices.Sort(list)
	raw, _ := json.Marshal(list)
	_, err = tx.Exec(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('roles.defaults_applied', ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, string(raw), db.Ms(tx.Now()))
	return err
}

func isNotFound(err error) bool { return errors.Is(err, sql.ErrNoRows) }
