package followups

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/i18n"
	"prelude/internal/platform/jobs"
	"prelude/internal/platform/notify"
)

// jobDeliver sends one delivery through its channel.
const jobDeliver = "notify.deliver"

// Notice is a notification another capability (inquiries, pipeline, quotes…)
// sends to one user through Notify.
type Notice struct {
	UserID string
	// Event names the kind of notice ("inquiry_mention", "quote_approval"…);
	// a user's channels can subscribe to some events only.
	Event string
	// TitleKey is an i18n catalogue key rendered with TitleArgs in the
	// recipient's language.
	TitleKey  string
	TitleArgs []any
	Body      string
	Link      string // path into the web UI, e.g. /inquiries/<id>
	// DedupeKey, if set, makes the notice idempotent: a second Notify with
	// the same key (a retried job, a second instance) does nothing.
	DedupeKey string
}

// Notify records n in the same transaction as the change that caused it: the
// in-app notification appears (live, through the stream) and each of the
// recipient's channels gets a durable delivery iff tx commits. This is the
// one way capabilities notify people.
func (s *Service) Notify(ctx context.Context, tx *db.Tx, n Notice) error {
	if n.UserID == "" || n.Event == "" || n.TitleKey == "" {
		return fmt.Errorf("followups.Notify: user, event and title key are required")
	}
	if n.DedupeKey == "" {
		n.DedupeKey = n.Event + ":" + db.NewID()
	}
	return s.notify(ctx, tx, n.UserID, n.Event, n.TitleKey, n.TitleArgs, n.Body, n.Link, n.DedupeKey)
}

// notify records an in-app notification for userID (once per dedupeKey) and
// a delivery for each of their channels subscribed to event. Deliveries are
// durable jobs enqueued in the same transaction, so a notification is sent
// iff the change that caused it committed.
//
// The notices of a transaction are written together just before it commits
// (a reminder tick or a bulk assignment notifies hundreds at once): one
// query for the recipients' languages and channels, one multi-row INSERT
// each for the notifications, the deliveries and their jobs, instead of four
// statements per notice. So a notice is not visible inside its own
// transaction, and an unknown recipient fails the transaction at its commit.
func (s *Service) notify(ctx context.Context, tx *db.Tx, userID, event, titleKey string, titleArgs []any, body, link, dedupeKey string) error {
	buf := tx.Local(noticesKey{}, func() any {
		b := &notices{}
		tx.BeforeCommit(func(ctx context.Context, tx *db.Tx) error { return s.flushNotices(ctx, tx, b) })
		return b
	}).(*notices)
	buf.items = append(buf.items, pendingNotice{userID: userID, event: event, titleKey: titleKey, titleArgs: titleArgs,
		body: body, link: link, dedupeKey: dedupeKey, at: tx.Now()})
	return nil
}

type noticesKey struct{}

type notices struct{ items []pendingNotice }

type pendingNotice struct {
	userID, event, titleKey string
	titleArgs               []any
	body, link, dedupeKey   string
	at                      time.Time
}

// flushNotices writes the notices gathered in tx (see notify).
func (s *Service) flushNotices(ctx context.Context, tx *db.Tx, b *notices) error {
	items := b.items
	b.items = nil
	if len(items) == 0 {
		return nil
	}
	type recipient struct {
		lang     i18n.Lang
		channels []string
		events   [][]string
	}
	users := map[string]*recipient{}
	var ids []any
	for _, n := range items {
		if _, ok := users[n.userID]; !ok {
			users[n.userID] = nil
			ids = append(ids, n.userID)
		}
	}
	for start := 0; start < len(ids); start += 500 {
		part := ids[start:min(len(ids), start+500)]
		rows, err := tx.Query(ctx, `SELECT u.id, u.locale, c.id, c.events FROM users u
			LEFT JOIN notification_channels c ON c.user_id = u.id AND c.enabled = ? WHERE u.id IN (`+db.Placeholders(len(part))+`)`, append([]any{true}, part...)...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var uid, locale string
			var cid, evJSON *string
			if err := rows.Scan(&uid, &locale, &cid, &evJSON); err != nil {
				rows.Close()
				return err
			}
			r := users[uid]
			if r == nil {
				lang, _ := i18n.Parse(locale)
				r = &recipient{lang: lang}
				users[uid] = r
			}
			if cid == nil {
				continue
			}
			var evs []string
			if evJSON != nil {
				_ = json.Unmarshal([]byte(*evJSON), &evs)
			}
			r.channels = append(r.channels, *cid)
			r.events = append(r.events, evs)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	type row struct {
		id string
		n  *pendingNotice
		r  *recipient
	}
	rowsByID := map[string]row{}
	var inserted []row
	const cols, chunk = 8, 500
	for start := 0; start < len(items); start += chunk {
		part := items[start:min(len(items), start+chunk)]
		args := make([]any, 0, len(part)*cols)
		for i := range part {
			n := &part[i]
			r := users[n.userID]
			if r == nil {
				return db.ErrNotFound
			}
			id := db.NewID()
			rowsByID[id] = row{id: id, n: n, r: r}
			args = append(args, id, n.userID, n.event, i18n.T(r.lang, n.titleKey, n.titleArgs...), n.body, n.link, n.dedupeKey, db.Ms(n.at))
		}
		// ON CONFLICT: a notice already sent (its dedupe key exists, also
		// earlier in this same statement) is skipped; RETURNING names the
		// ones written.
		rs, err := tx.Query(ctx, `INSERT INTO notifications (id, user_id, event, title, body, link, dedupe_key, created_at) VALUES `+
			strings.TrimSuffix(strings.Repeat("("+db.Placeholders(cols)+"), ", len(part)), ", ")+` ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`, args...)
		if err != nil {
			return err
		}
		for rs.Next() {
			var id string
			if err := rs.Scan(&id); err != nil {
				rs.Close()
				return err
			}
			inserted = append(inserted, rowsByID[id])
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return err
		}
	}
	var deliveries []any
	var jobItems []jobs.Item
	for _, w := range inserted {
		for i, cid := range w.r.channels {
			if evs := w.r.events[i]; len(evs) > 0 && !slices.Contains(evs, w.n.event) {
				continue
			}
			did := db.NewID()
			deliveries = append(deliveries, did, w.id, cid, db.Ms(w.n.at), db.Ms(w.n.at))
			jobItems = append(jobItems, jobs.Item{Payload: map[string]string{"delivery_id": did}, Options: jobs.EnqueueOptions{UniqueKey: "deliver:" + did, MaxAttempts: 8}})
		}
	}
	for start := 0; start < len(deliveries); start += 5 * chunk {
		part := deliveries[start:min(len(deliveries), start+5*chunk)]
		if _, err := tx.Exec(ctx, "INSERT INTO deliveries (id, notification_id, channel_id, created_at, updated_at) VALUES "+
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", len(part)/5), ", "), part...); err != nil {
			return err
		}
	}
	return s.jobs.EnqueueBatch(ctx, jobDeliver, jobItems)
}

// deliver is the job that sends deliveries, several at a time (a reminder
// tick or a bulk assignment notifies in bursts): one query reads them, the
// sends run in parallel, and their statuses commit with the jobs' outcomes
// in one transaction. A delivery already marked delivered is not sent again.
// A retried job after a crash between sending and that commit sends again
// with the same key (the delivery id, as the X-Prelude-Delivery header and
// the email Message-ID), so the delivery is exactly once in effect for
// receivers that deduplicate on it and at-least-once for those that cannot
// (the chat robots themselves).
func (s *Service) deliver(client *http.Client, smtp *notify.SMTP) jobs.BatchHandler {
	return func(ctx context.Context, js []*jobs.Job) ([]error, func(context.Context, *db.Tx) error) {
		errs := make([]error, len(js))
		ids := make([]string, len(js))
		var args []any
		for i, j := range js {
			var p struct {
				DeliveryID string `json:"delivery_id"`
			}
			if err := j.Decode(&p); err != nil {
				errs[i] = jobs.Permanent(err)
				continue
			}
			ids[i] = p.DeliveryID
			args = append(args, p.DeliveryID)
		}
		type target struct {
			status, kind, target, secret, title, body, link string
		}
		found := map[string]*target{}
		if len(args) > 0 {
			rows, err := s.db.Query(ctx, `SELECT d.id, d.status, c.kind, c.target, c.secret, n.title, n.body, n.link FROM deliveries d
				JOIN notification_channels c ON c.id = d.channel_id JOIN notifications n ON n.id = d.notification_id WHERE d.id IN (`+db.Placeholders(len(args))+`)`, args...)
			if err == nil {
				for rows.Next() {
					var id string
					var t target
					if err = rows.Scan(&id, &t.status, &t.kind, &t.target, &t.secret, &t.title, &t.body, &t.link); err != nil {
						break
					}
					found[id] = &t
				}
				rows.Close()
				if err == nil {
					err = rows.Err()
				}
			}
			if err != nil {
				for i := range errs {
					if errs[i] == nil {
						errs[i] = err
					}
				}
				return errs, nil
			}
		}
		// Send the pending ones in parallel; a missing one had its channel
		// deleted meanwhile, one no longer pending was sent already.
		sent := make([]error, len(js))
		sending := make([]bool, len(js))
		done := make(chan struct{}, len(js))
		n := 0
		for i, id := range ids {
			t := found[id]
			if errs[i] != nil || t == nil || t.status != "pending" {
				continue
			}
			sending[i] = true
			n++
			go func() {
				defer func() { done <- struct{}{} }()
				link := t.link
				if link != "" && !strings.HasPrefix(link, "http") {
					link = s.cfg.BaseURL + link
				}
				msg := notify.Message{Title: t.title, Body: t.body, Link: link, Key: id}
				sendCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
				defer cancel()
				if t.kind == "email" {
					sent[i] = notify.Email(sendCtx, smtp, t.target, msg, s.db.Now())
				} else {
					sent[i] = notify.Webhook(sendCtx, client, t.kind, t.target, t.secret, msg, s.db.Now())
				}
			}()
		}
		for range n {
			<-done
		}
		var delivered []any
		type failure struct {
			id, status, msg string
		}
		var failed []failure
		for i, j := range js {
			if !sending[i] {
				continue
			}
			err := sent[i]
			if err == nil {
				delivered = append(delivered, ids[i])
				continue
			}
			var perm *notify.Permanent
			st := "pending"
			if errors.As(err, &perm) || j.Attempt >= j.MaxAttempts {
				st = "failed"
			}
			failed = append(failed, failure{ids[i], st, truncate(err.Error(), 500)})
			errs[i] = err
			if errors.As(err, &perm) {
				errs[i] = jobs.Permanent(err)
			}
		}
		return errs, func(ctx context.Context, tx *db.Tx) error {
			now := db.Ms(tx.Now())
			if len(delivered) > 0 {
				if _, err := tx.Exec(ctx, "UPDATE deliveries SET status = 'delivered', attempts = attempts + 1, last_error = '', delivered_at = ?, updated_at = ? WHERE id IN ("+
					db.Placeholders(len(delivered))+")", append([]any{now, now}, delivered...)...); err != nil {
					return err
				}
			}
			for _, f := range failed {
				if _, err := tx.Exec(ctx, "UPDATE deliveries SET status = ?, attempts = attempts + 1, last_error = ?, updated_at = ? WHERE id = ?", f.status, f.msg, now, f.id); err != nil {
					return err
				}
			}
			return nil
		}
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// ---- in-app notifications and channels (the caller's own) ----

// Notifications lists the caller's newest notifications and the unread count.
func (s *Service) Notifications(ctx context.Context, unreadOnly bool, limit int) ([]Notification, int, error) {
	p := authz.From(ctx)
	var unread int
	if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at IS NULL", p.UserID).Scan(&unread); err != nil {
		return nil, 0, err
	}
	q := "SELECT id, event, title, body, link, read_at, created_at FROM notifications WHERE user_id = ?"
	if unreadOnly {
		q += " AND read_at IS NULL"
	}
	rows, err := s.db.Query(ctx, q+" ORDER BY created_at DESC, id DESC LIMIT ?", p.UserID, limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []Notification{}
	for rows.Next() {
		var n Notification
		var read, created db.Time
		if err := rows.Scan(&n.ID, &n.Event, &n.Title, &n.Body, &n.Link, &read, &created); err != nil {
			return nil, 0, err
		}
		n.ReadAt, n.CreatedAt = timePtr(read), time.Time(created)
		out = append(out, n)
	}
	return out, unread, rows.Err()
}

// MarkRead marks one (id) or all ("") of the caller's notifications read.
// An ID that is not one of the caller's notifications is 404.
func (s *Service) MarkRead(ctx context.Context, id string) error {
	p := authz.From(ctx)
	now := db.Ms(s.db.Now())
	if id == "" {
		_, err := s.db.Exec(ctx, "UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL", now, p.UserID)
		return err
	}
	res, err := s.db.Exec(ctx, "UPDATE notifications SET read_at = COALESCE(read_at, ?) WHERE user_id = ? AND id = ?", now, p.UserID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.NotFoundf("entity.notification")
	}
	return nil
}

func scanChannel(sc interface{ Scan(...any) error }) (*Channel, error) {
	var c Channel
	var secret, events string
	var created db.Time
	if err := sc.Scan(&c.ID, &c.Kind, &c.Target, &secret, &events, &c.Enabled, &c.Version, &created); err != nil {
		return nil, err
	}
	c.HasSecret = secret != ""
	c.CreatedAt = time.Time(created)
	_ = json.Unmarshal([]byte(events), &c.Events)
	if c.Events == nil {
		c.Events = []string{}
	}
	return &c, nil
}

// Channels lists the caller's channels (secrets never leave the server).
func (s *Service) Channels(ctx context.Context) ([]*Channel, error) {
	p := authz.From(ctx)
	rows, err := s.db.Query(ctx, "SELECT id, kind, target, secret, events, enabled, version, created_at FROM notification_channels WHERE user_id = ? ORDER BY created_at", p.UserID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Channel{}
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// AddChannel adds an email address or a chat-robot webhook for the caller.
func (s *Service) AddChannel(ctx context.Context, in ChannelInput) (*Channel, error) {
	p := authz.From(ctx)
	var v errs.Validation
	checkChannel(&v, &in)
	if err := v.Err(); err != nil {
		return nil, err
	}
	enabled := in.Enabled == nil || *in.Enabled
	evs, _ := json.Marshal(append([]string{}, in.Events...))
	id := db.NewID()
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO notification_channels (id, user_id, kind, target, secret, events, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			id, p.UserID, in.Kind, in.Target, in.Secret, string(evs), enabled, db.Ms(tx.Now()), db.Ms(tx.Now())); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "channel.create", EntityType: "channel", EntityID: id, Detail: map[string]any{"kind": in.Kind}})
	})
	if err != nil {
		return nil, err
	}
	return scanChannel(s.db.QueryRow(ctx, "SELECT id, kind, target, secret, events, enabled, version, created_at FROM notification_channels WHERE id = ?", id))
}

// checkChannel validates a channel's kind, target, secret and events.
func checkChannel(v *errs.Validation, in *ChannelInput) {
	if !oneOf(ChannelKinds, in.Kind) {
		v.Add("kind", "field.one_of", strings.Join(ChannelKinds, ", "))
	}
	in.Target = strings.TrimSpace(in.Target)
	switch {
	case in.Kind == "email" && !notify.ValidEmailTarget(in.Target):
		v.Add("target", "field.email")
	case in.Kind != "email" && !(strings.HasPrefix(in.Target, "https://") || strings.HasPrefix(in.Target, "http://")) || len(in.Target) > 1000:
		v.Add("target", "field.url")
	}
	if len(in.Secret) > 200 {
		v.Add("secret", "field.too_long", 200)
	}
	for _, e := range in.Events {
		if !oneOf(Events, e) {
			v.Add("events", "field.one_of", strings.Join(Events, ", "))
		}
	}
}

// UpdateChannel replaces one of the caller's channels: address, events,
// on/off. The kind is fixed; an empty secret keeps the stored one (secrets
// are write-only, so the form cannot send the old one back). version is the
// If-Match version (0 = none): a stale one is 412.
func (s *Service) UpdateChannel(ctx context.Context, id string, version int64, in ChannelInput) (*Channel, error) {
	p := authz.From(ctx)
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		cur, err := scanChannel(tx.QueryRow(ctx, "SELECT id, kind, target, secret, events, enabled, version, created_at FROM notification_channels WHERE id = ? AND user_id = ?", id, p.UserID))
		if isNotFound(err) {
			return errs.NotFoundf("entity.channel")
		}
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, cur.Version); err != nil {
			return err
		}
		var v errs.Validation
		if in.Kind == "" {
			in.Kind = cur.Kind
		} else if in.Kind != cur.Kind {
			v.Add("kind", "field.one_of", cur.Kind)
		}
		checkChannel(&v, &in)
		if err := v.Err(); err != nil {
			return err
		}
		enabled := in.Enabled == nil || *in.Enabled
		evs, _ := json.Marshal(append([]string{}, in.Events...))
		set, args := "target = ?, events = ?, enabled = ?, version = version + 1, updated_at = ?", []any{in.Target, string(evs), enabled, db.Ms(tx.Now())}
		if in.Secret != "" {
			set, args = set+", secret = ?", append(args, in.Secret)
		}
		res, err := tx.Exec(ctx, "UPDATE notification_channels SET "+set+" WHERE id = ? AND version = ?", append(args, id, cur.Version)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "channel.update", EntityType: "channel", EntityID: id,
			Detail: map[string]any{"kind": cur.Kind, "events": in.Events, "enabled": enabled, "secret_changed": in.Secret != ""}})
	})
	if err != nil {
		return nil, err
	}
	return scanChannel(s.db.QueryRow(ctx, "SELECT id, kind, target, secret, events, enabled, version, created_at FROM notification_channels WHERE id = ?", id))
}

// DeleteChannel removes one of the caller's channels.
func (s *Service) DeleteChannel(ctx context.Context, id string) error {
	p := authz.From(ctx)
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		res, err := tx.Exec(ctx, "DELETE FROM notification_channels WHERE id = ? AND user_id = ?", id, p.UserID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("entity.channel")
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "channel.delete", EntityType: "channel", EntityID: id})
	})
}

// TestChannel queues a test message through one of the caller's channels.
func (s *Service) TestChannel(ctx context.Context, id string) error {
	p := authz.From(ctx)
	var n int
	if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM notification_channels WHERE id = ? AND user_id = ?", id, p.UserID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errs.NotFoundf("entity.channel")
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		nid, did := db.NewID(), db.NewID()
		lang := p.Locale
		if _, err := tx.Exec(ctx, "INSERT INTO notifications (id, user_id, event, title, body, created_at, read_at) VALUES (?, ?, 'channel_test', ?, ?, ?, ?)",
			nid, p.UserID, i18n.T(lang, "notify.test_title"), i18n.T(lang, "notify.test_body"), db.Ms(tx.Now()), db.Ms(tx.Now())); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO deliveries (id, notification_id, channel_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
			did, nid, id, db.Ms(tx.Now()), db.Ms(tx.Now())); err != nil {
			return err
		}
		_, err := s.jobs.Enqueue(ctx, jobDeliver, map[string]string{"delivery_id": did}, jobs.EnqueueOptions{UniqueKey: "deliver:" + did, MaxAttempts: 3})
		return err
	})
}

// Deliveries lists the caller's recent deliveries with their status.
func (s *Service) Deliveries(ctx context.Context, limit int) ([]Delivery, error) {
	p := authz.From(ctx)
	rows, err := s.db.Query(ctx, `SELECT d.id, d.notification_id, d.channel_id, c.kind, n.title, d.status, d.attempts, d.last_error, d.delivered_at, d.created_at
		FROM deliveries d JOIN notifications n ON n.id = d.notification_id JOIN notification_channels c ON c.id = d.channel_id
		WHERE n.user_id = ? ORDER BY d.created_at DESC, d.id DESC LIMIT ?`, p.UserID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Delivery{}
	for rows.Next() {
		var d Delivery
		var delivered, created db.Time
		if err := rows.Scan(&d.ID, &d.NotificationID, &d.ChannelID, &d.ChannelKind, &d.Title, &d.Status, &d.Attempts, &d.LastError, &delivered, &created); err != nil {
			return nil, err
		}
		d.DeliveredAt, d.CreatedAt = timePtr(delivered), time.Time(created)
		out = append(out, d)
	}
	return out, rows.Err()
}
