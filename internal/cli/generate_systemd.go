package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/model"
	"pea/internal/remote"
)

// systemdOptions are generate systemd's flags.
type systemdOptions struct {
	useName, files, newCtr, noHeader, template bool
	restartPolicy, ctrPrefix, podPrefix        string
	separator, format                          string
	stopTime, restartSec, startTimeout         uint
	stopTimeSet                                bool
	// restartPolicySet: --restart-policy was given (else a --new unit takes the container's).
	restartPolicySet            bool
	wants, after, requires, env []string
}

// restartPolicies are systemd's Restart= values.
var restartPolicies = []string{"no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always"}

// newGenerateSystemdCommand is `generate systemd CTR|POD`: systemd units that start and stop an
// existing container (or a pod and its members) with pea, as podman 4.3's do without --new.
// The service is forking: `pea start` returns once conmon runs, and systemd follows conmon
// through the PID file conmon writes in the runroot.
func newGenerateSystemdCommand(a *app) *cobra.Command {
	var o systemdOptions
	cmd := &cobra.Command{
		Use:   "systemd [options] CONTAINER|POD",
		Short: "Generate systemd units that start and stop a container or a pod",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.stopTimeSet = cmd.Flags().Changed("time") || cmd.Flags().Changed("stop-timeout")
			o.restartPolicySet = cmd.Flags().Changed("restart-policy")
			return runGenerateSystemd(a, args[0], &o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.useName, "name", "n", false, "use the container's or pod's name rather than its ID")
	f.BoolVarP(&o.files, "files", "f", false, "write the units to files in the current directory, and print their paths")
	f.BoolVar(&o.newCtr, "new", false, "create the container afresh at each start, from the command that created it, and remove it at each stop")
	f.StringVar(&o.restartPolicy, "restart-policy", "on-failure", "systemd's Restart= policy")
	f.UintVar(&o.restartSec, "restart-sec", 0, "systemd's RestartSec= (0: systemd's default)")
	f.UintVarP(&o.stopTime, "time", "t", 10, "seconds to wait for a stop before killing (default: the container's stop timeout)")
	f.UintVar(&o.stopTime, "stop-timeout", 10, "as --time")
	f.UintVar(&o.startTimeout, "start-timeout", 0, "systemd's TimeoutStartSec= (0: systemd's default)")
	f.StringArrayVarP(&o.env, "env", "e", nil, "set an environment variable in the units (KEY=VALUE)")
	f.BoolVar(&o.noHeader, "no-header", false, "leave out the comment at the top of each unit")
	f.StringVar(&o.format, "format", "", "json: print the units as a JSON object of their names")
	f.BoolVar(&o.template, "template", false, "with --new, a template unit (NAME@.service) whose instances run containers named NAME-INSTANCE")
	f.StringVar(&o.ctrPrefix, "container-prefix", "container", "prefix of container units' names")
	f.StringVar(&o.podPrefix, "pod-prefix", "pod", "prefix of pod units' names")
	f.StringVar(&o.separator, "separator", "-", "between the prefix and the name")
	f.StringArrayVar(&o.wants, "wants", nil, "add a Wants= line")
	f.StringArrayVar(&o.after, "after", nil, "add an After= line")
	f.StringArrayVar(&o.requires, "requires", nil, "add a Requires= line")
	return cmd
}

// unit is one generated unit file.
type unit struct {
	name, text string
}

func runGenerateSystemd(a *app, nameOrID string, o *systemdOptions) error {
	valid := false
	for _, p := range restartPolicies {
		valid = valid || p == o.restartPolicy
	}
	if !valid {
		return invalid("--restart-policy %q: one of %s", o.restartPolicy, strings.Join(restartPolicies, ", "))
	}
	if o.format != "" && o.format != "json" {
		return invalid("invalid --format %q (json)", o.format)
	}
	if o.format != "" && o.files {
		return invalid("--format and --files cannot be used together")
	}
	if o.template && !o.newCtr {
		return invalid("--template cannot be set without --new")
	}
	for _, e := range o.env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" || strings.ContainsAny(e, "\n") {
			return invalid("--env %q: want KEY=VALUE on one line", e)
		}
	}
	rt, err := a.engine()
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	g := &systemdGen{a: a, o: o, pea: self, runRoot: rt.Options().RunRoot}
	var units []unit
	if c, err := rt.LookupContainer(nameOrID); err == nil {
		if c.Config.IsInfra {
			return invalid("%s is a pod's infra container: generate the pod's units", c.Config.Name)
		}
		if o.newCtr {
			u, err := g.newContainerUnit(c)
			if err != nil {
				return err
			}
			units = append(units, u)
		} else {
			units = append(units, g.containerUnit(c, ""))
		}
	} else if p, perr := rt.LookupPod(nameOrID); perr == nil {
		if o.newCtr {
			return invalid("--new is for a container: pea makes a pod's units for the pod as it is")
		}
		if o.template {
			return invalid("--template is for a container")
		}
		pi, err := rt.InspectPod(p.Config.ID)
		if err != nil {
			return err
		}
		if pi.Pod.State.InfraContainerID == "" {
			return invalid("pod %s has no infra container, whose conmon the pod's unit would follow", p.Config.Name)
		}
		units = g.podUnits(pi)
	} else {
		return err
	}
	if o.format == "json" {
		byName := make(map[string]string, len(units))
		for _, u := range units {
			byName[strings.TrimSuffix(strings.TrimSuffix(u.name, ".service"), "@")] = u.text
		}
		return printJSON(a.stdout, byName)
	}
	for _, u := range units {
		if o.files {
			path, err := filepath.Abs(u.name)
			if err != nil {
				return err
			}
			if err := os.WriteFile(path, []byte(u.text), 0o644); err != nil {
				return err
			}
			if d := os.Getenv(remote.EnvClientDir); d != "" && os.Getenv(remote.EnvServed) != "" {
				path = filepath.Join(d, u.name) // written for a remote client, in its directory
			}
			fmt.Fprintln(a.stdout, path)
			continue
		}
		fmt.Fprint(a.stdout, u.text)
	}
	return nil
}

// systemdGen writes units for one store.
type systemdGen struct {
	a       *app
	o       *systemdOptions
	pea     string
	runRoot string
}

// peaCmd is a pea command line for the unit, with the store's global flags.
func (g *systemdGen) peaCmd(args ...string) string {
	argv := append([]string{g.pea}, g.a.storeArgs(false)...)
	return strings.Join(append(argv, args...), " ")
}

func (g *systemdGen) header(name, what string) string {
	comment := fmt.Sprintf("# %s\n# autogenerated by pea %s\n# %s\n\n", name, Version, time.Now().UTC().Format(time.UnixDate))
	if g.o.noHeader {
		comment = ""
	}
	return fmt.Sprintf("%s[Unit]\nDescription=pea %s\nWants=network-online.target\nAfter=network-online.target\nRequiresMountsFor=%s\n",
		comment, what, filepath.Join(g.runRoot, "containers"))
}

// serviceHead starts the [Service] section: the unit's name for pea, the environment, the
// restart policy (and how many restarts systemd makes of it, when burst is not ""), and
// timeouts.
func (g *systemdGen) serviceHead(b *strings.Builder, policy, burst string) {
	b.WriteString("\n[Service]\nEnvironment=PODMAN_SYSTEMD_UNIT=%n\n")
	for _, e := range g.o.env {
		fmt.Fprintf(b, "Environment=%s\n", unitQuote(e))
	}
	fmt.Fprintf(b, "Restart=%s\n", policy)
	if burst != "" {
		fmt.Fprintf(b, "StartLimitBurst=%s\n", burst)
	}
	if g.o.restartSec > 0 {
		fmt.Fprintf(b, "RestartSec=%d\n", g.o.restartSec)
	}
	if g.o.startTimeout > 0 {
		fmt.Fprintf(b, "TimeoutStartSec=%d\n", g.o.startTimeout)
	}
}

func (g *systemdGen) extraDeps() string {
	var b strings.Builder
	for _, l := range [][2]any{{"Wants", g.o.wants}, {"After", g.o.after}, {"Requires", g.o.requires}} {
		for _, v := range l[1].([]string) {
			fmt.Fprintf(&b, "%s=%s\n", l[0], v)
		}
	}
	return b.String()
}

func (g *systemdGen) service(id, start, stop string, stopTime uint) string {
	var b strings.Builder
	g.serviceHead(&b, g.o.restartPolicy, "")
	fmt.Fprintf(&b, "TimeoutStopSec=%d\nExecStart=%s\nExecStop=%s\nExecStopPost=%s\nPIDFile=%s\nType=forking\n",
		stopTime+60, start, stop, stop, filepath.Join(g.runRoot, "containers", id, "conmon.pid"))
	return b.String()
}

func (g *systemdGen) stopTime(cfg *model.ContainerConfig) uint {
	if g.o.stopTimeSet {
		return g.o.stopTime
	}
	return cfg.StopTimeout
}

func (g *systemdGen) unitName(prefix, name, id string) string {
	if !g.o.useName {
		name = id
	}
	return prefix + g.o.separator + name + ".service"
}

// containerUnit is a container's unit; pod (when not "") is its pod's unit, which it is bound to.
func (g *systemdGen) containerUnit(c *model.Container, pod string) unit {
	cfg := c.Config
	ref := cfg.ID
	if g.o.useName {
		ref = cfg.Name
	}
	name := g.unitName(g.o.ctrPrefix, cfg.Name, cfg.ID)
	t := g.stopTime(cfg)
	var b strings.Builder
	b.WriteString(g.header(name, name))
	if pod != "" {
		fmt.Fprintf(&b, "BindsTo=%s\nAfter=%s\n", pod, pod)
	}
	b.WriteString(g.extraDeps())
	b.WriteString(g.service(cfg.ID, g.peaCmd("start", ref), g.peaCmd("stop", "-t", strconv.FormatUint(uint64(t), 10), ref), t))
	b.WriteString("\n[Install]\nWantedBy=default.target\n")
	return unit{name: name, text: b.String()}
}

// podUnits are a pod's unit (its infra container's conmon is the service's main process) and
// its members' units, each bound to it.
func (g *systemdGen) podUnits(pi *engine.PodInfo) []unit {
	pc := pi.Pod.Config
	ref := pc.ID
	if g.o.useName {
		ref = pc.Name
	}
	podName := g.unitName(g.o.podPrefix, pc.Name, pc.ID)
	var members []unit
	var infraID string
	var t uint = 10
	if g.o.stopTimeSet {
		t = g.o.stopTime
	}
	for _, c := range pi.Members {
		if c.Config.IsInfra {
			infraID = c.Config.ID
			continue
		}
		members = append(members, g.containerUnit(c, podName))
	}
	var names []string
	for _, m := range members {
		names = append(names, m.name)
	}
	var b strings.Builder
	b.WriteString(g.header(podName, podName))
	if len(names) > 0 {
		// podman 4.3's pod unit wants its containers' (a container's failure does not stop it)
		fmt.Fprintf(&b, "Wants=%s\nBefore=%s\n", strings.Join(names, " "), strings.Join(names, " "))
	}
	b.WriteString(g.extraDeps())
	b.WriteString(g.service(infraID, g.peaCmd("pod", "start", ref), g.peaCmd("pod", "stop", "-t", strconv.FormatUint(uint64(t), 10), ref), t))
	b.WriteString("\n[Install]\nWantedBy=default.target\n")
	return append([]unit{{name: podName, text: b.String()}}, members...)
}

// dropForNew reports the run/create flags a --new unit sets itself (or must not repeat: --restart
// is its Restart=). (A
// switch, not a map: a package-level map is built at every pea command's start.)
func dropForNew(flag string) bool {
	switch flag {
	case "detach", "rm", "name", "replace", "cidfile", "conmon-pidfile", "restart":
		return true
	}
	return false
}

// newRunArgs are the arguments of the `pea run` that makes the container again: the ones its
// create command had, past the verb, without the flags dropForNew names.
func (g *systemdGen) newRunArgs(c *model.Container) ([]string, error) {
	cc := c.Config.CreateCommand
	verb := -1
	for i, tok := range cc {
		if i > 0 && (tok == "run" || tok == "create") {
			verb = i
			break
		}
	}
	if verb < 0 {
		return nil, invalid("container %s has no command that created it (made by the API, kube play or the CRI?): --new cannot make it again", c.Config.Name)
	}
	fs := newRunCommand(g.a).Flags()
	var out []string
	rest := cc[verb+1:]
	for i := 0; i < len(rest); i++ {
		tok := rest[i]
		if tok == "--" || !strings.HasPrefix(tok, "-") || tok == "-" {
			out = append(out, rest[i:]...) // the image and its command
			break
		}
		takesValue := func(name string) bool {
			f := fs.Lookup(name)
			return f != nil && f.NoOptDefVal == "" && f.Value.Type() != "bool"
		}
		if long, ok := strings.CutPrefix(tok, "--"); ok {
			name, _, hasValue := strings.Cut(long, "=")
			if fs.Lookup(name) == nil {
				return nil, invalid("the create command of %s has %s, which pea's run does not know", c.Config.Name, tok)
			}
			consumed := []string{tok}
			if !hasValue && takesValue(name) && i+1 < len(rest) {
				i++
				consumed = append(consumed, rest[i])
			}
			if !dropForNew(name) {
				out = append(out, consumed...)
			}
			continue
		}
		// Shorthands, maybe several (-dit) or one with its value (-p8080:80, -p 8080:80).
		short := tok[1:]
		kept := "-"
		var value []string
		for j := 0; j < len(short); j++ {
			f := fs.ShorthandLookup(short[j : j+1])
			if f == nil {
				return nil, invalid("the create command of %s has %s, which pea's run does not know", c.Config.Name, tok)
			}
			if takesValue(f.Name) {
				v := short[j+1:]
				if v == "" && i+1 < len(rest) {
					i++
					v = rest[i]
				}
				if !dropForNew(f.Name) {
					value = []string{"--" + f.Name + "=" + v}
				}
				break
			}
			if !dropForNew(f.Name) {
				kept += short[j : j+1]
			}
		}
		if kept != "-" {
			out = append(out, kept)
		}
		out = append(out, value...)
	}
	return out, nil
}

// unitQuote quotes a word for an Exec line: systemd expands $ and % in it, and splits on
// spaces outside double quotes.
func unitQuote(w string) string {
	w = strings.ReplaceAll(w, "%", "%%")
	w = strings.ReplaceAll(w, "$", "$$")
	if w != "" && !strings.ContainsAny(w, " \t\"'\\;") {
		return w
	}
	w = strings.ReplaceAll(w, `\`, `\\`)
	w = strings.ReplaceAll(w, `"`, `\"`)
	return `"` + w + `"`
}

// newContainerUnit is a --new unit: it runs the container afresh at each start (replacing
// one of the same name), follows its conmon through --conmon-pidfile, and removes it at stop.
func (g *systemdGen) newContainerUnit(c *model.Container) (unit, error) {
	cfg := c.Config
	args, err := g.newRunArgs(c)
	if err != nil {
		return unit{}, err
	}
	name := g.unitName(g.o.ctrPrefix, cfg.Name, cfg.ID)
	ctrName := unitQuote(cfg.Name)
	if g.o.template {
		// NAME@.service: instance INST runs container NAME-INST (%i is systemd's, unquoted).
		name = strings.TrimSuffix(name, ".service") + "@.service"
		ctrName = ctrName + "-%i"
	}
	t := strconv.FormatUint(uint64(g.stopTime(cfg)), 10)
	run := []string{"run", "--cidfile=%t/%n.ctr-id", "--conmon-pidfile=%t/%n.pid", "--rm", "--replace", "-d", "--name", ctrName}
	for _, a := range args {
		run = append(run, unitQuote(a))
	}
	var b strings.Builder
	b.WriteString(g.header(name, name))
	b.WriteString(g.extraDeps())
	policy, burst := g.o.restartPolicy, ""
	if !g.o.restartPolicySet && cfg.RestartPolicy != "" {
		// The container's --restart, which the run leaves out: systemd restarts the unit, up to
		// its retries (on-failure:N), and unless-stopped is systemd's always; as podman's.
		policy, burst, _ = strings.Cut(cfg.RestartPolicy, ":")
		if policy == "unless-stopped" {
			policy = "always"
		}
	}
	g.serviceHead(&b, policy, burst)
	fmt.Fprintf(&b, "TimeoutStopSec=%d\nExecStartPre=/bin/rm -f %%t/%%n.ctr-id\nExecStart=%s\nExecStop=%s\nExecStopPost=%s\nPIDFile=%%t/%%n.pid\nType=forking\n",
		g.stopTime(cfg)+60, g.peaCmd(run...),
		g.peaCmd("stop", "--ignore", "-t", t, "--cidfile=%t/%n.ctr-id"),
		g.peaCmd("rm", "-f", "--ignore", "-t", t, "--cidfile=%t/%n.ctr-id"))
	b.WriteString("\n[Install]\nWantedBy=default.target\n")
	return unit{name: name, text: b.String()}, nil
}
