package engine

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/state"
)

// A removed container's directory in the store (its upper and work directories, its log) goes
// in two steps when the runtime was opened with DeferTrash (the CLI does): the removal renames
// it into the store's trash, which takes it out of the store at once, and EmptyTrash deletes
// the trash's contents afterwards — in the CLI, a process of its own that the command starts
// (beside its own work) as soon as it put something in the trash, and which waits for the
// command to exit before it deletes: the space comes back within milliseconds of the command's
// end without the user waiting for it.
//
// Deleting a directory tree is a string of system calls that mostly wait, and on a disk mounted
// with online discard (this VM's root ext4) every directory removed waits for the device to
// discard its block: rmdir 0.3 ms, rename 3 µs. A container leaves ten or so directories
// (upper and work, those overlayfs and crun make in them), and `run --rm` deleted them as the
// last thing before it returned: 2.2 ms of a 25 ms command.
//
// The trash is only ever deleted from, so a deletion killed midway leaves entries the next
// EmptyTrash finishes, and two of them at once only race to remove the same files.

func (r *Runtime) trashDir() string { return filepath.Join(r.opts.Root, "trash") }

// discardDir takes dir out of the store: into the trash with DeferTrash, else deleted in place.
// What is still mounted in it is unmounted first: a directory that keeps a mount (its overlay,
// an ID-mapped view of an image layer) is left alone, since a recursive deletion would go
// through the mount into what it shows.
func (r *Runtime) discardDir(dir string) {
	merged := filepath.Join(dir, "merged")
	for isMountpoint(merged) {
		if unix.Unmount(merged, unix.MNT_DETACH) != nil {
			return
		}
	}
	if !releaseIdmapViews(dir) {
		return
	}
	if !r.opts.DeferTrash {
		os.RemoveAll(dir)
		return
	}
	dst := filepath.Join(r.trashDir(), filepath.Base(dir)+"-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	err := os.Rename(dir, dst)
	if os.IsNotExist(err) {
		if _, serr := os.Lstat(dir); os.IsNotExist(serr) {
			return // nothing to discard
		}
		if os.MkdirAll(r.trashDir(), 0o700) == nil {
			err = os.Rename(dir, dst)
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return
	}
	r.trashed.Store(true)
	if r.opts.OnTrash != nil {
		r.onTrashed.Do(r.opts.OnTrash)
	}
}

// HandOffTrash tells the runtime that another process empties the trash: closing it will not.
func (r *Runtime) HandOffTrash() { r.trashed.Store(false) }

// EmptyTrash deletes everything in the store's trash, a few entries at a time.
func (r *Runtime) EmptyTrash() { r.emptyTrash(4) }

// AfterCommand is the work of the process that runs after a command (`system empty-trash`):
// it empties the trash and copies a WAL the command left past the size to copy into the
// database (state.CheckpointWAL). Nobody waits for it, so it runs at a lower CPU priority
// (nice 10) and deletes one entry at a time, leaving the CPUs to the commands that follow (a
// `pod rm -fa` of 80 containers leaves it half a second of work on this VM's disk). It opens
// the database only to copy, and creates nothing: the store may be gone by now.
func (r *Runtime) AfterCommand() error {
	unix.Setpriority(unix.PRIO_PROCESS, 0, 10)
	r.emptyTrash(1)
	_, err := state.CheckpointWAL(r.dbPath())
	return err
}

func (r *Runtime) emptyTrash(workers int) {
	entries, err := os.ReadDir(r.trashDir())
	if err != nil {
		return
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers)
	for _, e := range entries {
		sem <- struct{}{}
		wg.Go(func() {
			os.RemoveAll(filepath.Join(r.trashDir(), e.Name()))
			<-sem
		})
	}
	wg.Wait()
	r.trashed.Store(false)
}
