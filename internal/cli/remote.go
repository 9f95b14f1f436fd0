package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"pea/internal/errdefs"
	"pea/internal/remote"
	"pea/internal/rootless"
)

// Remote mode (internal/remote): `pea --remote|-r`, `--url URI`, `--connection|-c NAME`
// (before the verb), or CONTAINER_HOST / CONTAINER_CONNECTION in the environment, run the
// command on a `pea system service`. This file finds the service, maps the client's files the
// command line names, and relays.

// remoteTarget is the service a remote command goes to.
type remoteTarget struct {
	uri, identity string
}

// remoteFlags takes pea's remote flags out of the global flags that lead args. requested is
// false when neither they nor the environment ask for remote mode.
func remoteFlags(args []string) (rest []string, t remoteTarget, requested bool, err error) {
	if os.Getenv(remote.EnvServed) != "" {
		return args, t, false, nil // this pea runs for a remote client: it is the far end
	}
	var useRemote bool
	var urlFlag, conn string
	i := 0
	value := func(arg, name string) (string, bool) {
		if v, ok := strings.CutPrefix(arg, name+"="); ok {
			return v, true
		}
		if arg == name && i+1 < len(args) {
			i++
			return args[i], true
		}
		return "", false
	}
	for ; i < len(args); i++ {
		arg := args[i]
		if !strings.HasPrefix(arg, "-") || arg == "--" {
			break
		}
		switch {
		case arg == "-r" || arg == "--remote" || arg == "--remote=true":
			useRemote = true
		case arg == "--remote=false":
		case arg == "--url" || strings.HasPrefix(arg, "--url="):
			urlFlag, _ = value(arg, "--url")
		case arg == "-c" || arg == "--connection" || strings.HasPrefix(arg, "--connection="):
			name := "--connection"
			if arg == "-c" {
				name = "-c"
			}
			conn, _ = value(arg, name)
		case arg == "--identity" || strings.HasPrefix(arg, "--identity="):
			t.identity, _ = value(arg, "--identity")
		default:
			rest = append(rest, arg)
			if slices.Contains(globalValueFlags, arg) && i+1 < len(args) {
				i++
				rest = append(rest, args[i])
			}
		}
	}
	rest = append(rest, args[i:]...)
	env := os.Getenv("CONTAINER_HOST")
	envConn := os.Getenv("CONTAINER_CONNECTION")
	if !useRemote && urlFlag == "" && conn == "" && env == "" && envConn == "" {
		return args, t, false, nil
	}
	if verb := firstVerb(rest); verb == "system" || verb == "help" || verb == "" {
		// `system connection` and `system dial-stdio` are the client's own.
		if sub := firstVerb(rest[slices.Index(rest, verb)+1:]); verb == "" || verb == "help" || sub == "connection" || sub == "dial-stdio" {
			return rest, t, false, nil
		}
	}
	if t.identity == "" {
		t.identity = os.Getenv("CONTAINER_SSHKEY")
	}
	switch {
	case urlFlag != "":
		t.uri = urlFlag
	case conn != "" || (env == "" && envConn != ""):
		if conn == "" {
			conn = envConn
		}
		c, ok, err := lookupConnection(conn)
		if err != nil {
			return nil, t, true, err
		}
		if !ok {
			return nil, t, true, fmt.Errorf("failed to resolve active destination: %q service destination not found", conn)
		}
		t.uri = c.URI
		if t.identity == "" {
			t.identity = c.Identity
		}
	case env != "":
		t.uri = env
	default:
		cfg, err := loadConnections()
		if err != nil {
			return nil, t, true, err
		}
		if c, ok := cfg.Connections[cfg.Default]; ok {
			t.uri = c.URI
			if t.identity == "" {
				t.identity = c.Identity
			}
		} else {
			t.uri = "unix://" + filepath.Join(defaultRunRoot(), "pea.sock")
		}
	}
	return rest, t, true, nil
}

func defaultRunRoot() string {
	if os.Geteuid() != 0 {
		return rootless.DefaultRunRoot()
	}
	return envOr("PEA_RUNROOT", "/run/pea")
}

// remoteOnlyLocal are the verbs that work on the client's machine and cannot run remotely.
var remoteOnlyLocal = []string{"unshare", "scp", "service", "dial-stdio", "connection", "mount", "umount", "unmount", "migrate", "renumber", "quadlet"}

// runRemote runs the command line args (without the remote flags) on the service of t.
func runRemote(a *app, args []string, t remoteTarget) error {
	call, err := remoteCall(a, args)
	if err != nil {
		return err
	}
	if firstVerb(args) == "version" {
		return remoteVersion(a, args, t)
	}
	conn, err := remoteDial(a, t)
	if err != nil {
		return err
	}
	defer conn.Close()
	call.Stdout, call.Stderr = a.stdout, a.stderr
	if call.Req.TTY {
		fd := int(os.Stdin.Fd())
		if old, err := term.MakeRaw(fd); err == nil {
			defer term.Restore(fd, old)
		}
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, syscall.SIGWINCH)
		defer signal.Stop(winch)
		resize := make(chan [2]uint16, 1)
		go func() {
			for range winch {
				if w, h, err := term.GetSize(int(os.Stdout.Fd())); err == nil {
					resize <- [2]uint16{uint16(h), uint16(w)}
				}
			}
		}()
		call.Resize = resize
	} else {
		sigs := make(chan os.Signal, 4)
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
		defer signal.Stop(sigs)
		call.Signals = sigs
	}
	code, err := conn.Run(call)
	if err != nil {
		return remoteError(a, t, err)
	}
	if code != 0 {
		return &errdefs.ExitError{Code: code}
	}
	return nil
}

func remoteDial(a *app, t remoteTarget) (*remote.Conn, error) {
	conn, err := remote.Dial(t.uri, t.identity)
	if err != nil {
		return nil, remoteError(a, t, &remote.ConnectError{Err: err})
	}
	return conn, nil
}

func remoteError(a *app, t remoteTarget, err error) error {
	if ce, ok := errors.AsType[*remote.ConnectError](err); ok {
		fmt.Fprintln(a.stderr, "Cannot connect to the pea service. Please verify your connection with `pea system connection list`")
		return fmt.Errorf("unable to connect to the pea service at %s: %w", t.uri, ce.Err)
	}
	switch {
	case errors.Is(err, remote.ErrNotPea):
		return fmt.Errorf("%s: %w", t.uri, err)
	}
	return err
}

// remoteVersion is `pea --remote version`: the client's version and the service's, as
// podman's remote client prints them.
func remoteVersion(a *app, args []string, t remoteTarget) error {
	conn, err := remoteDial(a, t)
	if err != nil {
		return err
	}
	defer conn.Close()
	var out, errOut strings.Builder
	code, err := conn.Run(&remote.Call{Req: remote.Request{Args: []string{"version", "--format", "json"}}, Stdout: &out, Stderr: &errOut})
	if err != nil {
		return remoteError(a, t, err)
	}
	var v struct{ Client peaVersion }
	if code != 0 || json.Unmarshal([]byte(out.String()), &v) != nil {
		return fmt.Errorf("the service's version: %s", strings.TrimSpace(errOut.String()))
	}
	a.remoteServer = &v.Client
	root := newRootCommand(a)
	addCommands(root, a, args)
	root.SetArgs(args)
	return root.Execute()
}

// remoteCall makes the call for args: the client's files the command line names become inputs
// and outputs, stdin is sent when the command reads it, a terminal is used when it asks for
// one.
func remoteCall(a *app, args []string) (*remote.Call, error) {
	root := newRootCommand(a)
	addCommands(root, a, args)
	cmd, _, err := root.Find(args)
	if err != nil || cmd == root {
		// pea's own parse on the service gives the error
		return &remote.Call{Req: remote.Request{Args: args}}, nil
	}
	path := strings.Fields(cmd.CommandPath())[1:]
	verb := strings.Join(path, " ")
	for _, n := range path {
		if slices.Contains(remoteOnlyLocal, n) {
			return nil, usageError{fmt.Errorf("%s is not available with --remote: it works on this machine only", cmd.CommandPath())}
		}
	}
	cl := parseRemoteArgs(cmd, args)
	m := &remoteMapper{call: &remote.Call{Req: remote.Request{Args: append([]string(nil), args...)}}}
	m.mapFiles(verb, cl)
	if m.err != nil {
		return nil, m.err
	}
	call := m.call

	// Stdin: only when the command reads it, as locally (a script's loop feeding its own
	// standard input must not lose it to a remote `ps`).
	readsStdin := cl.flagBool("interactive") || cl.flagTrue("password-stdin") ||
		(cmd.Name() == "attach" && !cl.flagTrue("no-stdin")) ||
		((cmd.Name() == "load") && cl.flag("input") == "")
	for _, p := range cl.positionals {
		if args[p] == "-" {
			readsStdin = true
		}
	}
	for _, f := range cl.flags {
		if f.value == "-" {
			readsStdin = true
		}
	}
	if readsStdin {
		call.Stdin = os.Stdin
	}
	tty := cl.flagBool("tty") || cmd.Name() == "attach" || (cmd.Name() == "start" && (cl.flagBool("attach") || cl.flagBool("interactive")))
	if tty && term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd())) {
		call.Req.TTY = true
		call.Req.Term = os.Getenv("TERM")
		if w, h, err := term.GetSize(int(os.Stdout.Fd())); err == nil {
			call.Req.Rows, call.Req.Cols = uint16(h), uint16(w)
		}
		call.Stdin = os.Stdin
	}
	// `-e NAME`: the value is the client's, as podman's remote client takes it.
	for _, f := range cl.flags {
		if f.name == "env" && !strings.Contains(f.value, "=") {
			if v, ok := os.LookupEnv(f.value); ok {
				call.Req.Args[f.index] = f.glue + f.value + "=" + v
			}
		}
	}
	return call, nil
}

// remoteArgs is a command line as pflag sees it: where each flag and positional argument is.
type remoteArgs struct {
	flags       []remoteFlag
	positionals []int // indexes into args
}

type remoteFlag struct {
	name  string // the long name
	value string
	index int  // of the value in args: the flag's own token with --name=value or -xVALUE
	glued bool // the value is in the flag's token, after glue
	glue  string
}

func (c *remoteArgs) flag(name string) string {
	v := ""
	for _, f := range c.flags {
		if f.name == name {
			v = f.value
		}
	}
	return v
}

func (c *remoteArgs) flagTrue(name string) bool { return c.flagBool(name) }

func (c *remoteArgs) flagBool(name string) bool {
	set := false
	for _, f := range c.flags {
		if f.name == name {
			set = f.value == "" || f.value == "true"
		}
	}
	return set
}

// parseRemoteArgs walks args as cmd's flag set parses them; the command's own words are
// neither flags nor positionals.
func parseRemoteArgs(cmd *cobra.Command, args []string) *remoteArgs {
	fs := cmd.Flags()
	cmd.InheritedFlags() // merges the persistent flags into fs
	interspersed := true
	if v := reflect.ValueOf(fs).Elem().FieldByName("interspersed"); v.IsValid() && v.Kind() == reflect.Bool {
		interspersed = v.Bool()
	}
	words := strings.Fields(cmd.CommandPath())[1:]
	out := &remoteArgs{}
	takesValue := func(f *pflag.Flag) bool { return f.NoOptDefVal == "" }
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--":
			for j := i + 1; j < len(args); j++ {
				out.positionals = append(out.positionals, j)
			}
			return out
		case strings.HasPrefix(arg, "--"):
			name, val, hasVal := strings.Cut(arg[2:], "=")
			f := fs.Lookup(name)
			if f == nil {
				continue
			}
			switch {
			case hasVal:
				out.flags = append(out.flags, remoteFlag{name: f.Name, value: val, index: i, glued: true, glue: "--" + name + "="})
			case takesValue(f) && i+1 < len(args):
				i++
				out.flags = append(out.flags, remoteFlag{name: f.Name, value: args[i], index: i})
			default:
				out.flags = append(out.flags, remoteFlag{name: f.Name, index: i})
			}
		case strings.HasPrefix(arg, "-") && len(arg) > 1:
			for k := 1; k < len(arg); k++ {
				f := fs.ShorthandLookup(arg[k : k+1])
				if f == nil {
					break
				}
				if !takesValue(f) {
					v := ""
					if k+1 < len(arg) && arg[k+1] == '=' {
						v = arg[k+2:]
						k = len(arg)
					}
					out.flags = append(out.flags, remoteFlag{name: f.Name, value: v, index: i})
					continue
				}
				if k+1 < len(arg) {
					val := strings.TrimPrefix(arg[k+1:], "=")
					out.flags = append(out.flags, remoteFlag{name: f.Name, value: val, index: i, glued: true, glue: arg[:len(arg)-len(val)]})
				} else if i+1 < len(args) {
					i++
					out.flags = append(out.flags, remoteFlag{name: f.Name, value: args[i], index: i})
				}
				break
			}
		default:
			if len(words) > 0 && (arg == words[0] || slices.Contains(commandAliases(cmd, words), arg)) && len(out.positionals) == 0 {
				words = words[1:]
				continue
			}
			out.positionals = append(out.positionals, i)
			if !interspersed {
				for j := i + 1; j < len(args); j++ {
					out.positionals = append(out.positionals, j)
				}
				return out
			}
		}
	}
	return out
}

// commandAliases are the aliases of the command of cmd's path that words[0] names (words:
// the path's words not seen yet).
func commandAliases(cmd *cobra.Command, words []string) []string {
	c := cmd
	for range len(words) - 1 {
		c = c.Parent()
	}
	return c.Aliases
}

// remoteMapper replaces the client paths of a command line by markers.
type remoteMapper struct {
	call *remote.Call
	err  error
}

// input makes args[i] (or the value part of a glued flag) an input, when it is a client path.
func (m *remoteMapper) input(i int, glue string) {
	args := m.call.Req.Args
	p := strings.TrimPrefix(args[i], glue)
	if p == "" || p == "-" || strings.Contains(p, "://") {
		return
	}
	if _, err := os.Lstat(p); err != nil {
		if m.err == nil {
			m.err = err
		}
		return
	}
	base := "root"
	if abs, err := filepath.Abs(p); err == nil && abs != "/" {
		base = filepath.Base(abs)
	}
	n := len(m.call.Inputs)
	m.call.Inputs = append(m.call.Inputs, p)
	m.call.Req.Inputs = append(m.call.Req.Inputs, remote.Input{Base: base})
	args[i] = glue + remote.InputMarker(n)
}

// output makes args[i] an output.
func (m *remoteMapper) output(i int, glue string, into bool) {
	args := m.call.Req.Args
	p := strings.TrimPrefix(args[i], glue)
	if p == "" || p == "-" {
		return
	}
	n := len(m.call.Outputs)
	m.call.Outputs = append(m.call.Outputs, remote.Output{Path: p, Into: into})
	args[i] = glue + remote.OutputMarker(n)
}

func (m *remoteMapper) flagInputs(cl *remoteArgs, names ...string) {
	for _, f := range cl.flags {
		if slices.Contains(names, f.name) {
			m.input(f.index, f.glue)
		}
	}
}

func (m *remoteMapper) flagOutputs(cl *remoteArgs, names ...string) {
	for _, f := range cl.flags {
		if slices.Contains(names, f.name) {
			m.output(f.index, f.glue, false)
		}
	}
}

// mapFiles maps the client files of the verb's command line (verb: its words, "pod create").
func (m *remoteMapper) mapFiles(verb string, cl *remoteArgs) {
	pos := cl.positionals
	m.flagInputs(cl, "env-file", "label-file", "authfile")
	switch verb {
	case "build", "image build", "buildx build":
		m.flagInputs(cl, "file", "ignorefile")
		m.flagOutputs(cl, "iidfile")
		ctx := "." // no CONTEXT: -f's directory, as the local build's, else the current one
		if f := cl.flag("file"); f != "" && f != "-" && !strings.Contains(f, "://") {
			ctx = filepath.Dir(f)
		}
		if len(pos) > 0 {
			m.input(pos[0], "")
		} else if _, err := os.Stat(ctx); err == nil {
			m.call.Req.Args = append(m.call.Req.Args, ctx)
			m.input(len(m.call.Req.Args)-1, "")
		}
	case "commit", "container commit":
		m.flagOutputs(cl, "iidfile")
	case "load", "image load":
		m.flagInputs(cl, "input")
	case "import", "image import":
		if len(pos) > 0 {
			m.input(pos[0], "")
		}
	case "kube play", "play kube":
		m.flagInputs(cl, "configmap")
		if len(pos) > 0 {
			m.input(pos[0], "")
		}
	case "kube down":
		if len(pos) > 0 {
			m.input(pos[0], "")
		}
	case "secret create":
		if len(pos) > 1 {
			m.input(pos[1], "")
		}
	case "volume import":
		if len(pos) > 1 {
			m.input(pos[1], "")
		}
	case "save", "image save", "export", "container export", "volume export":
		m.flagOutputs(cl, "output")
	case "generate systemd":
		if cl.flagBool("files") { // the unit files are written in the client's directory
			m.call.Outputs = append(m.call.Outputs, remote.Output{Path: ".", Into: true})
			m.call.Req.WorkOutput = len(m.call.Outputs)
			m.call.Req.ClientDir, _ = os.Getwd()
		}
	case "generate kube", "kube generate":
		m.flagOutputs(cl, "filename")
	case "create", "container create", "run", "container run":
		m.flagInputs(cl, "pod-id-file")
		if p := cl.flag("cidfile"); p != "" {
			if _, err := os.Lstat(p); err == nil && m.err == nil { // as the local check (createFlags.toConfig)
				m.err = fmt.Errorf("container id file exists. Ensure another container is not using it or delete %s", p)
			}
		}
		m.flagOutputs(cl, "cidfile")
	case "pod create":
		m.flagOutputs(cl, "pod-id-file")
	case "cp", "container cp":
		m.mapCopy(cl)
	default:
		// rm, start, stop, kill, pod rm/start/stop... read the IDs of --cidfile/--pod-id-file.
		m.flagInputs(cl, "cidfile", "pod-id-file")
	}
}

// mapCopy maps `cp SRC DEST`: a client SRC is sent; a client DEST receives what the command
// copied (into it, when it is an existing directory).
func (m *remoteMapper) mapCopy(cl *remoteArgs) {
	if len(cl.positionals) != 2 {
		return
	}
	args := m.call.Req.Args
	src, dst := cl.positionals[0], cl.positionals[1]
	isCtr := func(s string) bool {
		c, _, ok := strings.Cut(s, ":")
		return ok && c != "" && !strings.HasPrefix(s, "/") && !strings.HasPrefix(s, ".")
	}
	if !isCtr(args[src]) {
		m.input(src, "")
	}
	if !isCtr(args[dst]) {
		fi, err := os.Stat(args[dst])
		m.output(dst, "", err == nil && fi.IsDir())
	}
}

// servedCheck refuses, in a pea the service runs for a remote client, global flags that name
// another store than the service's, and the verbs that work on one machine only.
func servedCheck(cmd *cobra.Command) error {
	served, ok := os.LookupEnv(remote.EnvServed)
	if !ok {
		return nil
	}
	store := map[string]string{}
	parts := strings.Split(served, "\x1f")
	for i := 0; i+1 < len(parts); i += 2 {
		store[strings.TrimPrefix(parts[i], "--")] = parts[i+1]
	}
	for _, name := range []string{"root", "runroot", "runtime", "namespace"} {
		if f := cmd.Flags().Lookup(name); f != nil && f.Changed && f.Value.String() != store[name] {
			return usageError{fmt.Errorf("--%s is not available with --remote", name)}
		}
	}
	for _, n := range strings.Fields(cmd.CommandPath()) {
		if slices.Contains(remoteOnlyLocal, n) {
			return usageError{fmt.Errorf("%s is not available with --remote: it works on the service's machine only", cmd.CommandPath())}
		}
	}
	return nil
}

// parseURI checks a connection's destination: unix:///PATH, tcp://HOST:PORT, ssh://... or
// [USER@]HOST (ssh).
func parseURI(dest string) (*url.URL, error) {
	if !strings.Contains(dest, "://") {
		dest = "ssh://" + dest
	}
	u, err := url.Parse(dest)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "unix":
		if u.Path == "" {
			return nil, fmt.Errorf("%q: a unix URI names a socket: unix:///PATH", dest)
		}
	case "tcp":
		if u.Port() == "" {
			return nil, fmt.Errorf("%q: a tcp URI names a port: tcp://HOST:PORT", dest)
		}
	case "ssh":
		if u.Hostname() == "" {
			return nil, fmt.Errorf("%q: an ssh destination names a host: [USER@]HOST[:PORT][/PATH]", dest)
		}
	default:
		return nil, fmt.Errorf("%q: the scheme must be unix, tcp or ssh", dest)
	}
	return u, nil
}
