package engine

import (
	"os"
	"path/filepath"
	"strings"

	"pea/internal/lock"
)

// A container's directories (root/containers/<id>, and for run's conmon launched ahead
// runroot/containers/<id> and its exit file) are made before its row: a pea killed in between
// leaves them with nothing that names them, for good, since every removal goes by the rows.
// The creating process holds the container's lock from its first directory to its row, so a
// directory whose row is missing and whose lock is free is such a leftover, and SweepOrphans
// (system prune, rm --all) removes it.

// holdNew takes the lock of container id, which this process is about to create. It does not
// wait: whoever holds it already keeps it (and the sweep, which needs it free, keeps off). (run
// calls it before the store is open: it makes its own lock manager.)
func (r *Runtime) holdNew(id string) {
	m, err := lock.NewManager(filepath.Join(r.opts.RunRoot, "locks"))
	if err != nil {
		return
	}
	if l, err := m.TryLock(id); err == nil {
		r.creating.Store(id, heldNew{m, l})
	}
}

type heldNew struct {
	m *lock.Manager
	l *lock.Lock
}

// releaseNew lets go of the lock holdNew took; with remove (the creation failed), its file too.
func (r *Runtime) releaseNew(id string, remove bool) {
	v, ok := r.creating.LoadAndDelete(id)
	if !ok {
		return
	}
	if h := v.(heldNew); remove {
		h.l.Remove(h.m)
	} else {
		h.l.Unlock()
	}
}

// SweepOrphans removes the directories and files of containers whose creation was killed
// before their row was written, and returns their IDs.
func (r *Runtime) SweepOrphans() []string { return r.orphans(true) }

// orphans lists the containers whose creation was killed before their row was written, and with
// remove removes what they left.
func (r *Runtime) orphans(remove bool) []string {
	st, err := r.state()
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	// The lock directory too: a creation killed after it took the new container's lock and
	// before its first directory left only the lock file. Pods' lock files are named by their
	// IDs as well, and kept.
	for _, dir := range []string{filepath.Join(r.opts.Root, "containers"), filepath.Join(r.opts.RunRoot, "containers"),
		filepath.Join(r.opts.RunRoot, "etc"), r.exitDir(), filepath.Join(r.opts.RunRoot, "locks")} {
		names, _ := os.ReadDir(dir)
		for _, e := range names {
			id := e.Name()
			if seen[id] || !isFullID(id) {
				continue
			}
			seen[id] = true
			if st.ContainerExists(id) {
				continue
			}
			if _, err := st.Pod(id); err == nil {
				continue
			}
			_, lerr := os.Lstat(filepath.Join(r.locks.Dir(), id))
			l, err := r.locks.TryLock(id)
			if err != nil {
				continue // being created
			}
			if _, err := st.Pod(id); st.ContainerExists(id) || err == nil { // created since
				l.Unlock()
				continue
			}
			if !remove { // the check's look leaves no lock file of its own behind
				if lerr != nil {
					l.Remove(r.locks)
				} else {
					l.Unlock()
				}
				out = append(out, id)
				continue
			}
			r.discardDir(r.ctrDir(id))
			os.RemoveAll(r.ctrRunDir(id))
			os.RemoveAll(r.etcDir(id))
			os.Remove(filepath.Join(r.exitDir(), id))
			l.Remove(r.locks)
			out = append(out, id)
		}
	}
	return out
}

// isFullID reports whether s is a whole object ID (64 lowercase hex digits).
func isFullID(s string) bool {
	return len(s) == 64 && strings.Trim(s, "0123456789abcdef") == ""
}
