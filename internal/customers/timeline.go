package customers

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/httpx"
)

// Entry is what a capability records on an account's timeline. Kinds are
// free lower_snake_case words owned by their capability ("call",
// "inquiry_opened", "quote_sent"…); the UI labels them.
type Entry struct {
	AccountID  string
	Kind       string
	RefType    string
	RefID      string
	Title      string
	Body       string
	OccurredAt time.Time // default: the transaction's time
	Data       map[string]any
	// Contacted marks a customer contact (call, visit, reply sent…): it
	// updates the account's last-contact time used by revisit plans.
	Contacted bool
}

// AddEvent appends to the timeline inside the caller's transaction, so the
// event exists exactly when the change does. This is the one mechanism every
// capability uses; the timeline code never learns their kinds.
func (s *Service) AddEvent(ctx context.Context, tx *db.Tx, e Entry) error {
	at := e.OccurredAt
	if at.IsZero() {
		at = tx.Now()
	}
	actor := ""
	if p := authz.From(ctx); p != nil {
		actor = p.UserID
	}
	data := ""
	if len(e.Data) > 0 {
		b, _ := json.Marshal(e.Data)
		data = string(b)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO timeline_events (id, account_id, kind, ref_type, ref_id, actor_id, occurred_at, title, body, data, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, db.NewID(), e.AccountID, e.Kind, e.RefType, e.RefID, actor, db.Ms(at), e.Title, e.Body, data, db.Ms(tx.Now())); err != nil {
		return err
	}
	if e.Contacted {
		if _, err := tx.Exec(ctx, "UPDATE accounts SET last_contact_at = ? WHERE id = ? AND (last_contact_at IS NULL OR last_contact_at < ?)", db.Ms(at), e.AccountID, db.Ms(at)); err != nil {
			return err
		}
		for _, h := range s.contactHooks {
			if err := h(ctx, tx, CustomerContact{AccountID: e.AccountID, At: at, Kind: e.Kind, RefType: e.RefType, RefID: e.RefID}); err != nil {
				return err
			}
		}
	}
	return nil
}

// CustomerContact describes a contact with a customer that just happened (a
// call logged, a reply sent, a meeting held).
type CustomerContact struct {
	AccountID string
	At        time.Time
	Kind      string
	RefType   string
	RefID     string
}

// ContactHook runs inside the transaction that records a customer contact;
// follow-ups use it to mark promises kept.
type ContactHook func(ctx context.Context, tx *db.Tx, c CustomerContact) error

// OnContact registers a hook called for every customer contact.
func (s *Service) OnContact(h ContactHook) { s.contactHooks = append(s.contactHooks, h) }

// Timeline returns an account's events newest first, optionally of some kinds.
func (s *Service) Timeline(ctx context.Context, accountID string, kinds []string, lp httpx.ListParams) ([]Event, *httpx.Cursor, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersRead); err != nil {
		return nil, nil, err
	}
	// The scope check rides in the page's own query (see visibleIn); only
	// an empty page needs to tell "no events" from "not yours" apart.
	visible, args := visibleIn(p, accountID)
	q := `SELECT t.id, t.account_id, t.kind, t.ref_type, t.ref_id, t.actor_id, COALESCE(u.display_name, ''), t.occurred_at, t.title, t.body, t.data
		FROM timeline_events t LEFT JOIN users u ON u.id = t.actor_id WHERE t.account_id = ? AND ` + visible
	args = append([]any{accountID}, args...)
	if len(kinds) > 0 {
		q += " AND t.kind IN (" + db.Placeholders(len(kinds)) + ")"
		for _, k := range kinds {
			args = append(args, k)
		}
	}
	if lp.Cursor != nil {
		at, err := strconv.ParseInt(lp.Cursor.Key, 10, 64)
		if err != nil {
			return nil, nil, httpx.BadParam("cursor")
		}
		q += " AND (t.occurred_at < ? OR (t.occurred_at = ? AND t.id < ?))"
		args = append(args, at, at, lp.Cursor.ID)
	}
	q += " ORDER BY t.occurred_at DESC, t.id DESC LIMIT ?"
	args = append(args, lp.Limit+1)
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		var at db.Time
		var data string
		if err := rows.Scan(&e.ID, &e.AccountID, &e.Kind, &e.RefType, &e.RefID, &e.ActorID, &e.ActorName, &at, &e.Title, &e.Body, &data); err != nil {
			return nil, nil, err
		}
		e.OccurredAt = time.Time(at)
		if data != "" {
			_ = json.Unmarshal([]byte(data), &e.Data)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if len(out) == 0 {
		if _, err := s.visibleAccount(ctx, s.db, accountID); err != nil {
			return nil, nil, err
		}
	}
	var next *httpx.Cursor
	if len(out) > lp.Limit {
		out = out[:lp.Limit]
		last := out[len(out)-1]
		next = &httpx.Cursor{Key: strconv.FormatInt(db.Ms(last.OccurredAt), 10), ID: last.ID}
	}
	return out, next, nil
}

// MergeHook moves a capability's records from one account to another when
// two accounts are merged; capabilities register theirs with OnMerge.
type MergeHook func(ctx context.Context, tx *db.Tx, fromID, intoID string) (moved int64, err error)

// OnMerge registers a hook run inside the merge transaction.
func (s *Service) OnMerge(name string, h MergeHook) {
	s.mergeHooks = append(s.mergeHooks, namedHook{name: name, fn: h})
}

type namedHook struct {
	name string
	fn   MergeHook
}

func splitKinds(s string) []string {
	var out []string
	for _, k := range strings.Split(s, ",") {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}
