package engine

// The instructions of a Containerfile beyond the config changes image.ApplyChanges knows:
// SHELL, HEALTHCHECK, ONBUILD's triggers and here-documents (RUN <<EOF, COPY <<EOF /path).

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"pea/internal/errdefs"
	"pea/internal/image"
)

// heredoc is one here-document of an instruction: <<NAME, <<-NAME (leading tabs stripped),
// <<"NAME" or <<'NAME' (quoted: no ARG expansion in it).
type heredoc struct {
	name, body    string
	strip, quoted bool
	word          string // as written: <<-"EOF"
}

// bare reports whether rest is the here-document's marker alone.
func (d heredoc) bare(rest string) bool { return strings.TrimSpace(rest) == d.word }

// heredocMarkers finds the here-document markers of an instruction's text, in order: not in
// a JSON (exec) form, nor inside quotes.
func heredocMarkers(s string) []heredoc {
	if strings.HasPrefix(s, "[") {
		return nil
	}
	var out []heredoc
	var inQuote byte
	for i := 0; i+2 < len(s); i++ {
		switch c := s[i]; {
		case inQuote != 0:
			if c == inQuote {
				inQuote = 0
			} else if c == '\\' && inQuote == '"' {
				i++
			}
			continue
		case c == '\\':
			i++
			continue
		case c == '"' || c == '\'':
			inQuote = c
			continue
		}
		if s[i] != '<' || s[i+1] != '<' || (i > 0 && s[i-1] == '<') {
			continue
		}
		j := i + 2
		d := heredoc{}
		if j < len(s) && s[j] == '-' {
			d.strip = true
			j++
		}
		var quote byte
		if j < len(s) && (s[j] == '"' || s[j] == '\'') {
			quote, d.quoted = s[j], true
			j++
		}
		k := j
		for k < len(s) && (s[k] == '_' || s[k] >= 'a' && s[k] <= 'z' || s[k] >= 'A' && s[k] <= 'Z' || k > j && s[k] >= '0' && s[k] <= '9') {
			k++
		}
		if k == j {
			continue // << not followed by a word: a shift, or <<<
		}
		d.name = s[j:k]
		if quote != 0 {
			if k >= len(s) || s[k] != quote {
				continue
			}
			k++
		}
		d.word = s[i:k]
		out = append(out, d)
		i = k - 1
	}
	return out
}

// shellStep is SHELL ["executable", "parameters"...]: the shell of later shell-form commands.
func (b *builder) shellStep(arg string) error {
	var sh []string
	if err := json.Unmarshal([]byte(arg), &sh); err != nil || len(sh) == 0 {
		return fmt.Errorf("SHELL %s: needs a JSON array, as SHELL [\"/bin/sh\", \"-c\"]: %w", arg, errdefs.ErrInvalid)
	}
	b.conf.Shell = sh
	b.dirty = true
	return nil
}

// commandStep is CMD or ENTRYPOINT: the JSON form as it is, the shell form run by the shell
// (SHELL's, else /bin/sh -c).
func (b *builder) commandStep(cmd, arg string) error {
	var argv []string
	isJSON := strings.HasPrefix(arg, "[") && json.Unmarshal([]byte(arg), &argv) == nil
	switch {
	case isJSON:
	case strings.TrimSpace(arg) == "":
		return fmt.Errorf("%s needs a command: %w", cmd, errdefs.ErrInvalid)
	default: // the shell form (also what is not a JSON array, as Docker reads it)
		argv = append(b.shell(), arg)
	}
	if cmd == "CMD" {
		b.conf.Cmd, b.cmdSet = argv, true
	} else {
		b.conf.Entrypoint = argv
		if !b.cmdSet {
			b.conf.Cmd = nil // as Docker: an ENTRYPOINT drops the CMD the base image had
		}
	}
	b.dirty = true
	return nil
}

// healthcheckStep is HEALTHCHECK NONE or HEALTHCHECK [--interval=D --timeout=D
// --start-period=D --start-interval=D --retries=N] CMD command (shell or JSON form).
func (b *builder) healthcheckStep(in instruction, arg string) error {
	bad := func(why string) error {
		return fmt.Errorf("HEALTHCHECK %s: %s: %w", strings.TrimSpace(in.String()[len("HEALTHCHECK"):]), why, errdefs.ErrInvalid)
	}
	kind, rest, _ := strings.Cut(strings.TrimSpace(arg), " ")
	switch strings.ToUpper(kind) {
	case "NONE":
		if len(in.flags) > 0 || strings.TrimSpace(rest) != "" {
			return bad("NONE takes no options nor command")
		}
		b.conf.Healthcheck = &image.HealthConfig{Test: []string{"NONE"}}
		b.dirty = true
		return nil
	case "CMD":
	default:
		return bad("use HEALTHCHECK [OPTIONS] CMD command, or HEALTHCHECK NONE")
	}
	hc := &image.HealthConfig{}
	for k, v := range in.flags {
		var d time.Duration
		var err error
		if k != "retries" {
			if d, err = time.ParseDuration(v); err != nil || d < 0 {
				return bad("--" + k + " needs a duration, as 30s")
			}
		}
		switch k {
		case "interval":
			hc.Interval = d
		case "timeout":
			hc.Timeout = d
		case "start-period":
			hc.StartPeriod = d
		case "start-interval": // kept by Docker's newer configs; pea runs checks at --interval
		case "retries":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return bad("--retries needs a number")
			}
			hc.Retries = n
		default:
			return bad("unknown option --" + k)
		}
	}
	rest = strings.TrimSpace(rest)
	switch {
	case rest == "":
		return bad("CMD needs a command")
	case strings.HasPrefix(rest, "["):
		var argv []string
		if err := json.Unmarshal([]byte(rest), &argv); err != nil || len(argv) == 0 {
			return bad("CMD [...] needs a JSON array of strings")
		}
		hc.Test = append([]string{"CMD"}, argv...)
	default:
		hc.Test = []string{"CMD-SHELL", rest}
	}
	b.conf.Healthcheck = hc
	b.dirty = true
	return nil
}

// onBuildTriggers runs the ONBUILD instructions of the image a stage starts from (they are
// the base image's, not the new one's: the new image does not carry them on).
func (b *builder) onBuildTriggers(ctx context.Context, seenFrom *bool) error {
	triggers := b.conf.OnBuild
	if len(triggers) == 0 {
		return nil
	}
	b.conf.OnBuild = nil
	b.dirty = true
	for _, t := range triggers {
		ins, err := parseContainerfile([]byte(t + "\n"))
		if err != nil {
			return fmt.Errorf("ONBUILD %s: %w", t, err)
		}
		for _, in := range ins {
			switch in.cmd {
			case "FROM", "ONBUILD", "MAINTAINER":
				return fmt.Errorf("ONBUILD %s: %s is not allowed as a trigger: %w", t, in.cmd, errdefs.ErrInvalid)
			}
			fmt.Fprintf(b.o.Stdout, "--> ONBUILD %s\n", in)
			if err := b.do(ctx, in, seenFrom); err != nil {
				return fmt.Errorf("ONBUILD %s: %w", t, err)
			}
		}
	}
	return nil
}

// targetEnd is the index of the instruction after the stage named target (the next FROM, or
// the end); -1 when no stage has that name.
func targetEnd(ins []instruction, target string) int {
	in := false
	for i, x := range ins {
		if x.cmd != "FROM" {
			continue
		}
		if in {
			return i
		}
		f := strings.Fields(x.rest)
		in = len(f) == 3 && strings.EqualFold(f[1], "AS") && strings.EqualFold(f[2], target)
	}
	if in {
		return len(ins)
	}
	return -1
}

// setEnvVar sets k=v in env, in place of an earlier value of k.
func setEnvVar(env []string, k, v string) []string {
	env = slices.Clone(env) // not the base image's own
	for i, kv := range env {
		if strings.HasPrefix(kv, k+"=") {
			env[i] = k + "=" + v
			return env
		}
	}
	return append(env, k+"="+v)
}

// platformArg is the value of an ARG Docker and buildah define for the platform (TARGETARCH,
// BUILDPLATFORM...: the build's and the target's are this machine's), "" for any other name.
func platformArg(name string) string {
	kind, ok := strings.CutPrefix(name, "TARGET")
	if !ok {
		if kind, ok = strings.CutPrefix(name, "BUILD"); !ok {
			return ""
		}
	}
	switch kind {
	case "PLATFORM":
		return "linux/" + runtime.GOARCH
	case "OS":
		return "linux"
	case "ARCH":
		return runtime.GOARCH
	}
	return "" // VARIANT: none on amd64 and arm64
}
