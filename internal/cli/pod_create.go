package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/model"
)

type podCreateOptions struct {
	name, hostname, infraImage, infraCommand, infraName, podIDFile string
	exitPolicy, cgroupParent, memory, cpusetCpus, shmSize          string
	memorySwap, cpusetMems                                         string
	pid, uts, network, ip, mac, restart, userns                    string
	uidmap, gidmap, networks, nets                                 []string
	labels, labelFiles, volumes, devices, sysctls, securityOpts    []string
	publish, dns, dnsSearch, dnsOpt, addHosts, networkAliases      []string
	share                                                          string
	shareParent, infra, replace, noHosts                           bool
	hostsFile                                                      string
	cpus                                                           float64
	pidsLimit                                                      int64
	more                                                           podMoreFlags
}

// validShareKinds are the namespaces a pod can share.
var validShareKinds = []string{"cgroup", "ipc", "net", "pid", "uts"}

// parseShare turns --share into the set of shared kinds: a leading + adds to the default
// (ipc, net, uts); none or empty shares nothing.
func parseShare(s string, changed bool) (map[string]bool, error) {
	out := map[string]bool{}
	if !changed {
		s = "ipc,net,uts"
	}
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return out, nil
	}
	if strings.HasPrefix(s, "+") {
		s = "ipc,net,uts," + strings.TrimPrefix(s, "+")
	}
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		ok := false
		for _, v := range validShareKinds {
			if k == v {
				ok = true
			}
		}
		if !ok {
			return nil, invalid("invalid kernel namespace to share %q: valid ones are %s (or none)", k, strings.Join(validShareKinds, ", "))
		}
		out[k] = true
	}
	return out, nil
}

func init() { register(newPodCommand, "pod") }

func newPodCreateCommand(a *app) *cobra.Command {
	var o podCreateOptions
	cmd := &cobra.Command{
		Use:   "create [options] [NAME]",
		Short: "Create a new empty pod",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if o.name != "" && o.name != args[0] {
					return usageError{fmt.Errorf("cannot give a pod name both as --name and as an argument")}
				}
				o.name = args[0]
			}
			if err := idFileFree(o.podIDFile, "pod"); err != nil {
				return err
			}
			if a.cfg != nil {
				o.confDefaults(a.cfg, cmd.Flags().Changed)
			}
			cfg, err := o.toConfig(cmd.Flags().Changed)
			if err != nil {
				return err
			}
			cfg.CreateCommand = a.args
			rt, err := a.engine()
			if err != nil {
				return err
			}
			p, err := rt.CreatePod(context.Background(), cfg, engine.PodCreateOptions{Replace: o.replace})
			if err != nil {
				return err
			}
			if o.podIDFile != "" {
				if err := os.WriteFile(o.podIDFile, []byte(p.Config.ID), 0o644); err != nil {
					return err
				}
			}
			fmt.Fprintln(a.stdout, p.Config.ID)
			return nil
		},
	}
	noHelpShorthand(cmd)
	f := cmd.Flags()
	f.StringVarP(&o.name, "name", "n", "", "name of the pod")
	f.StringVarP(&o.hostname, "hostname", "h", "", "hostname of the pod (shared through uts)")
	f.StringArrayVarP(&o.labels, "label", "l", nil, "set a label (KEY=VALUE)")
	listVar(f, &o.labelFiles, "label-file", nil, "read labels from a file")
	f.StringVar(&o.share, "share", "", "namespaces to share: cgroup, ipc, net, pid, uts (default ipc,net,uts; +KIND adds; none)")
	f.BoolVar(&o.shareParent, "share-parent", true, "make the pod cgroup every member's cgroup parent")
	f.BoolVar(&o.infra, "infra", true, "create an infra container to hold the shared namespaces")
	f.StringVar(&o.infraImage, "infra-image", "", "image of the infra container (default: none, catatonit in an empty rootfs)")
	f.StringVar(&o.infraCommand, "infra-command", "", "command of the infra container")
	f.StringVar(&o.infraName, "infra-name", "", "name of the infra container")
	f.StringVar(&o.podIDFile, "pod-id-file", "", "write the pod ID to this file")
	f.BoolVar(&o.replace, "replace", false, "replace an existing pod of the same name")
	f.StringVar(&o.exitPolicy, "exit-policy", "continue", "when the last container exits: continue or stop the pod")
	f.StringVar(&o.cgroupParent, "cgroup-parent", "", "parent of the pod cgroup")
	f.Float64Var(&o.cpus, "cpus", 0, "CPUs for the whole pod")
	f.StringVar(&o.cpusetCpus, "cpuset-cpus", "", "CPUs the pod may use")
	f.StringVarP(&o.memory, "memory", "m", "", "memory limit of the whole pod")
	f.StringVar(&o.memorySwap, "memory-swap", "", "limit of the whole pod's memory and swap together (-1: unlimited swap)")
	f.StringVar(&o.cpusetMems, "cpuset-mems", "", "memory nodes the pod may use")
	f.Int64Var(&o.pidsLimit, "pids-limit", 0, "process limit of the whole pod")
	f.StringArrayVarP(&o.volumes, "volume", "v", nil, "volume for every member: SRC:DST[:ro]")
	listVar(f, &o.devices, "device", nil, "host device for every member")
	listVar(f, &o.sysctls, "sysctl", nil, "sysctl for every member")
	f.StringVar(&o.shmSize, "shm-size", "", "size of /dev/shm")
	f.StringArrayVar(&o.securityOpts, "security-opt", nil, "security option for every member")
	f.StringVar(&o.pid, "pid", "", "PID namespace of the pod: host or private")
	f.StringVar(&o.uts, "uts", "", "UTS namespace of the pod: host or private")
	f.StringVar(&o.userns, "userns", "", "user namespace of the pod: host or ns:PATH (--uidmap/--gidmap make one of its own)")
	listVar(f, &o.uidmap, "uidmap", nil, "a user namespace for the pod mapping UIDs: CONTAINER_UID:HOST_UID:SIZE")
	listVar(f, &o.gidmap, "gidmap", nil, "a user namespace for the pod mapping GIDs: CONTAINER_GID:HOST_GID:SIZE")
	listVarP(f, &o.publish, "publish", "p", nil, "publish a port of the pod: [hostIP:][hostPort:]containerPort[/proto]")
	f.StringArrayVar(&o.networks, "network", nil, "network of the pod: bridge, host, none, NAME[,NAME], ns:PATH, slirp4netns[:OPTS], pasta[:OPTS] (repeatable: one network each)")
	f.StringArrayVar(&o.nets, "net", nil, "alias of --network") // a slice of its own: a StringArray's first value replaces what is there
	listVar(f, &o.networkAliases, "network-alias", nil, "a further name the containers on the pod's networks find it by (not on the default network)")
	f.StringVar(&o.ip, "ip", "", "static IPv4 address of the pod")
	f.StringVar(&o.mac, "mac-address", "", "static MAC address of the pod")
	listVar(f, &o.dns, "dns", nil, "DNS server of the pod")
	listVar(f, &o.dnsSearch, "dns-search", nil, "DNS search domain of the pod")
	listVar(f, &o.dnsOpt, "dns-option", nil, "DNS option of the pod")
	listVar(f, &o.addHosts, "add-host", nil, "add HOST:IP to the pod's /etc/hosts")
	f.BoolVar(&o.noHosts, "no-hosts", false, "do not manage /etc/hosts")
	f.StringVar(&o.hostsFile, "hosts-file", "", "base of the pod's /etc/hosts: a host file's absolute path, image or none (default: containers.conf's base_hosts_file)")
	f.StringVar(&o.restart, "restart", "", "restart policy of the members")
	o.more.register(f)
	return withFlagAliases(cmd, podmanFlagAlias)
}

func (o *podCreateOptions) toConfig(changed func(string) bool) (*model.PodConfig, error) {
	if err := o.more.prepare(o); err != nil {
		return nil, err
	}
	if nets := append(o.networks, o.nets...); len(nets) > 0 { // --network a --network b is --network a,b, as podman's
		o.network = strings.Join(nets, ",")
	}
	share, err := parseShare(o.share, changed("share"))
	if err != nil {
		return nil, err
	}
	if changed("share") && len(share) == 0 && !changed("infra") {
		o.infra = false // nothing to share, nothing to hold it: podman makes no infra container
	}
	cfg := &model.PodConfig{
		Name: o.name, Hostname: o.hostname, UsePodCgroup: o.shareParent, HasInfra: o.infra,
		InfraImage: o.infraImage, InfraName: o.infraName, ExitPolicy: o.exitPolicy, CgroupParent: o.cgroupParent,
		ShareCgroup: share["cgroup"], ShareIpc: share["ipc"], ShareNet: share["net"], SharePid: share["pid"], ShareUts: share["uts"],
		Volumes: o.volumes, Devices: o.devices, SecurityOpts: o.securityOpts, RestartPolicy: o.restart,
		NetworkMode: o.network,
	}
	if err := o.more.apply(cfg); err != nil {
		return nil, err
	}
	if !o.infra && !changed("share") {
		cfg.ShareCgroup, cfg.ShareIpc, cfg.ShareNet, cfg.SharePid, cfg.ShareUts = false, false, false, false, false
	}
	if err := o.applyNamespaces(cfg); err != nil {
		return nil, err
	}
	if o.infraCommand != "" {
		if strings.HasPrefix(o.infraCommand, "[") {
			if err := jsonUnmarshal(o.infraCommand, &cfg.InfraCommand); err != nil {
				return nil, invalid("invalid --infra-command %q: %v", o.infraCommand, err)
			}
		} else {
			cfg.InfraCommand = strings.Fields(o.infraCommand)
		}
	}
	if cfg.Labels, err = parseLabels(o.labels, o.labelFiles); err != nil {
		return nil, err
	}
	if len(o.sysctls) > 0 {
		if cfg.Sysctls, err = parseSysctls(o.sysctls); err != nil {
			return nil, err
		}
		if err := engine.CheckPodSysctls(cfg.Sysctls); err != nil {
			return nil, err
		}
	}
	if err := engine.CheckPodMounts(o.volumes, o.devices); err != nil {
		return nil, err
	}
	for _, s := range o.securityOpts {
		if err := engine.ApplySecurityOpt(&model.ContainerConfig{}, s); err != nil {
			return nil, err
		}
	}
	if o.memory != "" {
		if cfg.Resources.Memory, err = engine.ParseSize(o.memory); err != nil {
			return nil, invalid("invalid --memory %q: use a number with an optional unit (b, k, m, g)", o.memory)
		}
	}
	if o.shmSize != "" {
		if cfg.Resources.ShmSize, err = engine.ParseSize(o.shmSize); err != nil {
			return nil, err
		}
	}
	if cfg.Resources.MemorySwap, err = parseMemorySwap(o.memorySwap); err != nil {
		return nil, err
	}
	cfg.Resources.CpusetMems = o.cpusetMems
	if o.cpus < 0 {
		return nil, invalid("invalid --cpus %v", o.cpus)
	}
	cfg.Resources.CPUs, cfg.Resources.CpusetCpus, cfg.Resources.PidsLimit = o.cpus, o.cpusetCpus, o.pidsLimit
	// Network settings are kept by the infra container (pod.go's InfraConfig): a pod without one
	// refuses them rather than dropping them, as podman does.
	if !o.infra {
		for _, name := range []string{"network", "net", "ip", "ip6", "mac-address", "dns", "dns-search", "dns-option", "add-host", "no-hosts", "hosts-file", "network-alias"} {
			if changed(name) {
				return nil, invalid("--%s needs an infra container: a pod made with --infra=false has no network settings of its own", name)
			}
		}
	}
	fake := &createFlags{publish: o.publish, dns: o.dns, dnsSearch: o.dnsSearch, dnsOpt: o.dnsOpt, addHosts: o.addHosts,
		noHosts: o.noHosts, hostsFile: o.hostsFile, ip: o.ip, mac: o.mac, networkAliases: o.networkAliases}
	if o.network != "" {
		fake.networks = []string{o.network}
	}
	ctr := &model.ContainerConfig{Namespaces: map[string]model.Namespace{}}
	if err := fake.applyNetwork(ctr, false); err != nil {
		return nil, err
	}
	if len(o.publish) > 0 && engine.NoPortsToPublish(ctr.NS(model.NSNet).Mode) { // a container's are dropped (podman's)
		return nil, invalid("cannot publish ports with --network %s: PortMappings can only be used with Bridge or slirp4netns networking", o.network)
	}
	cfg.Infra = ctr.Network
	if err := setIP6(&cfg.Infra, o.more.ip6); err != nil {
		return nil, err
	}
	if len(cfg.Infra.Ports) > 0 && !cfg.ShareNet {
		return nil, invalid("published ports need the pod to share its network namespace (--share net)")
	}
	if (o.network == "host" || o.network == "none") && (o.ip != "" || o.more.ip6 != "" || o.mac != "") {
		return nil, invalid("--ip, --ip6 and --mac-address need a bridge network")
	}
	return cfg, nil
}

// applyNamespaces sets the pod's user namespace (--userns, --uidmap, --gidmap; --subuidname and
// --subgidname, made maps by more.prepare) and its PID and UTS namespaces (--pid, --uts).
func (o *podCreateOptions) applyNamespaces(cfg *model.PodConfig) error {
	hasMaps := len(o.uidmap) > 0 || len(o.gidmap) > 0
	var err error
	if cfg.UserNS, err = engine.ParseUserNS(o.userns, hasMaps); err != nil {
		return err
	}
	if cfg.UserNS.Mode == model.NSModeContainer {
		return invalid("invalid --userns %q for a pod (host, ns:PATH; or --uidmap/--gidmap)", o.userns)
	}
	if cfg.UIDMap, cfg.GIDMap, err = engine.ParseIDMaps(o.uidmap, o.gidmap); err != nil {
		return err
	}
	if cfg.UserNS.Mode != model.NSModeHost {
		if !o.infra {
			return invalid("a pod's user namespace is held by its infra container: --userns and --uidmap/--gidmap need --infra")
		}
		cfg.ShareUser = true
	}
	for _, m := range []struct {
		v, name string
		dst     *string
	}{{o.pid, "pid", &cfg.PidMode}, {o.uts, "uts", &cfg.UtsMode}} {
		switch m.v {
		case "", "private", "host":
			*m.dst = m.v
		default:
			return invalid("invalid --%s %q for a pod (host, private)", m.name, m.v)
		}
	}
	return nil
}
