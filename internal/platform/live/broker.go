package live

import (
	"context"
	"crypto/sha256"
	"database/sql/driver"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/stdlib"

	"prelude/internal/platform/db"
)

// New returns the broker for d: in-process fan-out on SQLite, LISTEN/NOTIFY
// on PostgreSQL. The returned broker also implements io.Closer.
func New(d *db.DB) (Broker, error) {
	if d.Dialect != db.Postgres {
		return &memBroker{db: d, hub: newHub()}, nil
	}
	return newPG(d)
}

func checkPublish(topic string, payload []byte) error {
	if err := validTopic(topic); err != nil {
		return err
	}
	if len(payload) > MaxPayload {
		return fmt.Errorf("live: payload of %d bytes exceeds %d", len(payload), MaxPayload)
	}
	return nil
}

// callerTx returns the write transaction ctx carries, if any (a read-only
// transaction never commits anything to announce).
func callerTx(ctx context.Context) *db.Tx {
	if tx := db.Current(ctx); tx != nil && tx.Writable() {
		return tx
	}
	return nil
}

// InProcess reports whether b delivers within this process only (the
// SQLite broker): a publish inside a transaction then does nothing but
// wait for the commit, and a caller may as well build and publish its
// event after the commit (outside the transaction) with the same effect.
func InProcess(b any) bool {
	_, ok := b.(*memBroker)
	return ok
}

// memBroker is the single-instance broker.
type memBroker struct {
	db  *db.DB
	hub *hub
}

func (b *memBroker) Publish(ctx context.Context, topic string, payload []byte) error {
	if err := checkPublish(topic, payload); err != nil {
		return err
	}
	ev := Event{Topic: topic, Payload: append([]byte(nil), payload...)}
	if tx := callerTx(ctx); tx != nil {
		tx.AfterCommit(func() { b.hub.deliver(ev) })
		return nil
	}
	b.hub.deliver(ev)
	return nil
}

func (b *memBroker) Subscribe(ctx context.Context, topics ...string) (<-chan Event, error) {
	return b.hub.subscribe(ctx, topics)
}

// Close ends every subscription.
func (b *memBroker) Close() error {
	b.hub.close()
	return nil
}

// notifyLimit keeps a NOTIFY payload under PostgreSQL's 8000-byte limit;
// larger events travel as the id of a live_events row.
const notifyLimit = 7900

// pruneAfter is how long a large event's row is kept: long enough for every
// listening instance to read it right after the commit.
const pruneAfter = 10 * time.Minute

type pgBroker struct {
	db      *db.DB
	hub     *hub
	channel string
	log     *slog.Logger

	stop    context.CancelFunc
	done    chan struct{}
	pruneMu sync.Mutex
	pruned  time.Time
}

func newPG(d *db.DB) (*pgBroker, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Instances share a channel when they share a schema; tests (one schema
	// each) and unrelated deployments on one server stay apart.
	var schema string
	if err := d.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	sum := sha256.Sum256([]byte(schema))
	runCtx, stop := context.WithCancel(context.Background())
	b := &pgBroker{db: d, hub: newHub(), channel: "prelude_live_" + hex.EncodeToString(sum[:6]),
		log: slog.Default().With("component", "live"), stop: stop, done: make(chan struct{})}
	ready := make(chan error, 1)
	go b.listen(runCtx, ready)
	go b.watch(runCtx)
	select {
	case err := <-ready:
		if err != nil {
			stop()
			<-b.done
			return nil, fmt.Errorf("live: listen: %w", err)
		}
	case <-ctx.Done():
		stop()
		<-b.done
		return nil, fmt.Errorf("live: listen: %w", ctx.Err())
	}
	return b, nil
}

// watchEvery is how often the broker checks that its database is still
// open: a closed *sql.DB does not interrupt the listening connection.
const watchEvery = 5 * time.Second

// watch closes the broker once its database has been closed without
// Close (tests, an instance torn down in a hurry), so the listening
// connection and its goroutine do not outlive it.
func (b *pgBroker) watch(ctx context.Context) {
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := b.db.Ping(pctx)
		cancel()
		if err != nil && strings.Contains(err.Error(), "database is closed") {
			go b.Close()
			return
		}
	}
}

// Close stops listening and ends every subscription.
func (b *pgBroker) Close() error {
	b.stop()
	<-b.done
	b.hub.close()
	return nil
}

func (b *pgBroker) Subscribe(ctx context.Context, topics ...string) (<-chan Event, error) {
	return b.hub.subscribe(ctx, topics)
}

// encode turns an event into notification text: "t" topic "\n" payload for
// text, "b" topic "\n" base64 for bytes PostgreSQL text cannot hold (NUL,
// invalid UTF-8).
func encode(topic string, payload []byte) string {
	if utf8.Valid(payload) && !strings.ContainsRune(string(payload), 0) {
		return "t" + topic + "\n" + string(payload)
	}
	return "b" + topic + "\n" + base64.StdEncoding.EncodeToString(payload)
}

func decode(msg string) (Event, error) {
	if len(msg) < 2 {
		return Event{}, errors.New("live: short message")
	}
	topic, body, ok := strings.Cut(msg[1:], "\n")
	if !ok {
		return Event{}, errors.New("live: malformed message")
	}
	switch msg[0] {
	case 't':
		return Event{Topic: topic, Payload: []byte(body)}, nil
	case 'b':
		p, err := base64.StdEncoding.DecodeString(body)
		return Event{Topic: topic, Payload: p}, err
	}
	return Event{}, errors.New("live: unknown message kind")
}

func (b *pgBroker) Publish(ctx context.Context, topic string, payload []byte) error {
	if err := checkPublish(topic, payload); err != nil {
		return err
	}
	msg := encode(topic, payload)
	if tx := callerTx(ctx); tx != nil {
		// NOTIFY is transactional: queued now, sent at COMMIT, dropped on
		// rollback. (A read-only transaction would refuse it: callerTx
		// leaves those out, so such a caller publishes on its own.)
		return b.publishIn(ctx, tx, msg)
	}
	if len(msg) <= notifyLimit {
		_, err := b.db.Exec(ctx, "SELECT pg_notify(?, ?)", b.channel, msg)
		return err
	}
	return b.db.InTx(context.WithoutCancel(ctx), func(ctx context.Context, tx *db.Tx) error { return b.publishIn(ctx, tx, msg) })
}

func (b *pgBroker) publishIn(ctx context.Context, tx *db.Tx, msg string) error {
	if len(msg) > notifyLimit {
		id := db.NewID()
		if _, err := tx.Exec(ctx, "INSERT INTO live_events (id, topic, payload, created_at) VALUES (?, '', ?, ?)", id, msg, db.Ms(tx.Now())); err != nil {
			return err
		}
		msg = "r" + id
		tx.AfterCommit(b.maybePrune)
	}
	// NOTIFY is sent at COMMIT anyway: the transaction's notifications go
	// out in one statement just before it (a round trip per event was a
	// twentieth of posting a message on PostgreSQL).
	pending := tx.Local(notifyKey{b}, func() any {
		p := &notifications{}
		tx.BeforeCommit(func(ctx context.Context, tx *db.Tx) error { return b.flush(ctx, tx, p) })
		return p
	}).(*notifications)
	pending.msgs = append(pending.msgs, msg)
	return nil
}

type notifyKey struct{ b *pgBroker }

type notifications struct{ msgs []string }

// flush issues the gathered notifications in order.
func (b *pgBroker) flush(ctx context.Context, tx *db.Tx, p *notifications) error {
	msgs := p.msgs
	p.msgs = nil
	for chunk := range slices.Chunk(msgs, 100) {
		calls := strings.TrimSuffix(strings.Repeat("pg_notify(?, ?), ", len(chunk)), ", ")
		args := make([]any, 0, 2*len(chunk))
		for _, m := range chunk {
			args = append(args, b.channel, m)
		}
		if _, err := tx.Exec(ctx, "SELECT "+calls, args...); err != nil {
			return err
		}
	}
	return nil
}

// maybePrune deletes old large-event rows, at most once a minute per
// instance, off the publisher's path.
func (b *pgBroker) maybePrune() {
	b.pruneMu.Lock()
	if time.Since(b.pruned) < time.Minute {
		b.pruneMu.Unlock()
		return
	}
	b.pruned = time.Now()
	b.pruneMu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := b.db.Exec(ctx, "DELETE FROM live_events WHERE created_at < ?", db.Ms(b.db.Now().Add(-pruneAfter))); err != nil {
			b.log.Warn("pruning live events failed", "err", err)
		}
	}()
}

// listen holds one connection in LISTEN and feeds the hub; when the
// connection dies it reconnects with backoff and resyncs every subscriber,
// since notifications sent in between are lost.
func (b *pgBroker) listen(ctx context.Context, ready chan<- error) {
	defer close(b.done)
	backoff := 50 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		err := b.listenOnce(ctx, func() {
			if first {
				first = false
				ready <- nil
			} else {
				b.hub.resyncAll()
			}
			backoff = 50 * time.Millisecond
		})
		if ctx.Err() != nil {
			return
		}
		if err != nil && strings.Contains(err.Error(), "database is closed") {
			// The instance is shutting down without Close: nothing to
			// listen for any more.
			if first {
				ready <- err
			}
			return
		}
		if first {
			ready <- err
			return
		}
		b.log.Warn("live events: listening connection lost; reconnecting", "err", err, "retry_in", backoff.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (b *pgBroker) listenOnce(ctx context.Context, onListening func()) error {
	conn, err := b.db.Raw().Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var loopErr error
	// The callback always reports a bad connection, so the pool discards it
	// instead of reusing a connection still subscribed to the channel.
	_ = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			loopErr = fmt.Errorf("unexpected driver connection %T", dc)
			return driver.ErrBadConn
		}
		pc := sc.Conn()
		if _, err := pc.Exec(ctx, "LISTEN "+b.channel); err != nil {
			loopErr = err
			return driver.ErrBadConn
		}
		onListening()
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				loopErr = err
				return driver.ErrBadConn
			}
			b.handle(ctx, n.Payload)
		}
	})
	return loopErr
}

func (b *pgBroker) handle(ctx context.Context, msg string) {
	if strings.HasPrefix(msg, "r") {
		var stored string
		if err := b.db.QueryRow(ctx, "SELECT payload FROM live_events WHERE id = ?", msg[1:]).Scan(&stored); err != nil {
			b.log.Warn("live event row unreadable; resyncing subscribers", "id", msg[1:], "err", err)
			b.hub.resyncAll()
			return
		}
		msg = stored
	}
	ev, err := decode(msg)
	if err != nil {
		b.log.Warn("malformed live event ignored", "err", err)
		return
	}
	b.hub.deliver(ev)
}
