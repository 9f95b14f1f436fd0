// Package engine is where pea's use cases live: container and pod lifecycle, the infra
// container, namespace sharing, lock order, rollback of half-done work, refresh after a reboot,
// stats. The CLI (and later the API and CRI servers) call it; it calls the lower packages
// (state, lock, oci, image, network, cgroups), which know nothing of each other or of pods.
//
// Lock discipline: lock, re-read the state from the database, act, write, unlock. The pod lock is
// taken before any member's lock, and several containers are locked in ID order.
package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"pea/internal/conf"
	"pea/internal/image"
	"pea/internal/lock"
	"pea/internal/network"
	"pea/internal/oci"
	"pea/internal/state"
)

// Default locations.
const (
	DefaultRoot    = "/var/lib/pea"
	DefaultRunRoot = "/run/pea"
)

// Options configure a Runtime.
type Options struct {
	Root      string
	RunRoot   string
	Runtime   string // OCI runtime path or name; crun by default
	Namespace string // libpod namespace; empty sees every namespace
	LogLevel  string
	// HooksDirs are the OCI hooks directories (--hooks-dir); nil: DefaultHooksDirs.
	HooksDirs []string
	// RuntimeFlags are global flags for the OCI runtime (--runtime-flag, without their "--").
	RuntimeFlags []string
	// Conmon is conmon's path (--conmon); empty: found on PATH.
	Conmon string
	// NoEvents: events are not recorded (--events-backend none).
	NoEvents bool
	// DeferTrash: removed containers' directories go to the store's trash, which the caller
	// empties (EmptyTrash, or closing the runtime); see trash.go.
	DeferTrash bool
	// OnTrash, when set, is called the first time this process puts something in the trash
	// (it must return at once): the CLI starts the process that empties it then.
	OnTrash func()
	// Conf is the containers.conf whose container and network defaults the engine applies
	// (conf.go); nil: the built-in defaults. The caller turns its [engine] keys into the
	// options above.
	Conf *conf.Config
}

// Runtime is one pea process's view of the engine. Everything is opened lazily.
type Runtime struct {
	opts Options

	stateOnce sync.Once
	store     *state.Store
	stateErr  error

	locks *lock.Manager

	oci *oci.Runtime
	// inExitCommand is set in conmon's exit command, which must not wait for its own conmon.
	inExitCommand bool
	// exits holds the exit codes this process learned from the kernel (see waitPidExitCode),
	// by container ID, for the process they came from: they are known before conmon's exit
	// file is written.
	exits sync.Map // string -> knownExit
	net   *network.Manager

	trashed   atomic.Bool // this process put something in the trash (see trash.go)
	onTrashed sync.Once   // Options.OnTrash is called once
	// prelaunched holds the conmons PrepareRun launched ahead of their container's start, by
	// container ID.
	prelaunched sync.Map // string -> *oci.Launched
	// creating holds the locks of the containers this process is creating, from their first
	// directory to their row (orphans.go).
	creating sync.Map // string -> heldNew
	// preserveFDs holds, by container ID, how many of this process's fds from 3 on the
	// container's first start passes on (run --preserve-fds); a later start passes none.
	preserveFDs sync.Map // string -> int
	// namesByNetwork caches, by network name, whether a network names its containers (not
	// made with --disable-dns) and where aardvark-dns answers on it: the peers' refresh asks
	// it for every container on a network.
	namesByNetwork sync.Map // string -> netNames

	imagesOnce sync.Once
	images     *image.Store
	imagesErr  error

	defaultConf *conf.Config // conf()'s without Options.Conf
}

// knownExit is the exit code of the container process pid.
type knownExit struct{ pid, code int }

// New prepares a runtime. It touches the disk only to create the runroot's lock directory.
func New(opts Options) (*Runtime, error) {
	if opts.Root == "" {
		opts.Root = DefaultRoot
	}
	if opts.RunRoot == "" {
		opts.RunRoot = DefaultRunRoot
	}
	var err error
	if opts.Root, err = filepath.Abs(opts.Root); err != nil {
		return nil, err
	}
	if opts.RunRoot, err = filepath.Abs(opts.RunRoot); err != nil {
		return nil, err
	}
	r := &Runtime{opts: opts}
	return r, nil
}

// peaExe is the pea executable the engine runs for conmon's exit command, the user namespace
// holder and the copier: this process's own, unless SetExecutable named another.
var peaExe = ""

// SetExecutable names the pea executable for a process that is not pea itself (the API
// service, an executable of its own, which runs pea for those). Call it before any Runtime.
func SetExecutable(path string) { peaExe = path }

// selfExe is the pea executable to run.
func selfExe() string {
	if peaExe != "" {
		return peaExe
	}
	return "/proc/self/exe"
}

// Options returns the runtime's options.
func (r *Runtime) Options() Options { return r.opts }

// Close empties what this process put in the trash and releases the database.
func (r *Runtime) Close() {
	if r.trashed.Load() {
		r.EmptyTrash()
	}
	if r.store != nil {
		r.store.Close()
	}
}

// CloseAtExit is Close for a process that exits next: the database is closed only when closing
// has work to do (see state.Store.CloseAtExit, which asks copyLater, when not nil, whether
// another process copies a large WAL after this one: see AfterCommand).
func (r *Runtime) CloseAtExit(copyLater func() bool) {
	if r.trashed.Load() {
		r.EmptyTrash()
	}
	if r.store != nil {
		r.store.CloseAtExit(copyLater)
	}
}

// dbPath is the state database's file.
func (r *Runtime) dbPath() string { return filepath.Join(r.opts.Root, "pea.db") }

// state opens the database on first use, and refreshes after a reboot (empty runroot).
func (r *Runtime) state() (*state.Store, error) {
	r.stateOnce.Do(func() {
		if err := os.MkdirAll(r.opts.RunRoot, 0o700); err != nil {
			r.stateErr = fmt.Errorf("runroot: %w", err)
			return
		}
		r.locks, r.stateErr = lock.NewManager(filepath.Join(r.opts.RunRoot, "locks"))
		if r.stateErr != nil {
			return
		}
		r.store, r.stateErr = state.Open(r.dbPath())
		if r.stateErr != nil {
			return
		}
		r.stateErr = r.refreshIfRebooted()
	})
	return r.store, r.stateErr
}

// imageStore opens the image store on first use.
func (r *Runtime) imageStore() (*image.Store, error) {
	r.imagesOnce.Do(func() {
		r.images, r.imagesErr = image.Open(filepath.Join(r.opts.Root, "images"))
	})
	return r.images, r.imagesErr
}

// paths under the runroot and root.
func (r *Runtime) ctrRunDir(id string) string { return filepath.Join(r.opts.RunRoot, "containers", id) }
func (r *Runtime) ctrDir(id string) string    { return filepath.Join(r.opts.Root, "containers", id) }
func (r *Runtime) exitDir() string            { return filepath.Join(r.opts.RunRoot, "exits") }
func (r *Runtime) exitFile(id string) string  { return filepath.Join(r.exitDir(), id) }
func (r *Runtime) runtimeRoot() string        { return filepath.Join(r.opts.RunRoot, "runtime") }
func (r *Runtime) volumesDir() string         { return filepath.Join(r.opts.Root, "volumes") }

// Executable is the pea executable this process runs for pea's work (the service runs it for
// remote command lines).
func Executable() string { return selfExe() }
