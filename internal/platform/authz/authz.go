// Package authz defines Prelude's permissions, built-in roles and data scopes,
// and turns a signed-in principal into checks and SQL filters. Services call
// it for every read, list, search, export and write; handlers never decide.
package authz

import (
	"context"
	"slices"
	"strings"

	"prelude/internal/platform/errs"
	"prelude/internal/platform/i18n"
)

// Scope is how much data a role sees.
type Scope string

const (
	ScopeOwn        Scope = "own"        // records they own or that are shared with them
	ScopeDepartment Scope = "department" // plus their department and its sub-departments
	ScopeAll        Scope = "all"
)

// Rank orders scopes from narrow to wide.
func (s Scope) Rank() int {
	switch s {
	case ScopeAll:
		return 3
	case ScopeDepartment:
		return 2
	case ScopeOwn:
		return 1
	}
	return 0
}

// Valid reports whether s is a known scope.
func (s Scope) Valid() bool { return s.Rank() > 0 }

// Permission keys. Capabilities add theirs here as they arrive.
const (
	UsersRead         = "users.read"
	UsersManage       = "users.manage"
	UsersReveal       = "users.reveal"
	DepartmentsManage = "departments.manage"
	RolesManage       = "roles.manage"
	AuditRead         = "audit.read"
	JobsManage        = "jobs.manage"
	TokensManage      = "tokens.manage"

	CustomersRead     = "customers.read"
	CustomersCreate   = "customers.create"
	CustomersUpdate   = "customers.update"
	CustomersDelete   = "customers.delete"
	CustomersReveal   = "customers.reveal"
	CustomersTransfer = "customers.transfer"
	CustomersMerge    = "customers.merge"
	CustomersImport   = "customers.import"
	CustomersExport   = "customers.export"

	// Inquiries (咨询): read in scope, create, reply and change status,
	// assign and transfer, and administer canned answers and SLA policies.
	InquiriesRead   = "inquiries.read"
	InquiriesCreate = "inquiries.create"
	InquiriesUpdate = "inquiries.update"
	InquiriesAssign = "inquiries.assign"
	CannedManage    = "canned.manage"
	SLAManage       = "sla.manage"
)

// Opportunity pipeline (商机, regulations 2, 7, 8, 9).
const (
	OpportunitiesRead   = "opportunities.read"
	OpportunitiesCreate = "opportunities.create"
	OpportunitiesUpdate = "opportunities.update"
	OpportunitiesDelete = "opportunities.delete"
	PipelineManage      = "pipeline.manage"
	StageOverride       = "pipeline.stage_override"
	TechSupportAnswer   = "techsupport.answer"
	SolutionsApprove    = "solutions.approve"
	DemosApprove        = "demos.approve"
)

// Work calendar and communication standards: the administrator edits the
// holidays, business hours and rules; department heads may read the rules
// their staff are checked against (everyone signed in may read the calendar
// and check a reply).
const (
	SettingsCalendar = "settings.calendar"
	StandardsRead    = "standards.read"
	StandardsManage  = "standards.manage"
)

// Mailboxes connected to the inquiry inbox (IMAP/SMTP credentials): the
// administrator's alone.
const MailboxesManage = "mailboxes.manage"

// Web-chat sites (the websites allowed to embed the chat widget, their keys
// and greetings): the administrator's.
const ChatSitesManage = "chat_sites.manage"

// Quotes (报价, regulations 1 and 2 第九条): the catalog, its costs (seen
// only by those who set prices), quotes in scope, sending them to the
// customer, approving by authority, and configuring rules and letterhead.
const (
	ProductsManage  = "products.manage"
	ProductsCost    = "products.cost"
	QuotesRead      = "quotes.read"
	QuotesCreate    = "quotes.create"
	QuotesUpdate    = "quotes.update"
	QuotesSend      = "quotes.send"
	QuotesApprove   = "quotes.approve"
	QuotesConfigure = "quotes.configure"
)

// Contracts (合同, regulation 2 第十条, regulation 7): contracts in scope,
// signing (after the pre-signing checklist), recording receipts (回款),
// invoice information and requests, and the numbering pattern.
const (
	ContractsRead      = "contracts.read"
	ContractsCreate    = "contracts.create"
	ContractsUpdate    = "contracts.update"
	ContractsSign      = "contracts.sign"
	ContractsConfigure = "contracts.configure"
	PaymentsRecord     = "payments.record"
	InvoicesManage     = "invoices.manage"
)

// E-commerce orders (regulation 5): reading, importing and confirming
// orders is the shop's customer service; reviewing abnormal orders is the
// team leader's (第十四条); the abnormal-order rules are the administrator's.
const (
	OrdersRead      = "orders.read"
	OrdersImport    = "orders.import"
	OrdersConfirm   = "orders.confirm"
	OrdersReview    = "orders.review"
	OrdersReturns   = "orders.returns"
	OrdersConfigure = "orders.configure"
)

// PermissionInfo describes one permission for the role editor.
type PermissionInfo struct {
	Key  string `json:"key"`
	Area string `json:"area"`
}

// Catalogue lists every permission in display order.
var Catalogue = []PermissionInfo{
	{UsersRead, "users"}, {UsersManage, "users"}, {UsersReveal, "users"},
	{DepartmentsManage, "organisation"}, {RolesManage, "organisation"},
	{AuditRead, "security"}, {TokensManage, "security"},
	{JobsManage, "system"},
	{CustomersRead, "customers"}, {CustomersCreate, "customers"}, {CustomersUpdate, "customers"}, {CustomersDelete, "customers"},
	{CustomersReveal, "customers"}, {CustomersTransfer, "customers"}, {CustomersMerge, "customers"},
	{CustomersImport, "customers"}, {CustomersExport, "customers"},
	{OpportunitiesRead, "pipeline"}, {OpportunitiesCreate, "pipeline"}, {OpportunitiesUpdate, "pipeline"}, {OpportunitiesDelete, "pipeline"},
	{PipelineManage, "pipeline"}, {StageOverride, "pipeline"}, {TechSupportAnswer, "pipeline"}, {SolutionsApprove, "pipeline"}, {DemosApprove, "pipeline"},
	{InquiriesRead, "inquiries"}, {InquiriesCreate, "inquiries"}, {InquiriesUpdate, "inquiries"}, {InquiriesAssign, "inquiries"},
	{CannedManage, "inquiries"}, {SLAManage, "inquiries"},
	{SettingsCalendar, "system"}, {StandardsRead, "standards"}, {StandardsManage, "standards"},
	{MailboxesManage, "system"}, {ChatSitesManage, "inquiries"},
	{ProductsManage, "quotes"}, {ProductsCost, "quotes"}, {QuotesRead, "quotes"}, {QuotesCreate, "quotes"}, {QuotesUpdate, "quotes"},
	{QuotesSend, "quotes"}, {QuotesApprove, "quotes"}, {QuotesConfigure, "quotes"},
	{ContractsRead, "contracts"}, {ContractsCreate, "contracts"}, {ContractsUpdate, "contracts"}, {ContractsSign, "contracts"},
	{ContractsConfigure, "contracts"}, {PaymentsRecord, "contracts"}, {InvoicesManage, "contracts"},
	{OrdersRead, "orders"}, {OrdersImport, "orders"}, {OrdersConfirm, "orders"}, {OrdersReview, "orders"}, {OrdersReturns, "orders"},
	{OrdersConfigure, "orders"},
}

// Known reports whether key is a permission.
func Known(key string) bool {
	return slices.ContainsFunc(Catalogue, func(p PermissionInfo) bool { return p.Key == key })
}

// RoleDef is a built-in role's default.
type RoleDef struct {
	Name        string
	Scope       Scope
	Permissions []string
}

// Role names.
const (
	RoleAdmin      = "admin"
	RoleManager    = "manager"
	RolePresales   = "presales"
	RoleSales      = "sales"
	RoleService    = "service"
	RoleMarketing  = "marketing"
	RoleTech       = "tech"
	RoleAftersales = "aftersales"
)

// BuiltinRoles are seeded on first start; administrators may then change
// every role's permissions and scope except the administrator's own.
func BuiltinRoles() []RoleDef {
	all := make([]string, 0, len(Catalogue))
	for _, p := range Catalogue {
		all = append(all, p.Key)
	}
	staff := []string{UsersRead, CustomersRead, CustomersCreate, CustomersUpdate, CustomersReveal, CustomersTransfer, CustomersImport, CustomersExport}
	// Everyone who talks to customers answers inquiries; assigning others'
	// work and editing team-wide canned answers is the department head's.
	inquiries := []string{InquiriesRead, InquiriesCreate, InquiriesUpdate}
	// Presales and sales run their own deals; approvals, gate overrides and
	// the pipeline's configuration stay with department heads and admins.
	staff = append(staff, OpportunitiesRead, OpportunitiesCreate, OpportunitiesUpdate)
	// They quote within their authority; approving, costs and the catalog
	// belong to department heads (and whoever an approval rule names).
	staff = append(staff, QuotesRead, QuotesCreate, QuotesUpdate, QuotesSend)
	// They draft and follow their contracts and record receipts; signing
	// (after the checklist) is the department head's.
	staff = append(staff, ContractsRead, ContractsCreate, ContractsUpdate, PaymentsRecord, InvoicesManage)
	// The shop's customer service confirms orders and handles returns;
	// abnormal orders go to the team leader first (seed 5, 第十四条).
	shop := []string{OrdersRead, OrdersImport, OrdersConfirm, OrdersReturns}
	return []RoleDef{
		{RoleAdmin, ScopeAll, all},
		// Department heads supervise their department (seed 2, 第四章): they see
		// and manage its people and customers, and may reveal contact details.
		{RoleManager, ScopeDepartment, []string{UsersRead, UsersManage, UsersReveal,
			CustomersRead, CustomersCreate, CustomersUpdate, CustomersDelete, CustomersReveal, CustomersTransfer, CustomersMerge, CustomersImport, CustomersExport,
			OpportunitiesRead, OpportunitiesCreate, OpportunitiesUpdate, OpportunitiesDelete, StageOverride, SolutionsApprove, DemosApprove,
			InquiriesRead, InquiriesCreate, InquiriesUpdate, InquiriesAssign, CannedManage, StandardsRead,
			QuotesRead, QuotesCreate, QuotesUpdate, QuotesSend, QuotesApprove, ProductsCost,
			ContractsRead, ContractsCreate, ContractsUpdate, ContractsSign, PaymentsRecord, InvoicesManage,
			OrdersRead, OrdersImport, OrdersConfirm, OrdersReview, OrdersReturns}},
		{RolePresales, ScopeOwn, append(slices.Clone(staff), inquiries...)},
		{RoleSales, ScopeOwn, append(slices.Clone(staff), inquiries...)},
		{RoleService, ScopeOwn, append(append([]string{UsersRead, CustomersRead, CustomersCreate, CustomersUpdate, CustomersReveal}, inquiries...), shop...)},
		// Marketing works with channels and segments, not phone numbers.
		{RoleMarketing, ScopeOwn, []string{UsersRead, CustomersRead, CustomersCreate, CustomersUpdate, CustomersImport, CustomersExport}},
		// Technical staff answer support requests (seed 7: 技术支持) and see the
		// deals they are asked about.
		{RoleTech, ScopeOwn, []string{UsersRead, CustomersRead, OpportunitiesRead, TechSupportAnswer}},
		{RoleAftersales, ScopeOwn, []string{UsersRead, CustomersRead, CustomersUpdate, CustomersReveal}},
	}
}

// IsBuiltinRole reports whether name is one of the built-in roles.
func IsBuiltinRole(name string) bool {
	return slices.ContainsFunc(BuiltinRoles(), func(r RoleDef) bool { return r.Name == name })
}

// Principal is the signed-in caller.
type Principal struct {
	UserID       string
	Username     string
	DisplayName  string
	DepartmentID string
	// Departments is the caller's department and all its sub-departments.
	Departments []string
	Roles       []string
	// Permissions is read-only: principals with the same roles share it.
	Permissions map[string]bool
	Scope       Scope
	Locale      i18n.Lang
	SessionID   string
	TokenID     string
	IP          string
	UserAgent   string
}

// Can reports whether the principal holds perm.
func (p *Principal) Can(perm string) bool { return p != nil && p.Permissions[perm] }

// Require returns a 403 error unless the principal holds perm.
func (p *Principal) Require(perm string) error {
	if !p.Can(perm) {
		return errs.Forbid()
	}
	return nil
}

// HasRole reports whether the principal has role.
func (p *Principal) HasRole(role string) bool { return p != nil && slices.Contains(p.Roles, role) }

// PermissionList returns the held permissions sorted.
func (p *Principal) PermissionList() []string {
	out := make([]string, 0, len(p.Permissions))
	for k, ok := range p.Permissions {
		if ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// Record is what a scope decision needs to know about one row.
type Record struct {
	OwnerID      string
	DepartmentID string
	// SharedWith is true when the record is shared with the principal.
	SharedWith bool
}

// Sees reports whether a record is inside the principal's data scope.
func (p *Principal) Sees(r Record) bool {
	if p == nil {
		return false
	}
	switch {
	case p.Scope == ScopeAll:
		return true
	case r.OwnerID != "" && r.OwnerID == p.UserID, r.SharedWith:
		return true
	case p.Scope == ScopeDepartment && r.DepartmentID != "":
		return slices.Contains(p.Departments, r.DepartmentID)
	}
	return false
}

// Columns name the columns of a table that a scope filter uses.
type Columns struct {
	Owner      string // owner user ID column, e.g. "a.owner_id"
	Department string // department ID column ("" if none)
	// RecordType and ID enable sharing with collaborators through record_shares.
	RecordType string
	ID         string
	// Table, when set, makes Filter emit "ID IN (… UNION …)" built from
	// indexed lookups instead of an OR across columns: an OR with EXISTS
	// defeats every index and turns counts over large tables into scans.
	Table string
}

// Filter returns a SQL predicate (with '?' placeholders) that keeps only rows
// inside the principal's scope. It is always a complete boolean expression,
// so callers can AND it into any WHERE clause.
func (p *Principal) Filter(c Columns) (string, []any) {
	if p == nil {
		return "1 = 0", nil
	}
	if p.Scope == ScopeAll {
		return "1 = 1", nil
	}
	if c.Table != "" && c.ID != "" {
		return p.filterIDs(c)
	}
	var parts []string
	var args []any
	if c.Owner != "" {
		parts = append(parts, c.Owner+" = ?")
		args = append(args, p.UserID)
	}
	if p.Scope == ScopeDepartment && c.Department != "" && len(p.Departments) > 0 {
		parts = append(parts, c.Department+" IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(p.Departments)), ", ")+")")
		for _, d := range p.Departments {
			args = append(args, d)
		}
	}
	if c.RecordType != "" && c.ID != "" {
		parts = append(parts, "EXISTS (SELECT 1 FROM record_shares rs WHERE rs.record_type = ? AND rs.record_id = "+c.ID+" AND rs.user_id = ?)")
		args = append(args, c.RecordType, p.UserID)
	}
	if len(parts) == 0 {
		return "1 = 0", nil
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}

// A Branch is one way a row can be inside a scope: owned by the principal,
// in one of their departments, or shared with them.
type Branch struct {
	Cond string // SQL predicate with '?' placeholders
	Args []any
}

// Branches splits the scope filter into its OR branches, each a predicate
// that an index can serve on its own (owner column, department column, the
// shared record IDs). A list can then take its first page from each branch
// along that branch's index and merge them, instead of reading every row in
// scope to sort them (a department head's 33k accounts). The union of the
// branches is exactly what Filter keeps. ScopeAll is one branch "1 = 1"; a
// nil principal or a scope with no branch gives one that keeps nothing.
func (p *Principal) Branches(c Columns) []Branch {
	if p == nil {
		return []Branch{{Cond: "1 = 0"}}
	}
	if p.Scope == ScopeAll {
		return []Branch{{Cond: "1 = 1"}}
	}
	var out []Branch
	if c.Owner != "" {
		out = append(out, Branch{Cond: c.Owner + " = ?", Args: []any{p.UserID}})
	}
	if p.Scope == ScopeDepartment && c.Department != "" && len(p.Departments) > 0 {
		b := Branch{Cond: c.Department + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(p.Departments)), ", ") + ")"}
		for _, d := range p.Departments {
			b.Args = append(b.Args, d)
		}
		out = append(out, b)
	}
	if c.RecordType != "" && c.ID != "" {
		out = append(out, Branch{Cond: c.ID + " IN (SELECT record_id FROM record_shares WHERE record_type = ? AND user_id = ?)",
			Args: []any{c.RecordType, p.UserID}})
	}
	if len(out) == 0 {
		return []Branch{{Cond: "1 = 0"}}
	}
	return out
}

func unqualified(col string) string {
	if i := strings.LastIndexByte(col, '.'); i >= 0 {
		return col[i+1:]
	}
	return col
}

func (p *Principal) filterIDs(c Columns) (string, []any) {
	id := unqualified(c.ID)
	var parts []string
	var args []any
	if c.Owner != "" {
		parts = append(parts, "SELECT "+id+" FROM "+c.Table+" WHERE "+unqualified(c.Owner)+" = ?")
		args = append(args, p.UserID)
	}
	if p.Scope == ScopeDepartment && c.Department != "" && len(p.Departments) > 0 {
		parts = append(parts, "SELECT "+id+" FROM "+c.Table+" WHERE "+unqualified(c.Department)+" IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(p.Departments)), ", ")+")")
		for _, d := range p.Departments {
			args = append(args, d)
		}
	}
	if c.RecordType != "" {
		parts = append(parts, "SELECT record_id FROM record_shares WHERE record_type = ? AND user_id = ?")
		args = append(args, c.RecordType, p.UserID)
	}
	if len(parts) == 0 {
		return "1 = 0", nil
	}
	return c.ID + " IN (" + strings.Join(parts, " UNION ") + ")", args
}

type ctxKey struct{}

// With stores the principal in ctx.
func With(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the principal in ctx, or nil.
func From(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}

// System is the principal of administrative command-line actions
// (`prelude user create`, …): every permission, all data, audited as "cli".
func System() *Principal {
	p := &Principal{Username: "cli", DisplayName: "命令行", Scope: ScopeAll, Permissions: map[string]bool{}, Roles: []string{RoleAdmin}}
	for _, c := range Catalogue {
		p.Permissions[c.Key] = true
	}
	return p
}
