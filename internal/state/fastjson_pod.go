package state

import (
	"encoding/json"
	"fmt"

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
	podKeys = keySet{"id", "name", "namespace", "hostname", "labels", "created", "createCommand",
		"cgroupParent", "usePodCgroup", "sharePid", "shareIpc", "shareNet", "shareMount", "shareUser",
		"shareUts", "shareCgroup", "hasInfra", "infraName", "infraImage", "infraCommand", "infra",
		"networkMode", "pidMode", "utsMode", "exitPolicy", "restartPolicy", "resources", "volumes",
		"devices", "sysctls", "securityOpts"}
	podStateKeys  = keySet{"cgroupPath", "infraContainerID"}
	resourcesKeys = keySet{"memory", "cpus", "cpusetCpus", "pidsLimit", "shmSize"}
)

func fastPodConfig(b []byte, c *model.PodConfig) error {
	return document(b, func(s *jsonScanner, key []byte) error {
		switch string(key) {
		case "id":
			return s.str(&c.ID)
		case "name":
			return s.str(&c.Name)
		case "namespace":
			return s.str(&c.Namespace)
		case "hostname":
			return s.str(&c.Hostname)
		case "labels":
			return s.stringMap(&c.Labels)
		case "created":
			return s.time(&c.Created)
		case "createCommand":
			return s.strings(&c.CreateCommand)
		case "cgroupParent":
			return s.str(&c.CgroupParent)
		case "usePodCgroup":
			return s.boolean(&c.UsePodCgroup)
		case "sharePid":
			return s.boolean(&c.SharePid)
		case "shareIpc":
			return s.boolean(&c.ShareIpc)
		case "shareNet":
			return s.boolean(&c.ShareNet)
		case "shareMount":
			return s.boolean(&c.ShareMount)
		case "shareUser":
			return s.boolean(&c.ShareUser)
		case "shareUts":
			return s.boolean(&c.ShareUts)
		case "shareCgroup":
			return s.boolean(&c.ShareCgroup)
		case "hasInfra":
			return s.boolean(&c.HasInfra)
		case "infraName":
			return s.str(&c.InfraName)
		case "infraImage":
			return s.str(&c.InfraImage)
		case "infraCommand":
			return s.strings(&c.InfraCommand)
		case "infra":
			return s.network(&c.Infra)
		case "networkMode":
			return s.str(&c.NetworkMode)
		case "pidMode":
			return s.str(&c.PidMode)
		case "utsMode":
			return s.str(&c.UtsMode)
		case "exitPolicy":
			return s.str(&c.ExitPolicy)
		case "restartPolicy":
			return s.str(&c.RestartPolicy)
		case "resources":
			return s.resources(&c.Resources)
		case "volumes":
			return s.strings(&c.Volumes)
		case "devices":
			return s.strings(&c.Devices)
		case "sysctls":
			return s.stringMap(&c.Sysctls)
		case "securityOpts":
			return s.strings(&c.SecurityOpts)
		}
		return s.unknown(key, podKeys)
	})
}

func fastPodState(b []byte, st *model.PodState) error {
	return document(b, func(s *jsonScanner, key []byte) error {
		switch string(key) {
		case "cgroupPath":
			return s.str(&st.CgroupPath)
		case "infraContainerID":
			return s.str(&st.InfraContainerID)
		}
		return s.unknown(key, podStateKeys)
	})
}

// resources reads a model.Resources; a CPU count that is not a plain integer (0.5) goes to
// encoding/json, which reads floats exactly as it wrote them.
func (s *jsonScanner) resources(r *model.Resources) error {
	return s.object(func(key []byte) error {
		switch string(key) {
		case "memory":
			return s.int64(&r.Memory)
		case "cpus":
			var n int64
			if err := s.int64(&n); err != nil {
				return err
			}
			r.CPUs = float64(n)
			if int64(r.CPUs) != n {
				return errFallback
			}
			return nil
		case "cpusetCpus":
			return s.str(&r.CpusetCpus)
		case "pidsLimit":
			return s.int64(&r.PidsLimit)
		case "shmSize":
			return s.int64(&r.ShmSize)
		}
		return s.unknown(key, resourcesKeys)
	})
}

func (s *jsonScanner) int64(into *int64) error {
	v, _, null, err := s.integer(64, true)
	if err == nil && !null {
		*into = v
	}
	return err
}
