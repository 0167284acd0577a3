package followups

import (
	"context"
	"strconv"
	"strings"
	"time"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/auth"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
)

// CreateFeed issues (or replaces) the caller's calendar feed token; the URL
// is shown once. Calendar clients cannot sign in, so the token is the key.
func (s *Service) CreateFeed(ctx context.Context) (string, error) {
	p := authz.From(ctx)
	token := auth.NewToken("cal_")
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO calendar_feeds (user_id, token_hash, created_at) VALUES (?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at`, p.UserID, auth.HashToken(token), db.Ms(tx.Now())); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "calendar_feed.create", EntityType: "user", EntityID: p.UserID})
	})
	return token, err
}

// RevokeFeed stops the caller's feed.
func (s *Service) RevokeFeed(ctx context.Context) error {
	p := authz.From(ctx)
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM calendar_feeds WHERE user_id = ?", p.UserID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "calendar_feed.revoke", EntityType: "user", EntityID: p.UserID})
	})
}

// Feed renders the iCalendar (RFC 5545) feed of a token's owner: open tasks
// and those finished in the last 30 days. ok is false for an unknown token.
func (s *Service) Feed(ctx context.Context, token string) (string, bool, error) {
	if !strings.HasPrefix(token, "cal_") || len(token) > 100 {
		return "", false, nil
	}
	var userID string
	err := s.db.QueryRow(ctx, "SELECT f.user_id FROM calendar_feeds f JOIN users u ON u.id = f.user_id WHERE f.token_hash = ? AND u.active = ?", auth.HashToken(token), true).Scan(&userID)
	if isNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	now := s.db.Now()
	tasks, err := queryTasks(ctx, s.db, now, "t.owner_id = ? AND (t.status = 'open' OR t.completed_at >= ?) ORDER BY t.due_at LIMIT 5000", userID, db.Ms(now.Add(-30*24*time.Hour)))
	if err != nil {
		return "", false, err
	}
	var b strings.Builder
	line := func(s string) { b.WriteString(fold(s)); b.WriteString("\r\n") }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//Prelude//Follow-ups//ZH")
	line("CALSCALE:GREGORIAN")
	line("METHOD:PUBLISH")
	line("X-WR-CALNAME:" + escape("Prelude 跟进任务"))
	line("X-WR-TIMEZONE:Asia/Shanghai")
	stampNow := now.UTC().Format("20060102T150405Z")
	for _, t := range tasks {
		line("BEGIN:VEVENT")
		line("UID:" + t.ID + "@prelude")
		line("DTSTAMP:" + stampNow)
		line("DTSTART:" + t.DueAt.UTC().Format("20060102T150405Z"))
		line("DTEND:" + t.DueAt.Add(30*time.Minute).UTC().Format("20060102T150405Z"))
		summary := t.Title
		if t.IsPromise {
			summary = "【承诺】" + summary
		}
		line("SUMMARY:" + escape(summary))
		desc := t.Notes
		if t.PromiseText != "" {
			desc = strings.TrimSpace(t.PromiseText + "\n" + desc)
		}
		if t.AccountName != "" {
			desc = strings.TrimSpace(t.AccountName + "\n" + desc)
		}
		if desc != "" {
			line("DESCRIPTION:" + escape(desc))
		}
		if s.cfg.BaseURL != "" {
			line("URL:" + s.cfg.BaseURL + "/tasks/" + t.ID)
		}
		status := "CONFIRMED"
		if t.Status == "cancelled" {
			status = "CANCELLED"
		}
		line("STATUS:" + status)
		if t.Status == "open" && t.RemindBeforeMin > 0 {
			line("BEGIN:VALARM")
			line("ACTION:DISPLAY")
			line("DESCRIPTION:" + escape(t.Title))
			line("TRIGGER:-PT" + itoa(t.RemindBeforeMin) + "M")
			line("END:VALARM")
		}
		line("END:VEVENT")
	}
	line("END:VCALENDAR")
	return b.String(), true, nil
}

func itoa(n int) string { return strconv.Itoa(n) }

// escape applies RFC 5545 TEXT escaping.
func escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`).Replace(s)
}

// fold breaks content lines at 75 octets without splitting a UTF-8 character.
func fold(s string) string {
	if len(s) <= 75 {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		l := len(string(r))
		if n+l > 75 {
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteRune(r)
		n += l
	}
	return b.String()
}
