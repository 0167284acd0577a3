package customers

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/httpx"
	"prelude/internal/platform/region"
	"prelude/internal/platform/search"
)

// Search documents: the search index keeps tokens of each account, contact
// and activity, written asynchronously after commit (search.Index).

func (s *Service) loadAccountDocs(ctx context.Context, ids []string) ([]search.Doc, []string, error) {
	args := anyArgs(ids)
	rows, err := s.db.Query(ctx, "SELECT "+accountCols+accountFrom+" WHERE a.id IN ("+db.Placeholders(len(ids))+") AND a.merged_into IS NULL", args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	found := map[string]bool{}
	var docs []search.Doc
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, nil, err
		}
		found[a.ID] = true
		body := strings.Join([]string{a.Name, a.USCC, a.Industry, region.FullName(firstNonEmpty(a.DistrictCode, a.CityCode, a.ProvinceCode)),
			a.Address, strings.Join(a.Tags, " "), a.Needs, a.Concerns, a.Opinions, a.Suggestions}, "\n")
		docs = append(docs, search.Doc{Type: "account", ID: a.ID, AccountID: a.ID, Title: a.Name, Body: body, UpdatedAt: a.UpdatedAt})
	}
	return docs, missing(ids, found), rows.Err()
}

func (s *Service) loadContactDocs(ctx context.Context, ids []string) ([]search.Doc, []string, error) {
	args := anyArgs(ids)
	in := db.Placeholders(len(ids))
	// The account a contact is filed under: its primary link, else the first.
	accountOf := map[string]string{}
	links, err := s.db.Query(ctx, `SELECT ac.contact_id, ac.account_id, ac.is_primary FROM account_contacts ac JOIN accounts a ON a.id = ac.account_id
		WHERE ac.contact_id IN (`+in+`) AND a.merged_into IS NULL ORDER BY ac.created_at`, args...)
	if err != nil {
		return nil, nil, err
	}
	for links.Next() {
		var cid, aid string
		var primary bool
		if err := links.Scan(&cid, &aid, &primary); err != nil {
			links.Close()
			return nil, nil, err
		}
		if _, ok := accountOf[cid]; !ok || primary {
			accountOf[cid] = aid
		}
	}
	links.Close()
	if err := links.Err(); err != nil {
		return nil, nil, err
	}
	rows, err := s.db.Query(ctx, "SELECT "+contactCols+" FROM contacts c WHERE c.id IN ("+in+") AND c.merged_into IS NULL", args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	found := map[string]bool{}
	var docs []search.Doc
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return nil, nil, err
		}
		account, ok := accountOf[c.ID]
		if !ok {
			continue // no longer at any account: drop from the index
		}
		found[c.ID] = true
		// Numbers and addresses are indexed so a fragment finds the
		// contact, but never shown: the hit's snippet is rebuilt masked.
		body := strings.Join([]string{c.Name, c.Title, c.Mobile, c.Phone, c.Email, c.WeChat, c.Notes}, "\n")
		docs = append(docs, search.Doc{Type: "contact", ID: c.ID, AccountID: account, Title: c.Name, Body: body, UpdatedAt: c.UpdatedAt})
	}
	return docs, missing(ids, found), rows.Err()
}

func (s *Service) loadActivityDocs(ctx context.Context, ids []string) ([]search.Doc, []string, error) {
	args := anyArgs(ids)
	rows, err := s.db.Query(ctx, "SELECT "+activityCols+" FROM activities WHERE id IN ("+db.Placeholders(len(ids))+")", args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	found := map[string]bool{}
	var docs []search.Doc
	for rows.Next() {
		a, err := scanActivity(rows)
		if err != nil {
			return nil, nil, err
		}
		found[a.ID] = true
		title := a.Subject
		if title == "" {
			title = firstLine(a.Summary, 60)
		}
		docs = append(docs, search.Doc{Type: "activity", ID: a.ID, AccountID: a.AccountID, Title: title,
			Body: strings.Join([]string{a.Subject, a.Summary, a.Outcome, a.NextStep}, "\n"), UpdatedAt: a.OccurredAt})
	}
	return docs, missing(ids, found), rows.Err()
}

func missing(ids []string, found map[string]bool) []string {
	var out []string
	for _, id := range ids {
		if !found[id] {
			out = append(out, id)
		}
	}
	return out
}

// SearchHit is one result of the global search box.
type SearchHit struct {
	Type        string    `json:"type"`
	ID          string    `json:"id"`
	AccountID   string    `json:"account_id"`
	AccountName string    `json:"account_name"`
	Title       string    `json:"title"`
	Snippet     string    `json:"snippet"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Search looks across accounts, contacts and communication text the caller
// may see; the scope is part of the index query, not a filter afterwards.
func (s *Service) Search(ctx context.Context, q string, types []string, limit int, cursor string) ([]SearchHit, string, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersRead); err != nil {
		return nil, "", err
	}
	scope, args := p.Filter(accountScopeRow)
	query := search.Query{Text: q, Types: types, Limit: limit, Cursor: cursor,
		Visible:     "EXISTS (SELECT 1 FROM accounts a WHERE a.id = d.account_id AND a.merged_into IS NULL AND " + scope + ")",
		VisibleArgs: args}
	if s.db.Dialect == db.Postgres {
		// PostgreSQL reads each branch of the scope along its own index
		// (migration 0026 copies each document's account owner and
		// department into search_docs); Visible still decides every hit.
		for _, b := range p.Branches(searchScope) {
			query.Branches = append(query.Branches, search.Branch{Cond: b.Cond, Args: b.Args})
		}
	}
	hits, next, err := s.search.Search(ctx, query)
	if errors.Is(err, search.ErrInvalidCursor) {
		return nil, "", httpx.BadParam("cursor")
	}
	if err != nil {
		return nil, "", err
	}
	// Account names and contact details for the whole page in two queries
	// (they were one or two per hit: 20 hits cost 40 round trips).
	var accountIDs, contactIDs []string
	for _, h := range hits {
		if !slices.Contains(accountIDs, h.AccountID) {
			accountIDs = append(accountIDs, h.AccountID)
		}
		if h.Type == "contact" && !slices.Contains(contactIDs, h.ID) {
			contactIDs = append(contactIDs, h.ID)
		}
	}
	names, err := s.accountNames(ctx, accountIDs)
	if err != nil {
		return nil, "", err
	}
	contacts, err := s.contactsByID(ctx, contactIDs)
	if err != nil {
		return nil, "", err
	}
	out := make([]SearchHit, 0, len(hits))
	for _, h := range hits {
		hit := SearchHit{Type: h.Type, ID: h.ID, AccountID: h.AccountID, AccountName: names[h.AccountID], Title: h.Title, Snippet: h.Snippet, UpdatedAt: h.UpdatedAt}
		if h.Type == "contact" {
			if c := contacts[h.ID]; c != nil {
				m := maskContact(c)
				hit.Snippet = strings.TrimSpace(strings.Join([]string{m.Title, m.Mobile, m.Email}, " · "))
			} else {
				hit.Snippet = ""
			}
		}
		out = append(out, hit)
	}
	return out, next, nil
}

// accountNames maps account IDs to names ("" for an ID not found).
func (s *Service) accountNames(ctx context.Context, ids []string) (map[string]string, error) {
	names := make(map[string]string, len(ids))
	var args []any
	for _, id := range ids {
		if id != "" {
			args = append(args, id)
		}
	}
	if len(args) == 0 {
		return names, nil
	}
	rows, err := s.db.Query(ctx, "SELECT id, name FROM accounts WHERE id IN ("+db.Placeholders(len(args))+")", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		names[id] = name
	}
	return names, rows.Err()
}

// contactsByID loads live contacts, unmasked and without their account
// links (the search snippet shows neither); merged or missing ones are
// absent.
func (s *Service) contactsByID(ctx context.Context, ids []string) (map[string]*Contact, error) {
	out := make(map[string]*Contact, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.db.Query(ctx, "SELECT "+contactCols+" FROM contacts c WHERE c.id IN ("+db.Placeholders(len(ids))+") AND c.merged_into IS NULL", anyArgs(ids)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return nil, err
		}
		out[c.ID] = c
	}
	return out, rows.Err()
}

// anyArgs turns IDs into query arguments.
func anyArgs(ids []string) []any {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return args
}
