package engine

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"pea/internal/cgroups"
	"pea/internal/errdefs"
	"pea/internal/jsonfast"
	"pea/internal/model"
	"pea/internal/oci"
	"pea/internal/rootless"
	"pea/internal/trace"
)

// ociRuntime returns the runtime driver.
func (r *Runtime) ociRuntime() (*oci.Runtime, error) {
	if r.oci != nil {
		return r.oci, nil
	}
	name := r.opts.Runtime
	if name == "" {
		name = "crun"
	}
	path, err := oci.FindBinary(name)
	if err != nil {
		return nil, err
	}
	conmonName := r.opts.Conmon
	if conmonName == "" {
		conmonName = "conmon"
	}
	conmon, err := oci.FindBinary(conmonName)
	if err != nil {
		return nil, err
	}
	r.oci = &oci.Runtime{Path: path, ConmonPath: conmon, StateDir: r.runtimeRoot(), ExitDir: r.exitDir(), LogLevel: r.opts.LogLevel,
		GlobalArgs: oci.RuntimeFlags(r.opts.RuntimeFlags)}
	return r.oci, nil
}

// warmAttach readies the kernel's cgroup attach lock for a start or exec that is sure to come
// (see cgroups.WarmAttach); a variable for tests.
var warmAttach = cgroups.WarmAttach

// exitCommand is what conmon runs when the container exits: pea's own cleanup.
func (r *Runtime) exitCommand(id string) []string {
	self := peaExe
	if self == "" {
		var err error
		if self, err = os.Executable(); err != nil {
			self = "/proc/self/exe"
		}
	}
	args := []string{self, "--root", r.opts.Root, "--runroot", r.opts.RunRoot}
	if r.opts.Runtime != "" {
		args = append(args, "--runtime", r.opts.Runtime)
	}
	for _, d := range r.opts.HooksDirs {
		args = append(args, "--hooks-dir", d)
	}
	for _, f := range r.opts.RuntimeFlags {
		args = append(args, "--runtime-flag", f)
	}
	if r.opts.Conmon != "" {
		args = append(args, "--conmon", r.opts.Conmon)
	}
	if r.opts.NoEvents {
		args = append(args, "--events-backend", "none")
	}
	return append(args, "container", "cleanup", id)
}

// startLocked starts a created, initialized or exited container whose lock the caller holds.
// With attach set, the streams are connected before the process starts, so no output is lost.
func (r *Runtime) startLocked(ctx context.Context, c *model.Container, attach *Streams) error {
	if c.State.Status == model.StatusInitialized {
		return r.startInitialized(c, attach)
	}
	return r.launchLocked(ctx, c, attach, false)
}

// launchLocked makes the container in the runtime (root filesystem, network, spec, conmon and
// the runtime's create) and, unless initOnly (`pea init`), starts it.
func (r *Runtime) launchLocked(ctx context.Context, c *model.Container, attach *Streams, initOnly bool) (err error) {
	cfg := c.Config
	if c.State.Active() {
		return fmt.Errorf("container %s is already running: %w", cfg.Name, errdefs.ErrCtrStateInvalid)
	}
	// crun will move the container's first process into its cgroup; the kernel lock that
	// takes is readied in the background meanwhile (see cgroups.WarmAttach).
	warmAttach()
	rt, err := r.ociRuntime()
	if err != nil {
		return err
	}
	var u undo
	defer func() {
		if err != nil {
			u.run()
		}
	}()
	bundle := r.ctrRunDir(cfg.ID)
	// A conmon launched with the container's creation (PrepareRun) is already starting in a
	// fresh bundle; otherwise it starts now. Either way it waits before it runs the runtime:
	// its start-up (~2 ms) goes on while the root filesystem is mounted and the spec written.
	launched := r.takePrelaunched(cfg.ID)
	if launched == nil {
		// Leftovers of an earlier run. A conmon of a start that died after the runtime's
		// create goes first, without a word: the delete below would end its container, and it
		// would then write an exit code and run its exit command, both taken for this run's
		// (the new container recorded exited and torn down while it runs).
		removeLeftContainer(rt, cfg.ID, r.CgroupPathOf(c), killStaleConmon(bundle, cfg.ID))
		os.Remove(r.exitFile(cfg.ID))
		os.RemoveAll(bundle)
		if err := r.makeRunDirs(rt, cfg.ID); err != nil {
			return err
		}
		trace.Mark("start: bundle prepared")
		if cfg.LogPath != "" {
			// A log path of the caller's: its directory is made at the start (as a CRI runtime
			// does), not at the creation, so a create that fails leaves nothing behind.
			if err := os.MkdirAll(filepath.Dir(cfg.LogPath), 0o755); err != nil {
				return fmt.Errorf("log path %s: %w", cfg.LogPath, err)
			}
		}
		if launched, err = rt.Launch(r.conmonOptions(cfg)); err != nil {
			return err
		}
	}
	u.add(launched.Abort)
	in := specInputs{nsPaths: map[string]string{}, sysctls: r.conf().Containers.DefaultSysctls}
	if isBuildContainer(cfg) {
		in.sysctls = nil // pea's own default: podman's RUN does not take default_sysctls
	}
	// A member of a pod whose infra container is starting alongside (infraGate) waits here
	// for the infra's process, whose namespaces it joins.
	gate := infraGateOf(ctx)
	var joining *infraGate
	if gate != nil && gate.id != cfg.ID {
		if err := gate.waitCreated(ctx); err != nil {
			return err
		}
		joining = gate
	}
	if err := r.namespacePaths(c, in.nsPaths, joining); err != nil {
		return err
	}
	in.hostname = r.JoinedHostname(c)
	userns, err := r.openUserNS(c, in.nsPaths[model.NSUser])
	if err != nil {
		return err
	}
	defer userns.close()
	if in.rootfs, err = r.mountRootfs(c, userns); err != nil {
		return err
	}
	trace.Mark("start: rootfs mounted")
	u.add(func() { r.unmountRootfs(c) })
	rootfs := in.rootfs
	if (cfg.Image != "" || cfg.RootfsOverlay) && !isBuildContainer(cfg) {
		// Not in a --rootfs directory of the caller's, which pea does not write; not in a
		// build's RUN, whose container buildah leaves as the image has it.
		linkMtab(rootfs, userns)
	}
	if in.shm, err = r.prepareShm(c, userns); err != nil {
		return err
	}
	u.add(func() { r.unmountShm(cfg.ID) })
	trace.Mark("start: shm ready")
	// The CNI plugins attach the network while conmon and the runtime create the container.
	waitNetwork, err := r.beginNetwork(ctx, c, in.nsPaths)
	if err != nil {
		return err
	}
	u.add(func() {
		waitNetwork()
		r.teardownNetwork(c)
	})
	if in.etcFiles, err = r.writeEtcFiles(c, rootfs); err != nil {
		return err
	}
	if userns != nil {
		// Files of its own are its root's to change, as in a container without one.
		own := r.etcDir(cfg.ID) + "/"
		for _, f := range in.etcFiles {
			if strings.HasPrefix(f, own) {
				if err := chownToRoot(userns, f); err != nil {
					return err
				}
			}
		}
	}
	if in.uid, in.gid, in.groups, in.home, err = lookupUser(rootfs, cfg.User); err != nil {
		return err
	}
	trace.Mark("start: etc files written, user looked up")
	if cfg.GroupsStrict {
		in.groups = nil
	}
	if cfg.User != "" && !cfg.PrimaryGroupApart && !slices.Contains(in.groups, in.gid) {
		// A user set (by --user or the image) is in its group, as podman's process is.
		in.groups = append([]uint32{in.gid}, in.groups...)
	}
	addedUser := r.passwdEntry(cfg, readColonFile(rootfs, "etc/passwd"), in.uid, in.gid) != ""
	if addedUser {
		in.home = cfg.WorkingDir // the entry pea adds for a user the image does not know
		if in.home == "" {
			in.home = "/"
		}
	}
	if err := checkWorkingDir(cfg, rootfs); err != nil {
		return err
	}
	if !cfg.IsInfra && !cfg.IsService {
		if in.containerEnv, err = r.writeContainerEnv(cfg); err != nil {
			return err
		}
	}
	keepPasswd, err := r.keepIDFiles(cfg, rootfs, &in, userns)
	if err != nil {
		return err
	}
	if f, err := r.passwdFile(cfg, rootfs, keepPasswd, in.uid, in.gid, userns); err != nil {
		return err
	} else if f != "" && !userMounts(cfg, "/etc/passwd") {
		in.etcFiles["/etc/passwd"] = f
	}
	_, group, _ := strings.Cut(cfg.User, ":")
	_, numErr := strconv.ParseUint(group, 10, 32)
	if (addedUser || numErr == nil) && !cfg.PrimaryGroupApart && in.etcFiles["/etc/group"] == "" && !userMounts(cfg, "/etc/group") {
		// The added user's group too, and a group given by number (--user 0:100), when the
		// image has none of that ID (podman's: id then names it by its number).
		if f, err := r.addedGroupFile(cfg, rootfs, in.gid, userns); err != nil {
			return err
		} else if f != "" {
			in.etcFiles["/etc/group"] = f
		}
	}
	for _, g := range cfg.GroupAdd {
		gid, err := lookupGroup(rootfs, g)
		if err != nil {
			return &errdefs.ExitError{Code: 126, Err: err}
		}
		if !slices.Contains(in.groups, gid) {
			in.groups = append(in.groups, gid)
		}
	}
	in.notifySocket = sdNotifySocket(cfg)
	if in.localtime, err = timezoneFile(cfg.Timezone); err != nil {
		return err
	}
	if in.secretFiles, in.secretEnv, err = r.prepareSecrets(cfg); err != nil {
		return err
	}
	trace.Mark("start: passwd, group, secrets ready")
	if cfg.UserNS().Mode == model.NSModePrivate && (!mapsID(cfg.UIDMap, in.uid) || !mapsID(cfg.GIDMap, in.gid)) {
		return &errdefs.ExitError{Code: 126, Err: fmt.Errorf("container %s runs as %d:%d, which its --uidmap/--gidmap do not map", cfg.Name, in.uid, in.gid)}
	}
	if cfg.Cgroups != CgroupsDisabled {
		in.cgroupsPath, err = r.cgroupsPath(c)
		if err != nil {
			return err
		}
		// A runtime that fails after making the container's cgroup leaves it behind.
		u.add(func() { cgroups.Remove(in.cgroupsPath) })
	}
	if cfg.Init && cfg.InitPath != "" {
		in.catatonit = cfg.InitPath
	} else if cfg.Init || (cfg.IsInfra || cfg.IsService) && cfg.Image == "" {
		if in.catatonit, err = oci.FindBinary("catatonit"); err != nil {
			return err
		}
	}
	var seccompKey, seccompBPF string
	if in.seccomp, seccompKey, seccompBPF, err = seccompForStart(rt, cfg); err != nil {
		return err
	}
	trace.Mark("start: cgroup path, seccomp ready")
	specCfg := *cfg
	if err := r.prepareVolumeMounts(c, rootfs, userns, in.uid, in.gid, &u); err != nil {
		return err
	}
	mounts, err := r.mountImageVolumes(c, cfg.Mounts, &u)
	if err != nil {
		return err
	}
	specCfg.Mounts = r.resolveMounts(mounts)
	if err := chownMountSources(specCfg.Mounts, userns, in.uid, in.gid); err != nil {
		return err
	}
	spec, err := buildSpec(&specCfg, in)
	if err != nil {
		return err
	}
	trace.Mark("start: spec built")
	if err := addHooks(spec, r.opts.HooksDirs, cfg); err != nil {
		return err
	}
	if seccompBPF != "" {
		spec.Annotations[oci.SeccompAnnotation] = seccompBPF
	}
	data, err := jsonfast.Marshal(spec)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o600); err != nil {
		return err
	}

	trace.Mark("start: spec written")
	pid, conmonPid, err := launched.Create()
	if err != nil {
		return err
	}
	u.add(func() {
		rt.Kill(cfg.ID, 9, true)
		rt.Delete(cfg.ID, true)
	})
	if seccompBPF == "" {
		rt.SaveSeccomp(cfg.ID, seccompKey)
	}
	if gate != nil && gate.id == cfg.ID {
		gate.markCreated(pid, in.nsPaths[model.NSNet]) // the members may join it now
	}
	if err := waitNetwork(); err != nil {
		return err
	}
	if c.State.NetNS != "" {
		nets := r.userNetworks(c)
		if !cfg.Network.NoHosts || r.dnsNetworks(nets) {
			// /etc/hosts names the container's address, and resolv.conf its networks' DNS
			// servers, known only now; the files are rewritten in place, so the bind mounts
			// the runtime made show the new content.
			if _, err := r.writeEtcFiles(c, rootfs); err != nil {
				return err
			}
		}
		if len(nets) > 0 {
			// Its peers, in its /etc/hosts before its first instruction, and it in theirs and
			// in aardvark's files.
			r.refreshPeerHosts(nets, c)
		}
	}
	if joining != nil {
		// Its process goes only into a pod whose infra has started, network and all.
		if err := joining.waitStarted(ctx); err != nil {
			return err
		}
	}
	if initOnly {
		return r.recordInitialized(c, pid, conmonPid)
	}
	return r.finishStart(c, attach, pid, conmonPid, &u)
}

// finishStart starts a container the runtime has created (its process waits for the start),
// connecting the attached caller first, and records it running. Steps to undo on failure go
// to u.
func (r *Runtime) finishStart(c *model.Container, attach *Streams, pid, conmonPid int, u *undo) error {
	cfg := c.Config
	initialized := c.State.Status == model.StatusInitialized // `pea init` logged its init
	rt, err := r.ociRuntime()
	if err != nil {
		return err
	}
	st, err := r.state()
	if err != nil {
		return err
	}
	bundle := r.ctrRunDir(cfg.ID)
	var attached *attachConn
	if attach != nil {
		r.markHandled(cfg.ID) // the attached caller records the exit itself
		// Taken while the process waits to start: the pidfd will tell its exit code.
		if fd, err := unix.PidfdOpen(pid, 0); err == nil {
			attach.exitFD, attach.hasExitFD = fd, true
			u.add(attach.closeExitFD)
		}
		// A passthrough container has the stdio of the pea that started it and no attach
		// socket: the caller only waits for its exit.
		if cfg.LogDriver != LogDriverPassthrough {
			if attached, err = dialAttach(bundle); err != nil {
				return err
			}
			u.add(func() { attached.Close() })
			if attach.Size != nil {
				setPtySize(pid, attach.Size[0], attach.Size[1])
				attached.resize(attach.Size[0], attach.Size[1])
			}
		}
	}
	trace.Mark("start: runtime created the container")
	if err := rt.Start(cfg.ID); err != nil {
		return err
	}
	if cfg.PidFile != "" {
		if err := os.WriteFile(cfg.PidFile, []byte(strconv.Itoa(pid)), 0o644); err != nil {
			return fmt.Errorf("--pidfile: %w", err)
		}
	}
	if cfg.ConmonPidFile != "" {
		if err := os.WriteFile(cfg.ConmonPidFile, []byte(strconv.Itoa(conmonPid)), 0o644); err != nil {
			return fmt.Errorf("--conmon-pidfile: %w", err)
		}
	}
	trace.Mark("start: runtime started it")
	c.State.Status = model.StatusRunning
	c.State.Pid = pid
	c.State.ConmonPid = conmonPid
	c.State.StartedAt = time.Now()
	c.State.FinishedAt = time.Time{}
	c.State.ExitCode = 0
	c.State.OOMKilled = false
	c.State.Error = ""
	c.State.StoppedByUser = false
	if cfg.Healthcheck != nil {
		c.State.Health = startingHealth(c.State.Health)
	}
	if err := st.SaveContainerState(cfg.ID, c.State); err != nil {
		return err
	}
	if !initialized {
		r.containerEvent(cfg, "init") // podman's: the runtime made the container, then started it
	}
	r.containerEvent(cfg, "start")
	if err := notifyReady(c); err != nil {
		slog.Warn("--sdnotify conmon: telling systemd the container is ready", "err", err)
	}
	if cfg.Healthcheck != nil {
		r.startHealthTimer(c)
	}
	if attached != nil {
		attach.conn = attached
	}
	if cfg.Pod != "" && !cfg.IsInfra {
		// A member answers to its name at its pod's address: the others learn it.
		r.refreshPeerHosts(r.peerNetworksOf(c), nil)
	} else if c.State.NetNS != "" {
		// Once more, now that it is recorded running: a start that overlapped with this one
		// rebuilt the peers' files from the database, which did not show this container yet
		// (nor this one's the other). Files that do not change are not written.
		r.refreshPeerHosts(r.userNetworks(c), nil)
	}
	return nil
}

// logPath is where conmon writes container cfg's log: its own directory's ctr.log, or the path
// its config names.
func (r *Runtime) logPath(cfg *model.ContainerConfig) string {
	if cfg.LogPath != "" {
		return cfg.LogPath
	}
	return filepath.Join(r.ctrDir(cfg.ID), "ctr.log")
}

// mountRootfs mounts the container's root filesystem: an overlay of its image's layers with its
// own upper directory, or for an image-less infra container an empty directory.
//
// In a user namespace (ns not nil) the overlay's layers are ID-mapped views (see userns.go),
// and what the container writes (its upper directory, the empty root of an image-less infra
// container) belongs to its root. A rootless pea's is a fuse-overlayfs mount instead
// (userns_rootless.go), whose upper directory holds the container's IDs: its 0 is root's.
func (r *Runtime) mountRootfs(c *model.Container, ns *userNS) (string, error) {
	cfg := c.Config
	dir := r.ctrDir(cfg.ID)
	if ns != nil {
		// Searchable by container root, a host ID of no privilege, on the way to its root
		// filesystem; writable by root alone, so that nothing but pea can put a link where
		// pea mounts, unmounts or removes (merged, idmap, upper).
		if err := os.Lchown(dir, 0, 0); err != nil {
			return "", err
		}
		if err := os.Chmod(dir, 0o711); err != nil {
			return "", err
		}
	}
	if cfg.Rootfs != "" {
		if ns != nil {
			return "", fmt.Errorf("container %s: a root filesystem directory is not ID-mapped; a user namespace needs an image: %w", cfg.Name, errdefs.ErrInvalid)
		}
		if !cfg.RootfsOverlay {
			return cfg.Rootfs, nil
		}
	}
	if cfg.Image == "" && cfg.Rootfs == "" {
		root := filepath.Join(dir, "rootfs")
		if err := os.MkdirAll(root, 0o755); err != nil {
			return "", err
		}
		return root, chownToRoot(ns, root)
	}
	var layers []string
	if cfg.Rootfs != "" { // --rootfs DIR:O: the directory is the overlay's only lower layer
		layers = []string{cfg.Rootfs}
	} else {
		is, err := r.imageStore()
		if err != nil {
			return "", err
		}
		img, err := is.Lookup(cfg.Image)
		if err != nil {
			return "", fmt.Errorf("image of container %s: %w", cfg.Name, err)
		}
		if layers, err = is.LayerDirs(img); err != nil {
			return "", err
		}
	}
	merged := filepath.Join(dir, "merged")
	upper := filepath.Join(dir, "upper")
	work := filepath.Join(dir, "work")
	for _, d := range []string{merged, upper, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", err
		}
	}
	if isMountpoint(merged) {
		return merged, nil
	}
	lower := lowerDirs(layers)
	if ns.fuse() {
		if err := mountFuseOverlay(lower, upper, work, merged, ns, cfg.AutoRemove); err != nil {
			return "", fmt.Errorf("root filesystem of %s: %w", cfg.Name, err)
		}
		c.State.Mounted = true
		c.State.MountPoint = merged
		return merged, nil
	}
	if ns != nil {
		if err := chownToRoot(ns, upper); err != nil {
			return "", err
		}
		var err error
		if lower, err = idmappedLayers(dir, lower, ns); err != nil {
			return "", fmt.Errorf("root filesystem of %s: %w", cfg.Name, err)
		}
		defer releaseIdmapViews(dir)
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", strings.Join(lower, ":"), upper, work) + rootless.OverlayOptions()
	if len(opts) > 4000 {
		return "", fmt.Errorf("image of %s has too many layers for one overlay mount (%d)", cfg.Name, len(lower))
	}
	// A --rm container's changes go with it: its overlay is mounted "volatile" (Linux 5.10+),
	// which spares the unmount a sync of the upper file system (0.8 -> 0.3 ms here, at the end
	// of every `run --rm`). Such a mount leaves a marker that makes any later mount of the same
	// directories fail (meant for after a crash, when the upper directory may be incomplete); a
	// --rm container keeps nothing worth that protection, so the marker of an earlier mount is
	// cleared first. A kernel that does not know the option gets the plain mount.
	if cfg.AutoRemove {
		os.RemoveAll(filepath.Join(work, "work", "incompat", "volatile"))
		if err := unix.Mount("overlay", merged, "overlay", 0, opts+",volatile"); err == nil {
			c.State.Mounted = true
			c.State.MountPoint = merged
			return merged, nil
		}
	}
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		return "", fmt.Errorf("mount overlay for %s: %w", cfg.Name, err)
	}
	c.State.Mounted = true
	c.State.MountPoint = merged
	return merged, nil
}

// unmountRootfs undoes mountRootfs; it is idempotent. A root filesystem `pea mount` mounted
// stays until `pea umount` (mount.go).
func (r *Runtime) unmountRootfs(c *model.Container) {
	if r.userMounts(c.Config.ID) > 0 {
		return
	}
	merged := filepath.Join(r.ctrDir(c.Config.ID), "merged")
	for isMountpoint(merged) {
		if err := unix.Unmount(merged, unix.MNT_DETACH); err != nil {
			break
		}
	}
	if rootless.Active() {
		// A fuse-overlayfs mount whose daemon is gone (killed) answers nothing, not even its
		// device: unmounted all the same.
		var st unix.Stat_t
		if unix.Lstat(merged, &st) == unix.ENOTCONN {
			unix.Unmount(merged, unix.MNT_DETACH)
		}
	}
	c.State.Mounted = false
	c.State.MountPoint = ""
}

// isMountpoint reports whether a file system is mounted on path, by the device numbers of path
// and its parent. That is exact for the overlay root filesystems it is asked about (an overlay
// mount always has a device of its own) and, unlike the mount table, costs no read of
// /proc/self/mountinfo, which the kernel renders mount by mount (twice per container start and
// stop before).
func isMountpoint(path string) bool {
	var st, parent unix.Stat_t
	if unix.Lstat(path, &st) != nil || unix.Lstat(filepath.Dir(path), &parent) != nil {
		return false
	}
	return st.Dev != parent.Dev
}

// seccompForStart returns what a start gives crun for seccomp: the profile to write into the
// spec or, when crun compiled it for an earlier start, only the compiled filter (bpf, for the
// annotation: crun loads it and skips any seccomp section of the spec (crun(1)), so the spec has
// none — 10 KB and 350 syscall entries less for pea to encode and for crun to parse, copy and
// read back); and the key to keep crun's filter under when it was not cached. pea's default
// profile is not even built when its filter is cached (the key needs only the capabilities:
// oci.Runtime.DefaultSeccompKey). All empty for a privileged container.
func seccompForStart(rt *oci.Runtime, cfg *model.ContainerConfig) (profile *specs.LinuxSeccomp, key, bpf string, err error) {
	if cfg.Privileged {
		return nil, "", "", nil
	}
	if cfg.Seccomp == "" {
		caps, err := oci.CapabilitiesFrom(cfg.DefaultCaps, cfg.CapAdd, cfg.CapDrop, cfg.Privileged)
		if err != nil {
			return nil, "", "", err
		}
		key = rt.DefaultSeccompKey(caps)
		if bpf, _ = rt.CachedSeccomp(key); bpf != "" {
			return nil, key, bpf, nil
		}
	}
	if profile, err = seccompFor(cfg); err != nil {
		return nil, "", "", err
	}
	if key == "" {
		key = rt.SeccompKey(profile)
		if bpf, _ = rt.CachedSeccomp(key); bpf != "" {
			return nil, key, bpf, nil
		}
	}
	return profile, key, "", nil
}

// seccompFor returns the container's seccomp profile (nil when unconfined).
func seccompFor(cfg *model.ContainerConfig) (*specs.LinuxSeccomp, error) {
	if cfg.Seccomp == "unconfined" {
		return nil, nil
	}
	caps, err := oci.CapabilitiesFrom(cfg.DefaultCaps, cfg.CapAdd, cfg.CapDrop, cfg.Privileged)
	if err != nil {
		return nil, err
	}
	if cfg.Seccomp == "" {
		return oci.DefaultSeccomp(caps), nil
	}
	return oci.LoadSeccompFileFor(cfg.Seccomp, caps)
}

// lowerDirs orders an image's layer directories (bottom first) for overlay's lowerdir: top
// first, and each directory once. A layer an image repeats (an empty layer, say) keeps its
// topmost place, which gives the same tree; overlayfs refuses a directory listed twice.
func lowerDirs(layers []string) []string {
	var lower []string
	seen := map[string]bool{}
	for i := len(layers) - 1; i >= 0; i-- {
		if !seen[layers[i]] {
			seen[layers[i]] = true
			lower = append(lower, layers[i])
		}
	}
	return lower
}

// checkWorkingDir refuses, as podman does, a working directory the user gave (-w) that the
// container's root filesystem does not have, unless a mount provides it; the image's own
// is made by the runtime.
func checkWorkingDir(cfg *model.ContainerConfig, rootfs string) error {
	wd := cfg.WorkingDir
	if !cfg.WorkingDirGiven || wd == "" || wd == "/" {
		return nil
	}
	for _, m := range cfg.Mounts {
		if d := filepath.Clean(m.Destination); wd == d || strings.HasPrefix(wd, d+"/") {
			return nil
		}
	}
	if existsInRoot(rootfs, wd) {
		return nil
	}
	return fmt.Errorf("workdir %q does not exist on container %s", wd, cfg.ID)
}

// existsInRoot reports whether path exists in the tree at root as a process chroot'ed there
// would find it (links resolved inside root); anything but "no such file" counts as there,
// for the runtime to judge.
func existsInRoot(root, path string) bool {
	rfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return true
	}
	defer unix.Close(rfd)
	fd, err := unix.Openat2(rfd, strings.TrimPrefix(path, "/"), &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS})
	if err != nil {
		return err != unix.ENOENT
	}
	unix.Close(fd)
	return true
}

// addedGroupFile is /etc/group with a line for gid, the group of a user pea added to
// /etc/passwd, when the image's file has no group of that ID ("" then): "GID:x:GID:UID".
func (r *Runtime) addedGroupFile(cfg *model.ContainerConfig, rootfs string, gid uint32, ns *userNS) (string, error) {
	g := strconv.FormatUint(uint64(gid), 10)
	for _, f := range readColonFile(rootfs, "etc/group") {
		if len(f) >= 3 && f[2] == g {
			return "", nil
		}
	}
	user, _, _ := strings.Cut(cfg.User, ":")
	return r.etcFileWith(cfg, rootfs, "group", []string{g + ":x:" + g + ":" + user}, ns)
}
