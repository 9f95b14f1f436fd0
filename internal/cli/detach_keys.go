package cli

import (
	"strings"

	"github.com/spf13/pflag"

	"pea/internal/detach"
)

// detachKeysFlag is --detach-keys of the verbs that attach a terminal (run, start, attach,
// exec): the sequence that leaves the terminal with the container (or exec'd process) running.
// Without the flag, containers.conf's detach_keys, else ctrl-p,ctrl-q.
type detachKeysFlag string

func (d *detachKeysFlag) register(fs *pflag.FlagSet) {
	fs.StringVar((*string)(d), "detach-keys", detach.DefaultKeys,
		`keys that detach from the terminal, comma-separated: single characters or ctrl-<a-z, @, [, \, ], ^ or _> ("" disables detaching)`)
}

// keys parses the sequence (a's containers.conf's when the flag was not given); nil: no
// detaching. An invalid one is the command's error, before anything is made.
func (d detachKeysFlag) keys(a *app) ([]byte, error) {
	seq := string(d)
	if a.cfg != nil && a.cfg.Engine.DetachKeys != "" && (a.given == nil || !a.given("detach-keys")) {
		seq = a.cfg.Engine.DetachKeys
	}
	keys, err := detach.Parse(seq)
	if err != nil {
		return nil, invalid("%v", err)
	}
	return keys, nil
}

// attachedStreams are the standard streams a foreground run connects (run -a).
type attachedStreams struct{ stdin, stdout, stderr bool }

// parseAttach reads run's -a/--attach values (stdin, stdout, stderr, in any case; commas allowed):
// with none, stdout and stderr are attached. Standard input is attached with -i alone, named or
// not, as podman's.
func parseAttach(values []string, interactive bool) (attachedStreams, error) {
	s := attachedStreams{stdin: interactive, stdout: len(values) == 0, stderr: len(values) == 0}
	for _, v := range values {
		switch strings.ToLower(v) {
		case "stdin":
		case "stdout":
			s.stdout = true
		case "stderr":
			s.stderr = true
		default:
			return s, invalid("invalid stream %q for --attach: must be one of stdin, stdout or stderr", v)
		}
	}
	return s, nil
}

func (s attachedStreams) none() bool { return !s.stdin && !s.stdout && !s.stderr }
