package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"pea/internal/cgroups"
	"pea/internal/errdefs"
	"pea/internal/fsx"
	"pea/internal/model"
	"pea/internal/oci"
)

// RenameContainer gives a container a new name.
func (r *Runtime) RenameContainer(ctx context.Context, nameOrID, newName string) error {
	if !validName(newName) {
		return fmt.Errorf("container name %q: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: %w", newName, errdefs.ErrInvalid)
	}
	l, c, err := r.lookupAndLock(nameOrID)
	if err != nil {
		return err
	}
	defer l.Unlock()
	if c.Config.IsInfra {
		return fmt.Errorf("an infra container cannot be renamed: %w", errdefs.ErrInvalid)
	}
	oldName := c.Config.Name
	c.Config.Name = newName
	st, _ := r.state()
	if err := st.SaveContainerConfig(c.Config); err != nil {
		return err
	}
	r.containerEvent(c.Config, "rename", "oldName", oldName)
	if c.State.Active() {
		r.refreshPeerHosts(r.peerNetworksOf(c), nil) // its peers know it by its new name
	}
	return nil
}

// PruneContainers removes every container that does not run but pods' members (a pod's are
// its own to remove, as podman's prune leaves them) and returns the removed IDs.
func (r *Runtime) PruneContainers(ctx context.Context, f PruneFilter) ([]string, error) {
	cs, err := r.ListContainers()
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, c := range cs {
		if c.State.Active() || c.Config.IsInfra || c.Config.Pod != "" || !f.Matches(c.Config.Labels, c.Config.Created) {
			continue
		}
		if err := r.RemoveContainer(ctx, c.Config.ID, RemoveOptions{Ignore: true}); err != nil {
			continue
		}
		removed = append(removed, c.Config.ID)
	}
	return removed, nil
}

// ContainerSize is the size of a container's writable layer in bytes.
func (r *Runtime) ContainerSize(id string) int64 {
	return PathSize(filepath.Join(r.ctrDir(id), "upper"))
}

// EtcPaths returns the host paths of a container's resolv.conf, hostname and hosts files.
func (r *Runtime) EtcPaths(c *model.Container) (resolv, hostname, hosts string) {
	dir := r.etcDir(c.Config.ID)
	if ns := c.Config.NS(model.NSNet); ns.Mode == model.NSModeContainer {
		dir = r.etcDir(ns.Value)
	}
	return filepath.Join(dir, "resolv.conf"), filepath.Join(r.etcDir(c.Config.ID), "hostname"), filepath.Join(dir, "hosts")
}

// VolumePath is where a named volume's data lives.
func (r *Runtime) VolumePath(name string) string { return r.volumePath(name) }

// DefaultCgroupNS is the cgroup namespace mode a container gets when none is asked: private on
// cgroup v2, host on v1 (as podman).
func (r *Runtime) DefaultCgroupNS() string {
	if cgroups.Mode() == "v2" {
		return "private"
	}
	return "host"
}

// OCIRuntimeName is the name of the OCI runtime that runs the containers (crun unless --runtime
// named another).
func (r *Runtime) OCIRuntimeName() string {
	if r.opts.Runtime == "" {
		return "crun"
	}
	return filepath.Base(r.opts.Runtime)
}

// ContainerFiles are the places of a container's files that podman's inspect names.
type ContainerFiles struct {
	StaticDir     string // the container's directory in the root (its layer, its log)
	Bundle        string // the runtime's bundle in the run root
	OCIConfig     string // the runtime spec of its last start
	PidFile       string // the runtime's pid file
	ConmonPidFile string
	// Upper, Work and Merged are the overlay's directories; Lower the image's layers, top
	// first (none for a container without an image).
	Upper, Work, Merged string
	Lower               []string
	ImageDigest         string
}

// ContainerFilesOf gives c's files; those of the image only when it is still there.
func (r *Runtime) ContainerFilesOf(c *model.Container) ContainerFiles {
	cfg := c.Config
	dir, bundle := r.ctrDir(cfg.ID), r.ctrRunDir(cfg.ID)
	f := ContainerFiles{StaticDir: dir, Bundle: bundle, OCIConfig: filepath.Join(bundle, "config.json"),
		PidFile: filepath.Join(bundle, "pidfile"), ConmonPidFile: filepath.Join(bundle, "conmon.pid"),
		Upper: filepath.Join(dir, "upper"), Work: filepath.Join(dir, "work"), Merged: filepath.Join(dir, "merged")}
	if cfg.ConmonPidFile != "" {
		f.ConmonPidFile = cfg.ConmonPidFile
	}
	if cfg.Rootfs != "" {
		f.Lower = []string{cfg.Rootfs}
	} else if cfg.Image != "" {
		if is, err := r.imageStore(); err == nil {
			if img, err := is.Lookup(cfg.Image); err == nil {
				f.ImageDigest = img.Digest
				if dirs, err := is.LayerDirs(img); err == nil {
					slices.Reverse(dirs)
					f.Lower = dirs
				}
			}
		}
	}
	return f
}

// ContainerCapabilities are the capabilities of c's bounding set, CAP_ names sorted: from its
// own defaults (Docker's, containers.conf's) when it has them, as the spec's.
func ContainerCapabilities(cfg *model.ContainerConfig) []string {
	caps, err := oci.CapabilitiesFrom(cfg.DefaultCaps, cfg.CapAdd, cfg.CapDrop, cfg.Privileged)
	if err != nil {
		return []string{}
	}
	caps = slices.Clone(caps)
	slices.Sort(caps)
	return caps
}

// ContainerCapChanges are HostConfig's CapAdd and CapDrop as podman's inspect reports them:
// not the flags as given, but what c's bounding set (ContainerCapabilities) has beyond its
// defaults, and which of the defaults it lacks, each sorted. For --privileged the defaults are
// every capability pea knows, so CapDrop names those the caller itself lacks.
func ContainerCapChanges(cfg *model.ContainerConfig, bounding []string) (add, drop []string) {
	ref := cfg.DefaultCaps
	switch {
	case cfg.Privileged:
		ref = oci.KnownCapabilities()
	case ref == nil:
		ref = oci.DefaultCapabilities
	}
	add, drop = []string{}, []string{}
	for _, c := range bounding {
		if !slices.Contains(ref, c) {
			add = append(add, c)
		}
	}
	for _, c := range ref {
		if !slices.Contains(bounding, c) {
			drop = append(drop, c)
		}
	}
	slices.Sort(add)
	slices.Sort(drop)
	return add, drop
}

// ContainerEffectiveCaps are the capabilities c's process holds (effective and permitted), as
// processCaps gives them.
func ContainerEffectiveCaps(cfg *model.ContainerConfig) []string {
	return processCaps(cfg, ContainerCapabilities(cfg))
}

// processCaps are the capabilities a process with the bounding set bounding holds, as podman
// gives them: all of it for root (no --user, root or 0, and not --userns keep-id); for another
// user only those --cap-add names (in bounding), which also go into its inheritable and ambient
// sets so that they survive the exec of a process that is not root.
func processCaps(cfg *model.ContainerConfig, bounding []string) []string {
	if !nonRootUser(cfg) {
		return bounding
	}
	added, err := oci.CapabilitiesFrom([]string{}, cfg.CapAdd, nil, false)
	if err != nil {
		return []string{}
	}
	out := []string{}
	for _, c := range added {
		if slices.Contains(bounding, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// nonRootUser reports whether cfg's process runs as a user other than root by podman's rule:
// --user names one other than root or 0, or none is named under --userns keep-id.
func nonRootUser(cfg *model.ContainerConfig) bool {
	user, _, _ := strings.Cut(cfg.User, ":")
	if user == "" {
		ns := cfg.UserNS()
		return ns.Mode == model.NSModePrivate && strings.HasPrefix(ns.Value, model.UserNSKeepID)
	}
	return user != "root" && user != "0"
}

// ContainerRlimits are the resource limits c's process gets: the runtime's defaults with its
// --ulimit values over them.
func ContainerRlimits(cfg *model.ContainerConfig) []model.Ulimit {
	var out []model.Ulimit
	for _, l := range mergeRlimits(oci.DefaultRlimits(), cfg.Ulimits) {
		out = append(out, model.Ulimit{Name: l.Type, Soft: l.Soft, Hard: l.Hard})
	}
	return out
}

// ProcessEnv is the environment of c's process as its last start gave it (the runtime spec in
// its bundle), or, before any, as its start will: the image's and the user's variables with
// PATH, TERM and container (HOME and HOSTNAME are added at the start).
func (r *Runtime) ProcessEnv(c *model.Container) []string {
	if b, err := fsx.ReadFile(filepath.Join(r.ctrRunDir(c.Config.ID), "config.json")); err == nil {
		var spec struct {
			Process *struct {
				Env []string `json:"env"`
			} `json:"process"`
		}
		if json.Unmarshal(b, &spec) == nil && spec.Process != nil {
			// Secrets given as variables are not shown.
			return slices.DeleteFunc(spec.Process.Env, func(kv string) bool {
				return slices.ContainsFunc(c.Config.Secrets, func(s model.SecretRef) bool {
					return s.Type == "env" && envKey(kv) == s.Target
				})
			})
		}
	}
	env := slices.Clone(c.Config.Env)
	if c.Config.UnsetEnvAll {
		return env
	}
	if !hasEnv(env, "PATH") {
		env = append(env, defaultPath)
	}
	if !hasEnv(env, "TERM") {
		env = append(env, "TERM=xterm")
	}
	if !hasEnv(env, "container") {
		env = append(env, "container="+ContainerEnvName)
	}
	return env
}
