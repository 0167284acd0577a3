package customers

import (
	"context"
	"strings"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
	"prelude/internal/platform/mask"
	"prelude/internal/platform/valid"
)

// validateContactInput checks a new contact; prefix names nested fields
// ("contacts.0.mobile") so the form can point at the right row.
func validateContactInput(v *errs.Validation, prefix string, c ContactInput) ContactInput {
	c.Name = valid.Text(v, prefix+"name", c.Name, true, 64)
	c.Title = valid.Text(v, prefix+"title", c.Title, false, 64)
	c.Mobile = valid.Mobile(v, prefix+"mobile", c.Mobile, false)
	c.Phone = validPhone(v, prefix+"phone", c.Phone)
	c.Email = valid.Email(v, prefix+"email", c.Email, false)
	c.WeChat = validWeChat(v, prefix+"wechat", c.WeChat)
	c.Notes = valid.Text(v, prefix+"notes", c.Notes, false, 2000)
	if c.PurchaseRole != "" && !oneOf(PurchaseRoles, c.PurchaseRole) {
		v.Add(prefix+"purchase_role", "field.one_of", strings.Join(PurchaseRoles, ", "))
	}
	return c
}

// validPhone accepts landlines such as 010-12345678, 0755-1234567-801 or
// +86 21 1234 5678: digits with -, space, + and parentheses, 7 to 20 digits.
func validPhone(v *errs.Validation, field, s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '-' || r == ' ' || r == '+' || r == '(' || r == ')' || r == '#' || r == '*':
		default:
			v.Add(field, "field.phone")
			return s
		}
	}
	if digits < 7 || digits > 20 {
		v.Add(field, "field.phone")
	}
	return s
}

// validWeChat accepts WeChat IDs: 6–20 letters, digits, '_' or '-',
// starting with a letter (a mobile number is also accepted as an ID).
func validWeChat(v *errs.Validation, field, s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	ok := len(s) >= 6 && len(s) <= 20
	for i, r := range s {
		isLetter := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		isDigit := r >= '0' && r <= '9'
		if !(isLetter || isDigit || r == '_' || r == '-') || (i == 0 && !isLetter && !isDigit) {
			ok = false
		}
	}
	if !ok {
		v.Add(field, "field.wechat")
	}
	return s
}

func (s *Service) insertContact(ctx context.Context, tx *db.Tx, c ContactInput, accountID, ownerID string, dept *string) (string, error) {
	id := db.NewID()
	now := db.Ms(tx.Now())
	if _, err := tx.Exec(ctx, `INSERT INTO contacts (id, name, title, mobile, phone, email, wechat, notes, owner_id, department_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, c.Name, c.Title, c.Mobile, c.Phone, c.Email, c.WeChat, c.Notes, ownerID, dept, now, now); err != nil {
		return "", err
	}
	if err := s.link(ctx, tx, accountID, id, c.PurchaseRole, c.IsPrimary); err != nil {
		return "", err
	}
	if err := s.AddEvent(ctx, tx, Entry{AccountID: accountID, Kind: "contact_added", RefType: "contact", RefID: id, Title: c.Name, Body: c.Title}); err != nil {
		return "", err
	}
	if err := s.search.MarkDirty(ctx, "contact", id); err != nil {
		return "", err
	}
	masked := c
	masked.Mobile, masked.Phone, masked.Email, masked.WeChat = mask.Mobile(c.Mobile), mask.Mobile(c.Phone), mask.Email(c.Email), mask.Mobile(c.WeChat)
	return id, s.audit.Record(ctx, tx, audit.Event{Action: "contact.create", EntityType: "contact", EntityID: id,
		Changes: audit.Diff(nil, masked), Detail: map[string]any{"account_id": accountID}})
}

// link adds or updates a contact's place at an account; one primary contact
// per account.
func (s *Service) link(ctx context.Context, tx *db.Tx, accountID, contactID, role string, primary bool) error {
	if primary {
		if _, err := tx.Exec(ctx, "UPDATE account_contacts SET is_primary = ? WHERE account_id = ?", false, accountID); err != nil {
			return err
		}
	}
	res, err := tx.Exec(ctx, "UPDATE account_contacts SET purchase_role = ?, is_primary = ? WHERE account_id = ? AND contact_id = ?", role, primary, accountID, contactID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	_, err = tx.Exec(ctx, "INSERT INTO account_contacts (account_id, contact_id, purchase_role, is_primary, created_at) VALUES (?, ?, ?, ?, ?)",
		accountID, contactID, role, primary, db.Ms(tx.Now()))
	return err
}

// visibleContact loads a contact the caller may see: one linked to an
// account in their scope, or one they own.
func (s *Service) visibleContact(ctx context.Context, q db.Querier, id string) (*Contact, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersRead); err != nil {
		return nil, err
	}
	c, err := getContact(ctx, q, id)
	if isNotFound(err) {
		return nil, errs.NotFoundf("entity.contact")
	}
	if err != nil {
		return nil, err
	}
	if p.Scope == authz.ScopeAll || c.OwnerID == p.UserID {
		return c, nil
	}
	for _, l := range c.Accounts {
		if _, err := s.visibleAccount(ctx, q, l.AccountID); err == nil {
			return c, nil
		}
	}
	return nil, errs.NotFoundf("entity.contact")
}

// maskContact hides the contact details: they are shown only through an
// explicit, audited reveal.
func maskContact(c *Contact) *Contact {
	out := *c
	out.Masked = c.Mobile != "" || c.Phone != "" || c.Email != "" || c.WeChat != ""
	out.Mobile, out.Phone, out.Email, out.WeChat = mask.Mobile(c.Mobile), mask.Mobile(c.Phone), mask.Email(c.Email), mask.Mobile(c.WeChat)
	return &out
}

// GetContact returns a contact (masked).
func (s *Service) GetContact(ctx context.Context, id string) (*Contact, error) {
	c, err := s.visibleContact(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	return maskContact(c), nil
}

// AccountContacts lists an account's contacts (masked), primary first, each
// with all its account links, in one query that also checks the scope (see
// visibleIn): one row per contact and link. The account page calls it on
// every view; it used to take three round trips (scope, contacts, links).
func (s *Service) AccountContacts(ctx context.Context, accountID string) ([]*Contact, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersRead); err != nil {
		return nil, err
	}
	visible, args := visibleIn(p, accountID)
	// Every listed contact has at least one live link, to this account
	// (live, or visibleIn fails), so the inner joins on its links drop
	// no contact.
	rows, err := s.db.Query(ctx, "SELECT "+contactCols+`, l.account_id, la.name, l.purchase_role, l.is_primary
		FROM account_contacts ac JOIN contacts c ON c.id = ac.contact_id
		JOIN account_contacts l ON l.contact_id = c.id JOIN accounts la ON la.id = l.account_id
		WHERE ac.account_id = ? AND c.merged_into IS NULL AND la.merged_into IS NULL AND `+visible+`
		ORDER BY ac.is_primary DESC, ac.created_at, c.id, l.created_at, l.account_id`, append([]any{accountID}, args...)...)
	if err != nil {
		return nil, err
	}
	var out []*Contact
	for rows.Next() {
		var l ContactLink
		c, err := scanContact(scanLink{rows, &l})
		if err != nil {
			rows.Close()
			return nil, err
		}
		if n := len(out); n > 0 && out[n-1].ID == c.ID {
			c = out[n-1]
		} else {
			out = append(out, c)
		}
		c.Accounts = append(c.Accounts, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		if _, err := s.visibleAccount(ctx, s.db, accountID); err != nil {
			return nil, err
		}
	}
	for i, c := range out {
		out[i] = maskContact(c)
	}
	return out, nil
}

// scanLink scans the contact columns plus one account link after them.
type scanLink struct {
	sc   interface{ Scan(...any) error }
	link *ContactLink
}

func (s scanLink) Scan(dest ...any) error {
	return s.sc.Scan(append(dest, &s.link.AccountID, &s.link.AccountName, &s.link.PurchaseRole, &s.link.IsPrimary)...)
}

// ListContacts lists contacts of accounts in the caller's scope.
func (s *Service) ListContacts(ctx context.Context, q string, lp httpx.ListParams) ([]*Contact, *httpx.Cursor, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersRead); err != nil {
		return nil, nil, err
	}
	scope, args := p.Filter(accountScopeRow)
	cond := "c.merged_into IS NULL AND (c.owner_id = ? OR EXISTS (SELECT 1 FROM account_contacts ac JOIN accounts a ON a.id = ac.account_id WHERE ac.contact_id = c.id AND a.merged_into IS NULL AND " + scope + "))"
	args = append([]any{p.UserID}, args...)
	if q != "" {
		cond += ` AND (LOWER(c.name) LIKE ? ESCAPE '\' OR LOWER(c.title) LIKE ? ESCAPE '\')`
		args = append(args, likePattern(q), likePattern(q))
	}
	if lp.Cursor != nil {
		cond += " AND (c.updated_at < ? OR (c.updated_at = ? AND c.id < ?))"
		ms, err := parseInt(lp.Cursor.Key)
		if err != nil {
			return nil, nil, httpx.BadParam("cursor")
		}
		args = append(args, ms, ms, lp.Cursor.ID)
	}
	args = append(args, lp.Limit+1)
	rows, err := s.db.Query(ctx, "SELECT "+contactCols+" FROM contacts c WHERE "+cond+" ORDER BY c.updated_at DESC, c.id DESC LIMIT ?", args...)
	if err != nil {
		return nil, nil, err
	}
	var out []*Contact
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			rows.Close()
			return nil, nil, err
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	var next *httpx.Cursor
	if len(out) > lp.Limit {
		out = out[:lp.Limit]
		last := out[len(out)-1]
		next = &httpx.Cursor{Key: formatInt(db.Ms(last.UpdatedAt)), ID: last.ID}
	}
	if err := fillContactLinks(ctx, s.db, out); err != nil {
		return nil, nil, err
	}
	for i, c := range out {
		out[i] = maskContact(c)
	}
	return out, next, nil
}

// CreateContact creates a contact at an account.
func (s *Service) CreateContact(ctx context.Context, accountID string, in ContactInput) (*Contact, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersUpdate); err != nil {
		return nil, err
	}
	var id string
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		a, err := s.visibleAccount(ctx, tx, accountID)
		if err != nil {
			return err
		}
		var v errs.Validation
		in = validateContactInput(&v, "", in)
		if err := v.Err(); err != nil {
			return err
		}
		id, err = s.insertContact(ctx, tx, in, accountID, a.OwnerID, a.DepartmentID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.GetContact(ctx, id)
}

// UpdateContact changes a contact's details (If-Match version).
func (s *Service) UpdateContact(ctx context.Context, id string, version int64, in ContactPatch) (*Contact, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersUpdate); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		before, err := s.visibleContact(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, before.Version); err != nil {
			return err
		}
		after := *before
		var v errs.Validation
		if in.Name != nil {
			after.Name = valid.Text(&v, "name", *in.Name, true, 64)
		}
		if in.Title != nil {
			after.Title = valid.Text(&v, "title", *in.Title, false, 64)
		}
		if in.Mobile != nil {
			after.Mobile = valid.Mobile(&v, "mobile", *in.Mobile, false)
		}
		if in.Phone != nil {
			after.Phone = validPhone(&v, "phone", *in.Phone)
		}
		if in.Email != nil {
			after.Email = valid.Email(&v, "email", *in.Email, false)
		}
		if in.WeChat != nil {
			after.WeChat = validWeChat(&v, "wechat", *in.WeChat)
		}
		if in.Notes != nil {
			after.Notes = valid.Text(&v, "notes", *in.Notes, false, 2000)
		}
		if err := v.Err(); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE contacts SET name = ?, title = ?, mobile = ?, phone = ?, email = ?, wechat = ?, notes = ?,
			version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
			after.Name, after.Title, after.Mobile, after.Phone, after.Email, after.WeChat, after.Notes, db.Ms(tx.Now()), id, before.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		// The audit keeps the masked form: the log must not become a way
		// around the reveal rule.
		changes := audit.Diff(maskContact(before), maskContact(&after), "masked")
		delete(changes, "masked")
		if len(changes) == 0 {
			return nil
		}
		if err := s.search.MarkDirty(ctx, "contact", id); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "contact.update", EntityType: "contact", EntityID: id, Changes: changes})
	})
	if err != nil {
		return nil, err
	}
	return s.GetContact(ctx, id)
}

// LinkContact links an existing contact to an account (or changes its role).
func (s *Service) LinkContact(ctx context.Context, accountID string, in LinkInput) (*Contact, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersUpdate); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := s.visibleAccount(ctx, tx, accountID); err != nil {
			return err
		}
		c, err := s.visibleContact(ctx, tx, in.ContactID)
		if err != nil {
			return err
		}
		if in.PurchaseRole != "" && !oneOf(PurchaseRoles, in.PurchaseRole) {
			var v errs.Validation
			v.Add("purchase_role", "field.one_of", strings.Join(PurchaseRoles, ", "))
			return v.Err()
		}
		if err := s.link(ctx, tx, accountID, c.ID, in.PurchaseRole, in.IsPrimary); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "contact.update", EntityType: "contact", EntityID: c.ID,
			Detail: map[string]any{"linked_account_id": accountID, "purchase_role": in.PurchaseRole, "is_primary": in.IsPrimary}})
	})
	if err != nil {
		return nil, err
	}
	return s.GetContact(ctx, in.ContactID)
}

// UnlinkContact removes a contact from an account; a contact left without
// accounts is deleted.
func (s *Service) UnlinkContact(ctx context.Context, accountID, contactID string) error {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersUpdate); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := s.visibleAccount(ctx, tx, accountID); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, "DELETE FROM account_contacts WHERE account_id = ? AND contact_id = ?", accountID, contactID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("entity.contact")
		}
		var left int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM account_contacts WHERE contact_id = ?", contactID).Scan(&left); err != nil {
			return err
		}
		action := "contact.update"
		if left == 0 {
			action = "contact.delete"
			if _, err := tx.Exec(ctx, "UPDATE contacts SET merged_into = id, updated_at = ? WHERE id = ?", db.Ms(tx.Now()), contactID); err != nil {
				return err
			}
		}
		if err := s.search.MarkDirty(ctx, "contact", contactID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: action, EntityType: "contact", EntityID: contactID, Detail: map[string]any{"unlinked_account_id": accountID}})
	})
}

// RevealContact returns a contact's clear details and records the reveal.
func (s *Service) RevealContact(ctx context.Context, id string) (*RevealedContact, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersReveal); err != nil {
		return nil, err
	}
	var out RevealedContact
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		c, err := s.visibleContact(ctx, tx, id)
		if err != nil {
			return err
		}
		out = RevealedContact{Mobile: c.Mobile, Phone: c.Phone, Email: c.Email, WeChat: c.WeChat}
		return s.audit.Record(ctx, tx, audit.Event{Action: "contact.reveal", EntityType: "contact", EntityID: id,
			Detail: map[string]any{"fields": []string{"mobile", "phone", "email", "wechat"}}})
	})
	return &out, err
}
