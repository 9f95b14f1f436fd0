package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"pea/internal/cgroups"
	"pea/internal/errdefs"
	"pea/internal/image"
	"pea/internal/image/trust"
	"pea/internal/model"

	"pea/internal/rootless"
	"pea/internal/trace"
)

// CreateOptions are the parts of a create request that are not stored in the config.
type CreateOptions struct {
	Pod           string              // pod name or ID, or new:NAME to create one
	Pull          string              // missing (default), always, never
	EntrypointSet bool                // --entrypoint was given (an empty one clears the image's)
	CmdSet        bool                // a command was given after the image
	Registry      image.PullOptions   // how an implicit pull reaches the registry (Progress nil: quiet)
	PublishAll    bool                // -P: publish every port the image exposes on a random host port
	Expose        []model.PortMapping // --expose: ports -P publishes beside the image's
	// Replace removes a container of the same name first (--replace), once the new one's
	// options were checked; Replaced (when set) is told its name once it is gone.
	Replace  bool
	Replaced func(name string)
	// NoHealthcheck leaves the image's HEALTHCHECK out (--no-healthcheck).
	NoHealthcheck bool
	// PortsAtStart checks the host ports against running containers at the start only
	// (Docker's rule, which compose relies on: a service's new container is made while the old
	// one still runs); otherwise a port a running container publishes is refused at once.
	PortsAtStart bool
	// replacing is the container a clone is made to replace (clone --destroy): the host ports
	// it publishes are not a clash.
	replacing string
	// Platform is the image platform asked for (--platform, --arch, --os, --variant).
	Platform Platform
	// ImageVolume is what the image's VOLUMEs become (--image-volume): "" or ignore nothing,
	// bind an anonymous volume each, tmpfs a tmpfs each holding the image's content.
	ImageVolume string
	// SeccompPolicy image takes the seccomp profile from the image's
	// io.containers.seccomp.profile label, when it has one (--seccomp-policy).
	SeccompPolicy string
	// SeccompProfile is a seccomp profile's content, the container's profile (Docker's API
	// sends the content of the client's file): written into the container's directory.
	SeccompProfile []byte
	// PreserveFDs passes this process's fds 3 to 3+N-1 on to the container's first start, if it
	// is made by this process (run --preserve-fds).
	PreserveFDs int
	// EnvMerge are VAR=VALUE settings whose ${NAME} (or $NAME) are expanded with the
	// environment the image and the user gave (--env-merge).
	EnvMerge []string
	// OwnNamespaces are the namespace kinds (model.NSNet...) the user chose for a pod member
	// on the command line (run --pod P --uts private, --network host...). As podman's, such a
	// choice stands instead of the pod's namespace for that kind; a kind not named joins the
	// pod's when the pod shares it. A hostname given for a member that joins the pod's UTS
	// namespace is refused (HostnameSet), as podman refuses it.
	OwnNamespaces []string
	HostnameSet   bool
}

// CreateContainer validates cfg, fills in the image's defaults and stores the new container.
// Nothing is left behind when it fails.
func (r *Runtime) CreateContainer(ctx context.Context, cfg *model.ContainerConfig, o CreateOptions) (*model.Container, error) {
	st, err := r.state()
	if err != nil {
		return nil, err
	}
	var u undo
	defer u.run()

	if err := validateContainerConfig(cfg); err != nil {
		return nil, err
	}
	if err := r.prepareRunFlags(cfg); err != nil {
		return nil, err
	}
	defaultSwap(&cfg.Resources)
	var imageExposed []model.PortMapping
	confEnv := r.confEnv(cfg)
	if cfg.ImageName != "" {
		img, err := r.resolveImage(ctx, cfg.ImageName, o)
		if err != nil {
			return nil, err
		}
		if is, err := r.imageStore(); err == nil && !strings.HasPrefix(cfg.ImageName, "sha256:") {
			if n, err := is.NameOf(img, cfg.ImageName); err == nil {
				cfg.ImageName = n // the name the reference resolved to: an alias's target, too
			}
		}
		applyImageDefaults(cfg, img, o, confEnv)
		if err := applyImageRunFlags(cfg, img, o); err != nil {
			return nil, err
		}
		imageExposed = exposedPorts(img)
		if o.PublishAll {
			cfg.Network.Ports = append(cfg.Network.Ports, imageExposed...)
		}
	} else if len(confEnv) > 0 {
		cfg.Env = mergeEnv(confEnv, cfg.Env)
	}
	if err := ValidateStartupHealthcheck(cfg.StartupHealthcheck, cfg.Healthcheck); err != nil {
		return nil, err // (after the image's HEALTHCHECK, which a startup check may gate)
	}
	if o.PublishAll {
		cfg.Network.Ports = append(cfg.Network.Ports, o.Expose...)
	}
	cfg.Network.Expose = exposeList(cfg.Network.Ports, append(imageExposed, o.Expose...))
	if len(o.EnvMerge) > 0 {
		cfg.Env = mergeEnvExpanded(cfg.Env, o.EnvMerge)
	}
	if len(cfg.Command()) == 0 {
		return nil, fmt.Errorf("no command or entrypoint provided, and no CMD or ENTRYPOINT from image: %w", errdefs.ErrInvalid)
	}
	if err := applySystemdMode(cfg); err != nil {
		return nil, err
	}
	if cfg.StopSignal == 0 {
		cfg.StopSignal = int(syscall.SIGTERM)
	}
	if cfg.WorkingDir == "" {
		cfg.WorkingDir = "/"
	}
	if cfg.Hostname == "" && cfg.NS(model.NSNet).Mode == model.NSModeHost && cfg.NS(model.NSUts).Mode == model.NSModePrivate {
		// On the host's network the host's name, in a UTS namespace of its own (podman's and
		// Docker's default; Docker's inspect shows it).
		if h, err := os.Hostname(); err == nil {
			cfg.Hostname = h
		}
	}
	if cfg.ID == "" { // PrepareRun chose it
		cfg.ID = newID()
	}
	cfg.Namespace = r.opts.Namespace
	cfg.Created = time.Now()

	// The container of the same name goes before the new one takes any lock: it may be a
	// member of the pod the new one joins.
	if o.Replace {
		if cfg.Name == "" {
			return nil, fmt.Errorf("--replace needs --name: it replaces the container of that name: %w", errdefs.ErrInvalid)
		}
		if old, err := r.LookupContainer(cfg.Name); err == nil && old.Config.Name == cfg.Name {
			if err := r.RemoveContainer(ctx, old.Config.ID, RemoveOptions{Force: true}); err != nil {
				return nil, fmt.Errorf("replacing container %s: %w", cfg.Name, err)
			}
			if o.Replaced != nil {
				o.Replaced(cfg.Name)
			}
		}
	}
	// Pod membership: lock the pod, then join its namespaces and cgroup.
	var pod *model.Pod
	if o.Pod != "" {
		var unlock func()
		if pod, unlock, err = r.podForMember(ctx, o.Pod, &u); err != nil {
			return nil, err
		}
		defer unlock()
		if err := joinPod(cfg, pod, o.OwnNamespaces, o.HostnameSet); err != nil {
			return nil, err
		}
	}
	if err := r.resolveSecrets(cfg); err != nil {
		return nil, err
	}
	if err := r.resolveNamespaceRefs(cfg); err != nil {
		return nil, err
	}
	if rootless.Active() {
		if err := rootlessMappings(cfg, pod); err != nil {
			return nil, err
		}
	}
	unlockAuto, err := r.pickAutoMappings(cfg)
	if err != nil {
		return nil, err
	}
	defer unlockAuto() // once the container is stored with the IDs it picked
	if cfg.Namespaces == nil {
		cfg.Namespaces = map[string]model.Namespace{}
	}
	if err := r.applyConfDefaults(cfg); err != nil {
		return nil, err
	}
	if _, ok := cfg.Namespaces[model.NSCgroup]; !ok {
		cfg.Namespaces[model.NSCgroup] = model.Namespace{Mode: r.DefaultCgroupNS()}
	}
	if !cfg.IsInfra { // an infra container's was chosen with its pod (createInfra)
		cfg.Namespaces[model.NSNet] = r.rootlessNetwork(cfg.NS(model.NSNet), cfg.Network.Networks)
	}
	if err := r.checkUserNet(cfg.NS(model.NSNet), cfg.Network.Ports); err != nil {
		return nil, err
	}
	if err := checkSysctls(cfg); err != nil {
		return nil, err
	}
	if err := checkCpusets(cfg.Resources); err != nil {
		return nil, err
	}
	if !cfg.IsInfra { // an infra container's network was checked with its pod
		prepare := r.preparePortsReplacing
		if o.PortsAtStart {
			prepare = r.preparePortsAtStart
		}
		if err := prepare(cfg.Network.Ports, o.replacing); err != nil {
			return nil, err
		}
		if cfg.NS(model.NSNet).Mode == model.NSModeBridge {
			if err := r.validateNetworks(&cfg.Network); err != nil {
				return nil, err
			}
		} else if err := staticAddressesNeedBridge(cfg.Network); err != nil {
			return nil, err
		}
		if !isBuildContainer(cfg) { // buildah takes build --network none --dns
			if err := noDNSWithoutNetwork(cfg.NS(model.NSNet).Mode, cfg.Network); err != nil {
				return nil, err
			}
		}
	}
	if err := r.prepareVolumes(cfg, &u); err != nil {
		return nil, err
	}
	if err := r.resolveImageVolumes(cfg); err != nil {
		return nil, err
	}

	if _, held := r.creating.Load(cfg.ID); !held { // (run's PrepareRun holds it already)
		r.holdNew(cfg.ID)
	}
	u.add(func() { r.releaseNew(cfg.ID, true) })
	if err := os.MkdirAll(r.ctrDir(cfg.ID), 0o700); err != nil {
		return nil, err
	}
	u.add(func() { os.RemoveAll(r.ctrDir(cfg.ID)) })
	trace.Mark("create: directory made")
	given := cfg.Seccomp // the user's file (not the image's, nor containers.conf's)
	if err := r.writeImageSeccomp(cfg, o.SeccompProfile); err != nil {
		return nil, err
	}
	// A profile file the user named is read now, as podman reads it at the create: one that is
	// missing or not a profile is refused here (125) rather than failing every start.
	if given != "" && given == cfg.Seccomp && given != "unconfined" && given != imageSeccompMark && !cfg.Privileged {
		if _, err := seccompFor(cfg); err != nil {
			return nil, err // an ErrInvalid naming the file
		}
	}
	r.applyConfSeccomp(cfg)

	if o.PreserveFDs > 0 {
		r.preserveFDs.Store(cfg.ID, o.PreserveFDs)
	}
	c := &model.Container{Config: cfg, State: &model.ContainerState{Status: model.StatusCreated}}
	if err := addWithName(cfg.Name != "", func(name string) { cfg.Name = name }, func() error { return st.AddContainer(c) }); err != nil {
		return nil, err
	}
	u.done()
	r.releaseNew(cfg.ID, false)
	r.containerEvent(cfg, "create")
	return c, nil
}

// staticAddressesNeedBridge refuses --ip, --ip6 and --mac-address outside the bridge mode
// (none, host, container:, slirp4netns...), as podman refuses them: nothing would use them.
func staticAddressesNeedBridge(nc model.NetworkConfig) error {
	for _, f := range []struct{ flag, v string }{{"--ip", nc.StaticIP}, {"--ip6", nc.StaticIP6}, {"--mac-address", nc.StaticMAC}} {
		if f.v != "" {
			return fmt.Errorf("%s can only be set when the network mode is bridge: %w", f.flag, errdefs.ErrInvalid)
		}
	}
	return nil
}

// noDNSWithoutNetwork refuses DNS settings (but --dns none) for a container or pod with
// --network none, as podman refuses them: there is no resolv.conf to put them in.
func noDNSWithoutNetwork(mode string, nc model.NetworkConfig) error {
	if mode == model.NSModeNone && (len(nc.DNSServers) > 0 && !slices.Equal(nc.DNSServers, []string{"none"}) || len(nc.DNSSearch) > 0 || len(nc.DNSOptions) > 0) {
		return fmt.Errorf("conflicting options: dns and the network mode: none: %w", errdefs.ErrInvalid)
	}
	return nil
}

func validateContainerConfig(cfg *model.ContainerConfig) error {
	if cfg.Name != "" && !validName(cfg.Name) {
		return fmt.Errorf("container name %q: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: %w", cfg.Name, errdefs.ErrInvalid)
	}
	if err := validateResources(cfg.Resources); err != nil {
		return err
	}
	if cfg.LogPath != "" {
		if !filepath.IsAbs(cfg.LogPath) || strings.HasSuffix(cfg.LogPath, "/") {
			return fmt.Errorf("log path %q: an absolute path of a file is needed: %w", cfg.LogPath, errdefs.ErrInvalid)
		}
	}
	if err := ValidateHealthcheck(cfg.Healthcheck); err != nil {
		return err
	}
	if err := ValidateHealthLog(cfg); err != nil {
		return err
	}
	for _, as := range cfg.Network.Aliases {
		if err := validateAliases(as); err != nil {
			return err
		}
	}
	if cfg.OOMScoreAdj < -1000 || cfg.OOMScoreAdj > 1000 {
		return fmt.Errorf("invalid --oom-score-adj %d: from -1000 to 1000: %w", cfg.OOMScoreAdj, errdefs.ErrInvalid)
	}
	if cfg.Umask != "" {
		if n, err := strconv.ParseUint(cfg.Umask, 8, 32); err != nil || n > 0o777 {
			return fmt.Errorf("invalid --umask %q: an octal mode up to 0777: %w", cfg.Umask, errdefs.ErrInvalid)
		}
	}
	if _, err := timezoneFile(cfg.Timezone); err != nil {
		return err
	}
	if err := checkDevices(cfg.Devices); err != nil {
		return err
	}
	for _, m := range cfg.Mounts {
		if !strings.HasPrefix(m.Destination, "/") {
			return fmt.Errorf("invalid mount destination %q: must be an absolute path: %w", m.Destination, errdefs.ErrInvalid)
		}
		if m.Type == "bind" {
			if _, err := os.Stat(m.Source); err != nil {
				return fmt.Errorf("invalid bind mount source %q: %w", m.Source, errdefs.ErrNotFound)
			}
		}
	}
	return nil
}

// defaultSwap gives a memory limit as much swap again when the host limits swap per cgroup
// and no --memory-swap says otherwise, as podman (and docker) do.
func defaultSwap(r *model.Resources) {
	if r.Memory > 0 && r.MemorySwap == 0 && cgroups.SwapAccounting() {
		r.MemorySwap = 2 * r.Memory
	}
}

// validateResources checks limits against each other, for containers and pods.
func validateResources(r model.Resources) error {
	switch {
	case r.Memory < 0:
		return fmt.Errorf("invalid memory limit: %w", errdefs.ErrInvalid)
	case r.MemorySwap != 0 && r.Memory == 0:
		return fmt.Errorf("--memory-swap limits memory and swap together: it needs --memory: %w", errdefs.ErrInvalid)
	case r.MemorySwap > 0 && r.MemorySwap < r.Memory:
		return fmt.Errorf("--memory-swap %d is below --memory %d: it counts memory and swap together (-1 for unlimited swap): %w", r.MemorySwap, r.Memory, errdefs.ErrInvalid)
	case r.MemorySwap < -1:
		return fmt.Errorf("invalid --memory-swap %d (a size, or -1 for unlimited swap): %w", r.MemorySwap, errdefs.ErrInvalid)
	case r.MemoryReservation < 0 || r.Memory > 0 && r.MemoryReservation > r.Memory:
		return fmt.Errorf("--memory-reservation %d must be between 0 and --memory %d: %w", r.MemoryReservation, r.Memory, errdefs.ErrInvalid)
	case r.CPUs > 0 && (r.CPUPeriod != 0 || r.CPUQuota != 0):
		return fmt.Errorf("--cpus sets the CPU period and quota: it cannot be combined with --cpu-period or --cpu-quota: %w", errdefs.ErrInvalid)
	case r.CPUPeriod != 0 && (r.CPUPeriod < 1000 || r.CPUPeriod > 1000000):
		return fmt.Errorf("invalid --cpu-period %d: from 1000 to 1000000 microseconds: %w", r.CPUPeriod, errdefs.ErrInvalid)
	case r.CPUQuota != 0 && r.CPUQuota < 1000 && r.CPUQuota != -1:
		return fmt.Errorf("invalid --cpu-quota %d: at least 1000 microseconds, or -1 for none: %w", r.CPUQuota, errdefs.ErrInvalid)
	}
	return nil
}

// validateAliases refuses network aliases that are not host names: they go into other
// containers' /etc/hosts (see peers.go), where a space or a newline would add names of its own.
func validateAliases(aliases []string) error {
	for _, a := range aliases {
		if len(a) > 253 || !validName(a) {
			return fmt.Errorf("network alias %q: aliases must match [a-zA-Z0-9][a-zA-Z0-9_.-]* (at most 253 characters): %w", a, errdefs.ErrInvalid)
		}
	}
	return nil
}

func validName(n string) bool {
	for i, r := range n {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if i > 0 {
			ok = ok || r == '_' || r == '.' || r == '-'
		}
		if !ok {
			return false
		}
	}
	return n != ""
}

// resolveImage finds the image locally, pulling it when policy allows.
// ResolveImage is the image a container made with o from ref would have: found locally, or
// pulled as o's pull policy says.
func (r *Runtime) ResolveImage(ctx context.Context, ref string, o CreateOptions) (*image.Image, error) {
	return r.resolveImage(ctx, ref, o)
}

func (r *Runtime) resolveImage(ctx context.Context, ref string, o CreateOptions) (*image.Image, error) {
	is, err := r.imageStore()
	if err != nil {
		return nil, err
	}
	if o.Pull != "always" {
		img, err := is.Lookup(ref)
		if err == nil && img.IsList() {
			return is.ListMember(img) // a manifest list runs its image for this machine
		}
		if err == nil {
			// An image of another platform than --platform/--arch/--os asks is not the one.
			if err = o.Platform.matches(ref, img); err == nil {
				return img, nil
			}
		}
		// localhost/ names are local by convention: there is no registry to pull them from.
		if !errdefs.Is(err, errdefs.ErrNotFound) || o.Pull == "never" || strings.HasPrefix(ref, "localhost/") {
			return nil, err
		}
	}
	if o.Platform.Arch != "" || o.Platform.OS != "" {
		o.Registry.Arch, o.Registry.OS = o.Platform.Arch, o.Platform.OS
	}
	img, err := is.Pull(ctx, ref, o.Registry)
	if errors.Is(err, trust.ErrRejected) || errors.Is(err, image.ErrShortName) {
		return nil, err // the policy's word, or the short name's, as podman gives it
	}
	if err != nil {
		return nil, fmt.Errorf("%w (pulling it failed: %v)", image.ErrImageNotKnown(ref), err)
	}
	r.imageEvent("pull", img.ID, firstName(img, ref))
	return img, nil
}

// applyImageDefaults fills in what the image gives the container; confEnv (containers.conf's
// environment) lies below the image's.
func applyImageDefaults(cfg *model.ContainerConfig, img *image.Image, o CreateOptions, confEnv []string) {
	ic := img.Config.Config
	cfg.Image = img.ID
	// The name the reference resolved to, as podman records it: "bb" is localhost/bb:latest
	// even when the image is also tagged localhost/busybox:latest; an image given by its ID
	// is named by its first name (an untagged one keeps the ID), except as sha256:ID, kept.
	if !strings.HasPrefix(cfg.ImageName, "sha256:") {
		cfg.ImageName = firstName(img, cfg.ImageName)
	}
	if !cfg.UnsetEnvAll { // --unsetenv-all: only the user's
		cfg.Env = mergeEnv(mergeEnv(confEnv, ic.Env), cfg.Env)
	}
	if !o.EntrypointSet {
		cfg.Entrypoint = ic.Entrypoint
	}
	if !o.CmdSet && !o.EntrypointSet {
		cfg.Cmd = ic.Cmd
	}
	if cfg.WorkingDir == "" {
		cfg.WorkingDir = ic.WorkingDir
	}
	if cfg.User == "" {
		cfg.User = ic.User
	}
	if cfg.Healthcheck == nil && !o.NoHealthcheck {
		cfg.Healthcheck = imageHealthcheck(ic.Healthcheck)
	}
	if cfg.StopSignal == 0 && ic.StopSignal != "" {
		if s, err := ParseSignal(ic.StopSignal); err == nil {
			cfg.StopSignal = int(s)
		}
	}
}

// mergeEnv overlays user variables on the image's, keeping the image's order.
func mergeEnv(base, over []string) []string {
	out := append([]string{}, base...)
	idx := map[string]int{}
	for i, kv := range out {
		idx[envKey(kv)] = i
	}
	for _, kv := range over {
		if i, ok := idx[envKey(kv)]; ok {
			out[i] = kv
		} else {
			idx[envKey(kv)] = len(out)
			out = append(out, kv)
		}
	}
	return out
}

func envKey(kv string) string {
	k, _, _ := strings.Cut(kv, "=")
	return k
}

// resolveNamespaceRefs turns container:NAME references into container IDs.
func (r *Runtime) resolveNamespaceRefs(cfg *model.ContainerConfig) error {
	for kind, ns := range cfg.Namespaces {
		if ns.Mode != model.NSModeContainer {
			continue
		}
		c, err := r.LookupContainer(ns.Value)
		if err != nil {
			return fmt.Errorf("%s namespace of container %q: %w", kind, ns.Value, err)
		}
		ns.Value = c.Config.ID
		cfg.Namespaces[kind] = ns
		if kind == model.NSIpc && ipcMode(c.Config) == model.NSModePrivate {
			return errNotShareable(c.Config)
		}
		if kind == model.NSUser && c.Config.UserNS().Mode == model.NSModeHost {
			return fmt.Errorf("--userns container:%s: that container runs in the host's user namespace, which is the default: %w", c.Config.Name, errdefs.ErrInvalid)
		}
	}
	return nil
}

// exposeList is what the container exposes without publishing it: the image's EXPOSE and
// --expose, less the ports published, each port once.
func exposeList(published, exposed []model.PortMapping) []model.PortMapping {
	var out []model.PortMapping
	seen := map[model.PortMapping]bool{}
	for _, p := range published {
		for i := range max(p.Range, 1) {
			seen[model.PortMapping{ContainerPort: p.ContainerPort + i, Protocol: p.Protocol}] = true
		}
	}
	for _, p := range exposed {
		for i := range max(p.Range, 1) {
			k := model.PortMapping{ContainerPort: p.ContainerPort + i, Protocol: p.Protocol}
			if k.Protocol == "" {
				k.Protocol = "tcp"
			}
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// exposedPorts turns the image's EXPOSE list into mappings to random host ports.
func exposedPorts(img *image.Image) []model.PortMapping {
	var out []model.PortMapping
	keys := make([]string, 0, len(img.Config.Config.ExposedPorts))
	for k := range img.Config.Config.ExposedPorts {
		keys = append(keys, k)
	}
	sortStrings(keys)
	for _, k := range keys {
		port, proto, _ := strings.Cut(k, "/")
		if proto == "" {
			proto = "tcp"
		}
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			continue
		}
		out = append(out, model.PortMapping{ContainerPort: uint16(n), Protocol: proto, Range: 1})
	}
	return out
}

// checkDevices refuses a --device whose host path is not there, at the creation, as podman's.
func checkDevices(devices []string) error {
	for _, d := range devices {
		src, _, _ := strings.Cut(d, ":")
		if _, err := os.Stat(src); err != nil {
			return fmt.Errorf("--device %s: %w", d, errdefs.Errorf(errdefs.ErrInvalid, "stat %s: no such file or directory", src))
		}
	}
	return nil
}

// CheckPodMounts refuses what podman refuses at a pod's creation: a bind mount of --volume
// whose source is not there, and a --device whose host path is not.
func CheckPodMounts(volumes, devices []string) error {
	for _, v := range volumes {
		m, err := ParseVolume(v)
		if err != nil {
			return err
		}
		if m.Type == "bind" {
			if _, err := os.Stat(m.Source); err != nil {
				return fmt.Errorf("invalid bind mount source %q: %w", m.Source, errdefs.ErrNotFound)
			}
		}
	}
	return checkDevices(devices)
}
