// Package model holds pea's plain data types: container and pod configs and states, and the
// state transition rules. It does no I/O; the state package stores these types as JSON and the
// engine acts on them.
package model

import "time"

// Container statuses, as podman names them.
const (
	StatusCreated  = "created"
	StatusRunning  = "running"
	StatusPaused   = "paused"
	StatusStopping = "stopping"
	StatusExited   = "exited"
	StatusRemoving = "removing"
)

// StatusInitialized: `init` made the container in the runtime (root filesystem mounted, conmon
// and the runtime's waiting process there) but did not start it.
const StatusInitialized = "initialized"

// Namespace kinds a container can share or join.
const (
	NSPid    = "pid"
	NSIpc    = "ipc"
	NSUts    = "uts"
	NSNet    = "net"
	NSCgroup = "cgroup"
	NSMount  = "mnt"
	NSUser   = "user"
)

// Namespace modes.
const (
	NSModePrivate   = "private"
	NSModeHost      = "host"
	NSModeContainer = "container"   // Value is the container ID
	NSModePath      = "path"        // Value is a namespace file
	NSModeNone      = "none"        // for net: only loopback
	NSModeBridge    = "bridge"      // for net: CNI networks
	NSModeSlirp     = "slirp4netns" // for net: user-mode networking; Value is its options (a,b)
	NSModePasta     = "pasta"       // for net: user-mode networking by pasta; Value is its options (a,b)
	// NSModeShareable is an IPC namespace of the container's own whose /dev/shm others joining
	// it share (podman's default IPC mode); NSModeNone for ipc is one without any /dev/shm.
	NSModeShareable = "shareable"
)

// UserNet reports whether a network namespace is served by a user-mode network program
// (slirp4netns or pasta) that pea starts on it.
func (n Namespace) UserNet() bool { return n.Mode == NSModeSlirp || n.Mode == NSModePasta }

// UserNSAuto is the Value of a private user namespace whose mappings the engine picks
// (--userns auto).
const UserNSAuto = "auto"

// UserNSKeepID and UserNSNoMap are the Values of a rootless container's private user namespace
// whose mappings follow from the user's: keep-id[:uid=N,gid=N] maps the user's own ID to
// itself (or N), nomap leaves it out (--userns keep-id, --userns nomap).
const (
	UserNSKeepID = "keep-id"
	UserNSNoMap  = "nomap"
)

// Namespace says how a container gets one kind of namespace.
type Namespace struct {
	Mode  string `json:"mode"`
	Value string `json:"value,omitempty"`
}

// Mount is a bind, tmpfs or volume mount.
type Mount struct {
	Type        string   `json:"type"` // bind, tmpfs, volume, image
	Source      string   `json:"source,omitempty"`
	Destination string   `json:"destination"`
	Options     []string `json:"options,omitempty"`
	ReadOnly    bool     `json:"readOnly,omitempty"`
	// ChownToUser (the U option) gives the source, recursively, to the container's user at
	// every start: its host IDs, through the container's user namespace if it has one.
	ChownToUser bool `json:"chownToUser,omitempty"`
	// CopyUp fills an empty volume with the image's content at Destination when the container
	// starts (an image VOLUME under --image-volume bind).
	CopyUp bool `json:"copyUp,omitempty"`
	// NoCopy leaves a new volume empty (the nocopy option): the image's content at
	// Destination is not copied into it.
	NoCopy bool `json:"noCopy,omitempty"`
	// FromMount: the mount was given as --mount (Docker's HostConfig.Mounts), not as -v or
	// --tmpfs; Docker's inspect shows it again the way it was given.
	FromMount bool `json:"fromMount,omitempty"`
	// ImageID is the image of an image mount (Type "image", Source the image as it was named),
	// resolved when the container was made; SubPath, the path in it that is mounted rather
	// than its root (a CRI image volume's).
	ImageID string `json:"imageID,omitempty"`
	SubPath string `json:"subPath,omitempty"`
	// Overlay (-v SRC:DST:O) mounts an overlay whose lower layer is the source (a host
	// directory or a named volume's data) at each start; what the container writes goes to an
	// upper directory discarded when it stops, unless UpperDir and WorkDir (the upperdir= and
	// workdir= options) name directories of the user's, which keep it.
	Overlay  bool   `json:"overlay,omitempty"`
	UpperDir string `json:"upperDir,omitempty"`
	WorkDir  string `json:"workDir,omitempty"`
	// VolumeOptions are the driver options (volume create's -o) of the named or anonymous
	// volume the mount makes when it does not exist: --mount's volume-opt=KEY=VALUE.
	VolumeOptions map[string]string `json:"volumeOptions,omitempty"`
}

// IDMap maps Size IDs from ContainerID inside a user namespace to HostID outside it (one line
// of /proc/<pid>/uid_map, and of --uidmap CONTAINER:HOST:SIZE).
type IDMap struct {
	ContainerID uint32 `json:"containerID"`
	HostID      uint32 `json:"hostID"`
	Size        uint32 `json:"size"`
}

// Ulimit is one rlimit.
type Ulimit struct {
	Name string `json:"name"`
	Soft uint64 `json:"soft"`
	Hard uint64 `json:"hard"`
}

// PortMapping publishes a container port on the host.
type PortMapping struct {
	HostIP        string `json:"hostIP,omitempty"`
	HostPort      uint16 `json:"hostPort"`
	ContainerPort uint16 `json:"containerPort"`
	Protocol      string `json:"protocol"`
	Range         uint16 `json:"range,omitempty"`
}

// Resources are cgroup limits.
type Resources struct {
	Memory     int64   `json:"memory,omitempty"`
	CPUs       float64 `json:"cpus,omitempty"`
	CpusetCpus string  `json:"cpusetCpus,omitempty"`
	PidsLimit  int64   `json:"pidsLimit,omitempty"`
	ShmSize    int64   `json:"shmSize,omitempty"`
	// MemorySwap limits memory and swap together (-1: unlimited swap); MemoryReservation is the
	// soft limit the kernel reclaims down to under pressure.
	MemorySwap        int64  `json:"memorySwap,omitempty"`
	MemoryReservation int64  `json:"memoryReservation,omitempty"`
	CPUShares         uint64 `json:"cpuShares,omitempty"`
	CpusetMems        string `json:"cpusetMems,omitempty"`
	// CPUPeriod and CPUQuota set the CFS bandwidth directly, where CPUs sets both.
	CPUPeriod uint64 `json:"cpuPeriod,omitempty"`
	CPUQuota  int64  `json:"cpuQuota,omitempty"`
	// BlkioWeight is the block I/O weight (10-1000); the per-device lists are
	// "MAJOR:MINOR VALUE" lines resolved from host device paths at creation.
	BlkioWeight       uint16   `json:"blkioWeight,omitempty"`
	BlkioWeightDevice []string `json:"blkioWeightDevice,omitempty"`
	DeviceReadBps     []string `json:"deviceReadBps,omitempty"`
	DeviceWriteBps    []string `json:"deviceWriteBps,omitempty"`
	DeviceReadIOps    []string `json:"deviceReadIOps,omitempty"`
	DeviceWriteIOps   []string `json:"deviceWriteIOps,omitempty"`
	// MemorySwappiness is the memory cgroup's swappiness (0-100), nil for the kernel's.
	MemorySwappiness *int64 `json:"memorySwappiness,omitempty"`
	OOMKillDisable   bool   `json:"oomKillDisable,omitempty"`
	// DeviceCgroupRules are further device cgroup rules ("c 1:3 rwm").
	DeviceCgroupRules []string `json:"deviceCgroupRules,omitempty"`
	// CPURtPeriod and CPURtRuntime give the cgroup real-time CPU time (microseconds).
	CPURtPeriod  uint64 `json:"cpuRtPeriod,omitempty"`
	CPURtRuntime int64  `json:"cpuRtRuntime,omitempty"`
}

// NetworkConfig is what a container (or a pod's infra container) asks of the network.
type NetworkConfig struct {
	Networks []string      `json:"networks,omitempty"`
	Ports    []PortMapping `json:"ports,omitempty"`
	// Expose are the ports the container exposes without publishing them (--expose, the
	// image's EXPOSE), container port and protocol each: Docker's API shows them (inspect's
	// ExposedPorts, the list's and inspect's unpublished ports); podman's inspect has them in
	// NetworkSettings.Ports and HostConfig.PortBindings, bound to nothing, on a bridge.
	Expose []PortMapping `json:"expose,omitempty"`
	// StaticIP is --ip (older configs may hold --ip6's address here); StaticIP6 is --ip6. Each
	// goes to the network whose subnet holds it: both to one dual-stack network.
	StaticIP   string   `json:"staticIP,omitempty"`
	StaticIP6  string   `json:"staticIP6,omitempty"`
	StaticMAC  string   `json:"staticMAC,omitempty"`
	DNSServers []string `json:"dnsServers,omitempty"`
	DNSSearch  []string `json:"dnsSearch,omitempty"`
	DNSOptions []string `json:"dnsOptions,omitempty"`
	AddHosts   []string `json:"addHosts,omitempty"`
	NoHosts    bool     `json:"noHosts,omitempty"`
	// HostsFile is --hosts-file (podman 5.1's): the base of /etc/hosts, a host file's absolute
	// path, "image" or "none"; "": containers.conf's base_hosts_file.
	HostsFile string `json:"hostsFile,omitempty"`
	// Aliases are further names of the container on a network, by network (--network-alias):
	// the other containers on that network find it by them (see engine/peers.go).
	Aliases map[string][]string `json:"aliases,omitempty"`
	// Addrs are the static addresses on one network each (network connect --ip/--mac-address),
	// by network; StaticIP and StaticMAC are the container's first network's.
	Addrs map[string]NetworkAddr `json:"addrs,omitempty"`
}

// NetworkAddr is a static address on one network: IP (or, from older pea, an IPv6 address),
// IP6 (network connect --ip6) and MAC.
type NetworkAddr struct {
	IP  string `json:"ip,omitempty"`
	IP6 string `json:"ip6,omitempty"`
	MAC string `json:"mac,omitempty"`
}

// ContainerConfig is fixed at creation (rename and port updates aside).
type ContainerConfig struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	Pod       string `json:"pod,omitempty"`
	IsInfra   bool   `json:"isInfra,omitempty"`
	// IsService marks kube play's service container (--service-container): catatonit in an
	// empty root filesystem, outside any pod, whose life spans the pods that name it
	// (PodConfig.ServiceContainer).
	IsService bool      `json:"isService,omitempty"`
	Created   time.Time `json:"created"`

	CreateCommand []string `json:"createCommand,omitempty"`

	// Image is the image ID; ImageName the name the user gave, resolved. Both are empty for an
	// infra container without an image (catatonit in an empty root filesystem).
	Image     string `json:"image,omitempty"`
	ImageName string `json:"imageName,omitempty"`
	Rootfs    string `json:"rootfs,omitempty"` // a directory used as is, instead of an image

	Entrypoint []string `json:"entrypoint,omitempty"`
	Cmd        []string `json:"cmd,omitempty"`
	Env        []string `json:"env,omitempty"`
	WorkingDir string   `json:"workingDir,omitempty"`
	// WorkingDirGiven: the working directory is the user's (-w), not the image's, and must
	// exist at the start, as podman's; the image's is made when missing.
	WorkingDirGiven bool   `json:"workingDirGiven,omitempty"`
	User            string `json:"user,omitempty"`
	// PrimaryGroupApart leaves the user's own group out of the process's supplementary groups
	// (Docker's; a podman --user has it among them).
	PrimaryGroupApart bool   `json:"primaryGroupApart,omitempty"`
	Hostname          string `json:"hostname,omitempty"`
	// Domainname is the NIS domain name of the container's UTS namespace (Docker's
	// --domainname).
	Domainname  string            `json:"domainname,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Terminal    bool              `json:"terminal,omitempty"`
	Stdin       bool              `json:"stdin,omitempty"`
	// LogSizeMax is the largest the log file grows before conmon starts it anew (--log-opt
	// max-size); LogTag names the container in journald's entries (--log-opt tag).
	LogSizeMax int64  `json:"logSizeMax,omitempty"`
	LogTag     string `json:"logTag,omitempty"`
	// LogPath is where conmon writes the container's log (k8s-file format) when not in the
	// container's own directory: the path a CRI client asked for.
	LogPath string `json:"logPath,omitempty"`
	// KeepStdinOpen keeps the container's stdin open when an attached client's input ends, for
	// the next client (Docker's OpenStdin without StdinOnce; conmon's --leave-stdin-open).
	// Without it, as podman's, the first client's end of input closes it.
	KeepStdinOpen bool `json:"keepStdinOpen,omitempty"`

	Mounts   []Mount `json:"mounts,omitempty"`
	ReadOnly bool    `json:"readOnly,omitempty"`
	// ReadOnlyTmpfs gives a read-only container tmpfs on /tmp, /var/tmp and /run (podman's
	// --read-only-tmpfs, on by default).
	ReadOnlyTmpfs bool              `json:"readOnlyTmpfs,omitempty"`
	Devices       []string          `json:"devices,omitempty"`
	Sysctls       map[string]string `json:"sysctls,omitempty"`

	CapAdd  []string `json:"capAdd,omitempty"`
	CapDrop []string `json:"capDrop,omitempty"`
	// DefaultCaps, when set, are the capabilities CapAdd and CapDrop change in place of
	// podman's eleven (oci.DefaultCapabilities): Docker's API creates with Docker's fourteen.
	DefaultCaps []string `json:"defaultCaps,omitempty"`
	Privileged  bool     `json:"privileged,omitempty"`
	OOMScoreAdj int      `json:"oomScoreAdj,omitempty"`
	// GroupAdd are supplementary groups of the process (names in the image's /etc/group, or
	// numbers); Umask its file mode creation mask, in octal ("" for the runtime's 0022).
	GroupAdd []string `json:"groupAdd,omitempty"`
	Umask    string   `json:"umask,omitempty"`
	// GroupsStrict leaves out the groups the image's /etc/group puts the user in: the process
	// has its group and GroupAdd alone (the CRI's SupplementalGroupsPolicy Strict).
	GroupsStrict bool `json:"groupsStrict,omitempty"`
	// Timezone is the container's /etc/localtime: "local" for the host's, or a zone of the
	// host's /usr/share/zoneinfo.
	Timezone string `json:"timezone,omitempty"`
	// PidFile is a host file the process's PID is written to at each start.
	PidFile string `json:"pidFile,omitempty"`
	// ConmonPidFile is a host file conmon's PID is written to at each start (--conmon-pidfile):
	// what a forking systemd unit follows.
	ConmonPidFile   string `json:"conmonPidFile,omitempty"`
	NoNewPrivileges bool   `json:"noNewPrivileges,omitempty"`
	// OwnMasks replaces the runtime's default masked and read-only paths of a non-privileged
	// container with MaskedPaths and ReadonlyPaths (a CRI container's, which kubelet gives).
	OwnMasks      bool     `json:"ownMasks,omitempty"`
	MaskedPaths   []string `json:"maskedPaths,omitempty"`
	ReadonlyPaths []string `json:"readonlyPaths,omitempty"`
	// Mask are paths masked beside the defaults (--security-opt mask=P:P...); Unmask takes
	// paths (or shell patterns, or ALL) out of the default masked and read-only ones
	// (--security-opt unmask=...).
	Mask    []string `json:"mask,omitempty"`
	Unmask  []string `json:"unmask,omitempty"`
	Seccomp string   `json:"seccomp,omitempty"` // "" default profile, "unconfined", or a file
	Ulimits []Ulimit `json:"ulimits,omitempty"`

	Resources    Resources `json:"resources"`
	CgroupParent string    `json:"cgroupParent,omitempty"`

	Namespaces map[string]Namespace `json:"namespaces,omitempty"`
	Network    NetworkConfig        `json:"network"`
	// UIDMap and GIDMap are the ID mappings of a user namespace of the container's own
	// (Namespaces[user] private); empty otherwise, a joined user namespace having its own. A
	// private user namespace whose Value is UserNSAuto (or UserNSAuto:size=N), UserNSKeepID or
	// UserNSNoMap gets mappings the engine picks when the container is created. A rootless
	// container's host IDs are those of the rootless user namespace (0 the user, 1... the
	// user's subordinate IDs), as podman's.
	UIDMap []IDMap `json:"uidMap,omitempty"`
	GIDMap []IDMap `json:"gidMap,omitempty"`

	Init          bool   `json:"init,omitempty"`
	StopSignal    int    `json:"stopSignal,omitempty"`
	StopTimeout   uint   `json:"stopTimeout"`
	AutoRemove    bool   `json:"autoRemove,omitempty"`
	RestartPolicy string `json:"restartPolicy,omitempty"`
	// InitContainerType makes a pod member an init container: "always" runs to completion
	// before the others each time the pod starts, "once" only the first time (it is removed
	// after it succeeded).
	InitContainerType string `json:"initContainerType,omitempty"`
	// Healthcheck is the container's health check (--health-*, or the image's HEALTHCHECK);
	// nil when it has none.
	Healthcheck *HealthConfig `json:"healthcheck,omitempty"`
	// StartupHealthcheck runs in place of Healthcheck from each start until it has passed
	// (--health-startup-*, podman 4.4's; kube play's startupProbe).
	StartupHealthcheck *StartupHealthConfig `json:"startupHealthcheck,omitempty"`
	// Where the health checks' results go besides the state, and how many and how much of each
	// are kept (podman 5's --health-log-destination, --health-max-log-count and -size): "" or
	// local (the state only), events_logger (each result in its health_status event too), or
	// a directory (ID-healthcheck.log there, rewritten after each check). nil: 5 results, 4 KiB.
	HealthLogDestination string `json:"healthLogDestination,omitempty"`
	HealthMaxLogCount    *int64 `json:"healthMaxLogCount,omitempty"`
	HealthMaxLogSize     *int64 `json:"healthMaxLogSize,omitempty"`
	// HealthOnFailure is what is done when the container turns unhealthy (--health-on-failure):
	// "" or none, kill, restart, stop.
	HealthOnFailure string `json:"healthOnFailure,omitempty"`
	// Secrets are given to the process at each start (--secret), by reference: their data is
	// never in the config.
	Secrets []SecretRef `json:"secrets,omitempty"`

	// Links are Docker's links (NAME:ALIAS) to other containers on a network of the user's:
	// this container finds the container NAME by ALIAS too (engine/peers.go).
	Links []string `json:"links,omitempty"`
	// VolumesFrom are the --volumes-from arguments the container was created with (its mounts
	// were copied then, into Mounts).
	VolumesFrom []string `json:"volumesFrom,omitempty"`
	// LogDriver is how conmon keeps the container's output: "" or k8s-file (a file), json-file
	// (the same, named as the user asked), none (nothing kept), passthrough (the process gets
	// the stdio of the pea that starts it), journald.
	LogDriver string `json:"logDriver,omitempty"`
	// RootfsOverlay mounts an overlay over Rootfs (--rootfs DIR:O), so that the container's
	// writes go to its own upper directory and the user's directory is left as it was.
	RootfsOverlay bool `json:"rootfsOverlay,omitempty"`
	// UnsetEnv are variables left out of the environment (--unsetenv), however set (image,
	// pea's defaults); UnsetEnvAll leaves out all but those the user set (--unsetenv-all).
	UnsetEnv    []string `json:"unsetEnv,omitempty"`
	UnsetEnvAll bool     `json:"unsetEnvAll,omitempty"`
	// Personality is the process's execution domain (--personality LINUX or LINUX32).
	Personality string `json:"personality,omitempty"`
	// Timeout is the longest the container may run, in seconds (--timeout): then it is killed.
	Timeout uint `json:"timeout,omitempty"`
	// Requires are containers started before this one (--requires), by ID.
	Requires []string `json:"requires,omitempty"`
	// InitPath is the host's init binary --init runs (--init-path; "": catatonit's).
	InitPath string `json:"initPath,omitempty"`
	// NoPasswd leaves /etc/passwd alone (--passwd=false); otherwise a numeric --user the image's
	// /etc/passwd lacks gets an entry there, PasswdEntry's template if set (--passwd-entry).
	NoPasswd    bool   `json:"noPasswd,omitempty"`
	PasswdEntry string `json:"passwdEntry,omitempty"`
	// Cgroups is podman's --cgroups mode: "" (enabled) or no-conmon (the container gets a
	// cgroup, conmon stays in the caller's: pea's way in both), or disabled (the container
	// stays in conmon's cgroup: the runtime makes none).
	Cgroups string `json:"cgroups,omitempty"`
	// RuntimeFlags are further global options of the OCI runtime, without their leading "--"
	// (a build's --runtime-flag, for its RUN containers): debug, log=FILE...
	RuntimeFlags []string `json:"runtimeFlags,omitempty"`
	// CgroupConf are cgroup v2 files to write in the container's cgroup (--cgroup-conf).
	CgroupConf map[string]string `json:"cgroupConf,omitempty"`
	// SdNotify is how the sd_notify socket of the pea that starts the container is used
	// (--sdnotify): container (the container's process gets it, through conmon), conmon (pea
	// says READY with conmon's PID once the container started), ignore or "" (unused).
	SdNotify string `json:"sdNotify,omitempty"`
	// SdNotifySocket, when set, is the socket SdNotify uses instead of pea's NOTIFY_SOCKET:
	// kube play's proxy, which waits for the container's READY=1 (see internal/kube).
	SdNotifySocket string `json:"sdNotifySocket,omitempty"`
	// Systemd is --systemd: "" (true: systemd mode when the command is init or systemd),
	// false, or always; SystemdMode is what it decided at creation: tmpfs on /run, /run/lock,
	// /tmp and /var/log/journal, a writable /sys/fs/cgroup, and SIGRTMIN+3 to stop.
	Systemd     string `json:"systemd,omitempty"`
	SystemdMode bool   `json:"systemdMode,omitempty"`
	// ChrootDirs are directories of the container that get pea's /etc files (hosts,
	// resolv.conf, hostname) too, at the same place below them (--chrootdirs).
	ChrootDirs []string `json:"chrootDirs,omitempty"`
	// HostUsers are users of the host whose /etc/passwd lines the container's gets
	// (--hostuser).
	HostUsers []string `json:"hostUsers,omitempty"`
}

// SecretRef is a secret a container gets: as a file at Target (type mount, owned by UID:GID,
// mode Mode) or as the environment variable Target (type env).
type SecretRef struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Type   string `json:"type"` // mount, env
	Target string `json:"target"`
	UID    uint32 `json:"uid,omitempty"`
	GID    uint32 `json:"gid,omitempty"`
	Mode   uint32 `json:"mode,omitempty"`
}

// HealthConfig is a health check, as Docker's image config has it. Test is ["CMD-SHELL", s]
// (run by /bin/sh -c) or ["CMD", argv...]. An Interval of 0 runs it only when asked (`pea
// healthcheck run`): no timer.
type HealthConfig struct {
	Test        []string      `json:"test"`
	Interval    time.Duration `json:"interval,omitempty"`
	Timeout     time.Duration `json:"timeout,omitempty"`
	StartPeriod time.Duration `json:"startPeriod,omitempty"`
	Retries     int           `json:"retries,omitempty"`
	// Probe, when set, is what the check does instead of running Test (which shows podman's
	// command for it): kube play's httpGet and tcpSocket probes.
	Probe *NetProbe `json:"probe,omitempty"`
}

// NetProbe is a check pea makes itself from the container's network namespace, as the
// kubelet probes a pod: an HTTP GET (healthy on a status from 200 to 399) or a TCP connection
// (healthy when it opens). No curl or nc is needed in the image.
type NetProbe struct {
	Kind    string   `json:"kind"` // http, tcp
	Host    string   `json:"host"`
	Port    int      `json:"port"`
	Path    string   `json:"path,omitempty"`    // http
	Headers []string `json:"headers,omitempty"` // http: "Name: value"
}

// Health statuses, as podman names them.
const (
	HealthStarting  = "starting"
	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
)

// HealthState is the record of a container's health checks.
type HealthState struct {
	Status        string      `json:"status"`
	FailingStreak int         `json:"failingStreak"`
	Log           []HealthLog `json:"log,omitempty"`
	// The startup check's progress since the start (see StartupHealthConfig): once it has
	// passed, the regular check runs.
	StartupPassed    bool `json:"startupPassed,omitempty"`
	StartupSuccesses int  `json:"startupSuccesses,omitempty"`
	StartupFailures  int  `json:"startupFailures,omitempty"`
}

// StartupHealthConfig is a startup health check: from each start it runs every Interval in place
// of the regular check until it has succeeded Successes times (0: once); a success makes the
// container healthy, a failure counts against no retries of the regular check. Retries
// failures (0: no limit) restart the container.
type StartupHealthConfig struct {
	Test      []string      `json:"test"`
	Interval  time.Duration `json:"interval,omitempty"`
	Timeout   time.Duration `json:"timeout,omitempty"`
	Retries   int           `json:"retries,omitempty"`
	Successes int           `json:"successes,omitempty"`
	Probe     *NetProbe     `json:"probe,omitempty"` // as HealthConfig's
}

// RecordStartup records a startup check's result; restart reports that its failures reached
// the limit.
func (h *HealthState) RecordStartup(res HealthLog, cfg *StartupHealthConfig, keep int) (restart bool) {
	if h.Status == "" {
		h.Status = HealthStarting
	}
	if res.ExitCode == 0 {
		h.Status = HealthHealthy
		h.FailingStreak = 0
		h.StartupSuccesses++
		if h.StartupSuccesses >= max(cfg.Successes, 1) {
			h.StartupPassed, h.StartupSuccesses, h.StartupFailures = true, 0, 0
		}
	} else {
		h.StartupFailures++
		restart = cfg.Retries > 0 && h.StartupFailures >= cfg.Retries
	}
	h.appendLog(res, keep)
	return restart
}

// HealthLog is one health check's result. ExitCode is -1 when the check timed out.
type HealthLog struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	ExitCode int       `json:"exitCode"`
	Output   string    `json:"output"`
}

// HealthLogLength is how many results a HealthState keeps unless the container says otherwise
// (--health-max-log-count).
const HealthLogLength = 5

// HealthLogKeep is how many results a container's health log keeps (0: all).
func (c *ContainerConfig) HealthLogKeep() int {
	if c.HealthMaxLogCount == nil {
		return HealthLogLength
	}
	return int(max(*c.HealthMaxLogCount, 0))
}

// Record adds a check's result started at a time since the container's start and applies
// podman's rules: a success makes it healthy and ends the failing streak; a failure within the
// start period counts for nothing; any other failure lengthens the streak, and makes it
// unhealthy once the streak reaches retries.
func (h *HealthState) Record(res HealthLog, sinceStart time.Duration, cfg *HealthConfig, keep int) {
	if h.Status == "" {
		h.Status = HealthStarting
	}
	if res.ExitCode == 0 {
		h.Status = HealthHealthy
		h.FailingStreak = 0
	} else if sinceStart >= cfg.StartPeriod {
		h.FailingStreak++
		if h.FailingStreak >= max(cfg.Retries, 1) {
			h.Status = HealthUnhealthy
		}
	}
	h.appendLog(res, keep)
}

// appendLog keeps res in the log, which holds the last keep results (0: all).
func (h *HealthState) appendLog(res HealthLog, keep int) {
	h.Log = append(h.Log, res)
	if n := len(h.Log); keep > 0 && n > keep {
		h.Log = append([]HealthLog(nil), h.Log[n-keep:]...)
	}
}

// Init container types.
const (
	InitAlways = "always"
	InitOnce   = "once"
)

// Command is the process's argv: the entrypoint followed by the command.
func (c *ContainerConfig) Command() []string {
	return append(append([]string{}, c.Entrypoint...), c.Cmd...)
}

// NS returns how the container gets namespace kind (private when unset).
func (c *ContainerConfig) NS(kind string) Namespace {
	if ns, ok := c.Namespaces[kind]; ok {
		return ns
	}
	return Namespace{Mode: NSModePrivate}
}

// UserNS returns how the container gets its user namespace: unlike the other kinds, the host's
// when unset.
func (c *ContainerConfig) UserNS() Namespace {
	if ns, ok := c.Namespaces[NSUser]; ok && ns.Mode != "" {
		return ns
	}
	return Namespace{Mode: NSModeHost}
}

// ContainerState changes as the container runs.
type ContainerState struct {
	Status       string                   `json:"status"`
	Pid          int                      `json:"pid,omitempty"`
	ConmonPid    int                      `json:"conmonPid,omitempty"`
	ExitCode     int32                    `json:"exitCode"`
	OOMKilled    bool                     `json:"oomKilled,omitempty"`
	StartedAt    time.Time                `json:"startedAt"`
	FinishedAt   time.Time                `json:"finishedAt"`
	Mounted      bool                     `json:"mounted,omitempty"`
	MountPoint   string                   `json:"mountPoint,omitempty"`
	NetNS        string                   `json:"netNS,omitempty"`
	Networks     map[string]NetworkStatus `json:"networks,omitempty"`
	Error        string                   `json:"error,omitempty"`
	RestartCount int                      `json:"restartCount,omitempty"`
	// StoppedByUser is set by stop (and cleared by start): the restart policy leaves it alone.
	StoppedByUser bool `json:"stoppedByUser,omitempty"`
	// Health is the record of its health checks (nil for a container without one, or one
	// never started).
	Health *HealthState `json:"health,omitempty"`
}

// NetworkStatus is a container's addresses on one network: its first of each family (IPv4 in
// IPAddress, IPv6 in IPv6; pea before dual-stack networks kept an IPv6-only network's address
// in IPAddress).
type NetworkStatus struct {
	Interface     string `json:"interface,omitempty"`
	IPAddress     string `json:"ipAddress,omitempty"`
	PrefixLen     int    `json:"prefixLen,omitempty"`
	Gateway       string `json:"gateway,omitempty"`
	MacAddress    string `json:"macAddress,omitempty"`
	IPv6          string `json:"ipv6,omitempty"`
	IPv6PrefixLen int    `json:"ipv6PrefixLen,omitempty"`
	IPv6Gateway   string `json:"ipv6Gateway,omitempty"`
}

// Addrs are the status's addresses, IPv4 first.
func (s NetworkStatus) Addrs() []string {
	var out []string
	for _, a := range []string{s.IPAddress, s.IPv6} {
		if a != "" {
			out = append(out, a)
		}
	}
	return out
}

// Container is a config with its state.
type Container struct {
	Config *ContainerConfig `json:"config"`
	State  *ContainerState  `json:"state"`
}

// Active reports whether the container has processes (running or paused).
func (s *ContainerState) Active() bool {
	return s.Status == StatusRunning || s.Status == StatusPaused || s.Status == StatusStopping
}

// Live reports whether the container exists in the runtime with conmon watching it: active, or
// initialized and waiting for its start (which Active leaves out: it runs nothing yet).
func (s *ContainerState) Live() bool {
	return s.Active() || s.Status == StatusInitialized
}
