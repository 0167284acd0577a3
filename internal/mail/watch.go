package mail

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"prelude/internal/platform/db"
	"prelude/internal/platform/jobs"
)

// An IDLE watch keeps one IMAP connection per mailbox open in IDLE, outside
// the job workers (a watch lasts minutes and would otherwise starve every
// other job), and only notices: when the server announces new mail it makes
// the mailbox due and enqueues the fetch, which does the actual work under
// the fetch lease. One instance watches a mailbox at a time (idle_owner /
// idle_until); a watch ends after IdleFor, on any error, or on Stop, and the
// fetch it schedules then arms the next one.

// startWatch claims the mailbox's watch and runs it in the background.
func (s *Service) startWatch(mb *Mailbox) {
	select {
	case <-s.stopped:
		return
	default:
	}
	owner := db.NewID()
	now := s.db.Now()
	r, err := s.db.Exec(context.Background(), "UPDATE mail_mailboxes SET idle_owner = ?, idle_until = ? WHERE id = ? AND idle_until < ?",
		owner, db.Ms(now.Add(s.cfg.IdleFor+time.Minute)), mb.ID, db.Ms(now))
	if err != nil {
		s.log.Warn("claim IDLE watch", "mailbox", mb.ID, "err", err)
		return
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return // watched by another instance (or by this one already)
	}
	s.watches.Add(1)
	go func() {
		defer s.watches.Done()
		s.watch(mb, owner)
	}()
}

func (s *Service) watch(mb *Mailbox, owner string) {
	ctx, cancel := context.WithTimeout(s.bg, s.cfg.IdleFor)
	defer cancel()
	newMail := make(chan struct{}, 1)
	var known atomic.Uint32
	c, err := s.dialIMAP(ctx, mb, &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil && *d.NumMessages > known.Load() {
				known.Store(*d.NumMessages)
				select {
				case newMail <- struct{}{}:
				default:
				}
			}
		},
	})
	woken := false
	if err == nil {
		var sel *imap.SelectData
		if sel, err = c.Select(mb.Folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err == nil {
			known.Store(sel.NumMessages)
			// Mail that arrived between the fetch and this SELECT raises no
			// EXISTS during IDLE: compare the folder with the watermark.
			var lastUID, validity int64
			err = s.db.QueryRow(ctx, "SELECT last_uid, uid_validity FROM mail_mailboxes WHERE id = ?", mb.ID).Scan(&lastUID, &validity)
			if err == nil && (int64(sel.UIDValidity) != validity || sel.UIDNext > 0 && int64(sel.UIDNext)-1 > lastUID) {
				woken = true
			}
			if err == nil && !woken {
				var idle *imapclient.IdleCommand
				if idle, err = c.Idle(); err == nil {
					select {
					case <-newMail:
						woken = true
					case <-ctx.Done():
					case <-c.Closed():
					}
					idle.Close()
				}
			}
		}
		c.Close()
	}
	if err != nil && s.bg.Err() == nil {
		s.log.Warn("IMAP IDLE watch ended", "mailbox", mb.ID, "err", err)
	}
	bg := context.Background()
	if s.bg.Err() != nil {
		// Shutting down: leave the next fetch to the poll schedule, and free
		// the watch for another instance.
		s.db.Exec(bg, "UPDATE mail_mailboxes SET idle_owner = '', idle_until = 0 WHERE id = ? AND idle_owner = ?", mb.ID, owner)
		return
	}
	// New mail, or the watch's time is up: fetch now (which re-arms it).
	now := db.Ms(s.db.Now())
	if _, err := s.db.Exec(bg, "UPDATE mail_mailboxes SET idle_owner = '', idle_until = 0, next_fetch_at = ? WHERE id = ? AND idle_owner = ?", now, mb.ID, owner); err != nil {
		s.log.Warn("end IDLE watch", "mailbox", mb.ID, "err", err)
		return
	}
	if woken {
		key := "mail.fetch:" + mb.ID + ":" + strconv.FormatInt(now, 10)
		if _, err := s.jobs.Enqueue(bg, jobFetch, fetchPayload{MailboxID: mb.ID}, jobs.EnqueueOptions{UniqueKey: key, MaxAttempts: 1}); err != nil {
			s.log.Warn("enqueue fetch after IDLE", "mailbox", mb.ID, "err", err)
		}
	}
}

// Stop ends every IDLE watch of this instance and waits for them (at most a
// few seconds). Call it before stopping the job queue.
func (s *Service) Stop() {
	s.stopOnce.Do(func() {
		close(s.stopped)
		s.cancelBG()
	})
	done := make(chan struct{})
	go func() {
		s.watches.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}
