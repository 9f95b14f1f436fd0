package engine

// The Containerfile's lines as instructions, and ARG expansion in them.

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"pea/internal/errdefs"
)

// instruction is one parsed line of a Containerfile.
type instruction struct {
	cmd    string            // upper case: FROM, RUN, ...
	flags  map[string]string // --chown=..., --from=...
	mounts []string          // RUN's --mount=... values, in order (the flag repeats)
	rest   string            // what follows the instruction and its flags
	line   int
	docs   []heredoc // the here-documents rest names (<<EOF), in order
}

func (in instruction) String() string {
	s := in.cmd
	for _, k := range slices.Sorted(maps.Keys(in.flags)) {
		s += " --" + k + "=" + in.flags[k]
	}
	for _, m := range in.mounts {
		s += " --mount=" + m
	}
	return s + " " + in.rest
}

// parseContainerfile splits a Containerfile into instructions: comments and blank lines go,
// a line ending in a backslash continues on the next.
func parseContainerfile(b []byte) ([]instruction, error) {
	var out []instruction
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var cur strings.Builder
	start, n := 0, 0
	flush := func() error {
		text := strings.TrimSpace(cur.String())
		cur.Reset()
		if text == "" {
			return nil
		}
		cmd, rest, _ := strings.Cut(text, " ")
		if i := strings.IndexAny(text, " \t"); i >= 0 {
			cmd, rest = text[:i], strings.TrimSpace(text[i+1:])
		}
		in := instruction{cmd: strings.ToUpper(cmd), flags: map[string]string{}, line: start}
		for strings.HasPrefix(rest, "--") {
			f, r, _ := strings.Cut(rest, " ")
			k, v, ok := strings.Cut(strings.TrimPrefix(f, "--"), "=")
			if !ok && k == "link" { // COPY/ADD --link, a flag alone
				v, ok = "true", true
			}
			if !ok {
				return fmt.Errorf("line %d: %s: flag --%s needs a value (--%s=VALUE): %w", start, in.cmd, k, k, errdefs.ErrInvalid)
			}
			if k == "mount" {
				in.mounts = append(in.mounts, v)
			} else {
				in.flags[k] = v
			}
			rest = strings.TrimSpace(r)
		}
		in.rest = rest
		if in.cmd == "RUN" || in.cmd == "COPY" || in.cmd == "ADD" {
			in.docs = heredocMarkers(rest)
		}
		// The here-documents' bodies are the lines that follow, each up to its terminator.
		for i := range in.docs {
			var body strings.Builder
			ended := false
			for sc.Scan() {
				n++
				line := sc.Text()
				if in.docs[i].strip {
					line = strings.TrimLeft(line, "\t")
				}
				if line == in.docs[i].name {
					ended = true
					break
				}
				body.WriteString(line + "\n")
			}
			if !ended {
				return fmt.Errorf("line %d: %s: the here-document <<%s has no terminating %s line: %w", start, in.cmd, in.docs[i].name, in.docs[i].name, errdefs.ErrInvalid)
			}
			in.docs[i].body = body.String()
		}
		out = append(out, in)
		return nil
	}
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 {
			if trimmed == "" || strings.HasPrefix(trimmed, "#") {
				continue
			}
			start = n
		} else if strings.HasPrefix(trimmed, "#") {
			continue // a comment inside a continued instruction
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\"))
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(trimmed)
		if err := flush(); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// expandArgs replaces $NAME, ${NAME}, ${NAME:-default} and ${NAME:+alt} from vars; \$ stays a
// dollar sign. Unknown names expand to nothing, as Docker's.
func expandArgs(s string, vars map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		if c != '$' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		if s[i+1] == '{' {
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				b.WriteString(s[i:])
				break
			}
			expr := s[i+2 : i+end]
			i += end
			name, word, op := expr, "", ""
			if j := strings.Index(expr, ":-"); j >= 0 {
				name, word, op = expr[:j], expr[j+2:], "-"
			} else if j := strings.Index(expr, ":+"); j >= 0 {
				name, word, op = expr[:j], expr[j+2:], "+"
			}
			v, ok := vars[name]
			switch {
			case op == "-" && (!ok || v == ""):
				v = word
			case op == "+":
				if ok && v != "" {
					v = word
				} else {
					v = ""
				}
			}
			b.WriteString(v)
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || j > i+1 && s[j] >= '0' && s[j] <= '9') {
			j++
		}
		if j == i+1 {
			b.WriteByte(c)
			continue
		}
		b.WriteString(vars[s[i+1:j]])
		i = j - 1
	}
	return b.String()
}
