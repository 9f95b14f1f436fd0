package engine

import (
	"fmt"
	"strings"

	"pea/internal/errdefs"
	"pea/internal/model"
)

// sysctlKind names the namespace a sysctl belongs to (model.NSNet, NSIpc or NSUts), or "" for
// one that is not namespaced, which no container may set: the kernel would apply it to the
// whole host (crun refuses it at the start; podman refuses it at the create, as pea does).
// Both the container's --sysctl (checkSysctls) and containers.conf's default_sysctls
// (addDefaultSysctls) are sorted by it.
func sysctlKind(key string) string {
	switch {
	case strings.HasPrefix(key, "net."):
		return model.NSNet
	case strings.HasPrefix(key, "fs.mqueue."), key == "kernel.sem", key == "kernel.shm_rmid_forced",
		key == "kernel.msgmax", key == "kernel.msgmnb", key == "kernel.msgmni",
		key == "kernel.shmall", key == "kernel.shmmax", key == "kernel.shmmni":
		return model.NSIpc
	case key == "kernel.domainname", key == "kernel.hostname":
		return model.NSUts
	}
	return ""
}

// checkSysctls refuses, before anything is made, the sysctls a container's start would fail
// on: one that is not namespaced, kernel.hostname (--hostname sets it), and one of a namespace
// the container shares with the host (a net.* one with --network host). A sysctl of a
// namespace joined from another container is left to the runtime, as that container's own.
func checkSysctls(cfg *model.ContainerConfig) error {
	for k := range cfg.Sysctls {
		if k == "kernel.hostname" {
			return fmt.Errorf("sysctl %q is not allowed: set the hostname with --hostname: %w", k, errdefs.ErrInvalid)
		}
		kind := sysctlKind(k)
		if kind == "" {
			return fmt.Errorf("sysctl %q is not allowed: it is not namespaced, and would change the host: %w", k, errdefs.ErrInvalid)
		}
		if cfg.NS(kind).Mode == model.NSModeHost {
			return fmt.Errorf("sysctl %q cannot be set: the container shares the host's %s namespace (--%s host): %w", k, kind, nsFlag(kind), errdefs.ErrInvalid)
		}
	}
	return nil
}

// CheckPodSysctls refuses the sysctls of a pod that no member could set (see checkSysctls).
func CheckPodSysctls(sysctls map[string]string) error {
	return checkSysctls(&model.ContainerConfig{Sysctls: sysctls})
}
