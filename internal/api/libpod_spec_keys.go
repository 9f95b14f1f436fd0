package api

import (
	"encoding/json"
	"fmt"
	"sort"

	"pea/internal/errdefs"
)

// What a SpecGenerator field is to pea (libpodFieldKind).
const (
	fieldUnknown      = iota // a setting pea has no way to honour: refused when set
	fieldRead                // read into the container's config (or deliberately without effect)
	fieldObject              // an object whose fields are judged in turn
	fieldMapOfObjects        // a map whose values are objects judged in turn (Networks)
)

// checkLibpodSpecKeys refuses a SpecGenerator that sets a field pea does not read, naming the
// podman flag behind it: a container made without a setting the user asked for is worse than
// no container. Fields set to their zero value (the client sends many) are no request.
func checkLibpodSpecKeys(body []byte) error {
	return checkSpecObject("", body)
}

func checkSpecObject(prefix string, raw json.RawMessage) error {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return nil // not an object: the typed decoding judges it
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path := prefix + k
		if isZeroJSON(obj[k]) {
			continue
		}
		switch libpodFieldKind(path) {
		case fieldRead:
		case fieldObject:
			if err := checkSpecObject(path+".", obj[k]); err != nil {
				return err
			}
		case fieldMapOfObjects:
			var m map[string]json.RawMessage
			if json.Unmarshal(obj[k], &m) == nil {
				for _, v := range m {
					if err := checkSpecObject(path+".*.", v); err != nil {
						return err
					}
				}
			}
		default:
			return unsupportedSpecField(path)
		}
	}
	return nil
}

// isZeroJSON reports whether a JSON value asks for nothing: null, false, 0, "", or an empty
// (or all-zero) list or object.
func isZeroJSON(raw json.RawMessage) bool {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return false
	}
	var zero func(v any) bool
	zero = func(v any) bool {
		switch x := v.(type) {
		case nil:
			return true
		case bool:
			return !x
		case float64:
			return x == 0
		case string:
			return x == ""
		case []any:
			return len(x) == 0
		case map[string]any:
			for _, e := range x {
				if !zero(e) {
					return false
				}
			}
			return true
		}
		return false
	}
	return zero(v)
}

// libpodFieldKind is what the SpecGenerator field at path (dotted; "*" for a map's key) is to
// pea. Fields of pea's own answer are turned into the config by libpod_create.go and
// libpod_spec_*.go, which check their values.
func libpodFieldKind(path string) int {
	switch path {
	case "name", "pod", "image", "rootfs", "rootfs_overlay", "command", "entrypoint", "env", "env_host",
		"httpproxy", "envmerge", "unsetenv", "unsetenvall", "labels", "annotations", "work_dir", "user",
		"groups", "terminal", "stdin", "remove", "hostname", "sysctl", "timezone", "umask", "timeout",
		"stop_signal", "stop_timeout", "restart_policy", "restart_tries", "init", "init_path",
		"init_container_type", "dependencyContainers", "conmon_pid_file", "oci_runtime", "systemd",
		"sdnotifyMode", "containerCreateCommand", "personality", "secrets", "secret_env",
		"health_check_on_failure_action":
		return fieldRead
	case "log_configuration.driver", "log_configuration.path", "log_configuration.size", "log_configuration.options":
		return fieldRead
	case "healthconfig.Test", "healthconfig.Interval", "healthconfig.Timeout", "healthconfig.StartPeriod", "healthconfig.Retries",
		"startupHealthConfig.Test", "startupHealthConfig.Interval", "startupHealthConfig.Timeout", "startupHealthConfig.Retries",
		"startupHealthConfig.Successes", "healthLogDestination", "healthMaxLogCount", "healthMaxLogSize":
		return fieldRead
	case "image_volume_mode", "volumes_from", "mounts", "volumes", "read_only_filesystem", "shm_size",
		"chroot_directories", "devices", "device_cgroup_rule", "manage_password", "passwd_entry", "hostusers":
		return fieldRead
	case "privileged", "cap_add", "cap_drop", "selinux_opts", "apparmor_profile", "seccomp_policy",
		"seccomp_profile_path", "no_new_privileges", "procfs_opts", "mask", "unmask":
		return fieldRead
	case "idmappings.UIDMap", "idmappings.GIDMap", "idmappings.AutoUserNs", "idmappings.AutoUserNsOpts.Size",
		"idmappings.HostUIDMapping", "idmappings.HostGIDMapping": // the last two follow from userns
		return fieldRead
	case "cgroups_mode", "cgroup_parent":
		return fieldRead
	case "Networks.*.static_ips", "Networks.*.static_mac", "Networks.*.aliases", "Networks.*.interface_name",
		"portmappings", "publish_image_ports", "expose", "dns_server", "dns_search", "dns_option",
		"use_image_resolve_conf", "use_image_hosts", "hostadd", "network_options", "base_hosts_file":
		return fieldRead
	case "resource_limits.memory.limit", "resource_limits.memory.reservation", "resource_limits.memory.swap",
		"resource_limits.memory.swappiness", "resource_limits.memory.disableOOMKiller",
		"resource_limits.cpu.shares", "resource_limits.cpu.quota", "resource_limits.cpu.period",
		"resource_limits.cpu.realtimeRuntime", "resource_limits.cpu.realtimePeriod", "resource_limits.cpu.cpus",
		"resource_limits.cpu.mems", "resource_limits.pids.limit", "resource_limits.blockIO.weight",
		"resource_limits.unified", "r_limits", "oom_score_adj", "weightDevice", "throttleReadBpsDevice",
		"throttleWriteBpsDevice", "throttleReadIOPSDevice", "throttleWriteIOPSDevice":
		return fieldRead
	case "raw_image_name", // the name as typed, which the client also resolved into image
		"volatile": // storage that may skip syncs (podman sets it with --rm): pea has no such mode
		return fieldRead
	case "log_configuration", "healthconfig", "startupHealthConfig", "idmappings", "idmappings.AutoUserNsOpts", "userns", "pidns", "utsns",
		"ipcns", "cgroupns", "netns", "resource_limits", "resource_limits.memory", "resource_limits.cpu",
		"resource_limits.pids", "resource_limits.blockIO":
		return fieldObject
	case "userns.nsmode", "userns.value", "pidns.nsmode", "pidns.value", "utsns.nsmode", "utsns.value",
		"ipcns.nsmode", "ipcns.value", "cgroupns.nsmode", "cgroupns.value", "netns.nsmode", "netns.value":
		return fieldRead
	case "Networks":
		return fieldMapOfObjects
	}
	return fieldUnknown
}

// unsupportedSpecField is the error for a SpecGenerator field pea cannot honour, naming the
// podman flag that sets it where there is one.
func unsupportedSpecField(path string) error {
	flag := ""
	switch path {
	case "overlay_volumes":
		flag = "overlay volumes, -v SRC:DST:O"
	case "image_volumes":
		flag = "--mount type=image"
	case "rootfs_propagation":
		flag = "--rootfs propagation"
	case "storage_opts":
		flag = "--storage-opt"
	case "devices_from", "host_device_list":
		flag = "devices of another container"
	case "resource_limits.memory.kernel":
		flag = "--kernel-memory"
	case "resource_limits.memory.kernelTCP":
		flag = "kernel TCP memory limits"
	case "resource_limits.hugepageLimits":
		flag = "hugepage limits"
	case "resource_limits.cpu.idle":
		flag = "--cpu-idle"
	case "idmappings.AutoUserNsOpts.InitialSize", "idmappings.AutoUserNsOpts.PasswdFile", "idmappings.AutoUserNsOpts.GroupFile",
		"idmappings.AutoUserNsOpts.AdditionalUIDMappings", "idmappings.AutoUserNsOpts.AdditionalGIDMappings":
		flag = "--userns auto options other than size"
	case "namespace":
		flag = "a libpod namespace"
	}
	field := fmt.Sprintf("SpecGenerator field %q", path)
	if flag == "" {
		return fmt.Errorf("pea does not support the %s: refused rather than ignored: %w", field, errdefs.ErrInvalid)
	}
	return fmt.Errorf("pea does not support %s (%s): refused rather than ignored: %w", flag, field, errdefs.ErrInvalid)
}
