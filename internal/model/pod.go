package model

import "time"

// Pod statuses, derived from the members' statuses.
const (
	PodCreated  = "Created"
	PodRunning  = "Running"
	PodDegraded = "Degraded"
	PodPaused   = "Paused"
	PodStopped  = "Stopped"
	PodExited   = "Exited"
	PodError    = "Error"
)

// Exit policies.
const (
	ExitPolicyContinue = "continue"
	ExitPolicyStop     = "stop"
)

// PodConfig is fixed at creation (port updates aside).
type PodConfig struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	Hostname  string `json:"hostname,omitempty"`
	// HostnameDefault: Hostname is the pod's name, taken for want of one given (podman's
	// inspect then shows none).
	HostnameDefault bool              `json:"hostnameDefault,omitempty"`
	Labels          map[string]string `json:"labels,omitempty"`
	// Annotations are free-form notes (the CRI service's sandbox annotations and metadata).
	Annotations   map[string]string `json:"annotations,omitempty"`
	Created       time.Time         `json:"created"`
	CreateCommand []string          `json:"createCommand,omitempty"`

	// CgroupParent is the parent of the pod cgroup; UsePodCgroup makes a pod cgroup that is every
	// member's cgroup parent. This is not the same as sharing the cgroup namespace (ShareCgroup).
	CgroupParent string `json:"cgroupParent,omitempty"`
	UsePodCgroup bool   `json:"usePodCgroup"`

	SharePid    bool `json:"sharePid,omitempty"`
	ShareIpc    bool `json:"shareIpc,omitempty"`
	ShareNet    bool `json:"shareNet,omitempty"`
	ShareMount  bool `json:"shareMount,omitempty"`
	ShareUser   bool `json:"shareUser,omitempty"`
	ShareUts    bool `json:"shareUts,omitempty"`
	ShareCgroup bool `json:"shareCgroup,omitempty"`

	HasInfra     bool     `json:"hasInfra"`
	InfraName    string   `json:"infraName,omitempty"`
	InfraImage   string   `json:"infraImage,omitempty"`
	InfraCommand []string `json:"infraCommand,omitempty"`
	// Infra holds the network settings kept by the infra container.
	Infra NetworkConfig `json:"infra"`
	// NetworkMode is bridge (default), host, none, or ns:PATH for the pod's network namespace.
	NetworkMode string `json:"networkMode,omitempty"`
	PidMode     string `json:"pidMode,omitempty"`
	UtsMode     string `json:"utsMode,omitempty"`
	// UserNS is the user namespace of the infra container, which every member then joins
	// (ShareUser): private with UIDMap and GIDMap, or a namespace file (path). Unset: the host's.
	UserNS Namespace `json:"userNS"`
	UIDMap []IDMap   `json:"uidMap,omitempty"`
	GIDMap []IDMap   `json:"gidMap,omitempty"`

	ExitPolicy    string `json:"exitPolicy"`
	RestartPolicy string `json:"restartPolicy,omitempty"`

	Resources    Resources         `json:"resources"`
	Volumes      []string          `json:"volumes,omitempty"`
	Devices      []string          `json:"devices,omitempty"`
	Sysctls      map[string]string `json:"sysctls,omitempty"`
	SecurityOpts []string          `json:"securityOpts,omitempty"`
	// VolumesFrom are the --volumes-from arguments of pod create; VolumesFromMounts the
	// mounts they named then, which every member gets where it mounts nothing itself.
	VolumesFrom       []string `json:"volumesFrom,omitempty"`
	VolumesFromMounts []Mount  `json:"volumesFromMounts,omitempty"`
	// InfraConmonPidFile is where the infra container's conmon PID is written at each start.
	InfraConmonPidFile string `json:"infraConmonPidFile,omitempty"`
	// ServiceContainer is the ID of kube play's service container for the pod (its
	// --service-container): stopped once no pod naming it has a container left to run, removed
	// with the last of them.
	ServiceContainer string `json:"serviceContainer,omitempty"`
}

// NewPodConfig returns the config of a pod with podman's defaults: an infra container, a pod
// cgroup, and ipc, net and uts shared.
func NewPodConfig(name string) *PodConfig {
	return &PodConfig{Name: name, HasInfra: true, UsePodCgroup: true, ShareIpc: true, ShareNet: true, ShareUts: true,
		ExitPolicy: ExitPolicyContinue}
}

// SharedKinds lists the namespace kinds the pod shares, in podman's order.
func (p *PodConfig) SharedKinds() []string {
	var out []string
	add := func(on bool, k string) {
		if on {
			out = append(out, k)
		}
	}
	add(p.ShareCgroup, NSCgroup)
	add(p.ShareIpc, NSIpc)
	add(p.ShareNet, NSNet)
	add(p.SharePid, NSPid)
	add(p.ShareUser, NSUser)
	add(p.ShareUts, NSUts)
	add(p.ShareMount, NSMount)
	return out
}

// Shares reports whether the pod shares namespace kind.
func (p *PodConfig) Shares(kind string) bool {
	for _, k := range p.SharedKinds() {
		if k == kind {
			return true
		}
	}
	return false
}

// PodState is what can change; re-read it after taking the pod lock.
type PodState struct {
	CgroupPath       string `json:"cgroupPath,omitempty"`
	InfraContainerID string `json:"infraContainerID,omitempty"`
}

// Pod is a config with its state.
type Pod struct {
	Config *PodConfig `json:"config"`
	State  *PodState  `json:"state"`
}

// PodStatus derives a pod's status from its members' statuses, as pod.go does.
func PodStatus(statuses []string) string {
	if len(statuses) == 0 {
		return PodCreated
	}
	var created, running, paused, stopped, exited int
	for _, s := range statuses {
		switch s {
		case StatusRunning, StatusStopping:
			running++
		case StatusPaused:
			paused++
		case StatusCreated, StatusInitialized:
			created++
		case StatusExited:
			exited++
		default:
			stopped++
		}
	}
	n := len(statuses)
	switch {
	case running > 0 && running+paused < n:
		return PodDegraded
	case running > 0 && paused > 0:
		return PodDegraded
	case running == n:
		return PodRunning
	case paused == n:
		return PodPaused
	case paused > 0:
		return PodDegraded
	case created == n:
		return PodCreated
	case exited == n:
		return PodExited
	case exited+stopped+created == n && exited > 0:
		return PodExited
	default:
		return PodStopped
	}
}

// Volume is a named volume.
type Volume struct {
	Name       string            `json:"name"`
	Driver     string            `json:"driver"`
	Mountpoint string            `json:"mountpoint"`
	Labels     map[string]string `json:"labels,omitempty"`
	Options    map[string]string `json:"options,omitempty"`
	Created    time.Time         `json:"created"`
	// What the options say (engine/volume_mount.go): NeedsMount when they name a file system
	// to mount on Mountpoint, with MountOptions (o less what pea takes itself); the owner of
	// the volume's root (uid=, gid=).
	NeedsMount   bool   `json:"needsMount,omitempty"`
	MountOptions string `json:"mountOptions,omitempty"`
	UID          *int   `json:"uid,omitempty"`
	GID          *int   `json:"gid,omitempty"`
	// What the first container to use the volume still has to do: give its root the owner and
	// mode of the image's directory under it (or the container's user), and fill it with that
	// directory's content.
	NeedsChown  bool `json:"needsChown,omitempty"`
	NeedsCopyUp bool `json:"needsCopyUp,omitempty"`
	// ChownedUID and ChownedGID are the (host) user and group of the container whose first use
	// gave the volume's root its owner (before the image's directory gave its own), which
	// podman's volume inspect shows as the volume's UID and GID.
	ChownedUID int `json:"chownedUid,omitempty"`
	ChownedGID int `json:"chownedGid,omitempty"`
}

// What a pod owns besides its containers, removed with it: volumes labelled with the pod's
// name and marked as its emptyDir, and the directory of files kube play wrote for it.
const (
	LabelOwnerPod = "io.pea.kube.pod"      // the pod whose volume it is
	LabelEmptyDir = "io.pea.kube.emptydir" // the volume is the pod's scratch space (an emptyDir)
)

// PodFilesDir is where files of a pod's ConfigMap and Secret volumes live under the root.
func PodFilesDir(root, pod string) string { return root + "/kube/" + pod }
