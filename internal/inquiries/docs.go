package inquiries

import (
	"context"
	"time"

	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/search"
)

// docMessage is the search document type of inquiry messages (internal
// notes are not indexed: search results reach people by account scope).
const docMessage = "inquiry_message"

func (s *Service) loadMessageDocs(ctx context.Context, ids []string) ([]search.Doc, []string, error) {
	if len(ids) == 0 {
		return nil, nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.db.Query(ctx, `SELECT m.id, i.subject, COALESCE(i.account_id, ''), m.body, m.created_at FROM inquiry_messages m
		JOIN inquiries i ON i.id = m.inquiry_id WHERE m.direction <> 'internal' AND m.id IN (`+db.Placeholders(len(ids))+`)`, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	found := map[string]bool{}
	var docs []search.Doc
	for rows.Next() {
		var d search.Doc
		var at db.Time
		if err := rows.Scan(&d.ID, &d.Title, &d.AccountID, &d.Body, &at); err != nil {
			return nil, nil, err
		}
		d.Type, d.UpdatedAt = docMessage, time.Time(at)
		d.Body = d.Title + "\n" + d.Body
		found[d.ID] = true
		docs = append(docs, d)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	var missing []string
	for _, id := range ids {
		if !found[id] {
			missing = append(missing, id)
		}
	}
	return docs, missing, nil
}

func principalID(ctx context.Context) string {
	if p := authz.From(ctx); p != nil {
		return p.UserID
	}
	return ""
}
