// Package sqlite is pea's binding to SQLite: the handful of calls the state store makes, on one
// connection per process, without database/sql.
//
// pea used database/sql with github.com/mattn/go-sqlite3 before. Every pea command is a process
// that opens the database once, and that driver's open was most of the cost of a listing of an
// empty store: it parses a DSN, registers five user-authentication SQL functions by reflection
// on every connection, runs each pragma as its own statement, and database/sql starts a
// goroutine for its pool. Measured on the 2-core VM: the first query of `pea ps -a` 0.63 ms
// after sql.Open, most of it in the driver's Open. Rows cost a lock, an interface conversion and
// a cgo call per column each; here a row is one cgo call (pea_step reads every column).
//
// The C library is still the SQLite amalgamation that go-sqlite3 compiles: that package is
// imported for its object code alone, and this one declares the few SQLite functions it calls
// (their C API is stable) and links against them.
//
// A DB is safe for concurrent use: a mutex serialises its users. A Rows and a Tx hold it until
// they are closed, committed or rolled back, so a caller must not use the DB itself while it
// holds one (use the Tx's own methods inside a transaction).
package sqlite

/*
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

#include "alloc.h"

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;

int sqlite3_open_v2(const char *filename, sqlite3 **db, int flags, const char *vfs);
int sqlite3_close_v2(sqlite3 *db);
int sqlite3_extended_result_codes(sqlite3 *db, int onoff);
int sqlite3_busy_handler(sqlite3 *db, int (*handler)(void *, int), void *arg);
int sqlite3_exec(sqlite3 *db, const char *sql, int (*cb)(void *, int, char **, char **), void *arg, char **errmsg);
int sqlite3_file_control(sqlite3 *db, const char *name, int op, void *arg);
int sqlite3_prepare_v2(sqlite3 *db, const char *sql, int n, sqlite3_stmt **stmt, const char **tail);
int sqlite3_finalize(sqlite3_stmt *stmt);
int sqlite3_reset(sqlite3_stmt *stmt);
int sqlite3_clear_bindings(sqlite3_stmt *stmt);
int sqlite3_step(sqlite3_stmt *stmt);
int sqlite3_bind_parameter_count(sqlite3_stmt *stmt);
int sqlite3_bind_null(sqlite3_stmt *stmt, int i);
int sqlite3_bind_int64(sqlite3_stmt *stmt, int i, long long v);
int sqlite3_bind_text(sqlite3_stmt *stmt, int i, const char *p, int n, void (*free)(void *));
int sqlite3_bind_blob(sqlite3_stmt *stmt, int i, const void *p, int n, void (*free)(void *));
int sqlite3_column_count(sqlite3_stmt *stmt);
int sqlite3_column_type(sqlite3_stmt *stmt, int i);
long long sqlite3_column_int64(sqlite3_stmt *stmt, int i);
const unsigned char *sqlite3_column_text(sqlite3_stmt *stmt, int i);
const void *sqlite3_column_blob(sqlite3_stmt *stmt, int i);
int sqlite3_column_bytes(sqlite3_stmt *stmt, int i);
int sqlite3_changes(sqlite3 *db);
int sqlite3_extended_errcode(sqlite3 *db);
const char *sqlite3_errmsg(sqlite3 *db);
const char *sqlite3_errstr(int rc);
void sqlite3_free(void *p);

// SQLite's "copy the value now" destructor.
#define PEA_TRANSIENT ((void (*)(void *))-1)

static int pea_bind_text(sqlite3_stmt *s, int i, const char *p, int n) {
	return sqlite3_bind_text(s, i, n ? p : "", n, PEA_TRANSIENT);
}

static int pea_bind_blob(sqlite3_stmt *s, int i, const void *p, int n) {
	return sqlite3_bind_blob(s, i, n ? p : "", n, PEA_TRANSIENT);
}

// One column of the current row: an integer, or the bytes of a text, blob or real (as text),
// valid until the statement is stepped, reset or finalized.
typedef struct {
	const void *p;
	long long i;
	int len;
	int type;
} pea_col;

// pea_step steps s and, when it yields a row, reads its n columns into cols.
static int pea_step(sqlite3_stmt *s, int n, pea_col *cols) {
	int rc = sqlite3_step(s);
	if (rc != 100) // SQLITE_ROW
		return rc;
	for (int i = 0; i < n; i++) {
		pea_col *c = &cols[i];
		c->type = sqlite3_column_type(s, i);
		c->p = 0;
		c->len = 0;
		c->i = 0;
		switch (c->type) {
		case 1: // SQLITE_INTEGER
			c->i = sqlite3_column_int64(s, i);
			break;
		case 2: // SQLITE_FLOAT, read as its text
		case 3: // SQLITE_TEXT
			c->p = sqlite3_column_text(s, i);
			c->len = sqlite3_column_bytes(s, i);
			break;
		case 4: // SQLITE_BLOB
			c->p = sqlite3_column_blob(s, i);
			c->len = sqlite3_column_bytes(s, i);
			break;
		}
	}
	return rc;
}

static int pea_rearm(sqlite3_stmt *s) {
	int rc = sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

static int pea_file_control_int(sqlite3 *db, int op, int v) {
	return sqlite3_file_control(db, "main", op, &v);
}

int sqlite3_config(int op, ...);
int sqlite3_db_config(sqlite3 *db, int op, ...);

static int pea_checkpoint_on_close(sqlite3 *db, int on) {
	return sqlite3_db_config(db, 1006, !on, (int *)0); // SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE
}

// Memory for the first connection's lookaside allocator (SQLite's small-allocation pool), in the
// binary's zero-filled data rather than from malloc, which musl maps with mmap and unmaps at
// close. SQLite threads a free list through every slot when it opens the connection, a page
// fault per 4 KB, so the buffer is small (16 slots; the default 100 cost `ps -a` of an empty
// store ~80 more faults). A static page cache was tried too and dropped: it saved nothing
// measurable per command, and made a process's repeated reads 3x slower (the state store's
// lookup-and-read benchmark 27 -> 80 µs).
#define PEA_LOOKASIDE_SLOT 1200
#define PEA_LOOKASIDE_SLOTS 16
static long long pea_lookaside[PEA_LOOKASIDE_SLOT * PEA_LOOKASIDE_SLOTS / 8];
static int pea_lookaside_used;

// pea_configure runs before SQLite is first used (it initializes itself on the first open).
static void pea_configure(void) {
	pea_use_allocator();
	sqlite3_config(9, 0); // SQLITE_CONFIG_MEMSTATUS off: no global memory statistics
	sqlite3_config(13, 0, 0); // SQLITE_CONFIG_LOOKASIDE: none by default; the first connection gets the static one
	// SQLITE_CONFIG_PAGECACHE with no buffer and no lines: no bulk allocation of page cache lines
	// at a connection's first read. By default SQLite mallocs 20 lines at once and writes a header
	// into each, a fresh page apiece (~20 page faults); a listing of an empty store uses two or
	// three. Lines are malloc'd as they are needed instead. Measured: `ps -a` of an empty store 400
	// -> 357 page faults, 2.24 -> 2.12 ms; 2.9 ms against 3.2 run right after podman's; the state
	// store's Go benchmarks unchanged.
	sqlite3_config(7, (void *)0, 0, 0);
}

// pea_page_cache_bulk restores a bulk allocation of n lines (for the test that measures what not
// having one saves); only before SQLite's first use.
static int pea_page_cache_bulk(int n) {
	return sqlite3_config(7, (void *)0, 0, n);
}

// pea_use_lookaside gives the process's first connection the static lookaside buffer, and any
// later one SQLite's usual buffer from malloc (the static one may still be in use). Calls are
// serialised by the Go side (openMu).
static void pea_use_lookaside(sqlite3 *db) {
	if (!pea_lookaside_used) {
		pea_lookaside_used = 1;
		sqlite3_db_config(db, 1001, pea_lookaside, PEA_LOOKASIDE_SLOT, PEA_LOOKASIDE_SLOTS); // SQLITE_DBCONFIG_LOOKASIDE
	} else {
		sqlite3_db_config(db, 1001, (void *)0, PEA_LOOKASIDE_SLOT, PEA_LOOKASIDE_SLOTS);
	}
}

// pea_busy is SQLite's busy-timeout handler, sleeping as SQLite's own does (1, 2, 5, 10 ms...
// up to the timeout in arg, in ms), with one difference: before it sleeps it gives its thread
// the timer slack the process started with (pea_busy_slack, when not 0). pea starts with a 5 ms
// slack in every thread (see internal/cpupin), which would stretch a 1 ms wait for another
// process's write to ~6 ms.
static unsigned long pea_busy_slack;

static int pea_busy(void *arg, int count) {
	static const int delays[] = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};
	static const int ndelays = sizeof delays / sizeof delays[0];
	int timeout = (int)(intptr_t)arg;
	int delay, prior;
	if (count < ndelays) {
		delay = delays[count];
		prior = 0;
		for (int i = 0; i < count; i++) prior += delays[i];
	} else {
		delay = delays[ndelays - 1];
		prior = 0;
		for (int i = 0; i < ndelays; i++) prior += delays[i];
		prior += delay * (count - ndelays);
	}
	if (prior + delay > timeout) {
		delay = timeout - prior;
		if (delay <= 0) return 0;
	}
	if (pea_busy_slack != 0) prctl(PR_SET_TIMERSLACK, pea_busy_slack, 0, 0, 0);
	struct timespec ts = {delay / 1000, (long)(delay % 1000) * 1000000};
	while (nanosleep(&ts, &ts) != 0) {
	}
	return 1;
}

static void pea_set_busy_timeout(sqlite3 *db, int ms, unsigned long slack) {
	pea_busy_slack = slack;
	sqlite3_busy_handler(db, ms > 0 ? pea_busy : 0, (void *)(intptr_t)ms);
}

static int pea_exec(sqlite3 *db, const char *sql, char **errmsg) {
	return sqlite3_exec(db, sql, 0, 0, errmsg);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
	"unsafe"

	_ "github.com/mattn/go-sqlite3" // the SQLite library itself (see the package comment)

	"pea/internal/cpupin"
)

// Result codes and column types, from SQLite's C API.
const (
	codeOK     = 0
	codeBusy   = 5
	codeLocked = 6
	codeRow    = 100
	codeDone   = 101

	typeInteger = 1
	typeNull    = 5

	openReadWrite = 0x2
	openCreate    = 0x4
	openNoMutex   = 0x8000
)

// Extended result codes a caller may test an Error's ExtendedCode against.
const (
	ErrConstraintForeignKey = 787
	ErrConstraintPrimaryKey = 1555
	ErrConstraintUnique     = 2067
)

// ErrNoRows is what Row.Scan returns when the query yielded no row.
var ErrNoRows = errors.New("sqlite: no rows in result set")

// Error is an error SQLite reported.
type Error struct {
	Code         int // the primary result code (SQLITE_BUSY, ...)
	ExtendedCode int
	Msg          string
}

func (e *Error) Error() string { return e.Msg }

// Busy reports whether err is SQLite's "database is locked" (busy or locked).
func Busy(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Code == codeBusy || e.Code == codeLocked)
}

// ExtendedCode is err's extended SQLite result code, or 0 when err is not an SQLite error.
func ExtendedCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.ExtendedCode
	}
	return 0
}

var (
	configure = sync.OnceFunc(func() { C.pea_configure() })
	openMu    sync.Mutex // serialises pea_use_lookaside
)

// setPageCacheBulk has every connection allocate n page cache lines at once, as SQLite does by
// default (20). For tests; it fails once SQLite has been used in this process.
func setPageCacheBulk(n int) error {
	configure()
	if rc := C.pea_page_cache_bulk(C.int(n)); rc != codeOK {
		return &Error{Code: int(rc), ExtendedCode: int(rc), Msg: C.GoString(C.sqlite3_errstr(rc))}
	}
	return nil
}

// arenaUsed is the number of bytes of its arena (arenaBytes) that pea's SQLite allocator
// (alloc.c) has handed out; allocCheck runs the allocator's own checks and returns 0 or the line
// of the first that failed. For tests, which cannot call C.
func arenaUsed() uintptr { return uintptr(C.pea_arena_used()) }
func allocCheck() int    { return int(C.pea_alloc_check()) }

const arenaBytes = C.PEA_ARENA_BYTES

// DB is one connection to a database file.
type DB struct {
	mu    sync.Mutex
	db    *C.sqlite3
	cache map[string]*stmt // prepared statements, kept for the next use of the same query
}

// Open opens (creating it if needed) the database at path, in SQLite's multi-thread mode (the
// DB's mutex serialises its users), with extended result codes and a busy timeout.
func Open(path string, busyTimeout time.Duration) (*DB, error) {
	return openFlags(path, busyTimeout, openReadWrite|openCreate|openNoMutex)
}

// OpenExisting is Open for a database that must already exist: it fails (SQLITE_CANTOPEN)
// instead of creating one.
func OpenExisting(path string, busyTimeout time.Duration) (*DB, error) {
	return openFlags(path, busyTimeout, openReadWrite|openNoMutex)
}

func openFlags(path string, busyTimeout time.Duration, flags C.int) (*DB, error) {
	configure()
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var db *C.sqlite3
	if rc := C.sqlite3_open_v2(cpath, &db, flags, nil); rc != codeOK {
		err := &Error{Code: int(rc) & 0xff, ExtendedCode: int(rc), Msg: C.GoString(C.sqlite3_errstr(rc))}
		if db != nil {
			err.Msg = C.GoString(C.sqlite3_errmsg(db))
			C.sqlite3_close_v2(db)
		}
		return nil, err
	}
	C.sqlite3_extended_result_codes(db, 1)
	C.pea_set_busy_timeout(db, C.int(busyTimeout/time.Millisecond), C.ulong(cpupin.StartSlack()))
	openMu.Lock()
	C.pea_use_lookaside(db)
	openMu.Unlock()
	return &DB{db: db, cache: map[string]*stmt{}}, nil
}

// Close finalizes every statement and closes the connection.
func (d *DB) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.db == nil {
		return nil
	}
	for _, s := range d.cache {
		s.finalize()
	}
	d.cache = nil
	rc := C.sqlite3_close_v2(d.db)
	d.db = nil
	if rc != codeOK {
		return &Error{Code: int(rc) & 0xff, ExtendedCode: int(rc), Msg: C.GoString(C.sqlite3_errstr(rc))}
	}
	return nil
}

// SetFileControlInt sets an integer file control (SQLITE_FCNTL_*) of the main database.
func (d *DB) SetFileControlInt(op, v int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if rc := C.pea_file_control_int(d.db, C.int(op), C.int(v)); rc != codeOK {
		return d.error(rc)
	}
	return nil
}

// SetCheckpointOnClose sets whether closing the last connection to the database copies the WAL
// into the database (SQLite's default) or leaves it for a later connection.
func (d *DB) SetCheckpointOnClose(on bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	v := C.int(0)
	if on {
		v = 1
	}
	if rc := C.pea_checkpoint_on_close(d.db, v); rc != codeOK {
		return d.error(rc)
	}
	return nil
}

// PersistWAL is SQLITE_FCNTL_PERSIST_WAL: with it on, the last connection to close empties the
// WAL file instead of deleting it.
const PersistWAL = 10

// ExecScript runs statements that take no arguments (several, separated by semicolons).
func (d *DB) ExecScript(sql string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.execScript(sql)
}

func (d *DB) execScript(sql string) error {
	csql := C.CString(sql)
	defer C.free(unsafe.Pointer(csql))
	var msg *C.char
	rc := C.pea_exec(d.db, csql, &msg)
	if rc == codeOK {
		return nil
	}
	err := d.error(rc)
	if msg != nil {
		err.(*Error).Msg = C.GoString(msg)
		C.sqlite3_free(unsafe.Pointer(msg))
	}
	return err
}

// Exec runs one statement with args.
func (d *DB) Exec(q string, args ...any) (Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.exec(q, args)
}

// QueryRow runs a query for its first row; the error, if any, comes from Scan.
func (d *DB) QueryRow(q string, args ...any) *Row {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.queryRow(q, args)
}

// Query runs a query. The Rows hold the DB until they are closed.
func (d *DB) Query(q string, args ...any) (*Rows, error) {
	d.mu.Lock()
	rows, err := d.query(q, args)
	if err != nil {
		d.mu.Unlock()
		return nil, err
	}
	rows.unlock = d.mu.Unlock
	return rows, nil
}

// Begin starts an IMMEDIATE transaction: the write lock is taken now, so two writers never
// deadlock upgrading a read lock. The Tx holds the DB until it is committed or rolled back.
func (d *DB) Begin() (*Tx, error) {
	d.mu.Lock()
	if _, err := d.exec("BEGIN IMMEDIATE", nil); err != nil {
		d.mu.Unlock()
		return nil, err
	}
	return &Tx{d: d}, nil
}

// Tx is a transaction.
type Tx struct {
	d    *DB
	done bool
}

// Exec runs one statement inside the transaction.
func (t *Tx) Exec(q string, args ...any) (Result, error) { return t.d.exec(q, args) }

// QueryRow runs a query inside the transaction for its first row.
func (t *Tx) QueryRow(q string, args ...any) *Row { return t.d.queryRow(q, args) }

// ExecScript runs argument-less statements inside the transaction.
func (t *Tx) ExecScript(sql string) error { return t.d.execScript(sql) }

// Commit commits the transaction and releases the DB.
func (t *Tx) Commit() error { return t.end("COMMIT") }

// Rollback rolls the transaction back and releases the DB; after Commit it does nothing.
func (t *Tx) Rollback() error { return t.end("ROLLBACK") }

func (t *Tx) end(verb string) error {
	if t.done {
		return nil
	}
	_, err := t.d.exec(verb, nil)
	if err != nil && verb == "COMMIT" {
		// A failed COMMIT (busy) leaves the transaction open: roll it back so that the DB
		// is not left inside it.
		t.d.exec("ROLLBACK", nil)
	}
	t.done = true
	t.d.mu.Unlock()
	return err
}

// Result is what Exec reports.
type Result struct{ rows int64 }

// RowsAffected is the number of rows the statement inserted, updated or deleted.
func (r Result) RowsAffected() (int64, error) { return r.rows, nil }

func (d *DB) exec(q string, args []any) (Result, error) {
	s, err := d.prepare(q)
	if err != nil {
		return Result{}, err
	}
	defer d.release(s)
	if err := s.bind(d, args); err != nil {
		return Result{}, err
	}
	for {
		rc := C.pea_step(s.s, 0, nil)
		switch rc {
		case codeRow:
			continue
		case codeDone:
			return Result{rows: int64(C.sqlite3_changes(d.db))}, nil
		default:
			return Result{}, d.error(rc)
		}
	}
}

func (d *DB) queryRow(q string, args []any) *Row {
	rows, err := d.query(q, args)
	if err != nil {
		return &Row{err: err}
	}
	defer rows.Close()
	if !rows.Next() {
		if rows.err != nil {
			return &Row{err: rows.err}
		}
		return &Row{err: ErrNoRows}
	}
	// Copy what Scan will need: the row's memory belongs to the statement, which goes back.
	r := &Row{cols: make([]col, len(rows.cols))}
	for i, c := range rows.cols {
		r.cols[i] = col{typ: c.typ, i: c.i, b: append([]byte(nil), c.b...)}
	}
	return r
}

func (d *DB) query(q string, args []any) (*Rows, error) {
	s, err := d.prepare(q)
	if err != nil {
		return nil, err
	}
	if err := s.bind(d, args); err != nil {
		d.release(s)
		return nil, err
	}
	return &Rows{d: d, s: s, cols: make([]col, s.ncol)}, nil
}

// Row is the first row of a query.
type Row struct {
	cols []col
	err  error
}

// Scan copies the row's columns into dest (see Rows.Scan for the types).
func (r *Row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return scan(r.cols, dest)
}

// Rows is the result of a query.
type Rows struct {
	d      *DB
	s      *stmt
	cols   []col
	err    error
	closed bool
	unlock func()
}

// Next steps to the next row; false at the end or on an error (see Err).
func (r *Rows) Next() bool {
	if r.closed || r.err != nil {
		return false
	}
	rc := C.pea_step(r.s.s, C.int(r.s.ncol), r.s.cols)
	switch rc {
	case codeRow:
		cs := unsafe.Slice(r.s.cols, r.s.ncol)
		for i := range cs {
			c := &cs[i]
			r.cols[i] = col{typ: int(c._type), i: int64(c.i)}
			if c.p != nil {
				r.cols[i].b = unsafe.Slice((*byte)(c.p), int(c.len))
			} else if c._type != typeNull && c._type != typeInteger {
				r.cols[i].b = []byte{} // an empty blob: SQLite gives no pointer
			}
		}
		return true
	case codeDone:
		return false
	default:
		r.err = r.d.error(rc)
		return false
	}
}

// Scan copies the current row's columns into dest: *string, *int, *int64, *bool, *[]byte (a
// copy), *RawBytes (no copy: valid until Next or Close) or *NullString.
func (r *Rows) Scan(dest ...any) error { return scan(r.cols, dest) }

// Err is the error that ended the iteration, if any.
func (r *Rows) Err() error { return r.err }

// Close releases the statement and the DB.
func (r *Rows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.d.release(r.s)
	if r.unlock != nil {
		r.unlock()
	}
	return nil
}

// RawBytes is a column's bytes in SQLite's memory, valid until the next Next or Close.
type RawBytes []byte

// NullString is a text column that may be NULL.
type NullString struct {
	String string
	Valid  bool
}

type col struct {
	typ int
	i   int64
	b   []byte
}

func scan(cols []col, dest []any) error {
	if len(dest) != len(cols) {
		return fmt.Errorf("sqlite: Scan of %d columns into %d values", len(cols), len(dest))
	}
	for i, d := range dest {
		c := cols[i]
		null := c.typ == typeNull
		switch d := d.(type) {
		case *RawBytes:
			*d = c.b
		case *[]byte:
			if null {
				*d = nil
			} else {
				*d = append([]byte{}, c.b...)
			}
		case *NullString:
			*d = NullString{String: c.text(), Valid: !null}
		case *string:
			if null {
				return fmt.Errorf("sqlite: column %d is NULL, not a string", i)
			}
			*d = c.text()
		case *int64, *int, *bool:
			if null {
				return fmt.Errorf("sqlite: column %d is NULL, not a number", i)
			}
			v := c.i
			if c.typ != typeInteger {
				n, err := strconv.ParseInt(string(c.b), 10, 64)
				if err != nil {
					return fmt.Errorf("sqlite: column %d: %w", i, err)
				}
				v = n
			}
			switch d := d.(type) {
			case *int64:
				*d = v
			case *int:
				*d = int(v)
			case *bool:
				*d = v != 0
			}
		default:
			return fmt.Errorf("sqlite: cannot scan column %d into %T", i, d)
		}
	}
	return nil
}

func (c col) text() string {
	if c.typ == typeInteger {
		return strconv.FormatInt(c.i, 10)
	}
	return string(c.b)
}

// stmt is a prepared statement with the C array its rows are read into.
type stmt struct {
	s      *C.sqlite3_stmt
	ncol   int
	cols   *C.pea_col
	busy   bool
	cached bool
}

// prepare returns the cached statement for q, or a new one (cached unless the cached one is in
// use, as by an open Rows inside a transaction).
func (d *DB) prepare(q string) (*stmt, error) {
	if d.db == nil {
		return nil, errors.New("sqlite: database is closed")
	}
	if s := d.cache[q]; s != nil && !s.busy {
		s.busy = true
		return s, nil
	}
	var cs *C.sqlite3_stmt
	rc := C.sqlite3_prepare_v2(d.db, (*C.char)(unsafe.Pointer(unsafe.StringData(q))), C.int(len(q)), &cs, nil)
	if rc != codeOK {
		return nil, d.error(rc)
	}
	if cs == nil {
		return nil, fmt.Errorf("sqlite: no statement in %q", q)
	}
	s := &stmt{s: cs, ncol: int(C.sqlite3_column_count(cs)), busy: true}
	if s.ncol > 0 {
		s.cols = (*C.pea_col)(C.calloc(C.size_t(s.ncol), C.size_t(unsafe.Sizeof(C.pea_col{}))))
	}
	if _, ok := d.cache[q]; !ok {
		s.cached = true
		d.cache[q] = s
	}
	return s, nil
}

// release makes s ready for its next use, or finalizes it when it is not the cached one.
func (d *DB) release(s *stmt) {
	C.pea_rearm(s.s)
	s.busy = false
	if !s.cached {
		s.finalize()
	}
}

func (s *stmt) finalize() {
	C.sqlite3_finalize(s.s)
	if s.cols != nil {
		C.free(unsafe.Pointer(s.cols))
	}
	s.s, s.cols = nil, nil
}

func (s *stmt) bind(d *DB, args []any) error {
	if n := int(C.sqlite3_bind_parameter_count(s.s)); n != len(args) {
		return fmt.Errorf("sqlite: statement takes %d arguments, got %d", n, len(args))
	}
	for i, a := range args {
		idx := C.int(i + 1)
		var rc C.int
		switch v := a.(type) {
		case nil:
			rc = C.sqlite3_bind_null(s.s, idx)
		case string:
			rc = C.pea_bind_text(s.s, idx, (*C.char)(unsafe.Pointer(unsafe.StringData(v))), C.int(len(v)))
		case []byte:
			if v == nil {
				rc = C.sqlite3_bind_null(s.s, idx)
			} else {
				rc = C.pea_bind_blob(s.s, idx, unsafe.Pointer(unsafe.SliceData(v)), C.int(len(v)))
			}
		case int:
			rc = C.sqlite3_bind_int64(s.s, idx, C.longlong(v))
		case int64:
			rc = C.sqlite3_bind_int64(s.s, idx, C.longlong(v))
		case bool:
			b := 0
			if v {
				b = 1
			}
			rc = C.sqlite3_bind_int64(s.s, idx, C.longlong(b))
		default:
			return fmt.Errorf("sqlite: cannot bind argument %d of type %T", i+1, a)
		}
		if rc != codeOK {
			return d.error(rc)
		}
	}
	return nil
}

func (d *DB) error(rc C.int) error {
	ext := int(C.sqlite3_extended_errcode(d.db))
	if ext&0xff != int(rc)&0xff {
		ext = int(rc)
	}
	return &Error{Code: int(rc) & 0xff, ExtendedCode: ext, Msg: C.GoString(C.sqlite3_errmsg(d.db))}
}
