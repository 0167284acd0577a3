package db

import (
	"container/list"
	"context"
	"database/sql"
	"sync"
	"time"
)

// stmtCache keeps the most recently used statements prepared on SQLite's
// reader pool. modernc's driver parses every statement it is given; a
// prepared statement is parsed once per connection. database/sql prepares a
// pool statement on each connection the first time it runs there and keeps
// it while the statement is open.
//
// Closing an evicted statement while a query on it is still reading rows is
// safe: database/sql finalises it once the last rows are closed (and
// sqlitedrv.go once its own rows are). users keeps it from being closed
// between get and its use.
type stmtCache struct {
	db  *sql.DB
	cap int

	mu       sync.Mutex
	m        map[string]*list.Element
	lru      list.List
	warming  map[string]bool // being prepared in the background for cached()
	warmWait sync.WaitGroup
}

type poolStmt struct {
	q       string
	st      *sql.Stmt
	users   int
	evicted bool
}

func newStmtCache(d *sql.DB, capacity int) *stmtCache {
	return &stmtCache{db: d, cap: capacity, m: map[string]*list.Element{}, warming: map[string]bool{}}
}

// cached returns q if it is already prepared, without preparing it; call
// put when the statement has been used. A read transaction must not call
// get: preparing takes a second connection from the pool while the
// transaction holds one, and with every reader inside a transaction that
// waits for itself (seen as a hang of eight readers). Instead a miss is
// prepared in the background, once a connection is free, for next time.
func (c *stmtCache) cached(q string) *poolStmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[q]; ok {
		c.lru.MoveToFront(e)
		ps := e.Value.(*poolStmt)
		ps.users++
		return ps
	}
	if !c.warming[q] {
		c.warming[q] = true
		c.warmWait.Add(1)
		go func() {
			defer c.warmWait.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if ps, err := c.get(ctx, q); err == nil {
				c.put(ps)
			}
			c.mu.Lock()
			delete(c.warming, q)
			c.mu.Unlock()
		}()
	}
	return nil
}

// get returns q prepared; call put when the statement has been used.
func (c *stmtCache) get(ctx context.Context, q string) (*poolStmt, error) {
	c.mu.Lock()
	if e, ok := c.m[q]; ok {
		c.lru.MoveToFront(e)
		ps := e.Value.(*poolStmt)
		ps.users++
		c.mu.Unlock()
		return ps, nil
	}
	c.mu.Unlock()
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if e, ok := c.m[q]; ok { // prepared meanwhile by another caller
		c.lru.MoveToFront(e)
		ps := e.Value.(*poolStmt)
		ps.users++
		c.mu.Unlock()
		st.Close()
		return ps, nil
	}
	ps := &poolStmt{q: q, st: st, users: 1}
	c.m[q] = c.lru.PushFront(ps)
	var old *poolStmt
	if c.lru.Len() > c.cap {
		old = c.lru.Remove(c.lru.Back()).(*poolStmt)
		delete(c.m, old.q)
		old.evicted = true
		if old.users > 0 {
			old = nil // closed by its last user
		}
	}
	c.mu.Unlock()
	if old != nil {
		old.st.Close()
	}
	return ps, nil
}

func (c *stmtCache) put(ps *poolStmt) {
	c.mu.Lock()
	ps.users--
	closeIt := ps.evicted && ps.users == 0
	c.mu.Unlock()
	if closeIt {
		ps.st.Close()
	}
}

func (c *stmtCache) closeAll() {
	c.warmWait.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.m {
		e.Value.(*poolStmt).st.Close()
	}
	c.m = map[string]*list.Element{}
	c.lru.Init()
}
