package db_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"prelude/internal/platform/db"
)

// Every reader inside a read transaction, each running a statement the
// cache has not seen: none may wait for a second reader to prepare it
// (that waited forever once all readers were taken).
func TestReadTransactionsDoNotWaitForAnotherReader(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, db.Config{DataDir: t.TempDir(), Readers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Exec(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(ctx, "INSERT INTO t (id, v) VALUES (1, 'a')"); err != nil {
		t.Fatal(err)
	}
	for round := range 5 {
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		inside := make(chan struct{}, 2)
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- d.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
					// Both transactions hold their reader before either queries.
					var n int
					if err := tx.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil {
						return err
					}
					inside <- struct{}{}
					for len(inside) < 2 {
						time.Sleep(time.Millisecond)
					}
					var v string
					return tx.QueryRow(ctx, fmt.Sprintf("SELECT v FROM t WHERE id = ? AND %d = %d", round*10+i, round*10+i), 1).Scan(&v)
				})
			}()
		}
		wg.Wait()
		cancel()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
}
