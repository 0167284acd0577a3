package customers

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/region"
)

const accountCols = `a.id, a.name, a.kind, a.uscc, a.industry, a.size, a.province_code, a.city_code, a.district_code, a.address,
	a.source, a.level, a.status, a.tags, a.owner_id, COALESCE(u.display_name, ''), a.department_id, a.needs, a.concerns,
	a.opinions, a.suggestions, a.last_contact_at, a.archived_at, a.version, a.created_at, a.updated_at`

const accountFrom = ` FROM accounts a LEFT JOIN users u ON u.id = a.owner_id`

func scanAccount(sc interface{ Scan(...any) error }) (*Account, error) {
	var a Account
	var tags string
	var dept sql.NullString
	var last, archived, created, updated db.Time
	err := sc.Scan(&a.ID, &a.Name, &a.Kind, &a.USCC, &a.Industry, &a.Size, &a.ProvinceCode, &a.CityCode, &a.DistrictCode, &a.Address,
		&a.Source, &a.Level, &a.Status, &tags, &a.OwnerID, &a.OwnerName, &dept, &a.Needs, &a.Concerns,
		&a.Opinions, &a.Suggestions, &last, &archived, &a.Version, &created, &updated)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(tags), &a.Tags); err != nil || a.Tags == nil {
		a.Tags = []string{}
	}
	if dept.Valid {
		a.DepartmentID = &dept.String
	}
	a.RegionName = region.FullName(firstNonEmpty(a.DistrictCode, a.CityCode, a.ProvinceCode))
	a.LastContactAt = timePtr(last)
	a.Archived = !time.Time(archived).IsZero()
	a.CreatedAt, a.UpdatedAt = time.Time(created), time.Time(updated)
	a.Collaborators = []string{}
	return &a, nil
}

func timePtr(t db.Time) *time.Time {
	if time.Time(t).IsZero() {
		return nil
	}
	tt := time.Time(t)
	return &tt
}

func msPtr(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return db.Ms(*t)
}

// getAccount loads one live (not merged) account.
func getAccount(ctx context.Context, q db.Querier, id string) (*Account, error) {
	return scanAccount(q.QueryRow(ctx, "SELECT "+accountCols+accountFrom+" WHERE a.id = ? AND a.merged_into IS NULL", id))
}

// getAccountShares loads one live account with the users it is shared with
// (its collaborators, oldest share first) in one query: the account page
// reads the account three times (account, timeline, contacts), and on
// PostgreSQL each extra round trip cost as much as the lookup itself.
func getAccountShares(ctx context.Context, q db.Querier, id string) (*Account, []string, error) {
	rows, err := q.Query(ctx, "SELECT "+accountCols+`, rs.user_id`+accountFrom+`
		LEFT JOIN record_shares rs ON rs.record_type = 'account' AND rs.record_id = a.id
		WHERE a.id = ? AND a.merged_into IS NULL ORDER BY rs.created_at, rs.user_id`, id)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var a *Account
	shares := []string{}
	for rows.Next() {
		var user sql.NullString
		acc, err := scanAccount(scanWith{rows, &user})
		if err != nil {
			return nil, nil, err
		}
		if a == nil {
			a = acc
		}
		if user.Valid {
			shares = append(shares, user.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if a == nil {
		return nil, nil, sql.ErrNoRows
	}
	return a, shares, nil
}

// scanWith scans the account columns plus trailing extra columns.
type scanWith struct {
	sc    interface{ Scan(...any) error }
	extra *sql.NullString
}

func (s scanWith) Scan(dest ...any) error { return s.sc.Scan(append(dest, s.extra)...) }

func collaborators(ctx context.Context, q db.Querier, accountID string) ([]string, error) {
	rows, err := q.Query(ctx, "SELECT user_id FROM record_shares WHERE record_type = 'account' AND record_id = ? ORDER BY created_at, user_id", accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

const contactCols = `c.id, c.name, c.title, c.mobile, c.phone, c.email, c.wechat, c.notes, c.owner_id, c.version, c.created_at, c.updated_at`

func scanContact(sc interface{ Scan(...any) error }) (*Contact, error) {
	var c Contact
	var created, updated db.Time
	if err := sc.Scan(&c.ID, &c.Name, &c.Title, &c.Mobile, &c.Phone, &c.Email, &c.WeChat, &c.Notes, &c.OwnerID, &c.Version, &created, &updated); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = time.Time(created), time.Time(updated)
	c.Accounts = []ContactLink{}
	return &c, nil
}

func getContact(ctx context.Context, q db.Querier, id string) (*Contact, error) {
	c, err := scanContact(q.QueryRow(ctx, "SELECT "+contactCols+" FROM contacts c WHERE c.id = ? AND c.merged_into IS NULL", id))
	if err != nil {
		return nil, err
	}
	c.Accounts, err = contactLinks(ctx, q, id)
	return c, err
}

func contactLinks(ctx context.Context, q db.Querier, contactID string) ([]ContactLink, error) {
	rows, err := q.Query(ctx, `SELECT ac.account_id, a.name, ac.purchase_role, ac.is_primary FROM account_contacts ac
		JOIN accounts a ON a.id = ac.account_id WHERE ac.contact_id = ? AND a.merged_into IS NULL ORDER BY ac.created_at`, contactID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []ContactLink{}
	for rows.Next() {
		var l ContactLink
		if err := rows.Scan(&l.AccountID, &l.AccountName, &l.PurchaseRole, &l.IsPrimary); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// fillContactLinks sets the account links of several contacts with one
// query instead of one per contact (each link list oldest first, as
// contactLinks gives it).
func fillContactLinks(ctx context.Context, q db.Querier, contacts []*Contact) error {
	if len(contacts) == 0 {
		return nil
	}
	byID := make(map[string]*Contact, len(contacts))
	args := make([]any, 0, len(contacts))
	for _, c := range contacts {
		if _, dup := byID[c.ID]; !dup {
			args = append(args, c.ID)
		}
		byID[c.ID] = c
		c.Accounts = []ContactLink{}
	}
	rows, err := q.Query(ctx, `SELECT ac.contact_id, ac.account_id, a.name, ac.purchase_role, ac.is_primary FROM account_contacts ac
		JOIN accounts a ON a.id = ac.account_id WHERE ac.contact_id IN (`+db.Placeholders(len(args))+`) AND a.merged_into IS NULL
		ORDER BY ac.created_at, ac.account_id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var contactID string
		var l ContactLink
		if err := rows.Scan(&contactID, &l.AccountID, &l.AccountName, &l.PurchaseRole, &l.IsPrimary); err != nil {
			return err
		}
		if c := byID[contactID]; c != nil {
			c.Accounts = append(c.Accounts, l)
		}
	}
	return rows.Err()
}

const activityCols = `id, account_id, contact_id, kind, direction, occurred_at, duration_min, subject, summary, outcome, next_step, next_step_at, owner_id, version, created_at`

func scanActivity(sc interface{ Scan(...any) error }) (*Activity, error) {
	var a Activity
	var contact sql.NullString
	var occurred, next, created db.Time
	if err := sc.Scan(&a.ID, &a.AccountID, &contact, &a.Kind, &a.Direction, &occurred, &a.DurationMin, &a.Subject, &a.Summary, &a.Outcome,
		&a.NextStep, &next, &a.OwnerID, &a.Version, &created); err != nil {
		return nil, err
	}
	if contact.Valid {
		a.ContactID = &contact.String
	}
	a.OccurredAt, a.CreatedAt = time.Time(occurred), time.Time(created)
	a.NextStepAt = timePtr(next)
	return &a, nil
}

func isNotFound(err error) bool { return errors.Is(err, sql.ErrNoRows) }

func likePattern(q string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(q)) + "%"
}

func encodeTags(tags []string) string {
	if tags == nil {
		tags = []string{}
	}
	b, _ := json.Marshal(tags)
	return string(b)
}

func parseInt(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) }
func formatInt(n int64) string         { return strconv.FormatInt(n, 10) }
