// Package cli is pea's command line: it parses flags, calls the engine and formats the answer.
// It knows nothing of SQLite, crun or CNI. One file per verb (or per small family of verbs), each
// with an options struct; errors are mapped to podman's exit codes in one place (exit.go).
package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"pea/internal/engine"
)

// globalOptions are the flags every command accepts.
type globalOptions struct {
	Root      string
	RunRoot   string
	LogLevel  string
	Runtime   string
	Namespace string
}

// app is what every verb gets: the global options and a lazily built engine.
type app struct {
	opts   globalOptions
	rt     *engine.Runtime
	stdout io.Writer
	stderr io.Writer
	stdin  io.Reader
	args   []string // the whole command line, for CreateCommand
}

// engine returns the runtime, opening it on first use so that commands that need no state
// (version, help) pay nothing for it.
func (a *app) engine() (*engine.Runtime, error) {
	if a.rt != nil {
		return a.rt, nil
	}
	rt, err := engine.New(engine.Options{
		Root:      a.opts.Root,
		RunRoot:   a.opts.RunRoot,
		Runtime:   a.opts.Runtime,
		Namespace: a.opts.Namespace,
		LogLevel:  a.opts.LogLevel,
	})
	if err != nil {
		return nil, err
	}
	a.rt = rt
	return rt, nil
}

func (a *app) close() {
	if a.rt != nil {
		a.rt.Close()
	}
}

// Main runs pea with the given arguments and returns the process exit code.
func Main(args []string) int {
	a := &app{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, args: append([]string{"pea"}, args...)}
	root := newRootCommand(a)
	root.SetArgs(args)
	err := root.Execute()
	a.close()
	return exitCode(a.stderr, err)
}

func newRootCommand(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:           "pea",
		Short:         "Manage pods, containers and images",
		Long:          "pea is a daemonless pod and container engine with podman's command line.",
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return setupLogging(a.stderr, a.opts.LogLevel)
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w\nSee '%s --help'", err, c.CommandPath())}
	})
	f := root.PersistentFlags()
	f.StringVar(&a.opts.Root, "root", envOr("PEA_ROOT", engine.DefaultRoot), "path to the persistent storage (database, images, containers)")
	f.StringVar(&a.opts.RunRoot, "runroot", envOr("PEA_RUNROOT", engine.DefaultRunRoot), "path to the volatile state (locks, conmon files, namespaces)")
	f.StringVar(&a.opts.LogLevel, "log-level", "warn", "log messages at and above this level (debug, info, warn, error)")
	f.StringVar(&a.opts.Runtime, "runtime", "", "path or name of the OCI runtime (default crun)")
	f.StringVar(&a.opts.Namespace, "namespace", "", "work in this libpod namespace; objects of other namespaces are invisible")
	for _, add := range commands {
		root.AddCommand(add(a))
	}
	return root
}

// commands is filled by each verb file's init, so adding a verb touches only its own file.
var commands []func(*app) *cobra.Command

func register(f func(*app) *cobra.Command) { commands = append(commands, f) }

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
