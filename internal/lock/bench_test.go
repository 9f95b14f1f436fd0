package lock_test

import (
	"errors"
	"testing"

	"pea/internal/lock"
)

func benchManager(b *testing.B) *lock.Manager {
	b.Helper()
	m, err := lock.NewManager(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkLockUnlock is one uncontended exclusive take and release of an existing lock file.
func BenchmarkLockUnlock(b *testing.B) {
	m := benchManager(b)
	const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for b.Loop() {
		l, err := m.Lock(id)
		if err != nil {
			b.Fatal(err)
		}
		l.Unlock()
	}
}

// BenchmarkRLockUnlock is one uncontended shared take and release.
func BenchmarkRLockUnlock(b *testing.B) {
	m := benchManager(b)
	for b.Loop() {
		l, err := m.RLock("pod")
		if err != nil {
			b.Fatal(err)
		}
		l.Unlock()
	}
}

// BenchmarkTryLockFree is TryLock of a free lock, then release.
func BenchmarkTryLockFree(b *testing.B) {
	m := benchManager(b)
	for b.Loop() {
		l, err := m.TryLock("ctr")
		if err != nil {
			b.Fatal(err)
		}
		l.Unlock()
	}
}

// BenchmarkTryLockBusy is TryLock of a lock another holder has: it must fail at once.
func BenchmarkTryLockBusy(b *testing.B) {
	m := benchManager(b)
	held, err := m.Lock("ctr")
	if err != nil {
		b.Fatal(err)
	}
	defer held.Unlock()
	for b.Loop() {
		if _, err := m.TryLock("ctr"); !errors.Is(err, lock.ErrBusy) {
			b.Fatalf("TryLock of a held lock: %v, want ErrBusy", err)
		}
	}
}

// BenchmarkLockPodAndMembers is a pod verb's lock order: the pod, then three members in ID order.
func BenchmarkLockPodAndMembers(b *testing.B) {
	m := benchManager(b)
	names := []string{"pod", "ctr-a", "ctr-b", "ctr-c"}
	held := make([]*lock.Lock, len(names))
	for b.Loop() {
		for i, n := range names {
			l, err := m.Lock(n)
			if err != nil {
				b.Fatal(err)
			}
			held[i] = l
		}
		for i := len(held) - 1; i >= 0; i-- {
			held[i].Unlock()
		}
	}
}
