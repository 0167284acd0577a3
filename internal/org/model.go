// Package org is Prelude's organisation and identity capability: departments
// as a tree, users and their roles, role permissions and data scopes, sign-in
// (passwords, TOTP, sessions, API tokens), first-run setup. Every other
// capability relies on the principal it resolves for each request.
package org

import (
	"regexp"
	"time"

	"prelude/internal/platform/authz"
)

// User is a staff member as the API shows it. Email and Mobile are masked
// unless the caller is the user or has revealed them.
type User struct {
	ID             string     `json:"id"`
	Username       string     `json:"username"`
	DisplayName    string     `json:"display_name"`
	Email          string     `json:"email"`
	Mobile         string     `json:"mobile"`
	DepartmentID   *string    `json:"department_id"`
	DepartmentName string     `json:"department_name"`
	Roles          []string   `json:"roles"`
	Active         bool       `json:"active"`
	Locale         string     `json:"locale"`
	TOTPEnabled    bool       `json:"totp_enabled"`
	LastLoginAt    *time.Time `json:"last_login_at"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	Version        int64      `json:"version"`
	Masked         bool       `json:"masked"`
}

// Me is the signed-in user with their effective permissions.
type Me struct {
	User
	Permissions []string    `json:"permissions"`
	DataScope   authz.Scope `json:"data_scope"`
}

// Department is a node of the organisation tree.
type Department struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	ParentID  *string   `json:"parent_id"`
	ManagerID *string   `json:"manager_id"`
	SortOrder int       `json:"sort_order"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Role is a role with its permissions and data scope.
type Role struct {
	Name        string      `json:"name"`
	DataScope   authz.Scope `json:"data_scope"`
	Permissions []string    `json:"permissions"`
	Builtin     bool        `json:"builtin"`
	Version     int64       `json:"version"`
	UpdatedAt   time.Time   `json:"updated_at"`
}

// Token is an API token as listed (never the secret).
type Token struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// NewToken is returned once, at creation: the only time the secret is shown.
type NewToken struct {
	Token
	Secret string `json:"token"`
}

// UserInput creates a user.
type UserInput struct {
	Username     string   `json:"username"`
	DisplayName  string   `json:"display_name"`
	Email        string   `json:"email"`
	Mobile       string   `json:"mobile"`
	DepartmentID *string  `json:"department_id"`
	Roles        []string `json:"roles"`
	Password     string   `json:"password"`
	Locale       string   `json:"locale"`
}

// UserPatch updates the given fields of a user.
type UserPatch struct {
	DisplayName  *string   `json:"display_name"`
	Email        *string   `json:"email"`
	Mobile       *string   `json:"mobile"`
	DepartmentID *string   `json:"department_id"`
	Roles        *[]string `json:"roles"`
	Locale       *string   `json:"locale"`
}

// MePatch is what users may change about themselves.
type MePatch struct {
	DisplayName *string `json:"display_name"`
	Email       *string `json:"email"`
	Mobile      *string `json:"mobile"`
	Locale      *string `json:"locale"`
}

// DepartmentInput creates a department.
type DepartmentInput struct {
	Name      string  `json:"name"`
	ParentID  *string `json:"parent_id"`
	ManagerID *string `json:"manager_id"`
	SortOrder int     `json:"sort_order"`
}

// DepartmentPatch updates a department. A parent_id of "" moves it to the root.
type DepartmentPatch struct {
	Name      *string `json:"name"`
	ParentID  *string `json:"parent_id"`
	ManagerID *string `json:"manager_id"`
	SortOrder *int    `json:"sort_order"`
}

// RolePatch changes a role's scope or permissions.
type RolePatch struct {
	DataScope   *authz.Scope `json:"data_scope"`
	Permissions *[]string    `json:"permissions"`
}

// LoginInput signs in.
type LoginInput struct {
	Username string `json:"username"`
	Password string `json:"password"`
	TOTPCode string `json:"totp_code"`
}

// SetupInput creates the first administrator.
type SetupInput struct {
	Token       string `json:"token"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Email       string `json:"email"`
	Password    string `json:"password"`
}

// PasswordChange changes one's own password.
type PasswordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// TokenInput creates an API token.
type TokenInput struct {
	Name      string     `json:"name"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// TOTPSetup is the secret to enrol in an authenticator app.
type TOTPSetup struct {
	Secret     string `json:"secret"`
	OTPAuthURL string `json:"otpauth_url"`
	QRDataURL  string `json:"qr_data_url"`
}

// Revealed holds unmasked contact details.
type Revealed struct {
	Email  string `json:"email"`
	Mobile string `json:"mobile"`
}

// DirectoryEntry is the minimum everyone may see of a colleague.
type DirectoryEntry struct {
	ID           string  `json:"id"`
	DisplayName  string  `json:"display_name"`
	DepartmentID *string `json:"department_id"`
}

// UserFilter selects users in a list.
type UserFilter struct {
	Q            string
	DepartmentID string
	Role         string
	Active       *bool
}

var usernameRe = regexp.MustCompile(`^[A-Za-z0-9._-]{3,32}$`)

var locales = []string{"zh-CN", "en"}
