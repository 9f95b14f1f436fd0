// Package state stores pea's containers, pods and volumes in one SQLite database.
//
// Schema (version 1, PRAGMA user_version):
//
//	pods(id TEXT PK, name, namespace, config JSON, state JSON)            UNIQUE(namespace, name)
//	containers(id TEXT PK, name, namespace, pod_id → pods.id, config JSON, state JSON)
//	                                                                      UNIQUE(namespace, name)
//	volumes(name TEXT PK, config JSON)
//
// Pod and container names share one namespace within a libpod namespace, as in podman: the
// check is made inside the inserting transaction. Write transactions are IMMEDIATE (the write lock
// is taken up front, so two writers never deadlock upgrading a read lock), with a busy timeout;
// foreign keys are on, so a container can never point at a removed pod. The journal is WAL, so
// readers never wait for writers.
package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
	"pea/internal/jsonfast"
	"pea/internal/sqlite"
	"pea/internal/trace"
)

// Store is the database.
type Store struct {
	db   *sqlite.DB
	path string
}

var migrations = []string{
	// 1: the first schema.
	`CREATE TABLE pods (
		id        TEXT PRIMARY KEY NOT NULL,
		name      TEXT NOT NULL,
		namespace TEXT NOT NULL DEFAULT '',
		config    TEXT NOT NULL,
		state     TEXT NOT NULL,
		UNIQUE (namespace, name)
	);
	CREATE TABLE containers (
		id        TEXT PRIMARY KEY NOT NULL,
		name      TEXT NOT NULL,
		namespace TEXT NOT NULL DEFAULT '',
		pod_id    TEXT REFERENCES pods(id),
		config    TEXT NOT NULL,
		state     TEXT NOT NULL,
		UNIQUE (namespace, name)
	);
	CREATE INDEX containers_pod ON containers(pod_id);
	CREATE TABLE volumes (
		name   TEXT PRIMARY KEY NOT NULL,
		config TEXT NOT NULL
	);`,
}

// Open opens (creating and migrating as needed) the database at path.
//
// Switching a new database to WAL, and migrating it, need the database to themselves: SQLite
// answers "database is locked" at once to the other processes that open it at that moment (its
// busy timeout does not cover the journal mode switch). Those retry for a while.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for delay := 5 * time.Millisecond; ; delay = min(2*delay, 200*time.Millisecond) {
		s, err := openOnce(path)
		if err == nil || !sqlite.Busy(err) || time.Now().After(deadline) {
			return s, err
		}
		cpupin.Sleep(delay)
	}
}

func openOnce(path string) (*Store, error) {
	db, err := sqlite.Open(path, 30*time.Second)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.setup(); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	return s, nil
}

// setup sets the connection's options and brings the schema up to date.
//
// The WAL is persistent and truncated: when it is copied into the database (see Close), the WAL
// file is emptied rather than deleted. Every pea command is a process that opens and closes the
// database, and deleting the WAL cost the next command a create, a chown (as root) and, on its
// first write, an fsync of the directory (measured: a command's write 1.1 -> 1.0 ms, a read
// 0.19 -> 0.13 ms). Without the size limit the WAL would keep its checkpointed frames, which the
// next process would read back in. synchronous=NORMAL in WAL mode syncs at checkpoints, not at
// each commit: a crash of the machine may lose the last commits but never corrupts the database.
//
// Reads go through a memory map of the database file (up to 256 MiB) instead of read(2) into
// pages SQLite allocates: no copy, and no fresh heap pages to fault in. Measured: `ps -a` with
// 300 containers 5.0 -> 4.3 ms (858 -> 670 page faults), of an empty store 2.6 -> 2.3 ms. Writes
// still go through write(2); SQLite maps only what the file holds, so a checkpoint that shrinks
// it is safe. (An I/O error under a mapped page becomes SIGBUS instead of an error.) A process
// that opens and reads in a loop pays ~7 % more per open (the map and unmap; state's Go
// benchmarks), which pea's one-open-per-command does not.
func (s *Store) setup() error {
	if err := s.db.ExecScript(`PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = 0; PRAGMA mmap_size = 268435456`); err != nil {
		return err
	}
	if err := s.db.SetFileControlInt(sqlite.PersistWAL, 1); err != nil {
		return err
	}
	if err := s.db.SetCheckpointOnClose(false); err != nil {
		return err
	}
	return s.migrate()
}

// walCheckpointBytes is the size of the WAL past which closing the database copies it into the
// database file (or, for a command, the process that works after it: CheckpointWAL).
const walCheckpointBytes = 128 << 10

// Close closes the database. The WAL is copied into the database file (and emptied) only once it
// holds more than walCheckpointBytes: copying it at every close cost each writing command four
// fsyncs (the WAL, the database, and the new WAL's header and directory at the next write),
// ~1.3 ms here. Between copies, each command that opens the database reads the WAL back in
// (SQLite rebuilds its index in the first connection of a process): measured, `ps -a` pays
// ~0.15 ms for a WAL of 480 KiB, so the limit keeps that under ~0.04 ms. A `run --rm` writes
// ~66 KiB (16 pages), a `create` ~16 KiB.
func (s *Store) Close() error {
	s.checkpointIfLarge()
	return s.db.Close()
}

// checkpointIfLarge has the coming close copy the WAL when it passed walCheckpointBytes, and
// reports whether it will.
func (s *Store) checkpointIfLarge() bool {
	size, large := walLarge(s.path)
	if large {
		s.copyOnClose(size)
	}
	return large
}

// copyOnClose has the coming close copy the WAL, of size bytes.
func (s *Store) copyOnClose(size int64) {
	if trace.Enabled() { // the message is built only when it is printed
		trace.Mark("state: copying a WAL of " + strconv.FormatInt(size, 10) + " bytes")
	}
	s.db.SetCheckpointOnClose(true)
}

// walLarge returns the size of the WAL of the database at path, and whether it is past
// walCheckpointBytes, the size at which it is copied into the database.
func walLarge(path string) (int64, bool) {
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		return 0, false
	}
	return fi.Size(), fi.Size() > walCheckpointBytes
}

// CheckpointWAL copies the WAL of the database at path into the database file and empties it,
// if it holds more than walCheckpointBytes, and reports whether it did. It is what a command's
// close at exit would have done, run by a process of its own after the command (see engine's
// AfterCommand): a copy fsyncs the WAL and the database, 3-6 ms on this VM's disk, which the
// command no longer waits for. It creates nothing: a database that is gone (`system reset`
// removed the store meanwhile) is left gone. Other connections may come and go meanwhile:
// SQLite's checkpoint is safe alongside them (it waits for readers of the frames it copies, up
// to the busy timeout).
func CheckpointWAL(path string) (bool, error) {
	if _, large := walLarge(path); !large {
		return false, nil
	}
	db, err := sqlite.OpenExisting(path, 30*time.Second)
	if err != nil {
		if _, serr := os.Stat(path); os.IsNotExist(serr) {
			return false, nil
		}
		return false, err
	}
	defer db.Close()
	// As every connection of pea's: the WAL file stays (emptied) when the last one closes.
	if err := db.SetFileControlInt(sqlite.PersistWAL, 1); err != nil {
		return false, err
	}
	if err := db.SetCheckpointOnClose(false); err != nil {
		return false, err
	}
	if trace.Enabled() {
		trace.Mark("state: copying the WAL after the command")
	}
	return true, db.ExecScript(`PRAGMA journal_size_limit = 0; PRAGMA wal_checkpoint(TRUNCATE)`)
}

// CloseAtExit is Close for a process about to exit. Unless the WAL is to be copied, the
// connection is left open for the exit to release: a close only finalizes statements and frees
// SQLite's memory (musl gives it back with a dozen munmaps) and drops file locks and mappings
// that the exit drops anyway. No transaction is open between the store's calls, so nothing is
// lost: SQLite's files are as after any other process's exit.
//
// When the WAL is to be copied, copyLater (if not nil) is asked first whether another process
// will copy it once this one has exited (CheckpointWAL); if so, this one does not.
func (s *Store) CloseAtExit(copyLater func() bool) error {
	size, large := walLarge(s.path)
	if !large {
		return nil
	}
	if copyLater != nil && copyLater() {
		trace.Mark("state: the WAL is copied after the command")
		return nil
	}
	s.copyOnClose(size)
	return s.db.Close()
}

// DB exposes the handle for integrity checks in tests.
func (s *Store) DB() *sqlite.DB { return s.db }

func (s *Store) migrate() error {
	var v int
	if err := s.db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		return err
	}
	if v >= len(migrations) {
		return nil
	}
	// A new database: WAL first (the mode is kept in the file, so only this once).
	if err := s.db.ExecScript(`PRAGMA journal_mode = WAL`); err != nil {
		return err
	}
	return s.tx(func(tx *sqlite.Tx) error {
		// Re-read inside the write transaction: another process may have migrated meanwhile.
		if err := tx.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
			return err
		}
		for i := v; i < len(migrations); i++ {
			if err := tx.ExecScript(migrations[i]); err != nil {
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
		}
		return tx.ExecScript(fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations)))
	})
}

func (s *Store) tx(f func(*sqlite.Tx) error) error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func isUnique(err error) bool { return sqlite.ExtendedCode(err) == sqlite.ErrConstraintUnique }

func nameTaken(tx *sqlite.Tx, namespace, name string) (string, error) {
	var kind string
	err := tx.QueryRow(`SELECT 'container' FROM containers WHERE namespace = ? AND name = ?
		UNION ALL SELECT 'pod' FROM pods WHERE namespace = ? AND name = ? LIMIT 1`,
		namespace, name, namespace, name).Scan(&kind)
	if errors.Is(err, sqlite.ErrNoRows) {
		return "", nil
	}
	return kind, err
}

func mustJSON(v any) string {
	b, err := jsonfast.Marshal(v)
	if err != nil {
		panic(err) // plain data types always marshal
	}
	return string(b)
}

// Kind names the objects a lookup is for.
type Kind string

const (
	KindContainer Kind = "container"
	KindPod       Kind = "pod"
)

func (k Kind) table() string { return string(k) + "s" }

func (k Kind) notFound() error {
	if k == KindPod {
		return errdefs.ErrNoSuchPod
	}
	return errdefs.ErrNoSuchContainer
}

// Lookup finds the ID of a container or pod by full name, full ID or unique ID prefix, within
// namespace (all namespaces when it is empty).
func (s *Store) Lookup(kind Kind, namespace, nameOrID string) (string, error) {
	if nameOrID == "" {
		return "", fmt.Errorf("empty %s name or ID: %w", kind, errdefs.ErrInvalid)
	}
	nsCond, args := "", []any{nameOrID}
	if namespace != "" {
		nsCond = " AND namespace = ?"
		args = append(args, namespace)
	}
	var id string
	err := s.db.QueryRow(`SELECT id FROM `+kind.table()+` WHERE name = ?`+nsCond, args...).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sqlite.ErrNoRows) {
		return "", err
	}
	if !isHexPrefix(nameOrID) {
		return "", fmt.Errorf("no %s with name or ID %q found: %w", kind, nameOrID, kind.notFound())
	}
	args[0] = nameOrID + "%"
	rows, err := s.db.Query(`SELECT id FROM `+kind.table()+` WHERE id LIKE ?`+nsCond+` LIMIT 2`, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		if err := rows.Scan(&id); err != nil {
			return "", err
		}
		ids = append(ids, id)
	}
	switch len(ids) {
	case 0:
		return "", fmt.Errorf("no %s with name or ID %q found: %w", kind, nameOrID, kind.notFound())
	case 1:
		return ids[0], nil
	default:
		return "", fmt.Errorf("more than one %s matches ID prefix %q, give more characters: %w", kind, nameOrID, errdefs.ErrAmbiguous)
	}
}

func isHexPrefix(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

// Check runs SQLite's check of the database's structure (quick: PRAGMA quick_check, which
// skips the comparison of indexes with their tables) and of its foreign keys, and returns what
// they found (nothing when the database is sound).
func (s *Store) Check(quick bool) ([]string, error) {
	q := `PRAGMA integrity_check`
	if quick {
		q = `PRAGMA quick_check`
	}
	var out []string
	rows, err := s.db.Query(q)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var msg string
		if err := rows.Scan(&msg); err != nil {
			rows.Close()
			return nil, err
		}
		if msg != "ok" {
			out = append(out, msg)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if rows, err = s.db.Query(`PRAGMA foreign_key_check`); err != nil {
		return nil, err
	}
	for rows.Next() {
		var table, parent string
		var rowid int64
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, fmt.Sprintf("row %d of %s refers to a missing row of %s", rowid, table, parent))
	}
	rows.Close()
	return out, rows.Err()
}
