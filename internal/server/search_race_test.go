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

// Messages posted concurrently, while the search index drains, are all
// indexed and counted, and the first reply is the inquiry's first response.
// On SQLite
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
		// Concurrent posts to one inquiry: each is applied to the inquiry
		// as it is when its turn comes (a post that read it before another
		// one changed it starts over), so on SQLite, where transactions
		// take their time in the order they run, the first reply is the
		// first response. (On PostgreSQL a transaction that started first
		// may commit second.)
		cond := "i.message_count <> (SELECT COUNT(*) FROM inquiry_messages m WHERE m.inquiry_id = i.id)"
		if d.Dialect == db.SQLite {
			cond += ` OR COALESCE(i.first_response_at, -1) <>
				COALESCE((SELECT MIN(m.created_at) FROM inquiry_messages m WHERE m.inquiry_id = i.id AND m.direction = 'out'), -1)`
		}
		var wrong int
		if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM inquiries i WHERE "+cond).Scan(&wrong); err != nil {
			t.Fatal(err)
		}
		if wrong != 0 {
			t.Fatalf("%d inquiries with a first response or message count that is not their messages'", wrong)
		}
	})
}
