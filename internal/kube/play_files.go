package kube

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"pea/internal/engine"
	"pea/internal/errdefs"
)

// hostIP is the host's first global IPv4 address (a hostNetwork pod's IP).
func hostIP() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
			return n.IP.String()
		}
	}
	return ""
}

// writeFiles writes the configMap and secret volumes of a pod, afresh.
func writeFiles(p *PodPlan) error {
	if err := os.RemoveAll(p.FilesDir); err != nil {
		return err
	}
	if len(p.Files) == 0 {
		return nil
	}
	for _, f := range p.Files {
		if err := os.MkdirAll(filepath.Dir(f.Path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(f.Path, f.Data, f.Mode); err != nil {
			return err
		}
		if err := os.Chmod(f.Path, f.Mode); err != nil { // not narrowed by the umask
			return err
		}
	}
	return nil
}

// freshEmptyDir makes the volume of an emptyDir; a leftover one of the same pod is replaced.
func freshEmptyDir(rt *engine.Runtime, pod, name string) error {
	if v, err := rt.LookupVolume(name); err == nil {
		if v.Labels[LabelPod] != pod {
			return fmt.Errorf("pod %s: volume %s for an emptyDir already exists and is not this pod's: %w", pod, name, errdefs.ErrExists)
		}
		if err := rt.RemoveVolume(name, false); err != nil {
			return fmt.Errorf("pod %s: emptyDir volume %s: %w", pod, name, err)
		}
	}
	vol := strings.TrimPrefix(name, pod+"-")
	// Empty, as Kubernetes makes it: not filled with the image's content at its first use.
	_, err := rt.CreateVolume(name, map[string]string{LabelEmptyDir: vol, LabelPod: pod}, map[string]string{"nocopy": ""})
	return err
}

// makeHostPaths makes the hostPath DirectoryOrCreate and FileOrCreate paths that are missing.
func makeHostPaths(p *PodPlan) error {
	for _, d := range p.HostDirs {
		if _, err := os.Stat(d); os.IsNotExist(err) {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
	}
	for _, f := range p.HostFiles {
		if _, err := os.Stat(f); os.IsNotExist(err) {
			if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
				return err
			}
			fh, err := os.OpenFile(f, os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			fh.Close()
		}
	}
	return nil
}

// undoList runs its steps in reverse, even when the context was cancelled.
type undoList struct{ steps []func() }

func (u *undoList) add(f func()) { u.steps = append(u.steps, f) }
func (u *undoList) run() {
	for i := len(u.steps) - 1; i >= 0; i-- {
		u.steps[i]()
	}
}

func uintPtr(v uint) *uint { return &v }
