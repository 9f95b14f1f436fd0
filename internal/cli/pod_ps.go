package cli

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/model"
	"pea/internal/view"
)

// podPsRow has podman's `pod ps --format` field names.
type podPsRow struct {
	ID, Name, Status, Created, InfraID, Cgroup, Namespace string
	// Namespaces is podman's --ns column, which its listing leaves empty.
	Namespaces                                      string
	NumberOfContainers                              int
	Labels                                          map[string]string
	ContainerNames, ContainerIds, ContainerStatuses string
	Networks                                        string
	CreatedAt                                       time.Time
}

type podPsOptions struct {
	quiet, noTrunc, noHeading, ctrNames, ctrIDs, ctrStatus, ns, latest bool
	format, sortBy                                                     string
	filters                                                            []string
}

func newPodPsCommand(a *app) *cobra.Command {
	var o podPsOptions
	cmd := &cobra.Command{
		Use:     "ps [options]",
		Aliases: []string{"ls", "list"},
		Short:   "List pods",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPodPs(a, &o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print the IDs only")
	f.BoolVar(&o.noTrunc, "no-trunc", false, "do not truncate IDs")
	f.BoolVarP(&o.noHeading, "noheading", "n", false, "do not print the header")
	f.BoolVar(&o.ctrNames, "ctr-names", false, "show the names of the containers")
	f.BoolVar(&o.ctrIDs, "ctr-ids", false, "show the IDs of the containers")
	f.BoolVar(&o.ctrStatus, "ctr-status", false, "show the statuses of the containers")
	f.BoolVar(&o.ns, "ns", false, "show the namespace information (cgroup path)")
	f.BoolVarP(&o.latest, "latest", "l", false, "show the latest pod")
	f.StringVar(&o.format, "format", "", "format with a Go template or json")
	f.StringVar(&o.sortBy, "sort", "created", "sort by created, id, name, number, status")
	listVarP(f, &o.filters, "filter", "f", nil, "filter: id=, name=, label=, status=, ctr-names=, ctr-ids=, ctr-status=, ctr-number=")
	return cmd
}

func runPodPs(a *app, o *podPsOptions) error {
	switch o.sortBy {
	case "created", "id", "name", "number", "status":
	default: // podman's words (which name fewer keys than it takes)
		return errors.New("invalid option for --sort, options are: id, names, or number")
	}
	rt, err := a.engine()
	if err != nil {
		return err
	}
	pods, err := rt.ListPodsBrief()
	if err != nil {
		return err
	}
	match, err := podFilter(o.filters)
	if err != nil {
		return err
	}
	var sel []*engine.PodInfo
	for _, p := range pods {
		if match(p) {
			sel = append(sel, p)
		}
	}
	sortPods(sel, o.sortBy)
	if o.latest && len(sel) > 0 {
		latest := sel[0]
		for _, p := range sel {
			if p.Pod.Config.Created.After(latest.Pod.Config.Created) {
				latest = p
			}
		}
		sel = []*engine.PodInfo{latest}
	}
	if o.quiet {
		for _, p := range sel {
			fmt.Fprintln(a.stdout, p.Pod.Config.ID) // podman's pod ps -q: the full ID
		}
		return nil
	}
	if o.format == "json" {
		js := make([]view.PodListEntry, 0, len(sel))
		for _, p := range sel {
			js = append(js, view.PodList(p))
		}
		return printJSONStyle(a.stdout, js, jsonTwo)
	}
	rows := make([]any, 0, len(sel))
	now := time.Now()
	for _, p := range sel {
		rows = append(rows, toPodPsRow(p, o.noTrunc, now))
	}
	def := "{{.ID}}\t{{.Name}}\t{{.Status}}\t{{.Created}}\t{{.InfraID}}\t{{.NumberOfContainers}}"
	if o.ns {
		def = "{{.ID}}\t{{.Name}}\t{{.Status}}\t{{.Created}}\t{{.InfraID}}\t{{.Cgroup}}\t{{.Namespaces}}\t{{.NumberOfContainers}}"
	}
	if o.ctrNames || o.ctrIDs || o.ctrStatus {
		def = "{{.ID}}\t{{.Name}}\t{{.Status}}\t{{.Created}}\t{{.InfraID}}"
		if o.ctrIDs {
			def += "\t{{.ContainerIds}}"
		}
		if o.ctrNames {
			def += "\t{{.ContainerNames}}"
		}
		if o.ctrStatus {
			def += "\t{{.ContainerStatuses}}"
		}
	}
	return render(a.stdout, o.format, o.noHeading, rows, nil, table{format: def, headers: map[string]string{
		"ID": "POD ID", "InfraID": "INFRA ID", "NumberOfContainers": "# OF CONTAINERS", "ContainerIds": "IDS",
		"ContainerNames": "NAMES", "ContainerStatuses": "STATUS", "Cgroup": "CGROUP", "Namespaces": "NAMESPACES",
	}})
}

func toPodPsRow(p *engine.PodInfo, noTrunc bool, now time.Time) *podPsRow {
	cfg := p.Pod.Config
	row := &podPsRow{
		ID: truncID(cfg.ID, noTrunc), Name: cfg.Name, Status: p.Status, Created: agoFrom(now, cfg.Created),
		InfraID: truncID(p.Pod.State.InfraContainerID, noTrunc), Cgroup: cfg.CgroupParent, Namespace: cfg.Namespace,
		NumberOfContainers: len(p.Members), Labels: cfg.Labels, CreatedAt: cfg.Created,
		Networks: strings.Join(view.PodNetworks(cfg), ","),
	}
	var names, ids, sts []string
	for _, m := range p.Members {
		names = append(names, m.Config.Name)
		ids = append(ids, truncID(m.Config.ID, noTrunc))
		sts = append(sts, m.State.Status)
	}
	row.ContainerNames, row.ContainerIds, row.ContainerStatuses = strings.Join(names, ","), strings.Join(ids, ","), strings.Join(sts, ",")
	return row
}

func sortPods(ps []*engine.PodInfo, by string) {
	var less func(a, b *engine.PodInfo) bool
	switch by {
	case "id":
		less = func(a, b *engine.PodInfo) bool { return a.Pod.Config.ID < b.Pod.Config.ID }
	case "name":
		less = func(a, b *engine.PodInfo) bool { return a.Pod.Config.Name < b.Pod.Config.Name }
	case "number":
		less = func(a, b *engine.PodInfo) bool { return len(a.Members) < len(b.Members) }
	case "status":
		less = func(a, b *engine.PodInfo) bool { return a.Status < b.Status }
	case "created", "": // newest first, as podman
		less = func(a, b *engine.PodInfo) bool { return a.Pod.Config.Created.After(b.Pod.Config.Created) }
	default:
		less = func(a, b *engine.PodInfo) bool { return a.Pod.Config.Created.Before(b.Pod.Config.Created) }
	}
	sort.SliceStable(ps, func(i, j int) bool { return less(ps[i], ps[j]) })
}

func podFilter(filters []string) (func(*engine.PodInfo) bool, error) {
	byKey, err := parseFilters(filters, filterSpec{
		what:     "pod",
		keys:     []string{"id", "name", "label", "status", "ctr-names", "ctr-ids", "ctr-status", "ctr-number", "network", "until"},
		statuses: []string{"created", "running", "paused", "stopped", "exited", "dead", "degraded"},
	})
	if err != nil {
		return nil, err
	}
	return func(p *engine.PodInfo) bool {
		return matchFilters(byKey, func(k, v string) bool { return podMatch(p, k, v) })
	}, nil
}

func podMatch(p *engine.PodInfo, k, v string) bool {
	cfg := p.Pod.Config
	anyMember := func(f func(*model.Container) bool) bool {
		for _, m := range p.Members {
			if f(m) {
				return true
			}
		}
		return false
	}
	switch k {
	case "id":
		return strings.HasPrefix(cfg.ID, v)
	case "name":
		re, err := regexp.Compile(v)
		return err == nil && re.MatchString(cfg.Name)
	case "label":
		return model.LabelsMatch(cfg.Labels, v)
	case "status":
		return strings.EqualFold(p.Status, v)
	case "ctr-names":
		return anyMember(func(m *model.Container) bool { return m.Config.Name == v })
	case "ctr-ids":
		return anyMember(func(m *model.Container) bool { return strings.HasPrefix(m.Config.ID, v) })
	case "ctr-status":
		return anyMember(func(m *model.Container) bool {
			return m.State.Status == v || v == "stopped" && m.State.Status == model.StatusExited
		})
	case "ctr-number":
		n, err := strconv.Atoi(v)
		return err == nil && len(p.Members) == n
	case "network":
		return slices.Contains(view.PodNetworks(cfg), v)
	case "until": // made before that time; a time podman cannot read matches none
		t, err := engine.ParseTimeArg(v)
		return err == nil && cfg.Created.Before(t)
	}
	return true
}
