package audit

import (
	"context"
	"strings"

	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/httpx"
)

// RecordMany writes several entries in tx like Record, with multi-row
// INSERTs: bulk operations (imports) audit every record they create without
// a statement per entry.
func (l *Log) RecordMany(ctx context.Context, tx *db.Tx, evs []Event) error {
	const cols = 12
	const chunk = 250
	actorID, actorName, ip := "", "", ""
	if p := authz.From(ctx); p != nil {
		actorID, actorName, ip = p.UserID, p.DisplayName+" ("+p.Username+")", p.IP
	}
	rid, at := httpx.RequestID(ctx), tx.Now()
	for start := 0; start < len(evs); start += chunk {
		part := evs[start:min(len(evs), start+chunk)]
		args := make([]any, 0, len(part)*cols)
		for _, ev := range part {
			name, evIP := actorName, ip
			if ev.ActorName != "" {
				name = ev.ActorName
			}
			if ev.IP != "" {
				evIP = ev.IP
			}
			id := db.NewID()
			changes, detail := encodeJSON(ev.Changes), encodeJSON(ev.Detail)
			mac := l.entryMAC(id, db.Ms(at), actorID, name, ev.Action, ev.EntityType, ev.EntityID, evIP, rid, changes, detail)
			args = append(args, id, db.Ms(at), actorID, name, ev.Action, ev.EntityType, ev.EntityID, evIP, rid, changes, detail, mac)
		}
		values := strings.TrimSuffix(strings.Repeat("("+db.Placeholders(cols)+"), ", len(part)), ", ")
		if _, err := tx.Exec(ctx, `INSERT INTO audit_log (id, at, actor_id, actor_name, action, entity_type, entity_id, ip, request_id, changes, detail, entry_mac)
			VALUES `+values, args...); err != nil {
			return err
		}
	}
	return nil
}
