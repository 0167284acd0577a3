package httpx

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
)

// Idempotency makes POST retries safe: the first request with a key runs and
// its response is stored; a retry with the same key and body gets the stored
// response and creates nothing; the same key with a different body is 422.
// Keys are per caller (Owner), kept at least 24 hours.
type Idempotency struct {
	DB *db.DB
	// Owner names the caller (user ID); "" disables the check for a request.
	Owner func(*http.Request) string
}

// abandonAfter is how long a reservation without a stored response blocks
// retries (the first request may still be running); after it, a crashed
// attempt no longer blocks the client.
const abandonAfter = 2 * time.Minute

// Middleware applies to POST routes.
func (id *Idempotency) Middleware(route Route, next http.Handler) http.Handler {
	if route.Method != http.MethodPost {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			next.ServeHTTP(w, r)
			return
		}
		owner := id.Owner(r)
		if owner == "" {
			next.ServeHTTP(w, r)
			return
		}
		if !validKey(key) {
			WriteError(w, r, &errs.Error{Kind: errs.BadRequest, Code: "invalid_idempotency_key", Key: "err.idem_bad_key"})
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			WriteError(w, r, err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(append([]byte(r.Method+" "+r.URL.RequestURI()+"\n"), body...))
		hash := hex.EncodeToString(sum[:])

		replay, err := id.reserve(r.Context(), owner, key, hash)
		if err != nil {
			WriteError(w, r, err)
			return
		}
		if replay != nil {
			for k, v := range replay.headers {
				w.Header().Set(k, v)
			}
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(replay.status)
			io.WriteString(w, replay.body)
			return
		}
		rec := &recorder{ResponseWriter: w}
		completed := false
		defer func() {
			if !completed {
				// A panic or a server error before anything committed: free
				// the key so a retry runs again. A key whose request already
				// committed something (status -1) stays taken.
				id.DB.Exec(context.WithoutCancel(r.Context()), "DELETE FROM idempotency_keys WHERE owner = ? AND key = ? AND status = 0", owner, key)
			}
		}()
		// Every transaction the request commits marks the key as used in
		// that same transaction, so a crash after the commit but before the
		// response is stored can never let a retry run the request again.
		ctx := db.BeforeCommit(r.Context(), func(ctx context.Context, tx *db.Tx) error {
			_, err := tx.Exec(ctx, "UPDATE idempotency_keys SET status = -1 WHERE owner = ? AND key = ? AND status = 0", owner, key)
			return err
		})
		next.ServeHTTP(rec, r.WithContext(ctx))
		if rec.status >= 500 || rec.status == 0 {
			return
		}
		hdr := map[string]string{}
		for _, h := range []string{"Content-Type", "Location", "ETag"} {
			if v := rec.Header().Get(h); v != "" {
				hdr[h] = v
			}
		}
		hb, _ := json.Marshal(hdr)
		if _, err := id.DB.Exec(context.WithoutCancel(r.Context()),
			"UPDATE idempotency_keys SET status = ?, headers = ?, body = ? WHERE owner = ? AND key = ?",
			rec.status, string(hb), rec.buf.String(), owner, key); err == nil {
			completed = true
		}
	})
}

type stored struct {
	status  int
	headers map[string]string
	body    string
}

func (id *Idempotency) reserve(ctx context.Context, owner, key, hash string) (*stored, error) {
	now := id.DB.Now()
	_, err := id.DB.Exec(ctx, "INSERT INTO idempotency_keys (owner, key, request_hash, created_at) VALUES (?, ?, ?, ?)", owner, key, hash, db.Ms(now))
	if err == nil {
		return nil, nil
	}
	if !errors.Is(err, db.ErrUnique) {
		return nil, err
	}
	var prevHash, headers, body string
	var status int
	var created db.Time
	if err := id.DB.QueryRow(ctx, "SELECT request_hash, status, headers, body, created_at FROM idempotency_keys WHERE owner = ? AND key = ?", owner, key).
		Scan(&prevHash, &status, &headers, &body, &created); err != nil {
		return nil, err
	}
	if prevHash != hash {
		return nil, &errs.Error{Kind: errs.Invalid, Code: "idempotency_key_reused", Key: "err.idem_mismatch"}
	}
	if status == -1 {
		// The first request committed its change but its answer was never
		// stored (the server stopped in between): refuse to run it twice.
		return nil, &errs.Error{Kind: errs.Conflict, Code: "idempotency_key_processed", Key: "err.idem_processed"}
	}
	if status == 0 {
		if now.Sub(time.Time(created)) < abandonAfter {
			return nil, &errs.Error{Kind: errs.Conflict, Code: "idempotency_in_progress", Key: "err.idem_in_progress"}
		}
		// Abandoned reservation of a request that committed nothing: take
		// it over.
		_, err := id.DB.Exec(ctx, "UPDATE idempotency_keys SET created_at = ? WHERE owner = ? AND key = ? AND status = 0", db.Ms(now), owner, key)
		return nil, err
	}
	st := &stored{status: status, body: body, headers: map[string]string{}}
	_ = json.Unmarshal([]byte(headers), &st.headers)
	return st, nil
}

// PurgeIdempotencyKeys deletes keys older than the retention (a periodic job).
func PurgeIdempotencyKeys(ctx context.Context, d *db.DB, olderThan time.Duration) (int64, error) {
	res, err := d.Exec(ctx, "DELETE FROM idempotency_keys WHERE created_at < ?", db.Ms(d.Now().Add(-olderThan)))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func validKey(k string) bool {
	if len(k) == 0 || len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

type recorder struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.buf.Write(b)
	return r.ResponseWriter.Write(b)
}
