package api

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
	"pea/internal/view"
)

// The process, health check, storage and security parts of a SpecGenerator, set on the config
// as pea run's flags set them (internal/cli/create_flags*.go).

func invalidSpec(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), errdefs.ErrInvalid)
}

// absPath checks that a host path the client sends as typed is absolute: the service does not
// share the client's working directory.
func absPath(flag, p string) (string, error) {
	if p != "" && !filepath.IsAbs(p) {
		return "", invalidSpec("%s %q: the service needs an absolute path", flag, p)
	}
	return p, nil
}

func (sp *libpodSpec) applyProcess(cfg *model.ContainerConfig, o *engine.CreateOptions) error {
	cfg.Annotations = sp.Annotations
	cfg.PrimaryGroupApart = false // podman's: the user's group among the process's groups
	if sp.EnvHost {
		cfg.Env = append(os.Environ(), cfg.Env...) // the service's, as podman's server does; later entries win
	}
	if sp.HTTPProxy {
		cfg.Env = engine.HostProxyEnv(cfg.Env)
	}
	for _, kv := range sp.EnvMerge {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return invalidSpec("invalid --env-merge %q: want VAR=VALUE (${VAR} is the image's value)", kv)
		}
	}
	o.EnvMerge, cfg.UnsetEnv, cfg.UnsetEnvAll = sp.EnvMerge, sp.UnsetEnv, sp.UnsetEnvAll
	cfg.Timezone, cfg.Timeout, cfg.Requires, cfg.CreateCommand = sp.Timezone, sp.Timeout, sp.Dependencies, sp.CreateCommand
	if sp.Umask != "0022" { // the client's default, and the runtime's
		cfg.Umask = sp.Umask
	}
	var err error
	if cfg.InitPath, err = absPath("--init-path", sp.InitPath); err != nil {
		return err
	}
	if cfg.ConmonPidFile, err = absPath("--conmon-pidfile", sp.ConmonPidFile); err != nil {
		return err
	}
	switch sp.InitContainer {
	case "":
	case model.InitAlways, model.InitOnce:
		if sp.Pod == "" {
			return invalidSpec("--init-ctr needs --pod: init containers belong to a pod")
		}
		cfg.InitContainerType = sp.InitContainer
	default:
		return invalidSpec("invalid --init-ctr %q (always, once)", sp.InitContainer)
	}
	if rt := sp.OCIRuntime; rt != "" && filepath.Base(rt) != "crun" {
		return invalidSpec("--runtime %s: pea runs containers with crun only", rt)
	}
	switch sp.Systemd {
	case "", "true":
	case "false", "always":
		cfg.Systemd = sp.Systemd
	default:
		return invalidSpec("invalid --systemd %q (true, false, always)", sp.Systemd)
	}
	switch sp.SdNotifyMode {
	case "":
		cfg.SdNotify = engine.SdNotifyContainer
	case engine.SdNotifyContainer, engine.SdNotifyConmon, engine.SdNotifyIgnore:
		cfg.SdNotify = sp.SdNotifyMode
	default:
		return invalidSpec("invalid --sdnotify %q (container, conmon, ignore)", sp.SdNotifyMode)
	}
	if p := sp.Personality; p != nil {
		if len(p.Flags) > 0 {
			return invalidSpec("personality flags %v: pea sets only the execution domain (--personality)", p.Flags)
		}
		cfg.Personality = p.Domain
	}
	if err := sp.applyLog(cfg); err != nil {
		return err
	}
	return sp.applySecrets(cfg)
}

// applyLog sets the log driver and --log-opt's path, max-size (bytes, as the client sends it)
// and tag; other options are ignored with a warning, as by pea run.
func (sp *libpodSpec) applyLog(cfg *model.ContainerConfig) error {
	l := sp.LogConfiguration
	if l == nil {
		return nil
	}
	if l.Driver == engine.LogDriverPassthrough {
		return invalidSpec("--log-driver passthrough gives the container the caller's stdio, which a service does not have")
	}
	if err := engine.ValidateLogDriver(l.Driver); err != nil {
		return err
	}
	cfg.LogDriver = l.Driver
	var err error
	if cfg.LogPath, err = absPath("--log-opt path", l.Path); err != nil {
		return err
	}
	if l.Size > 0 {
		cfg.LogSizeMax = l.Size
	}
	keys := make([]string, 0, len(l.Options))
	for k := range l.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k != "tag" {
			continue // ignored, as podman ignores it (logOptWarnings)
		}
		cfg.LogTag = l.Options[k]
	}
	return nil
}

// applySecrets sets --secret: mounted ones (secrets), and ones in a variable (secret_env,
// variable to secret).
func (sp *libpodSpec) applySecrets(cfg *model.ContainerConfig) error {
	for _, s := range sp.Secrets {
		if s.Source == "" {
			return invalidSpec("--secret: a secret name is needed")
		}
		if s.Mode > 0o777 {
			return invalidSpec("--secret %s: mode %o: at most 777", s.Source, s.Mode)
		}
		cfg.Secrets = append(cfg.Secrets, model.SecretRef{Name: s.Source, Type: "mount", Target: s.Target, UID: s.UID, GID: s.GID, Mode: s.Mode})
	}
	vars := make([]string, 0, len(sp.EnvSecrets))
	for v := range sp.EnvSecrets {
		vars = append(vars, v)
	}
	sort.Strings(vars)
	for _, v := range vars {
		ref := model.SecretRef{Name: sp.EnvSecrets[v], Type: "env", Target: v}
		if ref.Target == ref.Name {
			ref.Target = "" // pea run's form of --secret NAME,type=env
		}
		cfg.Secrets = append(cfg.Secrets, ref)
	}
	return nil
}

// specHealthTest is a spec's health check test: the 4.3 client sends --health-cmd '["CMD","x"]'
// as one element, the JSON as typed; a test without CMD or CMD-SHELL (or NONE) is a CMD.
func specHealthTest(test []string, flag string) ([]string, error) {
	if len(test) == 1 && strings.HasPrefix(strings.TrimSpace(test[0]), "[") {
		var arr []string
		if err := json.Unmarshal([]byte(test[0]), &arr); err != nil || len(arr) == 0 {
			return nil, invalidSpec("invalid %s %q: a JSON array must be a non-empty list of strings", flag, test[0])
		}
		test = arr
	}
	switch test[0] {
	case "NONE", "CMD", "CMD-SHELL":
		return test, nil
	}
	return append([]string{"CMD"}, test...), nil
}

// applyHealth sets the health check: ["NONE"] is --no-healthcheck (or --health-cmd none), an
// interval of 0 is --health-interval disable.
func (sp *libpodSpec) applyHealth(cfg *model.ContainerConfig, o *engine.CreateOptions) error {
	switch sp.HealthOnFailure {
	case 0, 1:
	case 2:
		cfg.HealthOnFailure = "kill"
	case 3:
		cfg.HealthOnFailure = "restart"
	case 4:
		cfg.HealthOnFailure = "stop"
	default:
		return invalidSpec("invalid --health-on-failure action %d", sp.HealthOnFailure)
	}
	if sp.HealthLogDestination != engine.HealthLogLocal {
		cfg.HealthLogDestination = sp.HealthLogDestination
	}
	cfg.HealthMaxLogCount, cfg.HealthMaxLogSize = sp.HealthMaxLogCount, sp.HealthMaxLogSize
	if sh := sp.StartupHealth; sh != nil && len(sh.Test) > 0 {
		test, err := specHealthTest(sh.Test, "--health-startup-cmd")
		if err != nil {
			return err
		}
		if test[0] == "NONE" {
			return invalidSpec("--health-startup-cmd: NONE is no startup check (leave it out)")
		}
		sc := &model.StartupHealthConfig{Test: test, Interval: sh.Interval, Timeout: sh.Timeout, Retries: sh.Retries, Successes: sh.Successes}
		if sc.Timeout == 0 {
			sc.Timeout = engine.DefaultHealthTimeout
		}
		cfg.StartupHealthcheck = sc // checked against the regular check at creation
	}
	h := sp.Health
	if h == nil || len(h.Test) == 0 {
		return nil
	}
	test, err := specHealthTest(h.Test, "--health-cmd")
	if err != nil {
		return err
	}
	if test[0] == "NONE" {
		o.NoHealthcheck = true
		return nil
	}
	hc := &model.HealthConfig{Test: test, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, Retries: h.Retries}
	if hc.Timeout == 0 {
		hc.Timeout = engine.DefaultHealthTimeout
	}
	if hc.Retries == 0 {
		hc.Retries = engine.DefaultHealthRetries
	}
	cfg.Healthcheck = hc
	return nil
}

// applyStorage sets the mounts (which replace Docker's ones toContainerConfig made from
// nothing), the image's volumes, devices and the /etc/passwd settings.
func (sp *libpodSpec) applyStorage(cfg *model.ContainerConfig, o *engine.CreateOptions) error {
	switch sp.ImageVolumeMode {
	case "":
	case "anonymous", "bind":
		o.ImageVolume = "bind"
	case "tmpfs", "ignore":
		o.ImageVolume = sp.ImageVolumeMode
	default:
		return invalidSpec("invalid --image-volume %q (bind, tmpfs, ignore)", sp.ImageVolumeMode)
	}
	// --read-only's tmpfs on /tmp, /var/tmp and /run come as mounts (unless
	// --read-only-tmpfs=false): pea adds none of its own.
	cfg.ReadOnlyTmpfs = false
	for _, m := range sp.Mounts {
		mnt, err := libpodMountToModel(m)
		if err != nil {
			return err
		}
		cfg.Mounts = append(cfg.Mounts, mnt)
	}
	for _, v := range sp.Volumes {
		mnt, err := libpodVolumeToModel(v)
		if err != nil {
			return err
		}
		cfg.Mounts = append(cfg.Mounts, mnt)
	}
	// The client sends -v's binds apart from its named volumes, so pea run's order (the flags')
	// is lost: a mount goes after those of the directories above it, as podman's server
	// orders them.
	sort.SliceStable(cfg.Mounts, func(i, j int) bool {
		return pathDepth(cfg.Mounts[i].Destination) < pathDepth(cfg.Mounts[j].Destination)
	})
	for _, d := range sp.Devices {
		cfg.Devices = append(cfg.Devices, d.Path)
	}
	cfg.ChrootDirs, cfg.HostUsers, cfg.PasswdEntry = sp.ChrootDirs, sp.HostUsers, sp.PasswdEntry
	cfg.NoPasswd = sp.ManagePassword != nil && !*sp.ManagePassword
	return nil
}

func pathDepth(p string) int {
	return strings.Count(filepath.Clean(p), "/")
}

// libpodMountToModel turns a mount of the client's (-v SRC:DST, --mount type=bind|tmpfs,
// --tmpfs) into pea's, by the parsers of pea run's flags.
func libpodMountToModel(m view.SpecMount) (model.Mount, error) {
	switch m.Type {
	case "bind", "":
		var opts []string
		nonRecursive := false
		for _, o := range m.Options {
			switch o {
			case "bind": // --mount's bind-nonrecursive
				nonRecursive = true
			case "rbind":
			default:
				opts = append(opts, o)
			}
		}
		spec := m.Source + ":" + m.Destination
		if len(opts) > 0 {
			spec += ":" + strings.Join(opts, ",")
		}
		if !filepath.IsAbs(m.Source) {
			return model.Mount{}, invalidSpec("bind mount %s: the service needs an absolute source path", spec)
		}
		mnt, err := engine.ParseVolume(spec)
		if nonRecursive && !slices.Contains(m.Options, "rbind") {
			mnt.Options = append(mnt.Options, "bind") // as pea run's --mount bind-nonrecursive
		}
		return mnt, err
	case "tmpfs":
		var opts []string
		chown := false
		for _, o := range m.Options {
			switch o {
			case "U":
				chown = true
			case "notmpcopyup": // pea's tmpfs are empty unless tmpcopyup asks
			default:
				opts = append(opts, o)
			}
		}
		spec := m.Destination
		if len(opts) > 0 {
			spec += ":" + strings.Join(opts, ",")
		}
		mnt, err := engine.ParseTmpfs(spec)
		mnt.ChownToUser = chown
		return mnt, err
	}
	return model.Mount{}, invalidSpec("--mount type=%s (at %s): pea mounts bind, volume and tmpfs only", m.Type, m.Destination)
}

// libpodVolumeToModel turns a named volume (-v NAME:DST[:OPTS], --mount type=volume) into
// pea's mount; no name is an anonymous volume.
func libpodVolumeToModel(v view.SpecVolume) (model.Mount, error) {
	name := v.Name
	if name == "" {
		name = "anonymous" // only to parse the options; dropped below
	}
	spec := name + ":" + v.Dest
	if len(v.Options) > 0 {
		spec += ":" + strings.Join(v.Options, ",")
	}
	m, err := engine.ParseVolume(spec)
	if err != nil {
		return m, err
	}
	if m.Type != "volume" {
		return m, invalidSpec("volume name %q: a named volume's name cannot be a path", v.Name)
	}
	if v.Name == "" {
		m.Source = ""
	}
	return m, nil
}

// applySecurity sets the security options as --security-opt sets them, and the user
// namespace.
func (sp *libpodSpec) applySecurity(cfg *model.ContainerConfig, o *engine.CreateOptions) error {
	var opts []string
	if sp.SeccompProfilePath != "" {
		if sp.SeccompProfilePath != "unconfined" && !filepath.IsAbs(sp.SeccompProfilePath) {
			return invalidSpec("--security-opt seccomp=%s: the service needs an absolute path", sp.SeccompProfilePath)
		}
		opts = append(opts, "seccomp="+sp.SeccompProfilePath)
	}
	if sp.NoNewPrivileges {
		opts = append(opts, "no-new-privileges")
	}
	// SELinux and AppArmor are not used by pea, and it takes (as pea run does) the /proc
	// options without acting on them; the masks apply, as pea run's.
	for _, l := range sp.SelinuxOpts {
		opts = append(opts, "label="+l)
	}
	if sp.ApparmorProfile != "" {
		opts = append(opts, "apparmor="+sp.ApparmorProfile)
	}
	for _, m := range sp.Mask {
		opts = append(opts, "mask="+m)
	}
	for _, m := range sp.Unmask {
		opts = append(opts, "unmask="+m)
	}
	for _, p := range sp.ProcOpts {
		opts = append(opts, "proc-opts="+p)
	}
	for _, s := range opts {
		if err := engine.ApplySecurityOpt(cfg, s); err != nil {
			return err
		}
	}
	switch sp.SeccompPolicy {
	case "":
	case "default", "image":
		o.SeccompPolicy = sp.SeccompPolicy
	default:
		return invalidSpec("invalid --seccomp-policy %q (default, image)", sp.SeccompPolicy)
	}
	return sp.applyUserNS(cfg)
}

// logOptWarnings are the warnings for the --log-opt options applyLog ignores: the create's
// answer carries them, and the podman client prints them.
func (sp *libpodSpec) logOptWarnings() []string {
	out := []string{}
	if sp.LogConfiguration == nil {
		return out
	}
	for k, v := range sp.LogConfiguration.Options {
		if k != "tag" {
			out = append(out, fmt.Sprintf("--log-opt %s=%s is ignored: pea supports path=FILE, max-size=SIZE and tag=TAG", k, v))
		}
	}
	sort.Strings(out)
	return out
}
