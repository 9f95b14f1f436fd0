package cli

import (
	"slices"
	"strconv"
	"strings"

	"pea/internal/conf"
	"pea/internal/engine"
)

// confDefaults gives create's and run's flags that the command line left alone the values
// containers.conf gives them, as podman takes its flags' defaults from it: --tz, --umask,
// --shm-size, --init, --init-path, --log-driver, --no-hosts, --env-host, --http-proxy,
// --stop-timeout, --pull, --image-volume, --cgroups, and outside a pod (whose namespaces a member joins)
// --pid, --ipc, --uts, --userns and --network (netns, else default_network). --ulimit, --device
// and -v add to the configured default_ulimits, devices and volumes, the command line's winning
// for the same limit, device path or destination (podman 4.3 drops the configured list whole
// once the flag is given). The engine applies the rest (engine/conf.go).
func (f *createFlags) confDefaults(c *conf.Config, changed func(string) bool) {
	ct := &c.Containers
	str := func(flag string, dst *string, v string) {
		if v != "" && !changed(flag) {
			*dst = v
		}
	}
	boolean := func(flag string, dst *bool, key string, v bool) {
		if c.IsSet(key) && !changed(flag) {
			*dst = v
		}
	}
	str("tz", &f.tz, ct.TZ)
	str("umask", &f.umask, ct.Umask)
	str("log-driver", &f.more.logDriver, ct.LogDriver)
	str("init-path", &f.more.initPath, ct.InitPath)
	str("pull", &f.pull, c.Engine.PullPolicy)
	str("image-volume", &f.more.imageVolume, c.Engine.ImageVolumeMode)
	boolean("init", &f.init, "containers.init", ct.Init)
	boolean("no-hosts", &f.noHosts, "containers.no_hosts", ct.NoHosts)
	boolean("env-host", &f.envHost, "containers.env_host", ct.EnvHost)
	boolean("http-proxy", &f.more.httpProxy, "containers.http_proxy", ct.HTTPProxy)
	if c.IsSet("engine.stop_timeout") && !changed("stop-timeout") {
		f.stopTimeout = uint(c.Engine.StopTimeout)
	}
	// split (a cgroup of conmon's own beside the container's) pea does not make: ignored.
	if ct.Cgroups != "split" {
		str("cgroups", &f.more.cgroups, ct.Cgroups)
	}
	inPod := f.pod != "" || f.podIDFile != ""
	if !inPod {
		// podman's "private" is pea's default for each (the IPC one's is shareable).
		ns := func(flag string, dst *string, v, dflt string) {
			if v != dflt {
				str(flag, dst, v)
			}
		}
		ns("pid", &f.pid, ct.PidNS, "private")
		ns("uts", &f.uts, ct.UTSNS, "private")
		ns("ipc", &f.ipc, ct.IPCNS, "shareable")
		ns("userns", &f.userns, ct.UserNS, "host")
		if !changed("network") && !changed("net") {
			switch n := ct.NetNS; {
			case n != "" && n != "private":
				f.networks = []string{n}
			case c.Network.DefaultNetworkName() != "":
				f.networks = []string{c.Network.DefaultNetworkName()}
			}
		}
	}
	if m := f.ipc; ct.ShmSize != "" && !inPod && m != "host" && m != "none" && !strings.HasPrefix(m, "container:") {
		str("shm-size", &f.shmSize, confShmSize(ct.ShmSize))
	}
	f.ulimits = mergeConfList(ct.DefaultUlimits, f.ulimits, func(s string) string {
		name, _, _ := strings.Cut(s, "=")
		return strings.ToLower(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(name)), "RLIMIT_"))
	})
	f.devices = mergeConfList(ct.Devices, f.devices, deviceDestination)
	var dests []string
	for _, src := range []struct {
		specs []string
		parse func(string) (string, error)
	}{{f.volumes, volumeDestination}, {f.mounts, mountDestination}, {f.tmpfs, tmpfsDestination}} {
		for _, s := range src.specs {
			if d, err := src.parse(s); err == nil {
				dests = append(dests, d)
			}
		}
	}
	for _, v := range ct.Volumes {
		if d, err := volumeDestination(v); err != nil || !slices.Contains(dests, d) {
			f.volumes = append(f.volumes, v) // an invalid one fails as -v's would
		}
	}
}

// confDefaults gives pod create's flags that the command line left alone containers.conf's
// values: --shm-size, --no-hosts, --exit-policy, --network (netns, else default_network) and, for an infra
// container of an image, --infra-command (pea's image-less infra runs catatonit, which the
// configured command, podman's /pause, would replace with nothing there).
func (o *podCreateOptions) confDefaults(c *conf.Config, changed func(string) bool) {
	ct := &c.Containers
	if ct.ShmSize != "" && !changed("shm-size") {
		o.shmSize = confShmSize(ct.ShmSize)
	}
	if c.IsSet("containers.no_hosts") && !changed("no-hosts") {
		o.noHosts = ct.NoHosts
	}
	if c.Engine.PodExitPolicy != "" && !changed("exit-policy") {
		o.exitPolicy = c.Engine.PodExitPolicy
	}
	if c.Engine.InfraCommand != "" && o.infraImage != "" && !changed("infra-command") {
		o.infraCommand = c.Engine.InfraCommand
	}
	if !changed("network") && !changed("net") {
		switch n := ct.NetNS; {
		case n != "" && n != "private":
			o.network = n
		case c.Network.DefaultNetworkName() != "":
			o.network = c.Network.DefaultNetworkName()
		}
	}
}

// confShmSize is containers.conf's shm_size as --shm-size's bytes: podman reads the key's units
// as powers of 1000 (77m: 77000000 bytes), the flag's as powers of 1024. A value that does not
// parse is kept, for --shm-size's error.
func confShmSize(v string) string {
	if n, err := engine.ParseDecimalSize(v); err == nil && v != "" {
		return strconv.FormatInt(n, 10)
	}
	return v
}

// mergeConfList is the configured list with the command line's after it, less the configured
// entries whose key (key of an entry) the command line gives too.
func mergeConfList(configured, given []string, key func(string) string) []string {
	if len(configured) == 0 {
		return given
	}
	keys := make([]string, 0, len(given))
	for _, g := range given {
		keys = append(keys, key(g))
	}
	var out []string
	for _, c := range configured {
		if !slices.Contains(keys, key(c)) {
			out = append(out, c)
		}
	}
	return append(out, given...)
}

// deviceDestination is the container path of a --device HOST[:CONTAINER][:PERMS].
func deviceDestination(d string) string {
	parts := strings.Split(d, ":")
	if len(parts) > 1 && strings.HasPrefix(parts[1], "/") {
		return parts[1]
	}
	return parts[0]
}

func volumeDestination(v string) (string, error) {
	m, err := engine.ParseVolume(v)
	return m.Destination, err
}

func mountDestination(v string) (string, error) {
	m, err := engine.ParseMount(v)
	return m.Destination, err
}

func tmpfsDestination(v string) (string, error) {
	m, err := engine.ParseTmpfs(v)
	return m.Destination, err
}
