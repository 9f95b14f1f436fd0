package sqlite

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func open(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := Open(path, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.ExecScript(`PRAGMA journal_mode = WAL; CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT, n INTEGER, b BLOB, r REAL)`); err != nil {
		t.Fatal(err)
	}
	return db, path
}

func TestScanTypesAndNulls(t *testing.T) {
	db, _ := open(t)
	if _, err := db.Exec(`INSERT INTO t VALUES (?, ?, ?, ?, ?)`, "a", "héllo\x00x", int64(-7), []byte{}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO t (k, v, n, b) VALUES (?, ?, ?, ?)`, "", "", true, nil); err != nil {
		t.Fatal(err)
	}
	var (
		v  string
		n  int
		n6 int64
		b  []byte
		r  NullString
	)
	if err := db.QueryRow(`SELECT v, n, n, b, r FROM t WHERE k = ?`, "a").Scan(&v, &n, &n6, &b, &r); err != nil {
		t.Fatal(err)
	}
	if v != "héllo\x00x" || n != -7 || n6 != -7 || b == nil || len(b) != 0 || r.Valid {
		t.Fatalf("row a: %q %d %d %#v %#v", v, n, n6, b, r)
	}
	// The empty key, an empty text (not NULL), a bool bound as 1 and a NULL blob.
	var ok bool
	if err := db.QueryRow(`SELECT v, n, b FROM t WHERE k = ?`, "").Scan(&v, &ok, &b); err != nil {
		t.Fatal(err)
	}
	if v != "" || !ok || b != nil {
		t.Fatalf("row '': %q %v %#v", v, ok, b)
	}
	var s NullString
	if err := db.QueryRow(`SELECT v FROM t WHERE k = ?`, "").Scan(&s); err != nil || !s.Valid {
		t.Fatalf("empty text read as NULL: %#v %v", s, err)
	}
	if err := db.QueryRow(`SELECT r FROM t WHERE k = ?`, "a").Scan(&v); err == nil {
		t.Fatal("NULL scanned into a string")
	}
	if err := db.QueryRow(`SELECT v FROM t WHERE k = ?`, "zz").Scan(&v); !errors.Is(err, ErrNoRows) {
		t.Fatalf("missing row: %v", err)
	}
	// Text that holds a number scans into an int; a real reads as its text.
	if err := db.QueryRow(`SELECT '42', 1.5`).Scan(&n, &v); err != nil || n != 42 || v != "1.5" {
		t.Fatalf("conversions: %d %q %v", n, v, err)
	}
	if err := db.QueryRow(`SELECT 1`).Scan(&n, &v); err == nil {
		t.Fatal("Scan with more values than columns succeeded")
	}
	if _, err := db.Exec(`SELECT ?`); err == nil {
		t.Fatal("a missing argument was accepted")
	}
}

func TestRowsRawBytesAndCache(t *testing.T) {
	db, _ := open(t)
	for _, k := range []string{"x", "y", "z"} {
		if _, err := db.Exec(`INSERT INTO t (k, v) VALUES (?, ?)`, k, k+k); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 { // the cached statement is reset and reused each time
		rows, err := db.Query(`SELECT k, v FROM t ORDER BY k`)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var k string
			var v RawBytes
			if err := rows.Scan(&k, &v); err != nil {
				t.Fatal(err)
			}
			got = append(got, k+"="+string(v))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if len(got) != 3 || got[0] != "x=xx" || got[2] != "z=zz" {
			t.Fatalf("rows: %v", got)
		}
	}
	// The same query while its cached statement is in use gets a statement of its own.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM t WHERE k > ?`, "x").Scan(&n); err != nil || n != 2 {
		t.Fatalf("count: %d %v", n, err)
	}
	inner, err := db.query(`SELECT count(*) FROM t WHERE k > ?`, []any{"a"})
	if err != nil {
		t.Fatal(err)
	}
	outer, err := db.query(`SELECT count(*) FROM t WHERE k > ?`, []any{"y"})
	if err != nil {
		t.Fatal(err)
	}
	var a, b int
	if !inner.Next() || !outer.Next() || inner.Scan(&a) != nil || outer.Scan(&b) != nil || a != 3 || b != 1 {
		t.Fatalf("two statements of one query: %d %d", a, b)
	}
	inner.Close()
	outer.Close()
	tx.Rollback()
}

func TestErrorsAndTransactions(t *testing.T) {
	db, path := open(t)
	if _, err := db.Exec(`INSERT INTO t (k) VALUES (?)`, "a"); err != nil {
		t.Fatal(err)
	}
	_, err := db.Exec(`INSERT INTO t (k) VALUES (?)`, "a")
	if ExtendedCode(err) != ErrConstraintPrimaryKey {
		t.Fatalf("duplicate key: %v (code %d)", err, ExtendedCode(err))
	}
	if _, err := db.Exec(`SELECT nope FROM t`); err == nil || err.Error() != "no such column: nope" {
		t.Fatalf("bad column: %v", err)
	}
	res, err := db.Exec(`UPDATE t SET v = 'x' WHERE k IN ('a', 'b')`)
	if n, _ := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("rows affected: %d %v", n, err)
	}

	// A rolled-back transaction leaves nothing; a committed one is seen by another connection.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	tx.Exec(`INSERT INTO t (k) VALUES ('gone')`)
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	tx, err = db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	tx.Exec(`INSERT INTO t (k) VALUES ('kept')`)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tx.Rollback() // after Commit: nothing

	other, err := Open(path, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var n int
	if err := other.QueryRow(`SELECT count(*) FROM t WHERE k IN ('gone', 'kept')`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("other connection sees %d rows, %v", n, err)
	}
	// While this connection writes, the other one's writer times out busy; its reader is not
	// blocked (WAL).
	tx, err = db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Begin(); !Busy(err) {
		t.Fatalf("second writer: %v, want busy", err)
	}
	if err := other.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil {
		t.Fatalf("reader during a write: %v", err)
	}
	tx.Commit()
	if _, err := other.Exec(`INSERT INTO t (k) VALUES ('later')`); err != nil {
		t.Fatalf("writer after the commit: %v", err)
	}
}

// TestConcurrentUsers: goroutines share one DB; the mutex serialises them, and none deadlocks.
func TestConcurrentUsers(t *testing.T) {
	db, _ := open(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				k := string(rune('a'+g)) + string(rune('0'+i%10)) + string(rune('0'+i/10))
				tx, err := db.Begin()
				if err != nil {
					errs <- err
					return
				}
				if _, err := tx.Exec(`INSERT INTO t (k, n) VALUES (?, ?)`, k, i); err != nil {
					tx.Rollback()
					errs <- err
					return
				}
				tx.Commit()
				rows, err := db.Query(`SELECT k FROM t WHERE k LIKE ?`, string(rune('a'+g))+"%")
				if err != nil {
					errs <- err
					return
				}
				for rows.Next() {
				}
				rows.Close()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil || n != 400 {
		t.Fatalf("%d rows, %v", n, err)
	}
}

func TestClosed(t *testing.T) {
	db, _ := open(t)
	db.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`SELECT 1`); err == nil {
		t.Fatal("Exec on a closed DB succeeded")
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing", "dir", "t.db"), time.Second); err == nil {
		t.Fatal("Open in a missing directory succeeded")
	}
}

func BenchmarkOpenQueryClose(b *testing.B) {
	path := filepath.Join(b.TempDir(), "t.db")
	db, err := Open(path, time.Second)
	if err != nil {
		b.Fatal(err)
	}
	db.ExecScript(`PRAGMA journal_mode = WAL; CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)`)
	db.Close()
	for b.Loop() {
		db, err := Open(path, time.Second)
		if err != nil {
			b.Fatal(err)
		}
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
}
