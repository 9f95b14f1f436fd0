package engine

import (
	"os"
	"path/filepath"

	"pea/internal/model"
	"pea/internal/oci"
	"pea/internal/trace"
)

// conmonOptions are the options container cfg's conmon is launched with.
func (r *Runtime) conmonOptions(cfg *model.ContainerConfig) oci.CreateOptions {
	name := cfg.Name
	if name == "" { // launched before the name is chosen (PrepareRun): conmon logs under the ID
		name = cfg.ID
	}
	return oci.CreateOptions{
		ID: cfg.ID, Name: name, Bundle: r.ctrRunDir(cfg.ID), LogPath: r.logPath(cfg),
		Terminal: cfg.Terminal, Stdin: cfg.Stdin, KeepStdin: cfg.KeepStdinOpen, ExitCommand: r.exitCommand(cfg.ID),
		// The log of a --rm container is removed with it once it exits: an fsync of it first
		// is disk work for nothing. (Measured, it did not move when conmon writes the exit
		// file here; that waits on conmon's wake-up and reaping.)
		NoSyncLog: cfg.AutoRemove,
		LogDriver: conmonLogDriver(cfg.LogDriver), Timeout: cfg.Timeout, RuntimeArgs: runtimeArgs(cfg),
		LogSizeMax: cfg.LogSizeMax, LogTag: logTag(cfg), PreserveFDs: r.takePreserveFDs(cfg.ID),
	}
}

// logTag is conmon's --log-tag for cfg: journald's entries carry the tag; conmon refuses one
// for a file log, whose lines have no place for it (Docker's json-file keeps it as an
// attribute only logs --details shows).
func logTag(cfg *model.ContainerConfig) string {
	if conmonLogDriver(cfg.LogDriver) != LogDriverJournald {
		return ""
	}
	return cfg.LogTag
}

// makeRunDirs makes the directories conmon needs for container id: its bundle, the exit
// directory and the runtime's state directory.
func (r *Runtime) makeRunDirs(rt *oci.Runtime, id string) error {
	for _, d := range []string{r.ctrRunDir(id), r.exitDir(), rt.StateDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	return nil
}

// PrepareRun readies `run` of the container cfg describes, before it is created: the kernel's
// cgroup attach lock, which the start will take, is readied (see cgroups.WarmAttach); cfg gets
// its ID, and its conmon is launched at once (see oci.Runtime.Launch) to wait for the start that
// follows the creation. conmon's start-up (exec, linking glib and libsystemd, ~2-3 ms here) then
// overlaps the creation (the database, the image, the container's row) instead of following it.
//
// The caller must call the returned cancel once the container was created and started, or
// failed to be: when the start did not take the launched conmon, cancel ends it and, when the
// container was not created, removes the directories made for it.
func (r *Runtime) PrepareRun(cfg *model.ContainerConfig, preserveFDs int) (cancel func()) {
	warmAttach()
	if cfg.ID != "" || cfg.LogPath != "" || cfg.LogDriver == LogDriverPassthrough || preserveFDs > 0 {
		// (A log path of the caller's: its directory is made by the start, once the config
		// is accepted; conmon launched ahead would need it before. A passthrough log or
		// preserved fds: conmon takes them from the start, once the config is accepted.)
		return func() {}
	}
	rt, err := r.ociRuntime()
	if err != nil {
		return func() {} // the start will say why
	}
	id := newID()
	r.holdNew(id)
	if err := os.MkdirAll(r.ctrDir(id), 0o700); err != nil {
		r.releaseNew(id, true)
		return func() {}
	}
	if err := r.makeRunDirs(rt, id); err != nil {
		os.RemoveAll(r.ctrDir(id))
		r.releaseNew(id, true)
		return func() {}
	}
	cfg.ID = id
	trace.Mark("run: conmon launched ahead")
	launched, err := rt.Launch(r.conmonOptions(cfg))
	if err != nil {
		os.RemoveAll(r.ctrDir(id))
		os.RemoveAll(r.ctrRunDir(id))
		r.releaseNew(id, true)
		return func() {}
	}
	r.prelaunched.Store(id, launched)
	// The overlay's directories, which the start would make (three mkdirs on the store's disk,
	// 0.2 ms here), are made now, while conmon starts.
	if (cfg.Rootfs == "" || cfg.RootfsOverlay) && (cfg.ImageName != "" || cfg.Rootfs != "") {
		for _, d := range []string{"merged", "upper", "work"} {
			os.Mkdir(filepath.Join(r.ctrDir(id), d), 0o755)
		}
	}
	if cfg.Pod == "" && ownsShm(cfg) {
		os.Mkdir(r.shmDir(id), 0o700) // the mount point of its /dev/shm (prepareShm)
	}
	return func() {
		l := r.takePrelaunched(id)
		if l == nil {
			return
		}
		l.Abort()
		if st, err := r.state(); err == nil && st.ContainerExists(id) {
			return // created but not started: the caller removes it or keeps it
		}
		os.RemoveAll(r.ctrDir(id))
		os.RemoveAll(r.ctrRunDir(id))
		r.releaseNew(id, true)
	}
}

// takePrelaunched returns the conmon PrepareRun launched for container id, if it is still
// waiting, and forgets it.
func (r *Runtime) takePrelaunched(id string) *oci.Launched {
	if v, ok := r.prelaunched.LoadAndDelete(id); ok {
		return v.(*oci.Launched)
	}
	return nil
}
