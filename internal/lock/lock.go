// Package lock provides one cross-process lock per object, backed by a lock file and flock(2).
//
// On disk (under the runroot, a tmpfs wiped at boot):
//
//	locks/<object id>   one file per pod or container; while held, it contains the holder's PID
//
// The kernel releases a flock when its holder dies, so a crash never wedges the engine, and the
// number of locks is not capped (podman's shared-memory locks are). A lock file is removed with its
// object; a waiter that took the lock on a file that was unlinked meanwhile notices it (the inode at
// the path differs from the one it holds) and starts over.
//
// A Lock is also a mutex within the process: flock locks belong to open file descriptions, and each
// Lock opens its own, so two goroutines with two Locks on one object exclude each other too.
package lock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/cpupin"
	"pea/internal/fsx"
)

// DefaultTimeout is how long Lock waits before failing with the holder's PID.
const DefaultTimeout = 10 * time.Second

// ErrBusy is returned by TryLock when another holder has the lock.
var ErrBusy = errors.New("lock is busy")

// ErrTimeout is returned (wrapped) when a lock could not be taken in time.
var ErrTimeout = errors.New("timed out waiting for lock")

// Manager hands out locks stored in one directory.
type Manager struct {
	dir     string
	Timeout time.Duration
}

// NewManager returns a manager for lock files in dir, creating it when needed.
func NewManager(dir string) (*Manager, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lock dir: %w", err)
	}
	return &Manager{dir: dir, Timeout: DefaultTimeout}, nil
}

// Dir is the directory holding the lock files.
func (m *Manager) Dir() string { return m.dir }

// Lock is one held lock. Unlock releases it; it is safe to call more than once.
type Lock struct {
	f    *os.File
	name string
}

// Lock takes the exclusive lock named name (an object ID), waiting up to the manager's timeout.
func (m *Manager) Lock(name string) (*Lock, error) {
	return m.take(name, unix.LOCK_EX)
}

// RLock takes the lock named name shared.
func (m *Manager) RLock(name string) (*Lock, error) {
	return m.take(name, unix.LOCK_SH)
}

// TryLock takes the exclusive lock named name if it is free, or fails at once with ErrBusy.
func (m *Manager) TryLock(name string) (*Lock, error) {
	l, err := (&Manager{dir: m.dir, Timeout: 0}).take(name, unix.LOCK_EX)
	if errors.Is(err, ErrTimeout) {
		return nil, fmt.Errorf("lock %s: %w", short(name), ErrBusy)
	}
	return l, err
}

func (m *Manager) path(name string) string { return filepath.Join(m.dir, name) }

func (m *Manager) take(name string, how int) (*Lock, error) {
	if name == "" || strings.ContainsAny(name, "/\x00") {
		return nil, fmt.Errorf("invalid lock name %q", name)
	}
	p := m.path(name)
	deadline := time.Now().Add(m.Timeout)
	delay := time.Millisecond
	for {
		f, err := fsx.OpenFile(p, os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o600)
		if err != nil {
			return nil, fmt.Errorf("open lock %s: %w", name, err)
		}
		for {
			err = unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
			if err == nil || (err != unix.EWOULDBLOCK && err != unix.EINTR) {
				break
			}
			if time.Now().After(deadline) {
				holder := readHolder(f)
				f.Close()
				if holder != "" {
					return nil, fmt.Errorf("lock %s held by process %s: %w", short(name), holder, ErrTimeout)
				}
				return nil, fmt.Errorf("lock %s: %w", short(name), ErrTimeout)
			}
			cpupin.Sleep(delay)
			if delay < 20*time.Millisecond {
				delay *= 2
			}
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("flock %s: %w", name, err)
		}
		if sameFile(f, p) {
			if how == unix.LOCK_EX {
				writeHolder(f)
			}
			return &Lock{f: f, name: name}, nil
		}
		// The file was removed (its object deleted) while we waited; try the new one.
		f.Close()
	}
}

// Unlock releases the lock.
func (l *Lock) Unlock() {
	if l == nil || l.f == nil {
		return
	}
	l.f.Close() // closing the last descriptor releases the flock
	l.f = nil
}

// Remove deletes the lock file while holding the lock, then releases it. Call it when the
// object is removed.
func (l *Lock) Remove(m *Manager) {
	if l == nil || l.f == nil {
		return
	}
	os.Remove(m.path(l.name))
	l.Unlock()
}

// Remove deletes the lock file of an object that no longer exists, taking the lock first.
func (m *Manager) Remove(name string) error {
	l, err := m.Lock(name)
	if err != nil {
		return err
	}
	l.Remove(m)
	return nil
}

func sameFile(f *os.File, path string) bool {
	var a, b unix.Stat_t
	if unix.Fstat(int(f.Fd()), &a) != nil || unix.Stat(path, &b) != nil {
		return false
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

// writeHolder records the holder's PID, padded to a fixed width so that no truncate (a
// metadata change, costly on a journaled filesystem) is needed.
func writeHolder(f *os.File) {
	f.WriteAt([]byte(fmt.Sprintf("%-10d\n", os.Getpid())), 0)
}

func readHolder(f *os.File) string {
	buf := make([]byte, 16)
	n, _ := f.ReadAt(buf, 0)
	return strings.TrimSpace(string(buf[:n]))
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
