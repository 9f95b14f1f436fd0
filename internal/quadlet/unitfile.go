package quadlet

import (
	"fmt"
	"strings"
)

// A unitFile is a systemd unit file as systemd.syntax(7) spells it: comments, [Section]
// headers, Key=Value lines; a line that ends in a backslash goes on on the next one (the
// backslash becomes a space, comment lines in between are skipped). Values are kept as written
// (quotes, escapes and %-specifiers untouched), so that the sections pea does not read are
// written back as the user wrote them.
type unitFile struct {
	filename string   // the base name: web.container
	path     string   // where it was read from
	header   []string // comment lines before the first section
	sections []*section
}

type section struct {
	name  string
	lines []entry
}

// An entry is a Key=Value line, or a comment (key "", the line in value).
type entry struct {
	key, value string
}

// parseUnit reads the unit file data, named filename.
func parseUnit(filename, path string, data []byte) (*unitFile, error) {
	u := &unitFile{filename: filename, path: path}
	var cur *section
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		l := strings.TrimSpace(lines[i])
		if l == "" {
			continue
		}
		if isComment(l) {
			if cur == nil {
				u.header = append(u.header, l)
			} else {
				cur.lines = append(cur.lines, entry{value: l})
			}
			continue
		}
		// A continued line: the backslash becomes a space; comment lines within are skipped.
		for strings.HasSuffix(l, `\`) {
			l = strings.TrimSuffix(l, `\`)
			for i+1 < len(lines) && isComment(strings.TrimSpace(lines[i+1])) {
				i++
			}
			if i+1 == len(lines) {
				break
			}
			i++
			l += " " + strings.TrimSpace(lines[i])
		}
		if l[0] == '[' {
			if !strings.HasSuffix(l, "]") || len(l) < 3 || strings.ContainsAny(l[1:len(l)-1], "[]") {
				return nil, fmt.Errorf("%s:%d: invalid section header %q", path, lineNo, l)
			}
			cur = u.ensureSection(l[1 : len(l)-1])
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("%s:%d: %q is not a Key=Value assignment", path, lineNo, l)
		}
		if cur == nil {
			return nil, fmt.Errorf("%s:%d: assignment %q outside of a section", path, lineNo, l)
		}
		cur.lines = append(cur.lines, entry{key: k, value: strings.TrimSpace(v)})
	}
	return u, nil
}

func isComment(l string) bool { return l != "" && (l[0] == '#' || l[0] == ';') }

// ensureSection returns the section called name, added at the end if there is none.
func (u *unitFile) ensureSection(name string) *section {
	if s := u.section(name); s != nil {
		return s
	}
	s := &section{name: name}
	u.sections = append(u.sections, s)
	return s
}

func (u *unitFile) section(name string) *section {
	for _, s := range u.sections {
		if s.name == name {
			return s
		}
	}
	return nil
}

// merge appends the lines of a drop-in's sections to u's, as systemd reads drop-ins.
func (u *unitFile) merge(d *unitFile) {
	for _, s := range d.sections {
		dst := u.ensureSection(s.name)
		dst.lines = append(dst.lines, s.lines...)
	}
}

// keys are the keys set in section name, in order, each once.
func (u *unitFile) keys(name string) []string {
	s := u.section(name)
	if s == nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, e := range s.lines {
		if e.key != "" && !seen[e.key] {
			seen[e.key] = true
			out = append(out, e.key)
		}
	}
	return out
}

// last is the last value of key in section sec (a later assignment overrides an earlier one).
func (u *unitFile) last(sec, key string) (string, bool) {
	s := u.section(sec)
	if s == nil {
		return "", false
	}
	for i := len(s.lines) - 1; i >= 0; i-- {
		if s.lines[i].key == key {
			return s.lines[i].value, true
		}
	}
	return "", false
}

// all is every value of a key that may be repeated; an empty assignment empties the list, as
// systemd's list settings do.
func (u *unitFile) all(sec, key string) []string {
	s := u.section(sec)
	if s == nil {
		return nil
	}
	var out []string
	for _, e := range s.lines {
		if e.key != key {
			continue
		}
		if e.value == "" {
			out = nil
			continue
		}
		out = append(out, e.value)
	}
	return out
}

// has reports whether key is set in section sec.
func (u *unitFile) has(sec, key string) bool {
	_, ok := u.last(sec, key)
	return ok
}

// add appends Key=Value to section sec (made if missing).
func (u *unitFile) add(sec, key, value string) {
	s := u.ensureSection(sec)
	s.lines = append(s.lines, entry{key: key, value: value})
}

// addDefault adds Key=Value unless the user set key in section sec.
func (u *unitFile) addDefault(sec, key, value string) {
	if !u.has(sec, key) {
		u.add(sec, key, value)
	}
}

// rename gives section from the name to.
func (u *unitFile) rename(from, to string) {
	if s := u.section(from); s != nil {
		s.name = to
	}
}

// String writes the unit file back in systemd's syntax.
func (u *unitFile) String() string {
	var b strings.Builder
	for _, h := range u.header {
		b.WriteString(h + "\n")
	}
	for i, s := range u.sections {
		if i > 0 || len(u.header) > 0 {
			b.WriteString("\n")
		}
		b.WriteString("[" + s.name + "]\n")
		for _, e := range s.lines {
			if e.key == "" {
				b.WriteString(e.value + "\n")
			} else {
				b.WriteString(e.key + "=" + e.value + "\n")
			}
		}
	}
	return b.String()
}

// clone is a deep copy of u.
func (u *unitFile) clone() *unitFile {
	c := &unitFile{filename: u.filename, path: u.path, header: append([]string(nil), u.header...)}
	for _, s := range u.sections {
		c.sections = append(c.sections, &section{name: s.name, lines: append([]entry(nil), s.lines...)})
	}
	return c
}
