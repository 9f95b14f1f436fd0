package conf

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"pea/internal/errdefs"
	"pea/internal/fsx"
	"pea/internal/toml"
)

// EnvFile names the one containers.conf to read instead of the usual files.
const EnvFile = "CONTAINERS_CONF"

// The system's files (see the package comment).
const (
	distroFile = "/usr/share/containers/containers.conf"
	adminFile  = "/etc/containers/containers.conf"
)

// Files are the containers.conf files to read, in order: $CONTAINERS_CONF alone (an error when
// it is missing), else the system's and, for an unprivileged user (rootless), the user's, and
// the drop-ins their directories hold. The plain files are candidates: Load skips those that
// are not there (one failed open each, where a stat first cost a path walk more).
func Files(rootless bool) ([]string, error) {
	return files(distroFile, adminFile, rootless)
}

// files is Files with the system's two files given.
func files(distro, admin string, rootless bool) ([]string, error) {
	if p := os.Getenv(EnvFile); p != "" {
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			return nil, fmt.Errorf("%s file: stat %s: %w", EnvFile, p, errdefs.Errorf(errdefs.ErrNotFound, "%v", err))
		}
		return []string{p}, nil
	}
	files := append([]string{distro, admin}, dropIns(admin+".d")...)
	if rootless {
		if dir := userConfigDir(); dir != "" {
			user := filepath.Join(dir, "containers", "containers.conf")
			files = append(append(files, user), dropIns(user+".d")...)
		}
	}
	return files, nil
}

// dropIns are the *.conf files of dir in lexical order.
func dropIns(dir string) []string {
	names, err := fsx.ReadDirNames(dir)
	if err != nil {
		return nil
	}
	slices.Sort(names)
	var out []string
	for _, n := range names {
		if strings.HasSuffix(n, ".conf") {
			out = append(out, filepath.Join(dir, n))
		}
	}
	return out
}

// userConfigDir is $XDG_CONFIG_HOME, else ~/.config.
func userConfigDir() string {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		return d
	}
	if h := os.Getenv("HOME"); h != "" {
		return filepath.Join(h, ".config")
	}
	return ""
}

// Load reads files in order onto the built-in defaults. A file that is not there is skipped
// ($CONTAINERS_CONF's aside); one that cannot be read or parsed is an error naming it.
func Load(files []string) (*Config, error) {
	c := Default()
	for _, path := range files {
		data, err := readFile(path)
		if errors.Is(err, fs.ErrNotExist) && os.Getenv(EnvFile) != path {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading containers.conf: %w", err)
		}
		// The text is parsed in place, without a copy: the buffer is never changed, so the
		// strings the parser keeps of it (bare keys) stay what they were.
		if err := c.apply(unsafe.String(unsafe.SliceData(data), len(data))); err != nil {
			return nil, fmt.Errorf("containers.conf %s: %v: %w", path, err, errdefs.ErrInvalid)
		}
		c.Files = append(c.Files, path)
	}
	return c, nil
}

// readFile reads a file in one read of its size, with plain system calls (a distribution's
// reference file is 24 KB of comments, which io.ReadAll's growing buffer copied five times).
// A mapping of the file instead of a copy was tried, and cost a fresh process more (the
// mapping's set-up and unmapping) than the copy's new pages.
func readFile(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	for err == unix.EINTR {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	size := 4096 // /dev/null, a pipe: read to the end all the same
	if unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
		size = int(st.Size) + 1 // one more: a file that grew meanwhile is read whole below
	}
	buf := make([]byte, 0, size)
	for {
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		case n == 0:
			return buf, nil
		}
		buf = buf[:len(buf)+n]
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

// Parse is Load of one file's content, for tests and for Load.
func Parse(src string) (*Config, error) {
	c := Default()
	return c, c.apply(src)
}

// apply sets on c every key src sets.
func (c *Config) apply(src string) error {
	root, err := toml.Parse(src)
	if err != nil {
		return err
	}
	if c.set == nil {
		c.set = map[string]bool{}
	}
	for _, name := range root.Keys() {
		v, line, _ := root.Get(name)
		t, ok := v.(*toml.Table)
		if !ok {
			if slices.Contains([]string{"containers", "engine", "network"}, name) {
				return fmt.Errorf("line %d: %q must be a table, not %s", line, name, toml.TypeName(v))
			}
			continue
		}
		for _, key := range t.Keys() {
			full := name + "." + key
			v, line, _ := t.Get(key)
			f, known := c.field(full)
			if !known {
				if err := c.special(full, v, line); err != nil {
					return err
				}
				continue
			}
			if err := f.set(full, v, line); err != nil {
				return err
			}
			c.set[full] = true
		}
	}
	return nil
}

// field is one key's destination: *string, *[]string, *bool or *int64; or a kind alone for
// keys pea does not use, whose type is still checked as podman checks it.
type field struct {
	dst      any
	kind     string // for dst == nil: "string", "strings", "bool", "int"
	unsigned bool
}

func (f field) set(name string, v any, line int) error {
	wrong := func(want string) error {
		return fmt.Errorf("line %d: %q must be %s, not %s", line, name, want, toml.TypeName(v))
	}
	kind := f.kind
	switch f.dst.(type) {
	case *string:
		kind = "string"
	case *[]string:
		kind = "strings"
	case *bool:
		kind = "bool"
	case *int64:
		kind = "int"
	}
	switch kind {
	case "string":
		s, ok := v.(string)
		if !ok {
			return wrong("a string")
		}
		if p, ok := f.dst.(*string); ok {
			*p = s
		}
	case "bool":
		b, ok := v.(bool)
		if !ok {
			return wrong("a boolean (true or false)")
		}
		if p, ok := f.dst.(*bool); ok {
			*p = b
		}
	case "int":
		n, ok := v.(int64)
		if !ok {
			return wrong("an integer")
		}
		if f.unsigned && n < 0 {
			return fmt.Errorf("line %d: %q must not be negative (%d)", line, name, n)
		}
		if p, ok := f.dst.(*int64); ok {
			*p = n
		}
	case "strings":
		list, err := stringArray(name, v, line)
		if err != nil {
			return err
		}
		if p, ok := f.dst.(*[]string); ok {
			*p = list
		}
	}
	return nil
}

func stringArray(name string, v any, line int) ([]string, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("line %d: %q must be an array of strings, not %s", line, name, toml.TypeName(v))
	}
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("line %d: %q must be an array of strings, not an array holding %s", line, name, toml.TypeName(x))
		}
		out = append(out, s)
	}
	return out, nil
}

// field is where the plain key name of containers.conf goes (a switch, not a map: a map would
// be built on every load).
func (c *Config) field(name string) (field, bool) {
	ct, e, n := &c.Containers, &c.Engine, &c.Network
	str, strs, boolean, integer := field{kind: "string"}, field{kind: "strings"}, field{kind: "bool"}, field{kind: "int"}
	count := field{kind: "int", unsigned: true}
	switch name {
	case "containers.annotations":
		return field{dst: &ct.Annotations}, true
	case "containers.apparmor_profile":
		return field{dst: &ct.ApparmorProfile}, true
	case "containers.base_hosts_file":
		return field{dst: &ct.BaseHostsFile}, true
	case "containers.cgroupns":
		return field{dst: &ct.CgroupNS}, true
	case "containers.cgroups":
		return field{dst: &ct.Cgroups}, true
	case "containers.default_capabilities":
		return field{dst: &ct.DefaultCapabilities}, true
	case "containers.default_sysctls":
		return field{dst: &ct.DefaultSysctls}, true
	case "containers.default_ulimits":
		return field{dst: &ct.DefaultUlimits}, true
	case "containers.devices":
		return field{dst: &ct.Devices}, true
	case "containers.dns_options":
		return field{dst: &ct.DNSOptions}, true
	case "containers.dns_searches":
		return field{dst: &ct.DNSSearches}, true
	case "containers.dns_servers":
		return field{dst: &ct.DNSServers}, true
	case "containers.env":
		return field{dst: &ct.Env}, true
	case "containers.env_host":
		return field{dst: &ct.EnvHost}, true
	case "containers.host_containers_internal_ip":
		return field{dst: &ct.HostContainersInternalIP}, true
	case "containers.http_proxy":
		return field{dst: &ct.HTTPProxy}, true
	case "containers.init":
		return field{dst: &ct.Init}, true
	case "containers.init_path":
		return field{dst: &ct.InitPath}, true
	case "containers.ipcns":
		return field{dst: &ct.IPCNS}, true
	case "containers.keyring":
		return boolean, true
	case "containers.label":
		return boolean, true
	case "containers.log_driver":
		return field{dst: &ct.LogDriver}, true
	case "containers.log_size_max":
		return field{dst: &ct.LogSizeMax}, true
	case "containers.log_tag":
		return field{dst: &ct.LogTag}, true
	case "containers.netns":
		return field{dst: &ct.NetNS}, true
	case "containers.no_hosts":
		return field{dst: &ct.NoHosts}, true
	case "containers.pidns":
		return field{dst: &ct.PidNS}, true
	case "containers.pids_limit":
		return field{dst: &ct.PidsLimit}, true
	case "containers.prepare_volume_on_create":
		return boolean, true
	case "containers.seccomp_profile":
		return field{dst: &ct.SeccompProfile}, true
	case "containers.shm_size":
		return field{dst: &ct.ShmSize}, true
	case "containers.tz":
		return field{dst: &ct.TZ}, true
	case "containers.umask":
		return field{dst: &ct.Umask}, true
	case "containers.userns":
		return field{dst: &ct.UserNS}, true
	case "containers.userns_size":
		return integer, true
	case "containers.utsns":
		return field{dst: &ct.UTSNS}, true
	case "containers.volumes":
		return field{dst: &ct.Volumes}, true
	case "engine.active_service":
		return field{dst: &e.ActiveService}, true
	case "engine.cgroup_manager":
		return field{dst: &e.CgroupManager}, true
	case "engine.chown_copied_files":
		return boolean, true
	case "engine.compat_api_enforce_docker_hub":
		return boolean, true
	case "engine.compression_format":
		return str, true
	case "engine.conmon_env_vars":
		return strs, true
	case "engine.conmon_path":
		return field{dst: &e.ConmonPath}, true
	case "engine.detach_keys":
		return field{dst: &e.DetachKeys}, true
	case "engine.compose_providers":
		return field{dst: &e.ComposeProviders}, true
	case "engine.compose_warning_logs":
		return boolean, true
	case "engine.enable_port_reservation":
		return boolean, true
	case "engine.env":
		return field{dst: &e.Env}, true
	case "engine.events_logfile_path":
		return str, true
	case "engine.events_logfile_max_size":
		return str, true
	case "engine.events_logger":
		return field{dst: &e.EventsLogger}, true
	case "engine.exit_command_delay":
		return count, true
	case "engine.helper_binaries_dir":
		return field{dst: &e.HelperBinariesDir}, true
	case "engine.hooks_dir":
		return field{dst: &e.HooksDir}, true
	case "engine.image_copy_tmp_dir":
		return str, true
	case "engine.image_default_format":
		return str, true
	case "engine.image_default_transport":
		return field{dst: &e.ImageDefaultTransport}, true
	case "engine.image_parallel_copies":
		return count, true
	case "engine.image_volume_mode":
		return field{dst: &e.ImageVolumeMode}, true
	case "engine.infra_command":
		return field{dst: &e.InfraCommand}, true
	case "engine.infra_image":
		return str, true
	case "engine.lock_type":
		return str, true
	case "engine.multi_image_archive":
		return boolean, true
	case "engine.namespace":
		return str, true
	case "engine.network_cmd_options":
		return strs, true
	case "engine.network_cmd_path":
		return field{dst: &e.NetworkCmdPath}, true
	case "engine.no_pivot_root":
		return boolean, true
	case "engine.num_locks":
		return count, true
	case "engine.pod_exit_policy":
		return field{dst: &e.PodExitPolicy}, true
	case "engine.pull_policy":
		return field{dst: &e.PullPolicy}, true
	case "engine.remote":
		return boolean, true
	case "engine.runtime":
		return field{dst: &e.Runtime}, true
	case "engine.runtime_supports_json":
		return strs, true
	case "engine.runtime_supports_kvm":
		return strs, true
	case "engine.runtime_supports_nocgroups":
		return strs, true
	case "engine.service_timeout":
		return field{dst: &e.ServiceTimeout, unsigned: true}, true
	case "engine.static_dir":
		return field{dst: &e.StaticDir}, true
	case "engine.stop_timeout":
		return field{dst: &e.StopTimeout, unsigned: true}, true
	case "engine.tmp_dir":
		return field{dst: &e.TmpDir}, true
	case "engine.volume_path":
		return field{dst: &e.VolumePath}, true
	case "engine.volume_plugin_timeout":
		return count, true
	case "network.cni_plugin_dirs":
		return field{dst: &n.CNIPluginDirs}, true
	case "network.default_network":
		return field{dst: &n.DefaultNetwork}, true
	case "network.default_subnet":
		return field{dst: &n.DefaultSubnet}, true
	case "network.default_rootless_network_cmd":
		return field{dst: &n.DefaultRootlessNetworkCmd}, true
	case "network.pasta_options":
		return field{dst: &n.PastaOptions}, true
	case "network.dns_bind_port":
		return count, true
	case "network.network_backend":
		return field{dst: &n.NetworkBackend}, true
	case "network.network_config_dir":
		return field{dst: &n.NetworkConfigDir}, true
	}
	return field{}, false
}

// special sets the keys that are tables or arrays of tables: [engine.runtimes] (merged name
// by name), [engine.service_destinations] (destination by destination) and
// network.default_subnet_pools. Any other unknown key is ignored, as podman ignores it.
func (c *Config) special(name string, v any, line int) error {
	switch name {
	case "engine.runtimes":
		t, ok := v.(*toml.Table)
		if !ok {
			return fmt.Errorf("line %d: %q must be a table, not %s", line, name, toml.TypeName(v))
		}
		if c.Engine.Runtimes == nil {
			c.Engine.Runtimes = map[string][]string{}
		}
		for _, rt := range t.Keys() {
			v, line, _ := t.Get(rt)
			paths, err := stringArray(name+"."+rt, v, line)
			if err != nil {
				return err
			}
			c.Engine.Runtimes[strings.Clone(rt)] = paths
		}
	case "engine.service_destinations":
		t, ok := v.(*toml.Table)
		if !ok {
			return fmt.Errorf("line %d: %q must be a table, not %s", line, name, toml.TypeName(v))
		}
		if c.Engine.ServiceDestinations == nil {
			c.Engine.ServiceDestinations = map[string]Destination{}
		}
		for _, dest := range t.Keys() {
			v, line, _ := t.Get(dest)
			dt, ok := v.(*toml.Table)
			if !ok {
				return fmt.Errorf("line %d: %q must be a table, not %s", line, name+"."+dest, toml.TypeName(v))
			}
			var d Destination
			var isMachine bool
			for _, f := range []struct {
				key string
				f   field
			}{{"uri", field{dst: &d.URI}}, {"identity", field{dst: &d.Identity}}, {"is_machine", field{dst: &isMachine}}} {
				if v, line, ok := dt.Get(f.key); ok {
					if err := f.f.set(name+"."+dest+"."+f.key, v, line); err != nil {
						return err
					}
				}
			}
			c.Engine.ServiceDestinations[strings.Clone(dest)] = d
		}
	case "network.default_subnet_pools":
		arr, ok := v.([]any)
		if !ok {
			if tables, isTables := v.([]*toml.Table); isTables {
				arr = make([]any, len(tables))
				for i, t := range tables {
					arr[i] = t
				}
			} else {
				return fmt.Errorf("line %d: %q must be an array of tables, not %s", line, name, toml.TypeName(v))
			}
		}
		pools := make([]SubnetPool, 0, len(arr))
		for _, x := range arr {
			t, ok := x.(*toml.Table)
			if !ok {
				return fmt.Errorf("line %d: %q must be an array of tables, not an array holding %s", line, name, toml.TypeName(x))
			}
			var p SubnetPool
			var size int64
			for _, f := range []struct {
				key string
				f   field
			}{{"base", field{dst: &p.Base}}, {"size", field{dst: &size, unsigned: true}}} {
				if v, line, ok := t.Get(f.key); ok {
					if err := f.f.set(name+"."+f.key, v, line); err != nil {
						return err
					}
				}
			}
			p.Size = int(size)
			pools = append(pools, p)
		}
		c.Network.DefaultSubnetPools = pools
	default:
		slog.Debug("containers.conf: key not used", "key", name)
		return nil
	}
	c.set[name] = true
	return nil
}
