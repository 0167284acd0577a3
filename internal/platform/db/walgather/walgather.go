// Package walgather registers a SQLite VFS that writes the frames of one
// WAL commit with a couple of system calls instead of two per page.
//
// SQLite appends a transaction to the write-ahead log frame by frame, each
// frame a 24-byte header and a page, each written with its own pwrite: a
// group commit of Prelude's writer (a handful of requests, ~35 pages) made
// some 70 system calls, five in six of all the process's writes. The VFS
// here is SQLite's default one with two of its file methods tables wrapped:
//
//   - the WAL file's: appended frames gather in a buffer, which goes to the
//     file in one pwrite when the header of the frame that commits the
//     transaction arrives (the header says so), that is before SQLite
//     publishes the commit to readers; the commit frame's page follows on
//     its own. Anything else done with the file (a read, a sync, a
//     truncate, its size, a file control, closing it, a write that does not
//     continue the buffer) writes the buffer first, so the file is never
//     seen, by SQLite or by anyone, without what was written to it.
//   - the database file's shared-memory lock: before any WAL lock changes
//     (the end of a write transaction among them), the connection's buffer
//     is written. A transaction too big for the page cache writes frames
//     before its commit, and if it then rolls back those would otherwise
//     wait in the buffer while another connection, maybe another process,
//     writes its own frames at the same offsets.
//
// What the file holds when SQLite returns from a commit is the same as
// without the VFS; only the number of writes differs. Durability is
// unchanged: with synchronous=NORMAL the WAL is not synced at commit either
// way, and a commit is in the operating system's hands before it returns,
// so a killed process loses nothing it acknowledged.
package walgather

import (
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// Name is the VFS name to open a database with (?vfs=Name).
const Name = "prelude-walgather"

const (
	frameHeader = 24 // a WAL frame's header
	walHeader   = 32 // the WAL file's own header, at offset 0
	// most bounds the buffer: a bigger transaction (an import) writes
	// every few megabytes, which already makes its system calls rare.
	most = 4 << 20
	// chunk is the most one write passes to the default VFS, whose pwrite
	// takes the length modulo 128 kB (seekAndWriteFd: nBuf &= 0x1ffff).
	chunk = 0x1f000
)

var (
	registerOnce sync.Once
	registerErr  error

	// base is SQLite's default VFS, ours a copy with xOpen wrapped. The
	// tables live in Go globals, which never move, so SQLite may keep
	// pointers to them.
	base uintptr
	ours sqlite3.Tsqlite3_vfs

	// walBase and dbBase are the default VFS's file methods for a WAL and
	// for a database (they differ: only a database takes file locks), as
	// its xOpen set them; walIO and dbIO are the wrapped copies, set up
	// on the first open of each.
	walBase, dbBase atomic.Uintptr
	setup           sync.Mutex
	walIO, dbIO     sqlite3.Tsqlite3_io_methods

	files sync.Map // sqlite3_file pointer -> *walFile or *dbFile
	// dbs finds a connection's database file when its WAL is opened: by
	// the connection's TLS (modernc gives each connection its own) and the
	// database's name (the WAL's without "-wal").
	dbs sync.Map // dbKey -> *dbFile
)

type dbKey struct {
	tls  *libc.TLS
	name string
}

// Register registers the VFS (once; later calls return the first result).
func Register() error {
	registerOnce.Do(func() { registerErr = register() })
	return registerErr
}

func register() error {
	tls := libc.NewTLS()
	defer tls.Close()
	base = sqlite3.Xsqlite3_vfs_find(tls, 0)
	if base == 0 {
		return errors.New("walgather: SQLite has no default VFS")
	}
	ours = *(*sqlite3.Tsqlite3_vfs)(ptr(base))
	name, err := libc.CString(Name) // SQLite keeps it: never freed
	if err != nil {
		return err
	}
	ours.FzName = name
	ours.FpNext = 0
	*(*func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr) int32)(unsafe.Pointer(&ours.FxOpen)) = xOpen
	if rc := sqlite3.Xsqlite3_vfs_register(tls, uintptr(unsafe.Pointer(&ours)), 0); rc != sqlite3.SQLITE_OK {
		return errors.New("walgather: registering the VFS failed")
	}
	return nil
}

// walFile is an open WAL file: n bytes gathered at C memory buf (of size
// size), to be written at offset off.
type walFile struct {
	file uintptr // its sqlite3_file
	db   *dbFile // its connection's database file, if known
	buf  uintptr
	size int
	n    int
	off  int64
}

// dbFile is an open database file and its connection's WAL, once open.
type dbFile struct {
	key dbKey
	wal *walFile
}

// xOpen opens a file with the default VFS and wraps the methods of a
// database or WAL file. A connection uses its files from one thread at a
// time, so their state needs no lock.
func xOpen(tls *libc.TLS, pVfs, zName, pFile uintptr, flags int32, pOutFlags uintptr) int32 {
	bv := (*sqlite3.Tsqlite3_vfs)(ptr(base))
	rc := (*(*func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr) int32)(unsafe.Pointer(&struct{ uintptr }{bv.FxOpen})))(tls, base, zName, pFile, flags, pOutFlags)
	if rc != sqlite3.SQLITE_OK || zName == 0 || flags&(sqlite3.SQLITE_OPEN_WAL|sqlite3.SQLITE_OPEN_MAIN_DB) == 0 {
		return rc
	}
	f := (*sqlite3.Tsqlite3_file)(ptr(pFile))
	if f.FpMethods == 0 {
		return rc
	}
	isDB := flags&sqlite3.SQLITE_OPEN_MAIN_DB != 0
	if !wrap(isDB, f) {
		return rc // a methods table this package does not know: left alone
	}
	name := libc.GoString(zName)
	if isDB {
		d := &dbFile{key: dbKey{tls, name}}
		files.Store(pFile, d)
		dbs.Store(d.key, d)
		return rc
	}
	w := &walFile{file: pFile}
	if v, ok := dbs.Load(dbKey{tls, strings.TrimSuffix(name, "-wal")}); ok {
		w.db = v.(*dbFile)
		w.db.wal = w
	}
	files.Store(pFile, w)
	return rc
}

// wrap points f at the wrapped copy of its methods, setting that up from
// them on the first open of its kind. It reports false, leaving f alone,
// if f's methods are not those the copy was made from.
func wrap(isDB bool, f *sqlite3.Tsqlite3_file) bool {
	b, wrapped := &walBase, &walIO
	if isDB {
		b, wrapped = &dbBase, &dbIO
	}
	if b.Load() == 0 {
		setup.Lock()
		if b.Load() == 0 {
			*wrapped = *(*sqlite3.Tsqlite3_io_methods)(ptr(f.FpMethods))
			if isDB {
				wrapDB(wrapped)
			} else {
				wrapWAL(wrapped)
			}
			b.Store(f.FpMethods)
		}
		setup.Unlock()
	}
	if f.FpMethods != b.Load() {
		return false
	}
	f.FpMethods = uintptr(unsafe.Pointer(wrapped))
	return true
}

func wrapWAL(m *sqlite3.Tsqlite3_io_methods) {
	*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&m.FxClose)) = walClose
	*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&m.FxRead)) = walRead
	*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&m.FxWrite)) = walWrite
	*(*func(*libc.TLS, uintptr, int64) int32)(unsafe.Pointer(&m.FxTruncate)) = walTruncate
	*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&m.FxSync)) = walSync
	*(*func(*libc.TLS, uintptr, uintptr) int32)(unsafe.Pointer(&m.FxFileSize)) = walFileSize
	*(*func(*libc.TLS, uintptr, int32, uintptr) int32)(unsafe.Pointer(&m.FxFileControl)) = walFileControl
}

func wrapDB(m *sqlite3.Tsqlite3_io_methods) {
	*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&m.FxClose)) = dbClose
	if m.FiVersion >= 2 && m.FxShmLock != 0 {
		*(*func(*libc.TLS, uintptr, int32, int32, int32) int32)(unsafe.Pointer(&m.FxShmLock)) = dbShmLock
	}
}

// walMethods and dbMethods are the default VFS's file methods.
func walMethods() *sqlite3.Tsqlite3_io_methods {
	return (*sqlite3.Tsqlite3_io_methods)(ptr(walBase.Load()))
}

func dbMethods() *sqlite3.Tsqlite3_io_methods {
	return (*sqlite3.Tsqlite3_io_methods)(ptr(dbBase.Load()))
}

func walOf(pFile uintptr) *walFile {
	v, _ := files.Load(pFile)
	return v.(*walFile)
}

func baseWrite(tls *libc.TLS, pFile, buf uintptr, n int32, off int64) int32 {
	return (*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&struct{ uintptr }{walMethods().FxWrite})))(tls, pFile, buf, n, off)
}

// flush writes the buffer, if any.
func (w *walFile) flush(tls *libc.TLS) int32 {
	n := w.n
	w.n = 0
	for done := 0; done < n; done += chunk {
		if rc := baseWrite(tls, w.file, w.buf+uintptr(done), int32(min(chunk, n-done)), w.off+int64(done)); rc != sqlite3.SQLITE_OK {
			return rc
		}
	}
	return sqlite3.SQLITE_OK
}

// add appends n bytes at p to the buffer, growing it.
func (w *walFile) add(tls *libc.TLS, p uintptr, n int) bool {
	if w.n+n > w.size {
		size := max(2*w.size, w.n+n, 256<<10)
		b := libc.Xrealloc(tls, w.buf, uint64(size))
		if b == 0 {
			return false
		}
		w.buf, w.size = b, size
	}
	copy((*libc.RawMem)(ptr(w.buf))[w.n:w.n+n:w.n+n], (*libc.RawMem)(ptr(p))[:n:n])
	w.n += n
	return true
}

// walWrite gathers appended frames. A write that does not continue the
// buffer writes it first, then starts a new one if it is a header, and
// otherwise goes straight to the file. A commit frame's header writes the
// buffer at once (its page follows on its own): SQLite also rewrites the
// headers of frames already written (walRewriteChecksums), the commit's
// last, and nothing may wait in the buffer when it publishes the commit.
func walWrite(tls *libc.TLS, pFile, zBuf uintptr, iAmt int32, iOfst int64) int32 {
	w := walOf(pFile)
	n := int(iAmt)
	if w.n > 0 && iOfst == w.off+int64(w.n) && w.n+n <= most {
		if !w.add(tls, zBuf, n) {
			return sqlite3.SQLITE_IOERR_NOMEM
		}
	} else {
		if rc := w.flush(tls); rc != sqlite3.SQLITE_OK {
			return rc
		}
		if n != frameHeader && (n != walHeader || iOfst != 0) {
			return baseWrite(tls, pFile, zBuf, iAmt, iOfst)
		}
		w.off = iOfst
		if !w.add(tls, zBuf, n) {
			return sqlite3.SQLITE_IOERR_NOMEM
		}
	}
	if n == frameHeader && commits(zBuf) {
		return w.flush(tls)
	}
	return sqlite3.SQLITE_OK
}

// commits reports whether the frame header at p is a commit frame's: its
// second word, the database's size in pages after the commit, is zero in
// every other frame.
func commits(p uintptr) bool {
	return binary.BigEndian.Uint32((*libc.RawMem)(ptr(p))[4:8:8]) != 0
}

func walRead(tls *libc.TLS, pFile, zBuf uintptr, iAmt int32, iOfst int64) int32 {
	if rc := walOf(pFile).flush(tls); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return (*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&struct{ uintptr }{walMethods().FxRead})))(tls, pFile, zBuf, iAmt, iOfst)
}

func walTruncate(tls *libc.TLS, pFile uintptr, size int64) int32 {
	if rc := walOf(pFile).flush(tls); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return (*(*func(*libc.TLS, uintptr, int64) int32)(unsafe.Pointer(&struct{ uintptr }{walMethods().FxTruncate})))(tls, pFile, size)
}

func walSync(tls *libc.TLS, pFile uintptr, flags int32) int32 {
	if rc := walOf(pFile).flush(tls); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return (*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&struct{ uintptr }{walMethods().FxSync})))(tls, pFile, flags)
}

func walFileSize(tls *libc.TLS, pFile, pSize uintptr) int32 {
	if rc := walOf(pFile).flush(tls); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return (*(*func(*libc.TLS, uintptr, uintptr) int32)(unsafe.Pointer(&struct{ uintptr }{walMethods().FxFileSize})))(tls, pFile, pSize)
}

func walFileControl(tls *libc.TLS, pFile uintptr, op int32, pArg uintptr) int32 {
	if rc := walOf(pFile).flush(tls); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return (*(*func(*libc.TLS, uintptr, int32, uintptr) int32)(unsafe.Pointer(&struct{ uintptr }{walMethods().FxFileControl})))(tls, pFile, op, pArg)
}

func walClose(tls *libc.TLS, pFile uintptr) int32 {
	w := walOf(pFile)
	rc := w.flush(tls)
	if w.buf != 0 {
		libc.Xfree(tls, w.buf)
		w.buf, w.size = 0, 0
	}
	if w.db != nil && w.db.wal == w {
		w.db.wal = nil
	}
	files.Delete(pFile)
	if rc2 := baseClose(tls, walMethods(), pFile); rc == sqlite3.SQLITE_OK {
		rc = rc2
	}
	return rc
}

func baseClose(tls *libc.TLS, m *sqlite3.Tsqlite3_io_methods, pFile uintptr) int32 {
	return (*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&struct{ uintptr }{m.FxClose})))(tls, pFile)
}

// dbShmLock writes the connection's gathered frames before any WAL lock
// changes hands (see the package comment), then takes or releases it.
func dbShmLock(tls *libc.TLS, pFile uintptr, ofst, n, flags int32) int32 {
	v, _ := files.Load(pFile)
	if w := v.(*dbFile).wal; w != nil && w.n > 0 {
		if rc := w.flush(tls); rc != sqlite3.SQLITE_OK {
			return rc
		}
	}
	return (*(*func(*libc.TLS, uintptr, int32, int32, int32) int32)(unsafe.Pointer(&struct{ uintptr }{dbMethods().FxShmLock})))(tls, pFile, ofst, n, flags)
}

func dbClose(tls *libc.TLS, pFile uintptr) int32 {
	v, _ := files.LoadAndDelete(pFile)
	d := v.(*dbFile)
	dbs.CompareAndDelete(d.key, d)
	if d.wal != nil {
		d.wal.db = nil
	}
	return baseClose(tls, dbMethods(), pFile)
}

// ptr turns an address SQLite handed over (C memory, or a Go global) into a
// pointer, without the conversion vet rightly doubts for Go memory.
func ptr(u uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&u)) }
