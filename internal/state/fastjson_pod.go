package state

import (
	"encoding/json"
	"fmt"

	"pea/internal/jsonfast"
	"pea/internal/model"
)

// A pod's config and state are read by hand too (see fastjson.go): `pod ps` and `ps -a --pod`
// decode every pod, and encoding/json spent ~0.15 ms of a 10-pod `pod ps` building its decoders
// for the pod's types by reflection, before any pod was read.

// decodePodDocs decodes a pod's config and state, each through the fast path when it can.
func decodePodDocs(cfg, st []byte, p *model.Pod) error {
	if fastPodConfig(cfg, p.Config) != nil {
		*p.Config = model.PodConfig{}
		if err := json.Unmarshal(cfg, p.Config); err != nil {
			return fmt.Errorf("decode pod config: %w", err)
		}
	}
	if fastPodState(st, p.State) != nil {
		*p.State = model.PodState{}
		if err := json.Unmarshal(st, p.State); err != nil {
			return fmt.Errorf("decode pod state: %w", err)
		}
	}
	return nil
}

var (
	podKeys = jsonfast.KeySet{"id", "name", "namespace", "hostname", "labels", "created", "createCommand",
		"cgroupParent", "usePodCgroup", "sharePid", "shareIpc", "shareNet", "shareMount", "shareUser",
		"shareUts", "shareCgroup", "hasInfra", "infraName", "infraImage", "infraCommand", "infra",
		"networkMode", "pidMode", "utsMode", "exitPolicy", "restartPolicy", "resources", "volumes",
		"devices", "sysctls", "securityOpts"}
	podStateKeys  = jsonfast.KeySet{"cgroupPath", "infraContainerID"}
	resourcesKeys = jsonfast.KeySet{"memory", "cpus", "cpusetCpus", "pidsLimit", "shmSize"}
)

func fastPodConfig(b []byte, c *model.PodConfig) error {
	return jsonfast.Document(b, func(s *jsonfast.Scanner, key []byte) error {
		switch string(key) {
		case "id":
			return s.Str(&c.ID)
		case "name":
			return s.Str(&c.Name)
		case "namespace":
			return s.Str(&c.Namespace)
		case "hostname":
			return s.Str(&c.Hostname)
		case "labels":
			return s.StringMap(&c.Labels)
		case "created":
			return s.Time(&c.Created)
		case "createCommand":
			return s.Strings(&c.CreateCommand)
		case "cgroupParent":
			return s.Str(&c.CgroupParent)
		case "usePodCgroup":
			return s.Bool(&c.UsePodCgroup)
		case "sharePid":
			return s.Bool(&c.SharePid)
		case "shareIpc":
			return s.Bool(&c.ShareIpc)
		case "shareNet":
			return s.Bool(&c.ShareNet)
		case "shareMount":
			return s.Bool(&c.ShareMount)
		case "shareUser":
			return s.Bool(&c.ShareUser)
		case "shareUts":
			return s.Bool(&c.ShareUts)
		case "shareCgroup":
			return s.Bool(&c.ShareCgroup)
		case "hasInfra":
			return s.Bool(&c.HasInfra)
		case "infraName":
			return s.Str(&c.InfraName)
		case "infraImage":
			return s.Str(&c.InfraImage)
		case "infraCommand":
			return s.Strings(&c.InfraCommand)
		case "infra":
			return network(s, &c.Infra)
		case "networkMode":
			return s.Str(&c.NetworkMode)
		case "pidMode":
			return s.Str(&c.PidMode)
		case "utsMode":
			return s.Str(&c.UtsMode)
		case "exitPolicy":
			return s.Str(&c.ExitPolicy)
		case "restartPolicy":
			return s.Str(&c.RestartPolicy)
		case "resources":
			return resources(s, &c.Resources)
		case "volumes":
			return s.Strings(&c.Volumes)
		case "devices":
			return s.Strings(&c.Devices)
		case "sysctls":
			return s.StringMap(&c.Sysctls)
		case "securityOpts":
			return s.Strings(&c.SecurityOpts)
		}
		return s.Unknown(key, podKeys)
	})
}

func fastPodState(b []byte, st *model.PodState) error {
	return jsonfast.Document(b, func(s *jsonfast.Scanner, key []byte) error {
		switch string(key) {
		case "cgroupPath":
			return s.Str(&st.CgroupPath)
		case "infraContainerID":
			return s.Str(&st.InfraContainerID)
		}
		return s.Unknown(key, podStateKeys)
	})
}

// resources reads a model.Resources; a CPU count that is not a plain integer (0.5) goes to
// encoding/json, which reads floats exactly as it wrote them.
func resources(s *jsonfast.Scanner, r *model.Resources) error {
	return s.Object(func(key []byte) error {
		switch string(key) {
		case "memory":
			return s.Int64(&r.Memory)
		case "cpus":
			var n int64
			if err := s.Int64(&n); err != nil {
				return err
			}
			r.CPUs = float64(n)
			if int64(r.CPUs) != n {
				return jsonfast.ErrFallback
			}
			return nil
		case "cpusetCpus":
			return s.Str(&r.CpusetCpus)
		case "pidsLimit":
			return s.Int64(&r.PidsLimit)
		case "shmSize":
			return s.Int64(&r.ShmSize)
		}
		return s.Unknown(key, resourcesKeys)
	})
}
