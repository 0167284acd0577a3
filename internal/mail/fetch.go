package mail

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/jobs"
)

const (
	jobDispatch = "mail.dispatch"
	jobFetch    = "mail.fetch"
	// fetchTimeout bounds one fetch run (a big first sync continues in the
	// next run: progress is committed per mail).
	fetchTimeout = 3 * time.Minute
	// lease is how long a fetch run holds its mailbox without renewal; it
	// outlives fetchTimeout so a live run never loses it, and an instance
	// that died frees its mailboxes after it.
	lease = fetchTimeout + time.Minute
)

// RegisterJobs registers the dispatcher (every few seconds it enqueues a
// fetch for each mailbox that is due) and the fetch and send jobs.
func (s *Service) RegisterJobs(q *jobs.Queue) {
	q.Register(jobDispatch, s.dispatch, jobs.KindOptions{MaxAttempts: 3})
	q.Register(jobFetch, s.fetchJob, jobs.KindOptions{MaxAttempts: 3, Timeout: fetchTimeout + 30*time.Second})
	q.Register(jobSend, s.send, jobs.KindOptions{MaxAttempts: sendAttempts, Timeout: 3 * time.Minute})
	q.Every("mail-dispatch", 5*time.Second, jobDispatch, nil)
}

type fetchPayload struct {
	MailboxID string `json:"mailbox_id"`
}

// dispatch enqueues one fetch per due mailbox. The unique key names the due
// time, so every instance's dispatcher enqueues the same job at most once.
func (s *Service) dispatch(ctx context.Context, _ *jobs.Job) error {
	now := db.Ms(s.db.Now())
	rows, err := s.db.Query(ctx, "SELECT id, next_fetch_at FROM mail_mailboxes WHERE enabled = ? AND next_fetch_at <= ? AND lease_until < ?", true, now, now)
	if err != nil {
		return err
	}
	type due struct {
		id string
		at int64
	}
	var list []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.at); err != nil {
			rows.Close()
			return err
		}
		list = append(list, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, d := range list {
		key := "mail.fetch:" + d.id + ":" + strconv.FormatInt(d.at, 10)
		if _, err := s.jobs.Enqueue(ctx, jobFetch, fetchPayload{MailboxID: d.id}, jobs.EnqueueOptions{UniqueKey: key, MaxAttempts: 1}); err != nil {
			return err
		}
	}
	return nil
}

// fetchJob runs one fetch and records its outcome on the mailbox. It never
// fails as a job: the mailbox's next_fetch_at is the retry schedule, and
// last_error is what the administrator sees.
func (s *Service) fetchJob(ctx context.Context, j *jobs.Job) error {
	var p fetchPayload
	if err := j.Decode(&p); err != nil {
		return jobs.Permanent(err)
	}
	_, err := s.FetchNow(ctx, p.MailboxID)
	if err != nil {
		s.log.Warn("mail fetch failed", "mailbox", p.MailboxID, "err", err)
	}
	return nil
}

// FetchResult says what one fetch run did.
type FetchResult struct {
	Fetched int // new mails recorded (of any kind)
	Skipped int // already recorded (refetch after UIDVALIDITY reset, or another instance)
}

// errLeaseLost means another instance took the mailbox over (this run was
// slower than the lease): stop without touching anything.
var errLeaseLost = errors.New("mail: mailbox lease lost")

// FetchNow fetches a mailbox's new mail once, holding its lease so that no
// other instance fetches it meanwhile. Every mail is recorded, and handed to
// the sink, in its own transaction together with the new UID watermark, so
// a run that dies at any point loses nothing and repeats nothing.
func (s *Service) FetchNow(ctx context.Context, mailboxID string) (FetchResult, error) {
	var res FetchResult
	sink := s.currentSink()
	owner := db.NewID()
	now := s.db.Now()
	r, err := s.db.Exec(ctx, "UPDATE mail_mailboxes SET lease_owner = ?, lease_until = ? WHERE id = ? AND enabled = ? AND lease_until < ?",
		owner, db.Ms(now.Add(lease)), mailboxID, true, db.Ms(now))
	if err != nil {
		return res, err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return res, nil // disabled, deleted, or being fetched elsewhere
	}
	mb, err := s.getMailbox(ctx, s.db, mailboxID)
	if err != nil {
		return res, err
	}
	var due int64
	if err := s.db.QueryRow(ctx, "SELECT next_fetch_at FROM mail_mailboxes WHERE id = ?", mailboxID).Scan(&due); err != nil {
		return res, err
	}
	var runErr error
	canIdle := false
	if sink == nil {
		runErr = errors.New("no inbox is connected to receive mail")
	} else {
		canIdle, runErr = s.fetchRun(ctx, mb, owner, sink, &res)
	}
	watch := canIdle && runErr == nil && s.cfg.IdleFor > 0
	wait := time.Duration(mb.PollIntervalSeconds) * time.Second
	if watch {
		// An IDLE watch brings the next fetch forward when mail arrives;
		// the poll is only the fallback should the watch fail.
		wait = max(wait, s.cfg.IdleFor)
	}
	msg := ""
	if runErr != nil && !errors.Is(runErr, errLeaseLost) {
		msg = clip(runErr.Error(), 500)
	}
	// next_fetch_at moves on only if nothing brought it forward meanwhile
	// (an IDLE watch that saw new mail, an administrator's edit).
	end := s.db.Now()
	_, err = s.db.Exec(context.WithoutCancel(ctx), `UPDATE mail_mailboxes SET lease_owner = '', lease_until = 0, last_fetch_at = ?, last_error = ?,
		next_fetch_at = CASE WHEN next_fetch_at = ? THEN ? ELSE next_fetch_at END
		WHERE id = ? AND lease_owner = ?`, db.Ms(end), msg, due, db.Ms(end.Add(wait)), mailboxID, owner)
	if runErr != nil {
		return res, runErr
	}
	if watch && err == nil {
		s.startWatch(mb)
	}
	return res, err
}

// dialIMAP connects and signs in per the mailbox's TLS mode.
func (s *Service) dialIMAP(ctx context.Context, mb *Mailbox, h *imapclient.UnilateralDataHandler) (*imapclient.Client, error) {
	addr := net.JoinHostPort(mb.IMAPHost, strconv.Itoa(mb.IMAPPort))
	opts := &imapclient.Options{
		TLSConfig:             &tls.Config{ServerName: mb.IMAPHost, InsecureSkipVerify: s.cfg.InsecureSkipVerify, MinVersion: tls.VersionTLS12},
		Dialer:                &net.Dialer{Timeout: s.cfg.DialTimeout},
		UnilateralDataHandler: h,
	}
	var c *imapclient.Client
	var err error
	switch mb.IMAPTLS {
	case TLSImplicit:
		c, err = imapclient.DialTLS(addr, opts)
	case TLSStart:
		c, err = imapclient.DialStartTLS(addr, opts)
	default:
		c, err = imapclient.DialInsecure(addr, opts)
	}
	if err != nil {
		return nil, err
	}
	// The client has no context of its own: closing the connection is how
	// a cancelled run interrupts a blocked command.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	go func() {
		<-c.Closed()
		stop()
	}()
	if mb.imapPassword == "" && mb.IMAPPasswordSet {
		c.Close()
		return nil, errKeyChanged
	}
	if err := c.Login(mb.IMAPUsername, mb.imapPassword).Wait(); err != nil {
		c.Close()
		return nil, &authError{err}
	}
	return c, nil
}

// fetchRun fetches everything above the watermark and reports whether the
// server supports IDLE.
func (s *Service) fetchRun(ctx context.Context, mb *Mailbox, owner string, sink Sink, res *FetchResult) (canIdle bool, err error) {
	c, err := s.dialIMAP(ctx, mb, nil)
	if err != nil {
		return false, err
	}
	defer c.Close()
	sel, err := c.Select(mb.Folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return false, fmt.Errorf("select %s: %w", mb.Folder, err)
	}
	lastUID := mb.LastUID
	if int64(sel.UIDValidity) != mb.uidValidity {
		// The folder was recreated (or first fetch): UIDs mean nothing any
		// more. Start again from the bottom; mails already recorded are
		// recognised by Message-ID and skipped.
		if mb.uidValidity != 0 {
			s.log.Warn("UIDVALIDITY changed: refetching the folder, duplicates are skipped", "mailbox", mb.ID, "old", mb.uidValidity, "new", sel.UIDValidity)
		}
		r, err := s.db.Exec(ctx, "UPDATE mail_mailboxes SET uid_validity = ?, last_uid = 0 WHERE id = ? AND lease_owner = ?", int64(sel.UIDValidity), mb.ID, owner)
		if err != nil {
			return false, err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return false, errLeaseLost
		}
		mb.uidValidity, lastUID = int64(sel.UIDValidity), 0
	}
	if lastUID, err = s.fetchNew(ctx, c, mb, owner, sink, lastUID, res); err != nil {
		return false, err
	}
	// Every UID below UIDNEXT (as of SELECT) that still exists was in the
	// search above; the rest were expunged before we saw them. Moving the
	// watermark past them keeps the IDLE watch from taking the gap for new
	// mail again and again.
	if top := int64(sel.UIDNext) - 1; sel.UIDNext > 0 && top > lastUID {
		if err := s.advance(ctx, mb, owner, top); err != nil {
			return false, err
		}
	}
	return c.Caps().Has(imap.CapIdle) || c.Caps().Has(imap.CapIMAP4rev2), nil
}

type candidate struct {
	uid      imap.UID
	size     int64
	envelope *imap.Envelope
	date     time.Time
}

// fetchNew records every mail with a UID above lastUID, in UID order, in
// batches of BatchSize, and returns the new watermark.
func (s *Service) fetchNew(ctx context.Context, c *imapclient.Client, mb *Mailbox, owner string, sink Sink, lastUID int64, res *FetchResult) (int64, error) {
	var set imap.UIDSet
	set.AddRange(imap.UID(lastUID+1), 0) // lastUID+1:*
	found, err := c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{set}}, nil).Wait()
	if err != nil {
		return lastUID, fmt.Errorf("list new mail: %w", err)
	}
	var uids []imap.UID
	for _, u := range found.AllUIDs() {
		// "n:*" always matches the last mail even when its UID is below n.
		if int64(u) > lastUID {
			uids = append(uids, u)
		}
	}
	slices.Sort(uids)
	for start := 0; start < len(uids); start += s.cfg.BatchSize {
		var meta imap.UIDSet
		meta.AddNum(uids[start:min(start+s.cfg.BatchSize, len(uids))]...)
		// Sizes and envelopes first: an oversized mail is recorded as
		// rejected from its envelope without ever being downloaded.
		msgs, err := c.Fetch(meta, &imap.FetchOptions{UID: true, RFC822Size: true, Envelope: true, InternalDate: true}).Collect()
		if err != nil {
			return lastUID, fmt.Errorf("list new mail: %w", err)
		}
		var batch []candidate
		for _, m := range msgs {
			batch = append(batch, candidate{uid: m.UID, size: m.RFC822Size, envelope: m.Envelope, date: m.InternalDate})
		}
		slices.SortFunc(batch, func(a, b candidate) int { return cmpUID(a.uid, b.uid) })
		var want imap.UIDSet
		for _, m := range batch {
			if m.size <= s.cfg.Limits.MaxSize {
				want.AddNum(m.uid)
			}
		}
		bodies := map[imap.UID][]byte{}
		var streamErr error
		if len(want) > 0 {
			section := &imap.FetchItemBodySection{Peek: true}
			cmd := c.Fetch(want, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
			// Record mails as they arrive, in UID order, so a connection
			// that drops mid-batch keeps the progress made before it.
			next := 0
			for {
				md := cmd.Next()
				if md == nil {
					break
				}
				buf, err := md.Collect()
				if err != nil {
					streamErr = err
					break
				}
				raw := buf.FindBodySection(section)
				if raw == nil {
					// A response cut short can end without its body: that
					// mail is fetched again next run, never recorded empty.
					streamErr = fmt.Errorf("no body for uid %d", buf.UID)
					break
				}
				bodies[buf.UID] = raw
				for next < len(batch) {
					m := batch[next]
					raw, ok := bodies[m.uid]
					if !ok && m.size <= s.cfg.Limits.MaxSize {
						break
					}
					if err := s.record(ctx, mb, owner, sink, m, raw, res); err != nil {
						cmd.Close()
						return lastUID, err
					}
					lastUID = int64(m.uid)
					delete(bodies, m.uid)
					next++
				}
			}
			if err := cmd.Close(); err != nil && streamErr == nil {
				streamErr = err
			}
			batch = batch[next:]
		}
		if streamErr != nil {
			return lastUID, fmt.Errorf("fetch mail: %w", streamErr)
		}
		// What is left: oversized mails (never downloaded) and any mail the
		// server did not return (expunged meanwhile).
		for _, m := range batch {
			if int64(m.uid) <= lastUID {
				continue
			}
			raw, ok := bodies[m.uid]
			if !ok && m.size <= s.cfg.Limits.MaxSize {
				// Gone from the server between listing and fetching: nothing
				// to record, but do not stop the mails behind it.
				if err := s.advance(ctx, mb, owner, int64(m.uid)); err != nil {
					return lastUID, err
				}
			} else if err := s.record(ctx, mb, owner, sink, m, raw, res); err != nil {
				return lastUID, err
			}
			lastUID = int64(m.uid)
		}
	}
	return lastUID, nil
}

func cmpUID(a, b imap.UID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// advance moves the watermark to uid while still holding the lease.
func (s *Service) advance(ctx context.Context, mb *Mailbox, owner string, uid int64) error {
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		return s.claimUID(ctx, tx, mb, owner, uid)
	})
}

// claimUID advances the watermark inside tx, renewing the lease; it fails
// (and so rolls back the mail's recording) if another instance has taken
// over or the folder was reset meanwhile.
func (s *Service) claimUID(ctx context.Context, tx *db.Tx, mb *Mailbox, owner string, uid int64) error {
	r, err := tx.Exec(ctx, `UPDATE mail_mailboxes SET last_uid = ?, lease_until = ? WHERE id = ? AND lease_owner = ? AND uid_validity = ? AND last_uid < ?`,
		uid, db.Ms(tx.Now().Add(lease)), mb.ID, owner, mb.uidValidity, uid)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return errLeaseLost
	}
	return nil
}

// record parses one mail and, in one transaction, advances the watermark,
// records the mail once (by Message-ID) and delivers it to the sink, or
// records it as a bounce, an auto-reply or rejected.
func (s *Service) record(ctx context.Context, mb *Mailbox, owner string, sink Sink, c candidate, raw []byte, res *FetchResult) error {
	var p *Parsed
	var parseErr error
	if c.size > s.cfg.Limits.MaxSize {
		parseErr = &RejectedError{Reason: ReasonTooLarge, Detail: fmt.Sprintf("%d bytes", c.size)}
	} else {
		p, parseErr = Parse(raw, s.cfg.Limits)
	}
	rej, rejected := isRejected(parseErr)
	if parseErr != nil && !rejected {
		rej, rejected = &RejectedError{Reason: ReasonUnreadable, Detail: clip(parseErr.Error(), 200)}, true
	}
	if rejected {
		// Keep what the server's envelope tells about it, so the
		// administrator can find the mail in the mailbox itself.
		p = &Parsed{Kind: KindRejected, Reason: rej.Reason}
		if rej.Detail != "" {
			p.Reason += ": " + rej.Detail
		}
		if e := c.envelope; e != nil {
			p.MessageID, p.Subject, p.Date = clean(e.MessageID), clean(e.Subject), e.Date
			if len(e.From) > 0 {
				p.From.Email = strings.ToLower(clean(e.From[0].Addr()))
			}
		}
	}
	key := p.MessageID
	switch {
	case key != "":
	case raw != nil:
		sum := sha256.Sum256(raw)
		key = "sha256:" + hex.EncodeToString(sum[:16])
	default:
		key = "uid:" + strconv.FormatInt(mb.uidValidity, 10) + ":" + strconv.FormatUint(uint64(c.uid), 10)
	}
	date := p.Date
	if date.IsZero() {
		date = c.date
	}
	var fresh bool
	save := func() error {
		return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			var err error
			fresh, err = s.recordTx(ctx, tx, mb, owner, sink, c, key, date, p)
			return err
		})
	}
	err := save()
	var refused *sinkRefused
	if errors.As(err, &refused) {
		// The inbox refused the mail as invalid (not a passing failure):
		// its partial writes are rolled back; keep the mail recorded as
		// rejected rather than block every mail behind it.
		p.Kind, p.Reason = KindRejected, "inbox_refused: "+refused.cause.Error()
		err = save()
	}
	if err == nil {
		if fresh {
			res.Fetched++
		} else {
			res.Skipped++
		}
	}
	return err
}

// recordTx records one mail in tx and reports whether it was new.
func (s *Service) recordTx(ctx context.Context, tx *db.Tx, mb *Mailbox, owner string, sink Sink, c candidate, key string, date time.Time, p *Parsed) (bool, error) {
	if err := s.claimUID(ctx, tx, mb, owner, int64(c.uid)); err != nil {
		return false, err
	}
	id := db.NewID()
	var sentAt any
	if !date.IsZero() {
		sentAt = db.Ms(date)
	}
	r, err := tx.Exec(ctx, `INSERT INTO mail_incoming (id, mailbox_id, message_key, message_id, uid_validity, uid, kind, reason, from_address, subject, size, sent_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (mailbox_id, message_key) DO NOTHING`,
		id, mb.ID, clip(key, 500), clip(p.MessageID, 500), mb.uidValidity, int64(c.uid), p.Kind, clip(p.Reason, 500), clip(p.From.Email, 254), clip(p.Subject, 500), c.size, sentAt, db.Ms(tx.Now()))
	if err != nil {
		return false, err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return false, nil // recorded before (a refetch after a UIDVALIDITY reset)
	}
	switch p.Kind {
	case KindBounce:
		return true, s.markBounced(ctx, tx, p)
	case KindDelivered:
		in, err := s.keepAttachments(ctx, tx, id, p)
		if err != nil {
			return false, err
		}
		in.MailboxID, in.Date = mb.ID, date
		if err := sink.DeliverMail(ctx, tx, in); err != nil {
			if k := errs.KindOf(err); k == errs.Invalid || k == errs.BadRequest {
				return false, &sinkRefused{cause: err}
			}
			return false, fmt.Errorf("deliver mail uid %d: %w", c.uid, err)
		}
	}
	return true, nil
}

type sinkRefused struct{ cause error }

func (e *sinkRefused) Error() string { return "inbox refused the mail: " + e.cause.Error() }

func (s *Service) keepAttachments(ctx context.Context, tx *db.Tx, incomingID string, p *Parsed) (Incoming, error) {
	in := Incoming{MessageID: p.MessageID, InReplyTo: p.InReplyTo, References: p.References, From: p.From, To: p.To, Cc: p.Cc,
		Subject: p.Subject, Text: p.Text, HTML: p.HTML, Attachments: []Attachment{}}
	for _, a := range p.Attachments {
		att := Attachment{ID: db.NewID(), Filename: a.Filename, ContentType: a.ContentType, Size: int64(len(a.Content))}
		if _, err := tx.Exec(ctx, "INSERT INTO mail_attachments (id, incoming_id, filename, content_type, size, content) VALUES (?, ?, ?, ?, ?, ?)",
			att.ID, incomingID, att.Filename, att.ContentType, att.Size, a.Content); err != nil {
			return in, err
		}
		in.Attachments = append(in.Attachments, att)
	}
	return in, nil
}

// markBounced marks the outgoing mails a bounce reports on as failed, with
// the server's diagnostic as the reason.
func (s *Service) markBounced(ctx context.Context, tx *db.Tx, p *Parsed) error {
	for _, id := range p.BounceOf {
		if _, err := tx.Exec(ctx, "UPDATE mail_outgoing SET status = 'failed', last_error = ?, updated_at = ? WHERE message_id = ? AND status = 'sent'",
			clip("bounced: "+p.Reason, 500), db.Ms(tx.Now()), id); err != nil {
			return err
		}
	}
	return nil
}
