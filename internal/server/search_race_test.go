package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

// Messages posted while the search index drains are all indexed: on SQLite
// a drain can share a group commit with the posts that queued their
// documents (writer.go), and must not take a document whose change it
// cannot see yet as deleted.
func TestSearchIndexesMessagesPostedDuringDrain(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		benchClients(admin)
		var ids []string
		for i := range 8 {
			ids = append(ids, admin.Do("POST", "/api/v1/inquiries", map[string]any{"channel": "web_chat", "body": fmt.Sprint("咨询 ", i)}).Expect(t, 201).Str("id"))
		}
		ctx, cancel := context.WithCancel(context.Background())
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			for ctx.Err() == nil {
				e.Srv.Search.Drain(ctx, 20)
			}
		}()
		const posts = 400
		next := make(chan int, posts)
		for i := range posts {
			next <- i
		}
		close(next)
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					r := admin.Do("POST", "/api/v1/inquiries/"+ids[i%len(ids)]+"/messages", map[string]any{"body": fmt.Sprint("回复 ", i)})
					if r.Status != 201 {
						t.Errorf("post: %d %s", r.Status, r.Body)
					}
				}
			}()
		}
		wg.Wait()
		cancel()
		<-drained
		if err := e.Srv.Search.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		var messages, indexed int
		if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM inquiry_messages WHERE direction <> 'internal'").Scan(&messages); err != nil {
			t.Fatal(err)
		}
		if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM search_docs WHERE doc_type = 'inquiry_message'").Scan(&indexed); err != nil {
			t.Fatal(err)
		}
		if indexed != messages {
			t.Fatalf("%d of %d messages indexed", indexed, messages)
		}
	})
}
