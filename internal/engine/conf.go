package engine

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"pea/internal/conf"
	"pea/internal/errdefs"
	"pea/internal/model"
	"pea/internal/network"
	"pea/internal/oci"
	"pea/internal/rootless"
)

// What containers.conf(5) gives the engine (internal/conf reads it; the caller hands it over in
// Options.Conf). These are the keys podman applies on the server's side, so that pea run, the
// libpod API's create (whose client sent its own flag defaults) and the Docker API's create
// share them: annotations, capabilities (the Docker API keeps Docker's own), the environment,
// the cgroup namespace, the pids limit, the log's size and tag, the seccomp profile (at
// creation); sysctls (at each start, as pea's built-in one); DNS (when /etc/resolv.conf is
// written). The keys podman's client takes as its flags' defaults are the CLI's
// (cli/create_conf.go).

// conf is the containers.conf this runtime applies: the built-in defaults without one.
func (r *Runtime) conf() *conf.Config {
	if r.opts.Conf != nil {
		return r.opts.Conf
	}
	if r.defaultConf == nil {
		r.defaultConf = conf.Default()
	}
	return r.defaultConf
}

// confError is a containers.conf value that cannot be used, as a create's error.
func confError(key, value string, err error) error {
	return fmt.Errorf("containers.conf %s %q: %v: %w", key, value, err, errdefs.ErrInvalid)
}

// applyConfDefaults fills in what containers.conf gives a new container its request left
// unset: annotations (the request's win), the capabilities CapAdd and CapDrop change, the
// cgroup namespace, the pids limit (only with a cgroup of the container's own; not a build's,
// as podman's RUN), the log's size limit and (journald's) tag. An infra container takes none
// of them.
func (r *Runtime) applyConfDefaults(cfg *model.ContainerConfig) error {
	if cfg.IsInfra {
		return nil
	}
	c := &r.conf().Containers
	if len(c.Annotations) > 0 {
		ann := make(map[string]string, len(c.Annotations)+len(cfg.Annotations))
		for _, kv := range c.Annotations {
			k, v, _ := strings.Cut(kv, "=")
			if k == "" {
				return confError("annotations", kv, fmt.Errorf("want KEY=VALUE"))
			}
			ann[k] = v
		}
		for k, v := range cfg.Annotations {
			ann[k] = v
		}
		cfg.Annotations = ann
	}
	if caps := c.Capabilities(); cfg.DefaultCaps == nil && caps != nil {
		for _, cp := range caps {
			if _, err := oci.NormalizeCapability(cp); err != nil {
				return confError("default_capabilities", cp, err)
			}
		}
		cfg.DefaultCaps = caps
	}
	if _, ok := cfg.Namespaces[model.NSCgroup]; !ok && c.CgroupNS != "" {
		if c.CgroupNS != "host" && c.CgroupNS != "private" {
			return confError("cgroupns", c.CgroupNS, fmt.Errorf("host or private"))
		}
		if cfg.Namespaces == nil {
			cfg.Namespaces = map[string]model.Namespace{}
		}
		cfg.Namespaces[model.NSCgroup] = model.Namespace{Mode: c.CgroupNS}
	}
	if c.PidsLimit > 0 && cfg.Resources.PidsLimit == 0 && cfg.Cgroups != CgroupsDisabled && !rootless.Active() && !isBuildContainer(cfg) {
		cfg.Resources.PidsLimit = c.PidsLimit
	}
	if c.LogSizeMax > 0 && cfg.LogSizeMax == 0 {
		cfg.LogSizeMax = c.LogSizeMax
	}
	if c.LogTag != "" && cfg.LogTag == "" && cfg.LogDriver == LogDriverJournald {
		cfg.LogTag = c.LogTag // conmon takes a tag for journald only
	}
	return nil
}

// confEnv is containers.conf's environment of a new container, below the image's and the
// user's: nil for an infra container, a build's (podman's RUN does not take it) and with
// --unsetenv-all.
func (r *Runtime) confEnv(cfg *model.ContainerConfig) []string {
	if cfg.IsInfra || cfg.UnsetEnvAll || isBuildContainer(cfg) {
		return nil
	}
	return r.conf().Containers.Env
}

// applyConfSeccomp makes containers.conf's seccomp_profile the profile of a container that
// names none (and is not privileged). A configured file that is not there leaves pea's own
// profile: podman's reference value names a file of a package the host may lack.
func (r *Runtime) applyConfSeccomp(cfg *model.ContainerConfig) {
	p := r.conf().Containers.SeccompProfile
	if p == "" || cfg.Seccomp != "" || cfg.Privileged || cfg.IsInfra {
		return
	}
	if _, err := os.Stat(p); err == nil {
		cfg.Seccomp = p
	}
}

// withConfDNS is the network configuration with containers.conf's DNS servers, search domains
// and options before the container's (or its pod's) own, as podman's resolv.conf lists both.
// A container's --dns none (or the configured none alone) keeps pea's resolv.conf out, and a
// container's --dns-search . drops every search domain.
func (r *Runtime) withConfDNS(net model.NetworkConfig) model.NetworkConfig {
	c := &r.conf().Containers
	none := []string{"none"}
	switch {
	case slices.Equal(net.DNSServers, none):
	case slices.Equal(c.DNSServers, none):
		if len(net.DNSServers) == 0 {
			net.DNSServers = none
		}
	case len(c.DNSServers) > 0:
		net.DNSServers = append(slices.Clone(c.DNSServers), net.DNSServers...)
	}
	if len(c.DNSSearches) > 0 && !slices.Equal(net.DNSSearch, []string{"."}) {
		net.DNSSearch = append(slices.Clone(c.DNSSearches), net.DNSSearch...)
	}
	if len(c.DNSOptions) > 0 {
		net.DNSOptions = append(slices.Clone(c.DNSOptions), net.DNSOptions...)
	}
	return net
}

// ApplyConf makes c the options' containers.conf and sets from its [engine] table what the
// command line did not give (given reports a global flag given, by name): the OCI runtime
// (runtime, looked up in [engine.runtimes] as --runtime's name is), conmon (the first of
// conmon_path that exists), the hooks directories, the events backend (none; journald is the
// file's, as pea has no journald backend) and slirp4netns's path. The cgroup manager is the
// caller's to check (ConfCgroupManager). A runtime that is nowhere to be found is an error, as
// podman refuses to start without its configured runtime.
func (o *Options) ApplyConf(c *conf.Config, given func(flag string) bool) error {
	o.Conf = c
	e := &c.Engine
	name := o.Runtime
	if !given("runtime") && e.Runtime != "" {
		name = e.Runtime
	}
	if name != "" {
		if p := e.RuntimePath(name, fileExists); p != "" {
			name = p
		}
		if _, err := oci.FindBinary(name); err != nil {
			return fmt.Errorf("default OCI runtime %q not found: %w", name, errdefs.ErrInvalid)
		}
		o.Runtime = name
	}
	if !given("conmon") {
		if p := e.Conmon(fileExists); p != "" {
			o.Conmon = p
		}
	}
	if !given("hooks-dir") && e.HooksDir != nil {
		o.HooksDirs = e.HooksDir
	}
	if !given("events-backend") {
		switch e.EventsLogger {
		case "", "file", "journald":
		case "none":
			o.NoEvents = true
		default:
			return confError("events_logger", e.EventsLogger, fmt.Errorf("file, journald or none"))
		}
	}
	if !given("network-cmd-path") && e.NetworkCmdPath != "" {
		network.SlirpPath = e.NetworkCmdPath
	}
	switch cmd := c.Network.DefaultRootlessNetworkCmd; cmd {
	case "", model.NSModeSlirp, model.NSModePasta:
	default:
		return confError("default_rootless_network_cmd", cmd, fmt.Errorf("slirp4netns or pasta"))
	}
	return nil
}

// ConfCgroupManager checks containers.conf's cgroup_manager: pea manages cgroups itself
// (cgroupfs), and systemd, podman's usual default, is taken without a word.
func ConfCgroupManager(c *conf.Config) error {
	switch m := c.Engine.CgroupManager; m {
	case "", "cgroupfs", "systemd":
		return nil
	default:
		return confError("cgroup_manager", m, fmt.Errorf("cgroupfs or systemd"))
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// createConfDefaultNetwork makes containers.conf's default_network on its first use, with its
// default_subnet, as podman makes its default network when it is not there (naming no one, as
// a default network).
func (r *Runtime) createConfDefaultNetwork(name string) (*network.Network, error) {
	o := network.CreateOptions{Name: name, DisableDNS: true}
	if s := r.conf().Network.DefaultSubnet; s != "" {
		o.Subnets = []string{s}
	}
	n, err := r.NetworkCreate(o)
	if errdefs.Is(err, errdefs.ErrExists) { // made meanwhile by another pea
		return r.networks().Get(name)
	}
	return n, err
}

// Conf is the containers.conf this runtime applies (the built-in defaults without one); the API
// service applies from it what podman's service fills in for a request (api/create_conf.go).
func (r *Runtime) Conf() *conf.Config { return r.conf() }
