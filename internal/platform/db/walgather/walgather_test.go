package walgather_test

import (
	"bytes"
	"database/sql"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"prelude/internal/platform/db/walgather"
)

// open opens path, through the VFS when gather is set, as one connection
// with a page cache of cachePages (a small cache makes big transactions
// write frames before their commit).
func open(t *testing.T, path string, gather bool, cachePages int) *sql.DB {
	t.Helper()
	if err := walgather.Register(); err != nil {
		t.Fatal(err)
	}
	dsn := "file:" + url.PathEscape(path) + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_pragma=wal_autocheckpoint(0)&_pragma=cache_size(" + strconv.Itoa(cachePages) + ")"
	if gather {
		dsn += "&vfs=" + walgather.Name
	}
	d, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	d.SetMaxOpenConns(1)
	t.Cleanup(func() { d.Close() })
	return d
}

func exec(t *testing.T, d *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := d.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func count(t *testing.T, d *sql.DB, q string) int {
	t.Helper()
	var n int
	if err := d.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// insert writes rows of size bytes each in one transaction, committed or
// rolled back.
func insert(t *testing.T, d *sql.DB, who string, rows, size int, commit bool) {
	t.Helper()
	tx, err := d.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if _, err := tx.Exec("INSERT INTO t (who, body) VALUES (?, ?)", who, bytes.Repeat([]byte{byte('a' + i%26)}, size)); err != nil {
			t.Fatal(err)
		}
	}
	if commit {
		err = tx.Commit()
	} else {
		err = tx.Rollback()
	}
	if err != nil {
		t.Fatal(err)
	}
}

// snapshot copies the database and its WAL as a process killed now would
// leave them (everything written is in the operating system's hands) and
// opens the copy.
func snapshot(t *testing.T, path string) *sql.DB {
	t.Helper()
	dir := t.TempDir()
	for _, suffix := range []string{"", "-wal"} {
		src, err := os.Open(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		dst, err := os.Create(filepath.Join(dir, "copy.db"+suffix))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(dst, src); err != nil {
			t.Fatal(err)
		}
		src.Close()
		dst.Close()
	}
	return open(t, filepath.Join(dir, "copy.db"), false, 2000)
}

func integrity(t *testing.T, d *sql.DB) {
	t.Helper()
	var res string
	if err := d.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity_check: %q %v", res, err)
	}
}

// Every commit is visible to another connection the moment it returns, and
// is in the files a killed process would leave, transactions small and too
// big for the cache alike.
func TestCommitsReachTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	w := open(t, path, true, 20)
	r := open(t, path, false, 2000)
	exec(t, w, "CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT, body BLOB)")
	rng := rand.New(rand.NewPCG(1, 2))
	want := 0
	for i := range 120 {
		rows, size := 1+rng.IntN(40), 50+rng.IntN(3000)
		if i%10 == 9 {
			rows, size = 400, 4000 // ~1.6 MB: frames written before the commit
		}
		commit := rng.IntN(5) != 0
		insert(t, w, "w", rows, size, commit)
		if commit {
			want += rows
		}
		if got := count(t, r, "SELECT COUNT(*) FROM t"); got != want {
			t.Fatalf("after transaction %d a reader sees %d rows, want %d", i, got, want)
		}
		if i%30 == 29 {
			c := snapshot(t, path)
			integrity(t, c)
			if got := count(t, c, "SELECT COUNT(*) FROM t"); got != want {
				t.Fatalf("a killed process would leave %d rows after transaction %d, want %d", got, i, want)
			}
		}
	}
	integrity(t, w)
}

// A transaction that wrote frames before rolling back leaves nothing
// waiting to be written over frames another connection commits after it.
func TestRolledBackSpillLeavesNothingBehind(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	a := open(t, path, true, 20)
	b := open(t, path, false, 2000)
	exec(t, a, "CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT, body BLOB)")
	insert(t, a, "a", 5, 100, true)
	exec(t, a, "PRAGMA wal_checkpoint(TRUNCATE)")
	// ~400 kB: past A's 20-page cache, so frames go to the WAL before any
	// commit, then the transaction rolls back.
	insert(t, a, "a-rolled-back", 100, 4000, false)
	// B commits frames where A's rolled-back ones were.
	insert(t, b, "b", 100, 3000, true)
	// A writes again, after B's frames.
	insert(t, a, "a", 1, 100, true)

	for _, d := range []*sql.DB{snapshot(t, path), b} {
		integrity(t, d)
		if got := count(t, d, "SELECT COUNT(*) FROM t WHERE who = 'b'"); got != 100 {
			t.Fatalf("B's committed rows: %d, want 100", got)
		}
		if got := count(t, d, "SELECT COUNT(*) FROM t WHERE who = 'a'"); got != 6 {
			t.Fatalf("A's committed rows: %d, want 6", got)
		}
		if got := count(t, d, "SELECT COUNT(*) FROM t WHERE who = 'a-rolled-back'"); got != 0 {
			t.Fatalf("rolled-back rows: %d", got)
		}
	}
}

// The point of the package: a commit of many pages is a few writes.
func TestCommitIsAFewWrites(t *testing.T) {
	writes := func(gather bool) int {
		path := filepath.Join(t.TempDir(), "t.db")
		d := open(t, path, gather, 2000)
		exec(t, d, "CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT, body BLOB)")
		exec(t, d, "CREATE INDEX t_who ON t (who, body)")
		insert(t, d, "warm", 1, 10, true)
		before := syscw(t)
		insert(t, d, "w", 40, 1500, true) // ~40 pages of table and index
		return syscw(t) - before
	}
	plain, gathered := writes(false), writes(true)
	t.Logf("write system calls for one commit: %d without the VFS, %d with it", plain, gathered)
	if plain < 40 {
		t.Fatalf("without the VFS the commit made %d writes: the test does not write what it means to", plain)
	}
	if gathered > 6 {
		t.Fatalf("with the VFS the commit made %d writes, want a few", gathered)
	}
}

// syscw is this process's count of write system calls so far.
func syscw(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Skip("no /proc/self/io:", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "syscw: "); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	t.Skipf("no syscw in /proc/self/io: %q", b)
	return 0
}
