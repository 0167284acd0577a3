package db

import (
	"context"
	"database/sql"
	"sync/atomic"
	"time"
)

// checkpointer copies the WAL back into the database file in the background.
//
// SQLite's default checkpoints inside the COMMIT that takes the WAL past
// 1,000 pages: that writer (and every member of its group, and everyone
// queued behind it) waits while up to 1,000 pages are copied and the file
// is fsynced, a latency spike on one request in a hundred or so, and a
// twentieth of a write request's CPU time. Here a goroutine with a
// connection of its own runs a PASSIVE checkpoint (which never blocks the
// writer or the readers) at most every checkpointEvery while there are new
// commits; as it checkpoints several commits at once, a page written by
// many of them is copied once. The writer keeps an automatic checkpoint at a
// much larger WAL as a backstop, should this one fall behind.
type checkpointer struct {
	db    *sql.DB
	dirty atomic.Bool
	stop  chan struct{}
	done  chan struct{}
	every time.Duration
}

const (
	checkpointEvery = 100 * time.Millisecond
	// writerAutoCheckpoint is the writer's own threshold, in pages.
	writerAutoCheckpoint = 10000
)

func startCheckpointer(d *sql.DB, every time.Duration) *checkpointer {
	c := &checkpointer{db: d, stop: make(chan struct{}), done: make(chan struct{}), every: every}
	go c.loop()
	return c
}

// committed tells the checkpointer there is something to copy.
func (c *checkpointer) committed() {
	if !c.dirty.Load() {
		c.dirty.Store(true)
	}
}

func (c *checkpointer) loop() {
	defer close(c.done)
	t := time.NewTicker(c.every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		if !c.dirty.Swap(false) {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var busy, log, done int
		err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &done)
		cancel()
		if err != nil {
			c.dirty.Store(true) // try again next time
		} else if done < log {
			// Readers still use the newest frames: finish next time.
			c.dirty.Store(true)
		}
	}
}

func (c *checkpointer) close() {
	close(c.stop)
	<-c.done
	c.db.Close()
}
