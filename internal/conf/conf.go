// Package conf reads containers.conf(5), the configuration podman 4.3.1 (containers/common
// 0.50) and pea share: the defaults of containers and pods, the engine's binaries and
// directories, the network defaults and the remote services.
//
// Files, read in this order, a later one overriding an earlier one key by key (a table such
// as [engine.runtimes] is merged name by name; an array is replaced whole):
//
//	/usr/share/containers/containers.conf       the distribution's
//	/etc/containers/containers.conf             the administrator's
//	/etc/containers/containers.conf.d/*.conf    drop-ins, in lexical order
//	$XDG_CONFIG_HOME/containers/containers.conf an unprivileged user's only (~/.config without
//	$XDG_CONFIG_HOME/containers/containers.conf.d/*.conf    $XDG_CONFIG_HOME)
//
// $CONTAINERS_CONF names the one file read instead (it must exist). Files that are not there
// are skipped; a syntax error or a value of the wrong type is an error naming the file. Keys
// pea does not know are ignored, as podman ignores them. A Config starts from the built-in
// defaults (Default), which are pea's own behaviour: a zero value means "as pea does without a
// containers.conf" wherever pea's default differs from podman's compiled one (pids_limit,
// events_logger, cgroup_manager, runtime paths, the default network and its subnet).
package conf

import (
	"slices"
	"strings"
)

// Config is a containers.conf: its [containers], [engine] and [network] tables.
type Config struct {
	Containers Containers
	Engine     Engine
	Network    Network
	// Files are the files read, in order.
	Files []string
	// set holds the keys some file set ("containers.pids_limit").
	set map[string]bool
}

// Containers is the [containers] table: the defaults of a new container.
type Containers struct {
	Annotations         []string // KEY=VALUE
	ApparmorProfile     string   // accepted; pea has no AppArmor support
	BaseHostsFile       string   // "": the host's /etc/hosts; "image", "none" or a file (engine.baseHosts)
	CgroupNS            string   // host, private; "": pea's default (host on cgroup v1)
	Cgroups             string   // enabled, disabled, no-conmon, split
	DefaultCapabilities []string // nil or empty: pea's (podman's upstream eleven)
	DefaultSysctls      []string // nil: pea's (net.ipv4.ping_group_range=0 0)
	DefaultUlimits      []string // NAME=SOFT[:HARD]
	Devices             []string // HOST[:CONTAINER[:PERMS]]
	// HostContainersInternalIP is the address of host.containers.internal in /etc/hosts;
	// "none": no such line; "": pea's choice (engine.hostContainersInternal).
	HostContainersInternalIP string
	DNSOptions               []string
	DNSSearches              []string
	DNSServers               []string
	Env                      []string // KEY=VALUE, below the image's and the user's
	EnvHost                  bool
	HTTPProxy                bool // default true
	Init                     bool
	InitPath                 string
	IPCNS                    string
	LogDriver                string
	LogSizeMax               int64 // default -1: no limit
	LogTag                   string
	NetNS                    string
	NoHosts                  bool
	PidNS                    string
	PidsLimit                int64 // 0: no limit (pea's default; podman's compiled one is 2048)
	SeccompProfile           string
	ShmSize                  string
	TZ                       string
	Umask                    string
	UserNS                   string
	UTSNS                    string
	Volumes                  []string
}

// Engine is the [engine] table.
type Engine struct {
	ActiveService         string
	CgroupManager         string   // cgroupfs, systemd; "": cgroupfs
	ComposeProviders      []string // pea compose: the first that exists
	ConmonPath            []string // the first that exists
	DetachKeys            string
	Env                   []string // the engine's own environment
	EventsLogger          string   // file, journald, none; "": file
	HelperBinariesDir     []string // where helper programs (aardvark-dns) are looked for first
	HooksDir              []string
	ImageDefaultTransport string // pea pulls from registries only: not used
	ImageVolumeMode       string // bind, tmpfs, ignore
	InfraCommand          string
	NetworkCmdPath        string
	PodExitPolicy         string // continue, stop
	PullPolicy            string
	Runtime               string // a name (looked up in Runtimes, then $PATH) or a path
	Runtimes              map[string][]string
	ServiceDestinations   map[string]Destination
	ServiceTimeout        int64  // default 5
	StaticDir             string // pea's layout is fixed: not used
	StopTimeout           int64  // default 10
	TmpDir                string // not used
	VolumePath            string // not used
}

// Destination is one [engine.service_destinations.NAME]: a service of remote mode.
type Destination struct {
	URI      string
	Identity string
}

// Network is the [network] table.
type Network struct {
	CNIPluginDirs      []string
	DefaultNetwork     string // "" (or podman's "podman"): pea's default network
	DefaultSubnet      string // "": pea's choice
	DefaultSubnetPools []SubnetPool
	// DefaultRootlessNetworkCmd is what rootless containers on the default network get:
	// slirp4netns ("", pea's and podman 4's default) or pasta (podman 5's).
	DefaultRootlessNetworkCmd string
	PastaOptions              []string // pasta's arguments before --network pasta:OPTIONS's
	NetworkBackend            string   // accepted; pea's networks are CNI's
	NetworkConfigDir          string   // not used
}

// SubnetPool is one of default_subnet_pools: subnets of Size bits taken from Base.
type SubnetPool struct {
	Base string
	Size int
}

// Default is the configuration without any file: pea's built-in behaviour.
func Default() *Config {
	return &Config{
		Containers: Containers{HTTPProxy: true, LogSizeMax: -1},
		Engine:     Engine{StopTimeout: 10, ServiceTimeout: 5},
	}
}

// IsSet reports whether a file set key ("containers.pids_limit").
func (c *Config) IsSet(key string) bool { return c != nil && c.set[key] }

// Capabilities are default_capabilities as the kernel names them (CAP_CHOWN), or nil when no
// file gives any: the engine's own defaults then.
func (c *Containers) Capabilities() []string {
	if len(c.DefaultCapabilities) == 0 {
		return nil
	}
	caps := make([]string, 0, len(c.DefaultCapabilities))
	for _, name := range c.DefaultCapabilities {
		name = strings.ToUpper(strings.TrimSpace(name))
		if !strings.HasPrefix(name, "CAP_") {
			name = "CAP_" + name
		}
		if !slices.Contains(caps, name) {
			caps = append(caps, name)
		}
	}
	return caps
}

// RuntimePath is where the runtime name (or path) is: a path as it is, a name's first existing
// path in [engine.runtimes], else "" (look it up on $PATH).
func (e *Engine) RuntimePath(name string, exists func(string) bool) string {
	if strings.Contains(name, "/") {
		return name
	}
	for _, p := range e.Runtimes[name] {
		if exists(p) {
			return p
		}
	}
	return ""
}

// DefaultNetworkName is default_network when it names a network other than pea's default one
// (podman's default name, "podman", stands for pea's): "" otherwise.
func (n *Network) DefaultNetworkName() string {
	switch n.DefaultNetwork {
	case "", "podman", "pea":
		return ""
	}
	return n.DefaultNetwork
}

// Conmon is the first of conmon_path that exists, or "".
func (e *Engine) Conmon(exists func(string) bool) string {
	for _, p := range e.ConmonPath {
		if exists(p) {
			return p
		}
	}
	return ""
}
