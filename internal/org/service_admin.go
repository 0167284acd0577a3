package org

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/auth"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
	"prelude/internal/platform/valid"
)

// ---- users ----

// ListUsers lists users inside the caller's data scope.
func (s *Service) ListUsers(ctx context.Context, f UserFilter, lp httpx.ListParams) ([]User, *httpx.Cursor, int, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.UsersRead); err != nil {
		return nil, nil, 0, err
	}
	rows, next, total, err := listUsers(ctx, s.db, p, f, lp)
	if err != nil {
		return nil, nil, 0, err
	}
	out := make([]User, len(rows))
	for i, u := range rows {
		out[i] = toAPI(p, u)
	}
	return out, next, total, nil
}

// visibleUser loads a user if the caller may see it; otherwise 404, so the
// existence of users outside one's scope is never revealed.
func (s *Service) visibleUser(ctx context.Context, q db.Querier, p *authz.Principal, id string) (*userRow, error) {
	u, err := getUser(ctx, q, "u.id = ?", id)
	if isNotFound(err) {
		return nil, errs.NotFoundf("entity.user")
	}
	if err != nil {
		return nil, err
	}
	if !p.Sees(authz.Record{OwnerID: u.ID, DepartmentID: u.DepartmentID}) {
		return nil, errs.NotFoundf("entity.user")
	}
	return u, nil
}

// GetUser returns one user inside the caller's scope.
func (s *Service) GetUser(ctx context.Context, id string) (*User, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.UsersRead); err != nil {
		return nil, err
	}
	u, err := s.visibleUser(ctx, s.db, p, id)
	if err != nil {
		return nil, err
	}
	out := toAPI(p, u)
	return &out, nil
}

// checkGrant enforces that nobody hands out more than they hold: every role
// granted must carry only permissions the caller has and a data scope no
// wider than the caller's.
func (s *Service) checkGrant(ctx context.Context, q db.Querier, p *authz.Principal, roles []string, v *errs.Validation) []string {
	seen := map[string]bool{}
	var out []string
	for _, name := range roles {
		if seen[name] {
			continue
		}
		seen[name] = true
		r, err := getRole(ctx, q, name)
		if err != nil {
			v.Add("roles", "field.unknown_role", name)
			continue
		}
		if r.DataScope.Rank() > p.Scope.Rank() || slices.ContainsFunc(r.Permissions, func(k string) bool { return !p.Can(k) }) {
			v.Add("roles", "field.grant_denied", name)
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// checkDepartment validates a department choice against existence and, for
// department-scoped callers, their own subtree.
func (s *Service) checkDepartment(ctx context.Context, q db.Querier, p *authz.Principal, id *string, v *errs.Validation) {
	if id == nil || *id == "" {
		if p.Scope != authz.ScopeAll {
			v.Add("department_id", "field.required")
		}
		return
	}
	if _, err := getDepartment(ctx, q, *id); err != nil {
		v.Add("department_id", "field.not_found")
		return
	}
	if p.Scope != authz.ScopeAll && !slices.Contains(p.Departments, *id) {
		v.Add("department_id", "field.not_found")
	}
}

// CreateUser creates a staff account.
func (s *Service) CreateUser(ctx context.Context, in UserInput) (*User, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.UsersManage); err != nil {
		return nil, err
	}
	var v errs.Validation
	in.Username = strings.TrimSpace(in.Username)
	if !usernameRe.MatchString(in.Username) {
		v.Add("username", "field.username")
	}
	in.DisplayName = valid.Text(&v, "display_name", in.DisplayName, true, 64)
	in.Email = valid.Email(&v, "email", in.Email, false)
	in.Mobile = valid.Mobile(&v, "mobile", in.Mobile, false)
	if in.Locale == "" {
		in.Locale = "zh-CN"
	} else if !slices.Contains(locales, in.Locale) {
		v.Add("locale", "field.one_of", strings.Join(locales, ", "))
	}
	if auth.WeakPassword(in.Password, in.Username) {
		v.Add("password", "field.weak_password")
	}
	if len(in.Roles) == 0 {
		v.Add("roles", "field.required")
	}
	hash := ""
	var id string
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		in.Roles = s.checkGrant(ctx, tx, p, in.Roles, &v)
		s.checkDepartment(ctx, tx, p, in.DepartmentID, &v)
		if in.DepartmentID != nil && *in.DepartmentID == "" {
			in.DepartmentID = nil
		}
		if !v.Has("username") {
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM users WHERE username_key = ?", strings.ToLower(in.Username)).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				v.Add("username", "field.taken")
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		var err error
		if hash, err = auth.HashPassword(in.Password); err != nil {
			return err
		}
		id = db.NewID()
		now := db.Ms(tx.Now())
		_, err = tx.Exec(ctx, `INSERT INTO users (id, username, username_key, display_name, email, mobile, department_id, password_hash, locale, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, in.Username, strings.ToLower(in.Username), in.DisplayName, in.Email, in.Mobile, in.DepartmentID, hash, in.Locale, now, now)
		if errors.Is(err, db.ErrUnique) {
			v.Add("username", "field.taken")
			return v.Err()
		}
		if err != nil {
			return err
		}
		if err := setUserRoles(ctx, tx, id, in.Roles); err != nil {
			return err
		}
		u, err := getUser(ctx, tx, "u.id = ?", id)
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "user.create", EntityType: "user", EntityID: id, Changes: audit.Diff(nil, u.User)})
	})
	if err != nil {
		return nil, err
	}
	return s.GetUser(ctx, id)
}

// UpdateUser changes a user inside the caller's scope.
func (s *Service) UpdateUser(ctx context.Context, id string, version int64, in UserPatch) (*User, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.UsersManage); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		before, err := s.visibleUser(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, before.Version); err != nil {
			return err
		}
		var v errs.Validation
		after := before.User
		var set []string
		var args []any
		if in.DisplayName != nil {
			after.DisplayName = valid.Text(&v, "display_name", *in.DisplayName, true, 64)
			set, args = append(set, "display_name = ?"), append(args, after.DisplayName)
		}
		if in.Email != nil {
			after.Email = valid.Email(&v, "email", *in.Email, false)
			set, args = append(set, "email = ?"), append(args, after.Email)
		}
		if in.Mobile != nil {
			after.Mobile = valid.Mobile(&v, "mobile", *in.Mobile, false)
			set, args = append(set, "mobile = ?"), append(args, after.Mobile)
		}
		if in.Locale != nil {
			if !slices.Contains(locales, *in.Locale) {
				v.Add("locale", "field.one_of", strings.Join(locales, ", "))
			}
			after.Locale = *in.Locale
			set, args = append(set, "locale = ?"), append(args, after.Locale)
		}
		if in.DepartmentID != nil {
			s.checkDepartment(ctx, tx, p, in.DepartmentID, &v)
			var dept any
			if *in.DepartmentID != "" {
				dept = *in.DepartmentID
				after.DepartmentID = in.DepartmentID
			} else {
				after.DepartmentID = nil
			}
			set, args = append(set, "department_id = ?"), append(args, dept)
		}
		rolesChanged := false
		if in.Roles != nil {
			if len(*in.Roles) == 0 {
				v.Add("roles", "field.required")
			}
			newRoles := s.checkGrant(ctx, tx, p, *in.Roles, &v)
			// Removing a role the caller could not grant is also an escalation
			// of sorts (a department head stripping an administrator).
			s.checkGrant(ctx, tx, p, before.Roles, &v)
			rolesChanged = !slices.Equal(newRoles, before.Roles)
			after.Roles = newRoles
		}
		if err := v.Err(); err != nil {
			return err
		}
		if rolesChanged && slices.Contains(before.Roles, authz.RoleAdmin) && !slices.Contains(after.Roles, authz.RoleAdmin) {
			if err := s.ensureOtherAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		if len(set) == 0 && !rolesChanged {
			return nil
		}
		if err := updateVersioned(ctx, tx, "users", id, before.Version, set, args); err != nil {
			return err
		}
		if rolesChanged {
			if err := setUserRoles(ctx, tx, id, after.Roles); err != nil {
				return err
			}
		}
		action := "user.update"
		if rolesChanged {
			action = "user.roles_change"
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: action, EntityType: "user", EntityID: id, Changes: audit.Diff(before.User, after)})
	})
	if err != nil {
		return nil, err
	}
	return s.GetUser(ctx, id)
}

func (s *Service) ensureOtherAdmin(ctx context.Context, tx *db.Tx, exceptID string) error {
	var n int
	err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM users u JOIN user_roles ur ON ur.user_id = u.id
		WHERE ur.role = ? AND u.active = ? AND u.id <> ?`, authz.RoleAdmin, true, exceptID).Scan(&n)
	if err != nil {
		return err
	}
	if n == 0 {
		return errs.New(errs.Conflict, "last_admin", "org.last_admin")
	}
	return nil
}

// SetActive disables or re-enables a user. Disabling ends their sessions.
func (s *Service) SetActive(ctx context.Context, id string, active bool) (*User, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.UsersManage); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		u, err := s.visibleUser(ctx, tx, p, id)
		if err != nil {
			return err
		}
		var v errs.Validation
		s.checkGrant(ctx, tx, p, u.Roles, &v)
		if v.Err() != nil {
			return errs.Forbid()
		}
		if u.Active == active {
			if active {
				return errs.New(errs.Conflict, "already_active", "org.already_active")
			}
			return errs.New(errs.Conflict, "already_disabled", "org.already_disabled")
		}
		if !active {
			if id == p.UserID {
				return errs.New(errs.Conflict, "cannot_disable_self", "org.self_disable")
			}
			if slices.Contains(u.Roles, authz.RoleAdmin) {
				if err := s.ensureOtherAdmin(ctx, tx, id); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = ?", id); err != nil {
				return err
			}
		}
		if err := updateVersioned(ctx, tx, "users", id, u.Version, []string{"active = ?", "failed_logins = 0", "locked_until = NULL"}, []any{active}); err != nil {
			return err
		}
		action := "user.disable"
		if active {
			action = "user.enable"
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: action, EntityType: "user", EntityID: id, Changes: map[string][2]any{"active": {u.Active, active}}})
	})
	if err != nil {
		return nil, err
	}
	return s.GetUser(ctx, id)
}

// ResetPassword sets a new password for a user and ends their sessions.
func (s *Service) ResetPassword(ctx context.Context, id, password string) error {
	p := authz.From(ctx)
	if err := p.Require(authz.UsersManage); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		u, err := s.visibleUser(ctx, tx, p, id)
		if err != nil {
			return err
		}
		var v errs.Validation
		s.checkGrant(ctx, tx, p, u.Roles, &v)
		if v.Err() != nil {
			return errs.Forbid()
		}
		if auth.WeakPassword(password, u.Username) {
			v.Add("new_password", "field.weak_password")
			return v.Err()
		}
		hash, err := auth.HashPassword(password)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL, version = version + 1, updated_at = ? WHERE id = ?", hash, db.Ms(tx.Now()), id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = ?", id); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "user.password_reset", EntityType: "user", EntityID: id})
	})
}

// ResetTOTP turns off another user's two-factor authentication (a lost
// phone) so they can enrol again; their sessions end.
func (s *Service) ResetTOTP(ctx context.Context, id string) (*User, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.UsersManage); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		u, err := s.visibleUser(ctx, tx, p, id)
		if err != nil {
			return err
		}
		var v errs.Validation
		s.checkGrant(ctx, tx, p, u.Roles, &v)
		if v.Err() != nil {
			return errs.Forbid()
		}
		if !u.TOTPEnabled {
			return errs.New(errs.Conflict, "totp_not_enabled", "auth.totp_off")
		}
		if err := updateVersioned(ctx, tx, "users", id, u.Version, []string{"totp_enabled = ?", "totp_secret = ''"}, []any{false}); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = ?", id); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "user.totp_reset", EntityType: "user", EntityID: id, Changes: map[string][2]any{"totp_enabled": {true, false}}})
	})
	if err != nil {
		return nil, err
	}
	return s.GetUser(ctx, id)
}

// Reveal returns a user's unmasked contact details and audits the reveal.
func (s *Service) Reveal(ctx context.Context, id string) (*Revealed, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.UsersReveal); err != nil {
		return nil, err
	}
	var out Revealed
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		u, err := s.visibleUser(ctx, tx, p, id)
		if err != nil {
			return err
		}
		out = Revealed{Email: u.Email, Mobile: u.Mobile}
		return s.audit.Record(ctx, tx, audit.Event{Action: "user.reveal", EntityType: "user", EntityID: id, Detail: map[string]any{"fields": []string{"email", "mobile"}}})
	})
	return &out, err
}

// Directory lists active colleagues (names only) for pickers; everyone
// signed in may see it.
func (s *Service) Directory(ctx context.Context) ([]DirectoryEntry, error) {
	rows, err := s.db.Query(ctx, "SELECT id, display_name, COALESCE(department_id, '') FROM users WHERE active = ? ORDER BY display_name, id", true)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []DirectoryEntry{}
	for rows.Next() {
		var e DirectoryEntry
		var dept string
		if err := rows.Scan(&e.ID, &e.DisplayName, &dept); err != nil {
			return nil, err
		}
		if dept != "" {
			e.DepartmentID = &dept
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ---- departments ----

// ListDepartments returns the whole tree (flattened); the organisation
// structure is not confidential.
func (s *Service) ListDepartments(ctx context.Context) ([]*Department, error) {
	return listDepartments(ctx, s.db)
}

// CreateDepartment adds a department.
func (s *Service) CreateDepartment(ctx context.Context, in DepartmentInput) (*Department, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.DepartmentsManage); err != nil {
		return nil, err
	}
	var v errs.Validation
	in.Name = valid.Text(&v, "name", in.Name, true, 64)
	var d *Department
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if in.ParentID != nil && *in.ParentID == "" {
			in.ParentID = nil
		}
		if in.ParentID != nil {
			if _, err := getDepartment(ctx, tx, *in.ParentID); err != nil {
				v.Add("parent_id", "field.not_found")
			}
		}
		s.checkManager(ctx, tx, in.ManagerID, &v)
		checkSortOrder(&v, in.SortOrder)
		if err := v.Err(); err != nil {
			return err
		}
		id := db.NewID()
		now := db.Ms(tx.Now())
		_, err := tx.Exec(ctx, "INSERT INTO departments (id, name, parent_id, manager_id, sort_order, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			id, in.Name, in.ParentID, nilIfEmpty(in.ManagerID), in.SortOrder, now, now)
		if errors.Is(err, db.ErrUnique) {
			v.Add("name", "field.taken")
			return v.Err()
		}
		if err != nil {
			return err
		}
		if d, err = getDepartment(ctx, tx, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "department.create", EntityType: "department", EntityID: id, Changes: audit.Diff(nil, d)})
	})
	return d, err
}

func (s *Service) checkManager(ctx context.Context, q db.Querier, id *string, v *errs.Validation) {
	if id == nil || *id == "" {
		return
	}
	var n int
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM users WHERE id = ?", *id).Scan(&n); err != nil || n == 0 {
		v.Add("manager_id", "field.not_found")
	}
}

// checkSortOrder keeps display positions in a sane range (the column is a
// 32-bit integer on PostgreSQL).
func checkSortOrder(v *errs.Validation, n int) {
	if n < -1_000_000 || n > 1_000_000 {
		v.Add("sort_order", "field.invalid")
	}
}

func nilIfEmpty(s *string) any {
	if s == nil || *s == "" {
		return nil
	}
	return *s
}

// UpdateDepartment renames, moves or re-assigns a department's head.
func (s *Service) UpdateDepartment(ctx context.Context, id string, version int64, in DepartmentPatch) (*Department, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.DepartmentsManage); err != nil {
		return nil, err
	}
	var d *Department
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		before, err := getDepartment(ctx, tx, id)
		if isNotFound(err) {
			return errs.NotFoundf("entity.department")
		}
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, before.Version); err != nil {
			return err
		}
		var v errs.Validation
		var set []string
		var args []any
		if in.Name != nil {
			name := valid.Text(&v, "name", *in.Name, true, 64)
			set, args = append(set, "name = ?"), append(args, name)
		}
		if in.ParentID != nil {
			if *in.ParentID == "" {
				set, args = append(set, "parent_id = ?"), append(args, nil)
			} else {
				all, err := listDepartments(ctx, tx)
				if err != nil {
					return err
				}
				if _, err := getDepartment(ctx, tx, *in.ParentID); err != nil {
					v.Add("parent_id", "field.not_found")
				} else if slices.Contains(subtree(all, id), *in.ParentID) {
					v.Add("parent_id", "field.cycle")
				}
				set, args = append(set, "parent_id = ?"), append(args, *in.ParentID)
			}
		}
		if in.ManagerID != nil {
			s.checkManager(ctx, tx, in.ManagerID, &v)
			set, args = append(set, "manager_id = ?"), append(args, nilIfEmpty(in.ManagerID))
		}
		if in.SortOrder != nil {
			checkSortOrder(&v, *in.SortOrder)
			set, args = append(set, "sort_order = ?"), append(args, *in.SortOrder)
		}
		if err := v.Err(); err != nil {
			return err
		}
		if len(set) > 0 {
			err := updateVersioned(ctx, tx, "departments", id, before.Version, set, args)
			if errors.Is(err, db.ErrUnique) {
				v.Add("name", "field.taken")
				return v.Err()
			}
			if err != nil {
				return err
			}
		}
		if d, err = getDepartment(ctx, tx, id); err != nil {
			return err
		}
		if len(set) == 0 {
			return nil
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "department.update", EntityType: "department", EntityID: id, Changes: audit.Diff(before, d)})
	})
	return d, err
}

// DeleteDepartment removes an empty department.
func (s *Service) DeleteDepartment(ctx context.Context, id string, version int64) error {
	p := authz.From(ctx)
	if err := p.Require(authz.DepartmentsManage); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		before, err := getDepartment(ctx, tx, id)
		if isNotFound(err) {
			return errs.NotFoundf("entity.department")
		}
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, before.Version); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT (SELECT COUNT(*) FROM users WHERE department_id = ?) + (SELECT COUNT(*) FROM departments WHERE parent_id = ?)", id, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errs.New(errs.Conflict, "department_not_empty", "org.dept_not_empty")
		}
		if _, err := tx.Exec(ctx, "DELETE FROM departments WHERE id = ?", id); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "department.delete", EntityType: "department", EntityID: id, Changes: audit.Diff(before, nil)})
	})
}

// ---- roles ----

// ListRoles lists roles with their permissions.
func (s *Service) ListRoles(ctx context.Context) ([]*Role, error) {
	p := authz.From(ctx)
	if !p.Can(authz.RolesManage) && !p.Can(authz.UsersRead) {
		return nil, errs.Forbid()
	}
	return listRoles(ctx, s.db)
}

// UpdateRole changes a role's permissions or scope (audited with a diff).
func (s *Service) UpdateRole(ctx context.Context, name string, version int64, in RolePatch) (*Role, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.RolesManage); err != nil {
		return nil, err
	}
	var r *Role
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		before, err := getRole(ctx, tx, name)
		if isNotFound(err) {
			return errs.NotFoundf("entity.role")
		}
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, before.Version); err != nil {
			return err
		}
		if name == authz.RoleAdmin {
			return errs.New(errs.Conflict, "admin_role_fixed", "org.role_admin_fixed")
		}
		var v errs.Validation
		after := *before
		if in.DataScope != nil {
			if !in.DataScope.Valid() {
				v.Add("data_scope", "field.one_of", "own, department, all")
			}
			after.DataScope = *in.DataScope
		}
		if in.Permissions != nil {
			perms := []string{}
			for _, k := range *in.Permissions {
				if !authz.Known(k) {
					v.Add("permissions", "field.unknown_perm", k)
				} else if !slices.Contains(perms, k) {
					perms = append(perms, k)
				}
			}
			slices.Sort(perms)
			after.Permissions = perms
		}
		if err := v.Err(); err != nil {
			return err
		}
		permsJSON, _ := json.Marshal(after.Permissions)
		res, err := tx.Exec(ctx, "UPDATE roles SET data_scope = ?, permissions = ?, version = version + 1, updated_at = ? WHERE name = ? AND version = ?",
			string(after.DataScope), string(permsJSON), db.Ms(tx.Now()), name, before.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		if r, err = getRole(ctx, tx, name); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "role.update", EntityType: "role", EntityID: name, Changes: audit.Diff(before, r)})
	})
	return r, err
}

// ---- API tokens ----

// ListTokens lists a user's active tokens: the caller's own, or (with
// tokens.manage) another user's inside their scope.
func (s *Service) ListTokens(ctx context.Context, userID string) ([]Token, error) {
	p := authz.From(ctx)
	if err := s.tokenOwnerAllowed(ctx, p, userID); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, "SELECT id, name, prefix, created_at, expires_at, last_used_at FROM api_tokens WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at DESC, id DESC", userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		var t Token
		var created, expires, used db.Time
		if err := rows.Scan(&t.ID, &t.Name, &t.Prefix, &created, &expires, &used); err != nil {
			return nil, err
		}
		t.CreatedAt = time.Time(created)
		t.ExpiresAt = timePtr(expires)
		t.LastUsedAt = timePtr(used)
		out = append(out, t)
	}
	return out, rows.Err()
}

func timePtr(t db.Time) *time.Time {
	if time.Time(t).IsZero() {
		return nil
	}
	tt := time.Time(t)
	return &tt
}

func (s *Service) tokenOwnerAllowed(ctx context.Context, p *authz.Principal, userID string) error {
	if p.UserID == userID {
		return nil
	}
	if err := p.Require(authz.TokensManage); err != nil {
		return err
	}
	_, err := s.visibleUser(ctx, s.db, p, userID)
	return err
}

// CreateToken creates a personal API token for the caller; the secret is
// returned once and stored only as a hash.
func (s *Service) CreateToken(ctx context.Context, in TokenInput) (*NewToken, error) {
	p := authz.From(ctx)
	return s.createTokenFor(ctx, p.UserID, in)
}

func (s *Service) createTokenFor(ctx context.Context, userID string, in TokenInput) (*NewToken, error) {
	var v errs.Validation
	in.Name = valid.Text(&v, "name", in.Name, true, 64)
	if in.ExpiresAt != nil && !in.ExpiresAt.After(s.db.Now()) {
		v.Add("expires_at", "field.future")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	secret := auth.NewToken(tokenPrefix)
	t := NewToken{Secret: secret, Token: Token{ID: db.NewID(), Name: in.Name, Prefix: secret[:len(tokenPrefix)+6], ExpiresAt: in.ExpiresAt}}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		t.CreatedAt = tx.Now()
		var exp any
		if in.ExpiresAt != nil {
			exp = db.Ms(*in.ExpiresAt)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			t.ID, userID, t.Name, t.Prefix, auth.HashToken(secret), db.Ms(t.CreatedAt), exp); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "token.create", EntityType: "token", EntityID: t.ID,
			Detail: map[string]any{"user_id": userID, "name": t.Name, "prefix": t.Prefix, "expires_at": in.ExpiresAt}})
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// RevokeToken revokes a token of userID (the caller's own, or with tokens.manage).
func (s *Service) RevokeToken(ctx context.Context, userID, tokenID string) error {
	p := authz.From(ctx)
	if err := s.tokenOwnerAllowed(ctx, p, userID); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		res, err := tx.Exec(ctx, "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL", db.Ms(tx.Now()), tokenID, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("entity.token")
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "token.revoke", EntityType: "token", EntityID: tokenID, Detail: map[string]any{"user_id": userID}})
	})
}

// CreateTokenFor creates a token for another user (command line, or an
// administrator with tokens.manage).
func (s *Service) CreateTokenFor(ctx context.Context, userID string, in TokenInput) (*NewToken, error) {
	p := authz.From(ctx)
	if err := s.tokenOwnerAllowed(ctx, p, userID); err != nil {
		return nil, err
	}
	return s.createTokenFor(ctx, userID, in)
}
