package kube

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"pea/internal/kube/k8s"
	"pea/internal/model"
)

// volSource is what a volume of the pod spec is mounted from.
type volSource struct {
	kind     string // bind, volume, tmpfs
	source   string // host path, volume name
	options  []string
	readOnly bool
}

// planVolumes resolves the pod's volumes; configMap and secret contents become files of p.
func (p *PodPlan) planVolumes(w *Workload, src *Manifest) (map[string]volSource, error) {
	out := map[string]volSource{}
	for _, v := range w.Spec.Volumes {
		if v.Name == "" {
			return nil, fmt.Errorf("every volume needs a name")
		}
		if _, dup := out[v.Name]; dup {
			return nil, fmt.Errorf("volume %q is defined twice", v.Name)
		}
		vs := v.VolumeSource
		switch {
		case vs.HostPath != nil:
			hp := vs.HostPath
			if !filepath.IsAbs(hp.Path) {
				return nil, fmt.Errorf("volume %s: hostPath %q must be absolute", v.Name, hp.Path)
			}
			if hp.Type != nil {
				switch *hp.Type {
				case k8s.HostPathDirectoryOrCreate:
					p.HostDirs = append(p.HostDirs, hp.Path)
				case k8s.HostPathFileOrCreate:
					p.HostFiles = append(p.HostFiles, hp.Path)
				case k8s.HostPathDirectory, k8s.HostPathFile, k8s.HostPathSocket,
					k8s.HostPathCharDev, k8s.HostPathBlockDev:
					if _, err := os.Stat(hp.Path); err != nil {
						return nil, fmt.Errorf("volume %s: hostPath %s (type %s) does not exist", v.Name, hp.Path, *hp.Type)
					}
				}
			}
			out[v.Name] = volSource{kind: "bind", source: hp.Path}
		case vs.EmptyDir != nil:
			if vs.EmptyDir.Medium == k8s.StorageMediumMemory {
				var opts []string
				if q := vs.EmptyDir.SizeLimit; q != nil && !q.IsZero() {
					opts = append(opts, fmt.Sprintf("size=%d", q.Value()))
				}
				out[v.Name] = volSource{kind: "tmpfs", options: opts}
				continue
			}
			name := emptyDirVolume(p.Name, v.Name)
			p.EmptyDirs = append(p.EmptyDirs, name)
			out[v.Name] = volSource{kind: "volume", source: name}
		case vs.PersistentVolumeClaim != nil:
			c := vs.PersistentVolumeClaim
			if c.ClaimName == "" {
				return nil, fmt.Errorf("volume %s: persistentVolumeClaim needs a claimName", v.Name)
			}
			out[v.Name] = volSource{kind: "volume", source: c.ClaimName, readOnly: c.ReadOnly}
		case vs.ConfigMap != nil:
			cm := vs.ConfigMap
			data, found := configMapData(src, cm.Name)
			if !found && !isTrue(cm.Optional) {
				return nil, fmt.Errorf("volume %s: configmap %s not found (define it in the YAML or pass --configmap FILE)", v.Name, cm.Name)
			}
			dir, err := p.addFiles(v.Name, data, cm.Items, cm.DefaultMode, 0o644)
			if err != nil {
				return nil, fmt.Errorf("volume %s: configmap %s: %v", v.Name, cm.Name, err)
			}
			out[v.Name] = volSource{kind: "bind", source: dir, readOnly: true}
		case vs.Secret != nil:
			s := vs.Secret
			data, found := secretData(src, s.SecretName)
			if !found && !isTrue(s.Optional) {
				return nil, fmt.Errorf("volume %s: secret %s not found (define it in the YAML)", v.Name, s.SecretName)
			}
			dir, err := p.addFiles(v.Name, data, s.Items, s.DefaultMode, 0o400)
			if err != nil {
				return nil, fmt.Errorf("volume %s: secret %s: %v", v.Name, s.SecretName, err)
			}
			out[v.Name] = volSource{kind: "bind", source: dir, readOnly: true}
		default:
			return nil, fmt.Errorf("volume %s: unsupported volume type (supported: hostPath, emptyDir, configMap, secret, persistentVolumeClaim)", v.Name)
		}
	}
	return out, nil
}

// addFiles plans the files of one configMap or secret volume and returns its directory.
func (p *PodPlan) addFiles(vol string, data map[string][]byte, items []k8s.KeyToPath, defMode *int32, fallback os.FileMode) (string, error) {
	dir := filepath.Join(p.FilesDir, vol)
	mode := fallback
	if defMode != nil {
		mode = os.FileMode(*defMode) & 0o777
	}
	if len(items) == 0 {
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			items = append(items, k8s.KeyToPath{Key: k, Path: k})
		}
	}
	for _, it := range items {
		b, ok := data[it.Key]
		if !ok {
			return "", fmt.Errorf("has no key %q", it.Key)
		}
		rel := path.Clean(it.Path)
		if it.Path == "" || path.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, "../") {
			return "", fmt.Errorf("item path %q must be relative and stay inside the volume", it.Path)
		}
		m := mode
		if it.Mode != nil {
			m = os.FileMode(*it.Mode) & 0o777
		}
		p.Files = append(p.Files, File{Path: filepath.Join(dir, filepath.FromSlash(rel)), Data: b, Mode: m})
	}
	return dir, nil
}

// configMapData returns a config map's keys (data and binaryData).
func configMapData(src *Manifest, name string) (map[string][]byte, bool) {
	cm, ok := src.ConfigMaps[name]
	if !ok {
		return nil, false
	}
	out := map[string][]byte{}
	for k, v := range cm.BinaryData {
		out[k] = v
	}
	for k, v := range cm.Data {
		out[k] = []byte(v)
	}
	return out, true
}

// secretData returns a secret's keys (data, overridden by stringData as the API server does).
func secretData(src *Manifest, name string) (map[string][]byte, bool) {
	s, ok := src.Secrets[name]
	if !ok {
		return nil, false
	}
	out := map[string][]byte{}
	for k, v := range s.Data {
		out[k] = v
	}
	for k, v := range s.StringData {
		out[k] = []byte(v)
	}
	return out, true
}

func isTrue(b *bool) bool { return b != nil && *b }

// mountFor turns a volumeMount into a mount of the container.
func (p *PodPlan) mountFor(vm k8s.VolumeMount, vols map[string]volSource, volumePath func(string) string) (model.Mount, error) {
	vs, ok := vols[vm.Name]
	if !ok {
		return model.Mount{}, fmt.Errorf("volumeMount %s: no volume of that name in spec.volumes", vm.Name)
	}
	if !strings.HasPrefix(vm.MountPath, "/") {
		return model.Mount{}, fmt.Errorf("volumeMount %s: mountPath %q must be absolute", vm.Name, vm.MountPath)
	}
	m := model.Mount{Type: vs.kind, Source: vs.source, Destination: vm.MountPath,
		ReadOnly: vm.ReadOnly || vs.readOnly, Options: vs.options}
	if vm.SubPath != "" {
		rel := path.Clean(vm.SubPath)
		if path.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, "../") {
			return model.Mount{}, fmt.Errorf("volumeMount %s: subPath %q must be relative and stay inside the volume", vm.Name, vm.SubPath)
		}
		switch vs.kind {
		case "bind":
			m.Source = filepath.Join(vs.source, rel)
		case "volume":
			m.Type, m.Source = "bind", filepath.Join(volumePath(vs.source), rel)
			p.HostDirs = append(p.HostDirs, m.Source) // made once the volume exists
		default:
			return model.Mount{}, fmt.Errorf("volumeMount %s: subPath is not supported on a memory emptyDir", vm.Name)
		}
	}
	return m, nil
}
