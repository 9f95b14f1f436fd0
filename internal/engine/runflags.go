package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"pea/internal/cgroups"
	"pea/internal/errdefs"
	"pea/internal/model"
)

// Log drivers (--log-driver).
const (
	LogDriverK8sFile     = "k8s-file"
	LogDriverJSONFile    = "json-file" // kept under its name, written as k8s-file (as podman)
	LogDriverNone        = "none"
	LogDriverPassthrough = "passthrough"
	LogDriverJournald    = "journald"
)

// journalSocket is where journald listens; the journald log driver needs it.
const journalSocket = "/run/systemd/journal/socket"

// ValidateLogDriver checks a --log-driver value, and that what it needs is there.
func ValidateLogDriver(d string) error {
	switch d {
	case "", LogDriverK8sFile, LogDriverJSONFile, LogDriverNone, LogDriverPassthrough:
		return nil
	case LogDriverJournald:
		if _, err := os.Stat(journalSocket); err != nil {
			return fmt.Errorf("log driver journald: no journal on this host (%s: %v): %w", journalSocket, err, errdefs.ErrInvalid)
		}
		return nil
	}
	return fmt.Errorf("invalid log driver %q (k8s-file, json-file, journald, none, passthrough): %w", d, errdefs.ErrInvalid)
}

// conmonLogDriver is the -l argument's driver part conmon is given for a container's driver.
func conmonLogDriver(d string) string {
	switch d {
	case LogDriverNone, LogDriverPassthrough, LogDriverJournald:
		return d
	}
	return LogDriverK8sFile
}

// resolveVolumesFrom copies into cfg the bind mounts and named volumes of the containers its
// VolumesFrom name (CTR[:ro|rw|z,...]), at the same destinations and with their options; ro or
// rw overrides a copied mount's own. A destination the container mounts itself keeps its own
// mount, and the first container naming a destination wins.
func (r *Runtime) resolveVolumesFrom(cfg *model.ContainerConfig) error {
	ms, err := r.volumesFrom(cfg.VolumesFrom, cfg.Mounts)
	if err != nil {
		return err
	}
	cfg.Mounts = append(cfg.Mounts, ms...)
	return nil
}

// volumesFrom returns the mounts --volumes-from specs give beside own (see resolveVolumesFrom).
func (r *Runtime) volumesFrom(specs []string, own []model.Mount) ([]model.Mount, error) {
	taken := map[string]bool{}
	for _, m := range own {
		taken[m.Destination] = true
	}
	var out []model.Mount
	for _, spec := range specs {
		ref, opts, _ := strings.Cut(spec, ":")
		var ro, rw bool
		if opts != "" {
			for _, o := range strings.Split(opts, ",") {
				switch o {
				case "ro":
					ro = true
				case "rw":
					rw = true
				case "z":
				default:
					return nil, fmt.Errorf("invalid option %q specified - volumes from another container can only use z,ro,rw options: %w", o, errdefs.ErrInvalid)
				}
			}
		}
		if ro && rw {
			return nil, fmt.Errorf("--volumes-from %s: cannot set both ro and rw: %w", spec, errdefs.ErrInvalid)
		}
		src, err := r.LookupContainer(ref)
		if err != nil {
			return nil, fmt.Errorf("looking up container %q for volumes-from: %w", ref, err)
		}
		for _, m := range src.Config.Mounts {
			if m.Type != "bind" && m.Type != "volume" || taken[m.Destination] {
				continue
			}
			taken[m.Destination] = true
			m.Options = append([]string(nil), m.Options...)
			switch {
			case ro:
				m.ReadOnly = true
			case rw:
				m.ReadOnly = false
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// prepareRunFlags checks and resolves, at creation, what the flags of runflags.go ask: the log
// driver, the rootfs directory, the per-device block I/O limits, the personality, the
// containers it requires (by ID), and the mounts of --volumes-from.
// keepGroups is --group-add's word for the caller's groups; keepGroupsAnnotation is crun's.
const (
	keepGroups           = "keep-groups"
	keepGroupsAnnotation = "run.oci.keep_original_groups"
)

func (r *Runtime) prepareRunFlags(cfg *model.ContainerConfig) error {
	if err := ValidateLogDriver(cfg.LogDriver); err != nil {
		return err
	}
	// --group-add keep-groups: the process keeps the caller's supplementary groups (crun's
	// annotation: it skips setgroups), as podman's; no other group may be added then.
	if slices.Contains(cfg.GroupAdd, keepGroups) {
		if len(cfg.GroupAdd) > 1 {
			return fmt.Errorf("the '--group-add keep-groups' option is not allowed with any other --group-add options: %w", errdefs.ErrInvalid)
		}
		cfg.GroupAdd = nil
		if cfg.Annotations == nil {
			cfg.Annotations = map[string]string{}
		}
		cfg.Annotations[keepGroupsAnnotation] = "1"
	}
	if cfg.LogDriver == LogDriverPassthrough && cfg.Terminal {
		return fmt.Errorf("the passthrough log driver cannot be used with a terminal (--tty): %w", errdefs.ErrInvalid)
	}
	if cfg.Rootfs != "" {
		st, err := os.Stat(cfg.Rootfs)
		if err != nil {
			return fmt.Errorf("--rootfs %s: %w", cfg.Rootfs, errdefs.ErrNotFound)
		}
		if !st.IsDir() {
			return fmt.Errorf("--rootfs %s: not a directory: %w", cfg.Rootfs, errdefs.ErrInvalid)
		}
	}
	if err := checkCgroupsMode(cfg); err != nil {
		return err
	}
	if err := checkRealtime(cfg); err != nil {
		return err
	}
	if err := checkHostUsers(cfg.HostUsers); err != nil {
		return err
	}
	for _, d := range cfg.ChrootDirs {
		if !filepath.IsAbs(d) {
			return fmt.Errorf("--chrootdirs %s: an absolute path in the container is needed: %w", d, errdefs.ErrInvalid)
		}
	}
	if len(cfg.CgroupConf) > 0 {
		if cgroups.Mode() != "v2" {
			return fmt.Errorf("cannot use --cgroup-conf without cgroup v2: %w", errdefs.ErrInvalid)
		}
		if cfg.Cgroups == CgroupsDisabled {
			return fmt.Errorf("--cgroup-conf: a container without a cgroup (--cgroups disabled) has no files to set: %w", errdefs.ErrInvalid)
		}
		for k := range cfg.CgroupConf {
			if k == "" || strings.ContainsAny(k, "/\x00") || !strings.Contains(k, ".") {
				return fmt.Errorf("invalid --cgroup-conf %q: want a cgroup file name such as memory.high: %w", k, errdefs.ErrInvalid)
			}
		}
	}
	if cfg.InitPath != "" {
		if !cfg.Init {
			return fmt.Errorf("--init-path %s needs --init: it is the init --init runs: %w", cfg.InitPath, errdefs.ErrInvalid)
		}
		if st, err := os.Stat(cfg.InitPath); err != nil || !st.Mode().IsRegular() || st.Mode()&0o111 == 0 {
			return fmt.Errorf("--init-path %s: not an executable file: %w", cfg.InitPath, errdefs.ErrInvalid)
		}
	}
	if cfg.NoPasswd && cfg.PasswdEntry != "" {
		return fmt.Errorf("--passwd-entry cannot be combined with --passwd=false: %w", errdefs.ErrInvalid)
	}
	switch cfg.Personality {
	case "", "LINUX", "LINUX32":
	default:
		return fmt.Errorf("invalid --personality %q (LINUX, LINUX32): %w", cfg.Personality, errdefs.ErrInvalid)
	}
	if err := resolveBlkioDevices(&cfg.Resources); err != nil {
		return err
	}
	if err := checkBlkioWeight(cfg.Resources); err != nil {
		return err
	}
	if s := cfg.Resources.MemorySwappiness; s != nil && (*s < 0 || *s > 100) {
		return fmt.Errorf("invalid --memory-swappiness %d: from 0 to 100: %w", *s, errdefs.ErrInvalid)
	}
	for _, rule := range cfg.Resources.DeviceCgroupRules {
		if _, err := parseDeviceCgroupRule(rule); err != nil {
			return err
		}
	}
	for i, ref := range cfg.Requires {
		c, err := r.LookupContainer(ref)
		if err != nil {
			return fmt.Errorf("--requires %s: %w", ref, err)
		}
		cfg.Requires[i] = c.Config.ID
	}
	return r.resolveVolumesFrom(cfg)
}

// startRequired starts the containers c requires (--requires) that are not running, each
// after those it requires itself (seen guards against a loop).
func (r *Runtime) startRequired(ctx context.Context, c *model.Container, seen map[string]bool) error {
	for _, id := range c.Config.Requires {
		if seen[id] {
			continue
		}
		seen[id] = true
		dep, err := r.LookupContainer(id)
		if err != nil {
			return fmt.Errorf("container %s requires %s: %w", c.Config.Name, id, err)
		}
		if err := r.startRequired(ctx, dep, seen); err != nil {
			return err
		}
		if dep.State.Active() {
			continue
		}
		if _, err := r.startOne(ctx, dep, nil); err != nil && !errdefs.Is(err, errdefs.ErrCtrStateInvalid) {
			return fmt.Errorf("starting %s, which %s requires: %w", dep.Config.Name, c.Config.Name, err)
		}
	}
	return nil
}

// preparePodRunFlags checks a new pod's block I/O settings and copies the mounts of the
// containers its VolumesFrom name (for its members, see joinPod).
func (r *Runtime) preparePodRunFlags(cfg *model.PodConfig) error {
	if err := resolveBlkioDevices(&cfg.Resources); err != nil {
		return err
	}
	if err := checkBlkioWeight(cfg.Resources); err != nil {
		return err
	}
	ms, err := r.volumesFrom(cfg.VolumesFrom, nil)
	if err != nil {
		return err
	}
	cfg.VolumesFromMounts = ms
	return nil
}
