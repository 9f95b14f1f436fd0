// Package cli is pea's command line: it parses flags, calls the engine and formats the answer.
// It knows nothing of SQLite, crun or CNI. One file per verb (or per small family of verbs), each
// with an options struct; errors are mapped to podman's exit codes in one place (exit.go).
package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"

	"golang.org/x/sys/unix"

	"pea/internal/conf"
	"pea/internal/cpupin"
	"pea/internal/engine"
	"pea/internal/rootless"
	"pea/internal/trace"
)

// globalOptions are the flags every command accepts.
type globalOptions struct {
	Root      string
	RunRoot   string
	LogLevel  string
	Runtime   string
	Namespace string
	// podman's other global flags (globals.go)
	HooksDirs      []string
	RuntimeFlags   []string
	Conmon         string
	NoOut          bool
	CgroupManager  string
	EventsBackend  string
	StorageDriver  string
	NetworkCmdPath string
	SSH            string
	Syslog         bool
}

// storeArgs are the global flags that name this store (and, with logLevel, the log level),
// for a pea this one runs.
func (a *app) storeArgs(logLevel bool) []string {
	var argv []string
	for _, f := range []struct{ name, v string }{{"--root", a.opts.Root}, {"--runroot", a.opts.RunRoot},
		{"--runtime", a.opts.Runtime}, {"--namespace", a.opts.Namespace}} {
		if f.v != "" {
			argv = append(argv, f.name, f.v)
		}
	}
	if logLevel && a.opts.LogLevel != "" {
		argv = append(argv, "--log-level", a.opts.LogLevel)
	}
	return append(argv, a.opts.engineArgs()...)
}

// app is what every verb gets: the global options and a lazily built engine.
type app struct {
	opts   globalOptions
	rt     *engine.Runtime
	stdout io.Writer
	stderr io.Writer
	stdin  io.Reader
	args   []string // the whole command line, for CreateCommand
	// trashEmptier holds a chan error that yields how the start of the trash's emptier went,
	// once the command put something in the trash (nothing before).
	trashEmptier atomic.Value
	// remoteServer is the service's version, for pea --remote version.
	remoteServer *peaVersion
	// afterCommand: this process is the one that works after a command (system empty-trash);
	// it starts no other.
	afterCommand bool
	// cfg is containers.conf (config), read before the verb runs unless the verb reads
	// nothing of it (readsNoConfig); given reports a global flag given on the command line.
	cfg   *conf.Config
	given func(flag string) bool
	// releaseInterrupts ends the holding of SIGINT, SIGTERM and SIGHUP (interrupt.go).
	releaseInterrupts func()
}

// config is this pea's containers.conf (internal/conf), read on first use: the system's files
// and, for an unprivileged user, the user's. Reading it also sets [engine] env's variables.
func (a *app) config() (*conf.Config, error) {
	if a.cfg != nil {
		return a.cfg, nil
	}
	files, err := conf.Files(isRootless())
	if err != nil {
		return nil, err
	}
	c, err := conf.Load(files)
	if err != nil {
		return nil, err
	}
	for _, kv := range c.Engine.Env {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			os.Setenv(k, v)
		}
	}
	a.cfg = c
	return c, nil
}

// isRootless reports whether this pea is an unprivileged user's (before or after it joined the
// user's namespace, where it is root).
func isRootless() bool {
	return os.Geteuid() != 0 || rootless.JoinedAtStart() || os.Getenv(rootless.EnvJoined) != ""
}

// readsNoConfig are the verbs that use nothing of containers.conf and so do not read it: the
// listings every benchmark and script runs most (and version, help, the trash's emptier). They
// do not report an error in the files either, where podman fails every verb.
func readsNoConfig(cmd *cobra.Command) bool {
	switch cmd.CommandPath() {
	case "pea", "pea version", "pea help", "pea ps", "pea container list", "pea pod ps", "pea images", "pea image list",
		"pea system empty-trash":
		return true
	}
	return false
}

// loadConfig reads containers.conf before a verb that uses it and checks what the global
// flags take from it. conmon's exit command (container cleanup ID) records the exit whatever
// became of the files meanwhile: its flags carry what it needs.
func (a *app) loadConfig(cmd *cobra.Command, args []string) error {
	a.given = cmd.Flags().Changed
	if readsNoConfig(cmd) {
		return nil
	}
	c, err := a.config()
	if err != nil {
		if cmd.CommandPath() == "pea container cleanup" && len(args) == 1 && isFullID(args[0]) {
			slog.Debug("containers.conf not read", "err", err)
			a.cfg = conf.Default()
			return nil
		}
		return err
	}
	if !a.given("cgroup-manager") {
		if err := engine.ConfCgroupManager(c); err != nil {
			return err
		}
	}
	_, err = a.engineOptions()
	return err
}

// engineOptions are the engine's options: the global flags, and what containers.conf gives
// where they gave nothing.
func (a *app) engineOptions() (engine.Options, error) {
	opts := engine.Options{
		Root:      a.opts.Root,
		RunRoot:   a.opts.RunRoot,
		Runtime:   a.opts.Runtime,
		Namespace: a.opts.Namespace,
		LogLevel:  a.opts.LogLevel,
		HooksDirs: a.opts.HooksDirs, RuntimeFlags: a.opts.RuntimeFlags, Conmon: a.opts.Conmon,
		NoEvents: a.opts.EventsBackend == "none",
	}
	if a.cfg != nil {
		given := a.given
		if given == nil {
			given = func(string) bool { return false }
		}
		if err := opts.ApplyConf(a.cfg, given); err != nil {
			return opts, err
		}
	}
	return opts, nil
}

// engine returns the runtime, opening it on first use so that commands that need no state
// (version, help) pay nothing for it.
func (a *app) engine() (*engine.Runtime, error) {
	if a.rt != nil {
		return a.rt, nil
	}
	opts, err := a.engineOptions()
	if err != nil {
		return nil, err
	}
	// Removed containers' directories are deleted by a process of their own after the
	// command returns (see close).
	opts.DeferTrash = true
	opts.OnTrash = func() {
		done := make(chan error, 1)
		a.trashEmptier.Store(done)
		go func() { done <- a.startTrashEmptier() }()
	}
	rt, err := engine.New(opts)
	if err != nil {
		return nil, err
	}
	a.rt = rt
	return rt, nil
}

// close ends the command's use of the engine; the process exits next.
func (a *app) close() {
	trace.Mark("command finished")
	if a.rt != nil {
		// The trash's emptier was started when the command first put something in the trash
		// (engine's OnTrash); once it runs, the trash is its to empty, and the WAL its to copy.
		emptierRuns := false
		if done, _ := a.trashEmptier.Load().(chan error); done != nil && <-done == nil {
			a.rt.HandOffTrash()
			emptierRuns = true
		}
		// A WAL grown past the size at which the close copies it into the database (every few
		// writing commands) is copied by that process too, started now if it was not: the
		// copy's fsyncs took 3-6 ms of the command here.
		var copyLater func() bool
		if !a.afterCommand {
			copyLater = func() bool { return emptierRuns || a.startTrashEmptier() == nil }
		}
		a.rt.CloseAtExit(copyLater)
	}
}

// startTrashEmptier starts `pea system empty-trash --after-fd 3` on its own (its own session,
// not waited for), with a pidfd of this process as its fd 3: it waits for this process to exit,
// then deletes what is in the store's trash (see engine's trash.go) and copies the WAL into the
// database if it has grown large. Should it not start, closing the engine does both instead.
func (a *app) startTrashEmptier() error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	pidfd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		return err
	}
	pf := os.NewFile(uintptr(pidfd), "pidfd")
	defer pf.Close()
	opts := a.rt.Options()
	cmd := cpupin.CommandPinned(self, "--root", opts.Root, "--runroot", opts.RunRoot, "system", "empty-trash", "--after-fd", "3")
	cmd.ExtraFiles = []*os.File{pf}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cpupin.StartPinned(cmd); err != nil {
		return err
	}
	return cmd.Process.Release()
}

// Main runs pea with the given arguments and returns the process exit code.
func Main(args []string) int {
	if len(args) > 0 && args[0] == engine.CopierArg { // pea cp's copy, chroot'ed (engine/copier.go)
		return engine.RunCopier(args[1:])
	}
	if len(args) > 0 && args[0] == engine.TerminalHolderArg { // a detached exec's terminal (engine/exec_terminal.go)
		return engine.RunTerminalHolder()
	}
	// Most pea commands live for milliseconds and allocate a few megabytes: collecting garbage
	// costs them more than the memory. The collector only starts near the limit, and verbs that
	// may run for long get the usual collector back before they run.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(-1)
		debug.SetMemoryLimit(256 << 20)
	}
	if path := os.Getenv("PEA_CPUPROFILE"); path != "" {
		stop := startProfile(path)
		defer stop()
	}
	a := &app{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, args: append([]string{"pea"}, args...)}
	rest, target, remoteMode, err := remoteFlags(args)
	if remoteMode || err != nil { // pea --remote (remote.go)
		if err == nil {
			a.args = append([]string{"pea"}, rest...)
			if firstVerb(rest) == "compose" {
				err = runComposeRemote(a, rest, target) // compose.go
			} else {
				err = runRemote(a, rest, target)
			}
		}
		return exitCode(a.stderr, err)
	}
	args = rest
	a.args = append([]string{"pea"}, args...)
	root := newRootCommand(a)
	addCommands(root, a, args)
	root.SetArgs(args)
	err = root.Execute()
	a.close()
	trace.Mark("done")
	trace.Dump(a.stderr)
	code := exitCode(a.stderr, err)
	if a.releaseInterrupts != nil {
		a.releaseInterrupts()
	}
	return code
}

func newRootCommand(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:           "pea",
		Short:         "Manage pods, containers and images",
		Long:          "pea is a daemonless pod and container engine with podman's command line.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs, // an unknown verb reaches groupRunE, which words it as podman
		RunE:          groupRunE,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := servedCheck(cmd); err != nil {
				return err
			}
			if longRunning[cmd.Name()] {
				debug.SetGCPercent(100)
				cpupin.PreciseTimers()
			}
			if releaseFirst[cmd.Name()] {
				if err := cpupin.Release(); err != nil {
					return err
				}
			}
			if os.Geteuid() != 0 && needsNamespace(cmd.Name()) {
				// An unprivileged user's pea works inside the user's own user namespace
				// (internal/rootless): this one re-executes itself there.
				return rootless.Enter(a.opts.RunRoot, a.args[1:])
			}
			if rootless.JoinedAtStart() || os.Getenv(rootless.EnvJoined) != "" {
				rootless.EnsurePause(a.opts.RunRoot) // after a pause process that went (rootless.go)
			}
			if err := a.opts.check(a); err != nil {
				return err
			}
			if holdsInterrupts(cmd) {
				a.releaseInterrupts = holdInterrupts()
			}
			if err := setupLogging(a.stderr, a.opts.LogLevel); err != nil {
				return err
			}
			return a.loadConfig(cmd, args)
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w\nSee '%s --help'", err, c.CommandPath())}
	})
	f := root.PersistentFlags()
	defRoot, defRunRoot := engine.DefaultRoot, engine.DefaultRunRoot
	if isRootless() {
		defRoot, defRunRoot = rootless.DefaultRoot(), rootless.DefaultRunRoot()
	}
	f.StringVar(&a.opts.Root, "root", envOr("PEA_ROOT", defRoot), "path to the persistent storage (database, images, containers)")
	f.StringVar(&a.opts.RunRoot, "runroot", envOr("PEA_RUNROOT", defRunRoot), "path to the volatile state (locks, conmon files, namespaces)")
	f.StringVar(&a.opts.LogLevel, "log-level", "warn", "log messages at and above this level (debug, info, warn, error)")
	f.StringVar(&a.opts.Runtime, "runtime", "", "path or name of the OCI runtime (default crun)")
	f.StringVar(&a.opts.Namespace, "namespace", "", "work in this libpod namespace; objects of other namespaces are invisible")
	addGlobalFlags(root, a)
	// Remote mode's flags are taken out before the command is parsed (remote.go); these
	// declarations are for --help.
	var remoteHelp bool
	var remoteHelpS string
	root.Flags().BoolVarP(&remoteHelp, "remote", "r", false, "run the command on a pea service (pea system service), not here")
	root.Flags().StringVar(&remoteHelpS, "url", "", "the service of --remote: unix:///PATH, tcp://HOST:PORT, ssh://[USER@]HOST[:PORT]/PATH")
	root.Flags().StringVarP(&remoteHelpS, "connection", "c", "", "the service of --remote, by its name (pea system connection list)")
	root.Flags().StringVar(&remoteHelpS, "identity", "", "the ssh key of --remote's service")
	return root
}

// needsNamespace reports whether verb works on a store (every verb but version, help and the
// systemd generator quadlet), so that a rootless pea runs it inside the user's namespace.
func needsNamespace(verb string) bool {
	return verb != "version" && verb != "help" && verb != "pea" && verb != "quadlet" && verb != "compose" // compose's service enters it
}

// addCommands adds to root the verb args name, or every verb when args names none (help,
// completion, an unknown verb). Building only the verb at hand keeps start-up cheap: the whole
// tree costs about 0.4 ms, which every command would pay.
func addCommands(root *cobra.Command, a *app, args []string) {
	addNamed(root, a, commands, firstVerb(args))
}

// addNamed adds to parent the command of list called name, or all of them when none is (or name
// is empty).
func addNamed(parent *cobra.Command, a *app, list []command, name string) {
	if name != "" {
		for _, c := range list {
			if slices.Contains(c.names, name) {
				parent.AddCommand(c.make(a))
				return
			}
		}
	}
	for _, c := range list {
		parent.AddCommand(c.make(a))
	}
}

// groupRunE is what a group command (or pea itself) does when no subcommand matched: podman's
// usage errors, exit code 125.
func groupRunE(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("unrecognized command `%s %s`\nTry '%s --help' for more information", cmd.CommandPath(), args[0], cmd.CommandPath())}
	}
	cmd.Help()
	return usageError{fmt.Errorf("missing command '%s COMMAND'", cmd.CommandPath())}
}

// addSubcommands adds to a group command (pod, ...) only the subcommand the arguments name, as
// addCommands does for verbs; all of them for help or an unknown name.
func addSubcommands(group *cobra.Command, a *app, subs []command) {
	args := a.args[1:]
	sub := ""
	if verb := firstVerb(args); verb == group.Name() {
		sub = firstVerb(args[slices.Index(args, verb)+1:])
	}
	addNamed(group, a, subs, sub)
}

// firstVerb is the first argument that is not a global flag or a global flag's value.
func firstVerb(args []string) string {
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--":
			return ""
		case slices.Contains(globalValueFlags, arg):
			i++ // its value follows
		case strings.HasPrefix(arg, "-"):
			if !strings.Contains(arg, "=") && !strings.HasPrefix(arg, "--") {
				return "" // a shorthand we do not know: let cobra judge the whole tree
			}
		default:
			return arg
		}
	}
	return ""
}

// longRunning are the verbs that may run for minutes or more (following, attached, streaming,
// serving conmon's exit), which keep Go's usual garbage collector and get precise timers back
// (see internal/cpupin).
var longRunning = map[string]bool{"logs": true, "attach": true, "run": true, "start": true, "exec": true,
	"wait": true, "stats": true, "play": true, "kube": true, "restart": true, "stop": true, "service": true,
	"events": true, "timer": true, "compose": true}

// releaseFirst are the verbs that get every CPU back before they run (see internal/cpupin), for
// work of their own in parallel: decompressing and compressing image layers. The others keep
// the one CPU pea starts on until they start a process (conmon, the runtime, a CNI plugin,
// iptables...), which gives the CPUs back first: `create` 5.0 -> 4.0 ms, `pod create`
// 3.0 -> 2.3 ms when they gave them back up front.
var releaseFirst = map[string]bool{"pull": true, "push": true, "load": true, "save": true, "import": true, "play": true, "commit": true}

// globalValueFlags are the persistent flags that take a separate value.
var globalValueFlags = []string{"--root", "--runroot", "--log-level", "--runtime", "--namespace",
	"--hooks-dir", "--runtime-flag", "--conmon", "--cgroup-manager", "--events-backend", "--storage-driver", "--network-cmd-path", "--ssh"}

type command struct {
	names []string // the verb and its aliases
	make  func(*app) *cobra.Command
}

// commands is filled by each verb file's init, so adding a verb touches only its own file.
var commands []command

func register(f func(*app) *cobra.Command, names ...string) {
	commands = append(commands, command{names: names, make: f})
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
