package cli

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pea/internal/cpupin"
	"pea/internal/engine"
	"pea/internal/model"
	"pea/internal/network"
)

// psRow carries podman's `ps --format` field names. Created is the creation time (podman's
// template prints the time; its JSON the Unix time), StartedAt and ExitedAt Unix times
// (podman's zero time when never), State the human status as Status (podman 4.3).
type psRow struct {
	ID, Image, ImageID, Command, CreatedHuman, CreatedAt, RunningFor, Status, State, Names, Ports, Pod, PodName, Size string
	Networks                                                                                                          string
	Labels                                                                                                            map[string]string
	Mounts                                                                                                            []string
	Created                                                                                                           time.Time
	ExitCode                                                                                                          int32
	Exited, IsInfra, AutoRemove                                                                                       bool
	Pid                                                                                                               int
	StartedAt, ExitedAt                                                                                               int64
	// Namespaces are filled with --ns, podman's template fields; the flat fields name the
	// default --ns table's columns.
	Namespaces                                          psNamespaces
	CgroupNS, IPCNS, MntNS, NetNS, PidNS, UserNS, UTSNS string
	c                                                   *model.Container
}

// psNamespaces are the inode numbers of a running container's namespaces, with podman's
// template fields and JSON keys.
type psNamespaces struct {
	MNT    string `json:"Mnt,omitempty"`
	Cgroup string `json:"Cgroup,omitempty"`
	IPC    string `json:"Ipc,omitempty"`
	NET    string `json:"Net,omitempty"`
	PIDNS  string `json:"Pidns,omitempty"`
	UTS    string `json:"Uts,omitempty"`
	User   string `json:"User,omitempty"`
}

// namespacesOf reads the namespaces of c when it runs (an empty set otherwise).
func namespacesOf(c *model.Container) psNamespaces {
	if !c.State.Active() || c.State.Pid <= 0 {
		return psNamespaces{}
	}
	ids := engine.NamespaceIDs(c.State.Pid)
	return psNamespaces{MNT: ids[model.NSMount], Cgroup: ids[model.NSCgroup], IPC: ids[model.NSIpc], NET: ids[model.NSNet],
		PIDNS: ids[model.NSPid], UTS: ids[model.NSUts], User: ids[model.NSUser]}
}

// psJSON is one element of `ps --format json`, with podman's keys.
type psJSON struct {
	AutoRemove bool              `json:"AutoRemove"`
	Command    []string          `json:"Command"`
	CreatedAt  string            `json:"CreatedAt"`
	Exited     bool              `json:"Exited"`
	ExitedAt   int64             `json:"ExitedAt"`
	ExitCode   int32             `json:"ExitCode"`
	ID         string            `json:"Id"`
	Image      string            `json:"Image"`
	ImageID    string            `json:"ImageID"`
	IsInfra    bool              `json:"IsInfra"`
	Labels     map[string]string `json:"Labels"`
	Mounts     []string          `json:"Mounts"`
	Names      []string          `json:"Names"`
	Networks   []string          `json:"Networks"`
	Pid        int               `json:"Pid"`
	Pod        string            `json:"Pod"`
	PodName    string            `json:"PodName"`
	Ports      []portJSON        `json:"Ports"`
	Size       *psSizeJSON       `json:"Size"`
	StartedAt  int64             `json:"StartedAt"`
	State      string            `json:"State"`
	Status     string            `json:"Status"`
	Created    int64             `json:"Created"`
	Namespaces psNamespaces      `json:"Namespaces"`
}

// psSizeJSON is podman's ContainerSize, there with --size.
type psSizeJSON struct {
	RootFsSize int64 `json:"rootFsSize"`
	RwSize     int64 `json:"rwSize"`
}

type portJSON struct {
	HostIP        string `json:"host_ip"`
	ContainerPort uint16 `json:"container_port"`
	HostPort      uint16 `json:"host_port"`
	Range         uint16 `json:"range"`
	Protocol      string `json:"protocol"`
}

type psOptions struct {
	all, quiet, noTrunc, size, noHeading, pod, latest, external, ns, sync bool
	format, sortBy                                                        string
	filters                                                               []string
	last                                                                  int
	watch                                                                 uint
}

func init() { register(newPsCommand, "ps") }

func newPsCommand(a *app) *cobra.Command {
	var o psOptions
	cmd := &cobra.Command{
		Use:   "ps [options]",
		Short: "List containers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.watch == 0 || o.format == "json" {
				return runPs(a, &o)
			}
			return watchPs(a, &o)
		},
	}
	f := cmd.Flags()
	f.UintVarP(&o.watch, "watch", "w", 0, "print the list again every N seconds, until interrupted")
	f.BoolVar(&o.sync, "sync", false, "accepted for compatibility: pea always reads the state the runtime and conmon left")
	f.BoolVarP(&o.all, "all", "a", false, "show every container (default: running only)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print the IDs only")
	f.BoolVar(&o.noTrunc, "no-trunc", false, "do not truncate IDs and commands")
	f.BoolVarP(&o.size, "size", "s", false, "show the size of each container's writable layer")
	f.BoolVar(&o.noHeading, "noheading", false, "do not print the header")
	f.BoolVarP(&o.pod, "pod", "p", false, "show the pod of each container")
	f.BoolVar(&o.ns, "ns", false, "show the PID and the namespaces of each container")
	f.BoolVarP(&o.latest, "latest", "l", false, "show the latest container")
	f.BoolVar(&o.external, "external", false, "accepted for compatibility")
	f.IntVarP(&o.last, "last", "n", -1, "show the last N containers")
	f.StringVar(&o.format, "format", "", "format with a Go template or json")
	f.Var(&choiceValue{value: &o.sortBy, choices: psSortKeys}, "sort", "sort by "+strings.Join(psSortKeys, ", "))
	o.sortBy = "created"
	listVarP(f, &o.filters, "filter", "f", nil, "filter: name=, id=, label=, status=, ancestor=, exited=, pod=")
	return withFlagAliases(cmd, podmanFlagAlias)
}

// watchPs is ps --watch: the list every o.watch seconds, on a cleared screen when standard
// output is a terminal.
func watchPs(a *app, o *psOptions) error {
	f, tty := a.stdout.(*os.File)
	tty = tty && isTerminal(f)
	for {
		if tty {
			io.WriteString(a.stdout, "\x1b[2J\x1b[H")
		}
		if err := runPs(a, o); err != nil {
			return err
		}
		cpupin.Sleep(time.Duration(o.watch) * time.Second)
	}
}

func runPs(a *app, o *psOptions) error {
	if o.quiet && (o.ns || o.size) {
		return invalid("--quiet conflicts with --size and --ns")
	}
	rt, err := a.engine()
	if err != nil {
		return err
	}
	cs, err := rt.ListContainersListed()
	if err != nil {
		return err
	}
	match, err := containerFilter(rt, o.filters)
	if err != nil {
		return err
	}
	var sel []*model.Container
	for _, c := range cs {
		if !o.all && len(o.filters) == 0 && !c.State.Active() && !o.latest && o.last < 0 { // --last: all states, as podman's
			continue
		}
		if !match(c) {
			continue
		}
		sel = append(sel, c)
	}
	if o.sortBy == "size" {
		sortBySize(rt, sel)
	} else {
		sortContainers(sel, o.sortBy)
	}
	if o.latest && len(sel) > 0 {
		sel = sel[len(sel)-1:]
	}
	if o.last >= 0 && o.last < len(sel) {
		sel = sel[len(sel)-o.last:]
	}
	ports := netnsPorts(cs)
	podNames := map[string]string{}
	if o.pod || strings.Contains(o.format, "Pod") || o.format == "json" {
		pods, _ := rt.ListPods()
		for _, p := range pods {
			podNames[p.Pod.Config.ID] = p.Pod.Config.Name
		}
	}
	if o.quiet {
		for _, c := range sel {
			fmt.Fprintln(a.stdout, truncID(c.Config.ID, o.noTrunc))
		}
		return nil
	}
	now := time.Now()
	if o.format == "json" {
		js := make([]psJSON, 0, len(sel))
		for _, c := range sel {
			j := toPsJSON(c, ports(c), podNames, now)
			if o.ns {
				j.Namespaces = namespacesOf(c)
			}
			if o.size {
				rw, virtual := containerSizes(rt, c)
				j.Size = &psSizeJSON{RootFsSize: virtual, RwSize: rw}
			}
			js = append(js, j)
		}
		return printJSONStyle(a.stdout, js, jsonTwo)
	}
	rows := make([]any, 0, len(sel))
	for _, c := range sel {
		// The default table shows a few columns; a --format may show any field.
		row := toPsRow(c, ports(c), o.noTrunc, podNames, now, o.format != "")
		if o.size {
			row.Size = psSize(rt, c)
		}
		if o.ns {
			n := namespacesOf(c)
			row.Namespaces = n
			row.CgroupNS, row.IPCNS, row.MntNS, row.NetNS, row.PidNS, row.UserNS, row.UTSNS = n.Cgroup, n.IPC, n.MNT, n.NET, n.PIDNS, n.User, n.UTS
		}
		rows = append(rows, row)
	}
	def := "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.CreatedHuman}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
	if o.ns {
		def = "{{.ID}}\t{{.Names}}\t{{.Pid}}\t{{.CgroupNS}}\t{{.IPCNS}}\t{{.MntNS}}\t{{.NetNS}}\t{{.PidNS}}\t{{.UserNS}}\t{{.UTSNS}}"
	}
	if o.pod {
		def += "\t{{.Pod}}\t{{.PodName}}"
	}
	if o.size {
		def += "\t{{.Size}}"
	}
	return render(a.stdout, o.format, o.noHeading, rows, nil, table{format: def, headers: map[string]string{
		"ID": "CONTAINER ID", "CreatedHuman": "CREATED", "Pod": "POD ID", "PodName": "PODNAME", "Pid": "PID",
		"CgroupNS": "CGROUPNS", "IPCNS": "IPC", "MntNS": "MNT", "NetNS": "NET", "PidNS": "PIDNS", "UserNS": "USERNS", "UTSNS": "UTS",
	}})
}

func toPsRow(c *model.Container, ports []model.PortMapping, noTrunc bool, podNames map[string]string, now time.Time, allFields bool) *psRow {
	cfg, st := c.Config, c.State
	cmd := quoteCommand(listedCommand(cfg))
	if !noTrunc && len(cmd) > 20 {
		cmd = cmd[:17] + "..."
	}
	img := cfg.ImageName
	if cfg.IsInfra && img == "" {
		img = ""
	}
	created := agoFrom(now, cfg.Created)
	row := &psRow{
		ID: truncID(cfg.ID, noTrunc), Image: img, ImageID: truncID(cfg.Image, noTrunc), Command: cmd,
		CreatedHuman: created, RunningFor: created,
		Names: cfg.Name, Ports: portsString(ports),
		Pod: truncID(cfg.Pod, noTrunc), PodName: podNames[cfg.Pod], Labels: cfg.Labels, Created: cfg.Created,
		ExitCode: st.ExitCode, Exited: st.Status == model.StatusExited, IsInfra: cfg.IsInfra, AutoRemove: cfg.AutoRemove, Pid: st.Pid,
		StartedAt: st.StartedAt.Unix(), ExitedAt: st.FinishedAt.Unix(), Networks: strings.Join(containerNetworks(cfg), ","), c: c,
	}
	if allFields {
		row.CreatedAt = cfg.Created.Format("2006-01-02 15:04:05.999999999 -0700 MST")
	}
	row.Mounts = listedMounts(cfg)
	row.Status = containerStatus(c, now)
	row.State = row.Status // podman 4.3's State is the human status too (its JSON's is not)
	return row
}

func toPsJSON(c *model.Container, ports []model.PortMapping, podNames map[string]string, now time.Time) psJSON {
	cfg, st := c.Config, c.State
	j := psJSON{
		AutoRemove: cfg.AutoRemove, Command: listedCommand(cfg), CreatedAt: agoFrom(now, cfg.Created), Exited: st.Status == model.StatusExited,
		ExitedAt: st.FinishedAt.Unix(), ExitCode: st.ExitCode, ID: cfg.ID, Image: cfg.ImageName, ImageID: cfg.Image,
		IsInfra: cfg.IsInfra, Labels: cfg.Labels, Names: []string{cfg.Name}, Networks: containerNetworks(cfg), Pid: st.Pid,
		Pod: cfg.Pod, PodName: podNames[cfg.Pod], StartedAt: st.StartedAt.Unix(), State: st.Status,
		Status: containerStatus(c, now), Created: cfg.Created.Unix(), Mounts: []string{},
	}
	j.Mounts = append(j.Mounts, listedMounts(cfg)...)
	for _, p := range ports {
		j.Ports = append(j.Ports, portJSON{HostIP: p.HostIP, ContainerPort: p.ContainerPort, HostPort: p.HostPort, Range: p.Range, Protocol: p.Protocol})
	}
	if j.Networks == nil {
		j.Networks = []string{}
	}
	return j
}

// containerNetworks are the networks a container is attached to itself, as podman's listing
// shows them: its own networks, the default one when it is on the default bridge, none when it
// joins another's namespace, uses the host's or has none.
func containerNetworks(cfg *model.ContainerConfig) []string {
	if cfg.NS(model.NSNet).Mode != model.NSModeBridge {
		return nil
	}
	if len(cfg.Network.Networks) > 0 {
		return cfg.Network.Networks
	}
	return []string{network.DefaultName}
}

// listedCommand is the command podman's listing shows: none for an infra container, whose
// process comes from its (pause) image rather than from the user.
func listedCommand(cfg *model.ContainerConfig) []string {
	if cfg.IsInfra {
		return nil
	}
	return cfg.Command()
}

// psSize is ps --size's column: the writable layer's size and, as "virtual", that plus the
// image's (podman's RwSize and RootFsSize), with go-units' three significant digits.
func psSize(rt *engine.Runtime, c *model.Container) string {
	rw, virtual := containerSizes(rt, c)
	return siSize(rw, 3, "") + " (virtual " + siSize(virtual, 3, "") + ")"
}

// containerSizes are a container's writable layer's size and that plus its image's.
func containerSizes(rt *engine.Runtime, c *model.Container) (rw, virtual int64) {
	rw = rt.ContainerSize(c.Config.ID)
	virtual = rw
	if c.Config.Image != "" {
		if img, err := rt.ImageLookup(c.Config.Image); err == nil {
			virtual += img.Size
		}
	}
	return rw, virtual
}

// psSortKeys are the values of ps --sort.
var psSortKeys = []string{"command", "created", "id", "image", "names", "runningfor", "size", "status"}

// sortBySize sorts by the writable layer's size, smallest first.
func sortBySize(rt *engine.Runtime, cs []*model.Container) {
	sizes := make(map[string]int64, len(cs))
	for _, c := range cs {
		sizes[c.Config.ID] = rt.ContainerSize(c.Config.ID)
	}
	sort.SliceStable(cs, func(i, j int) bool { return sizes[cs[i].Config.ID] < sizes[cs[j].Config.ID] })
}

// containerStatus is podman's human status: "Up 2 minutes ago", "Exited (0) 3 seconds ago".
func containerStatus(c *model.Container, now time.Time) string {
	st := c.State
	switch st.Status {
	case model.StatusRunning:
		if st.Health != nil && c.Config.Healthcheck != nil {
			return "Up " + humanDuration(now.Sub(st.StartedAt)) + " ago (" + st.Health.Status + ")"
		}
		return "Up " + humanDuration(now.Sub(st.StartedAt)) + " ago"
	case model.StatusPaused:
		return "Paused"
	case model.StatusExited:
		return "Exited (" + strconv.Itoa(int(st.ExitCode)) + ") " + agoFrom(now, st.FinishedAt)
	case model.StatusCreated:
		return "Created"
	case model.StatusInitialized:
		return "Initialized"
	case model.StatusStopping:
		return "Stopping"
	}
	return st.Status
}

func portsString(ps []model.PortMapping) string {
	var out []string
	for _, p := range ps {
		ip := p.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		if p.Range > 1 {
			out = append(out, fmt.Sprintf("%s:%d-%d->%d-%d/%s", ip, p.HostPort, p.HostPort+p.Range-1, p.ContainerPort, p.ContainerPort+p.Range-1, p.Protocol))
		} else {
			out = append(out, fmt.Sprintf("%s:%d->%d/%s", ip, p.HostPort, p.ContainerPort, p.Protocol))
		}
	}
	return strings.Join(out, ", ")
}

func sortContainers(cs []*model.Container, by string) {
	switch by {
	case "command", "id", "image", "names", "status":
	case "runningfor":
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].State.StartedAt.Before(cs[j].State.StartedAt) })
		return
	default: // created
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].Config.Created.Before(cs[j].Config.Created) })
		return
	}
	keys := make(map[*model.Container]string, len(cs))
	for _, c := range cs {
		switch by {
		case "command":
			keys[c] = strings.Join(c.Config.Command(), " ")
		case "id":
			keys[c] = c.Config.ID
		case "image":
			keys[c] = c.Config.ImageName
		case "names":
			keys[c] = c.Config.Name
		case "status":
			keys[c] = c.State.Status
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return keys[cs[i]] < keys[cs[j]] })
}

// containerFilter compiles ps's --filter expressions (also those of stop, rm, restart, pause and
// unpause), pod= naming a pod by name or ID.
func containerFilter(rt *engine.Runtime, filters []string) (func(*model.Container) bool, error) {
	filters = slices.Clone(filters)
	for i, f := range filters {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "pod":
			if p, err := rt.LookupPod(v); err == nil {
				filters[i] = "pod=" + p.Config.ID
			}
		case "since", "before":
			// Created after (before) that container: its creation time, as a number.
			c, err := rt.LookupContainer(v)
			if err != nil {
				return nil, err
			}
			filters[i] = "created-" + k + "=" + strconv.FormatInt(c.Config.Created.UnixNano(), 10)
		case "network":
			if n, err := rt.NetworkInspect(v); err == nil {
				filters[i] = "network=" + n.Name // by ID too
			}
		}
	}
	return psFilter(filters)
}

// psFilter compiles --filter expressions.
func psFilter(filters []string) (func(*model.Container) bool, error) {
	byKey, err := parseFilters(filters, filterSpec{
		what: "container",
		keys: []string{"name", "id", "label", "label!", "status", "ancestor", "exited", "pod", "health", "restart-policy", "should-start-on-boot", "until",
			"network", "volume", "since", "before", "created-since", "created-before"},
		statuses: []string{"created", "running", "paused", "exited", "stopped", "stopping", "removing", "unknown", "configured", "initialized"},
	})
	if err != nil {
		return nil, err
	}
	for _, v := range byKey["health"] {
		if !slices.Contains(healthFilterValues, v) {
			return nil, invalid("invalid health filter %q (%s)", v, strings.Join(healthFilterValues, ", "))
		}
	}
	for _, v := range byKey["exited"] {
		if _, err := strconv.ParseInt(v, 10, 32); err != nil {
			return nil, invalid("invalid exited filter %q: an exit code", v)
		}
	}
	for _, v := range byKey["restart-policy"] {
		if !slices.Contains([]string{"always", "on-failure", "unless-stopped", "no", "none"}, v) {
			return nil, invalid("invalid restart policy %q (always, on-failure, unless-stopped, no)", v)
		}
	}
	for _, v := range byKey["should-start-on-boot"] {
		if v != "true" && v != "false" {
			return nil, invalid("invalid should-start-on-boot filter %q (true, false)", v)
		}
	}
	return func(c *model.Container) bool {
		return matchFilters(byKey, func(k, v string) bool { return matchOne(c, k, v) })
	}, nil
}

func matchOne(c *model.Container, k, v string) bool {
	cfg := c.Config
	switch k {
	case "name":
		re, err := regexp.Compile(v)
		return err == nil && re.MatchString(cfg.Name)
	case "id":
		return strings.HasPrefix(cfg.ID, v)
	case "label":
		return model.LabelsMatch(cfg.Labels, v)
	case "label!":
		return !model.LabelsMatch(cfg.Labels, v)
	case "status":
		if v == "stopped" {
			v = model.StatusExited
		}
		return c.State.Status == v
	case "ancestor":
		return cfg.ImageName == v || strings.HasPrefix(cfg.Image, v) || strings.HasPrefix(cfg.ImageName, v+":") ||
			strings.HasSuffix(strings.SplitN(cfg.ImageName, ":", 2)[0], "/"+v)
	case "exited":
		n, err := strconv.Atoi(v)
		return err == nil && c.State.Status == model.StatusExited && int(c.State.ExitCode) == n
	case "pod":
		return cfg.Pod != "" && strings.HasPrefix(cfg.Pod, v)
	case "health":
		return containerHealth(c) == v
	case "restart-policy":
		policy, _, _ := strings.Cut(cfg.RestartPolicy, ":")
		if policy == "" || policy == "none" {
			policy = "no"
		}
		if v == "none" {
			v = "no"
		}
		return policy == v
	case "should-start-on-boot":
		// What a boot starts again (pea-restart.service): `always`, and `unless-stopped` unless
		// the user stopped it (podman 5.8's filter; Docker's daemon does the same at its start).
		policy, _, _ := strings.Cut(cfg.RestartPolicy, ":")
		start := policy == "always" || policy == "unless-stopped" && !c.State.StoppedByUser
		return start == (v == "true")
	case "until":
		t, err := engine.ParseTimeArg(v)
		return err == nil && cfg.Created.Before(t)
	case "created-since", "created-before":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return false
		}
		if k == "created-since" {
			return cfg.Created.UnixNano() > n
		}
		return cfg.Created.UnixNano() < n
	case "network":
		return slices.Contains(containerNetworks(cfg), v)
	case "volume":
		// podman's SOURCE[:DEST] (a named volume's name or a bind mount's host path), or
		// Docker's mount point.
		src, dest, withDest := strings.Cut(v, ":")
		for _, m := range cfg.Mounts {
			if m.Type != "volume" && m.Type != "bind" {
				continue
			}
			if withDest && m.Source == src && m.Destination == dest || !withDest && (m.Source == v || m.Destination == v) {
				return true
			}
		}
		return false
	}
	return false // an unknown key was refused when the filters were parsed
}

// healthFilterValues are the values of ps --filter health=.
var healthFilterValues = []string{model.HealthHealthy, model.HealthUnhealthy, model.HealthStarting, "none"}

// containerHealth is a container's health for ps's filter: "none" without a health check, ""
// for one never started.
func containerHealth(c *model.Container) string {
	if c.Config.Healthcheck == nil {
		return "none"
	}
	if c.State.Health == nil {
		return ""
	}
	return c.State.Health.Status
}

// netnsPorts gives the ports published for a container of cs: its own, or those of the
// container whose network namespace it joins (a pod's infra), as podman's ps shows them.
func netnsPorts(cs []*model.Container) func(*model.Container) []model.PortMapping {
	byID := make(map[string]*model.Container, len(cs))
	for _, c := range cs {
		byID[c.Config.ID] = c
	}
	return func(c *model.Container) []model.PortMapping {
		if ns := c.Config.NS(model.NSNet); ns.Mode == model.NSModeContainer {
			if owner := byID[ns.Value]; owner != nil {
				return owner.Config.Network.Ports
			}
		}
		return c.Config.Network.Ports
	}
}

// listedMounts are the destinations ps lists, in podman's order: the mounts (binds, tmpfs; a
// read-only container's own tmpfs after them), then the volumes (named, image).
func listedMounts(cfg *model.ContainerConfig) []string {
	var out, vols []string
	for _, m := range cfg.Mounts {
		if m.Type == "volume" || m.Type == "image" {
			vols = append(vols, m.Destination)
		} else {
			out = append(out, m.Destination)
		}
	}
	out = append(out, engine.ReadOnlyTmpfs(cfg)...)
	return append(out, vols...)
}
