package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/template"
	"unicode"
)

// templateFuncs are the helpers podman offers inside --format templates.
var templateFuncs = template.FuncMap{
	"json": func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	},
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
	"join":  strings.Join,
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"truncate": func(s string, n int) string {
		if len(s) > n {
			return s[:n]
		}
		return s
	},
}

// jsonStyle is how a command's JSON is indented: podman 4.3's commands print theirs with
// different encoders, and pea prints each as podman does.
type jsonStyle int

const (
	jsonFour    jsonStyle = iota // images, secret inspect, manifest inspect ... (the default)
	jsonFive                     // inspect (container, image, pod, network, volume), diff, pod stats
	jsonTwo                      // ps, pod ps, network ls, volume ls, info
	jsonOne                      // stats
	jsonCompact                  // version, history: one line
)

func (s jsonStyle) indent() string {
	return [...]string{jsonFour: "    ", jsonFive: "     ", jsonTwo: "  ", jsonOne: " ", jsonCompact: ""}[s]
}

// printJSON writes v as JSON indented by four spaces.
func printJSON(w io.Writer, v any) error { return printJSONStyle(w, v, jsonFour) }

// printJSONStyle writes v as JSON in style.
func printJSONStyle(w io.Writer, v any, style jsonStyle) error {
	var b []byte
	var err error
	if style == jsonCompact {
		b, err = json.Marshal(v)
	} else {
		b, err = json.MarshalIndent(v, "", style.indent())
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// normalizeTemplate turns podman's shorthand (\t, \n written literally) into real characters and
// makes sure every line ends in a newline.
func normalizeTemplate(f string) string {
	f = strings.ReplaceAll(f, `\t`, "\t")
	f = strings.ReplaceAll(f, `\n`, "\n")
	if !strings.HasSuffix(f, "\n") {
		f += "\n"
	}
	return f
}

// headerFor derives a column header from a template: {{.ContainerID}} → "CONTAINER ID", unless the
// verb gives its own name for the field in headers. Every action that starts with a field
// ({{.Name}}, {{ .Names | join }}, ...) becomes that field's header; other text stays.
func headerFor(f string, headers map[string]string) string {
	var b strings.Builder
	for {
		i := strings.Index(f, "{{")
		if i < 0 {
			b.WriteString(f)
			return b.String()
		}
		b.WriteString(f[:i])
		name, n := fieldAction(f[i:])
		if n == 0 {
			b.WriteByte('{')
			f = f[i+1:]
			continue
		}
		if h, ok := headers[name]; ok {
			b.WriteString(h)
		} else {
			b.WriteString(splitCamel(name))
		}
		f = f[i+n:]
	}
}

// fieldAction matches an action that starts with a field at the start of s: "{{", blanks, ".",
// the field's name, anything but "}", "}}". It returns the name and the action's length, or a
// length of 0 when s does not start with one.
func fieldAction(s string) (string, int) {
	i := 2 // past "{{"
	for i < len(s) && strings.IndexByte(" \t\n\r\f", s[i]) >= 0 {
		i++
	}
	if i >= len(s) || s[i] != '.' {
		return "", 0
	}
	i++
	start := i
	for i < len(s) && isWordByte(s[i]) {
		i++
	}
	if i == start {
		return "", 0
	}
	name := s[start:i]
	end := strings.IndexByte(s[i:], '}')
	if end < 0 || !strings.HasPrefix(s[i+end:], "}}") {
		return "", 0
	}
	return name, i + end + 2
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func splitCamel(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if i > 0 && unicode.IsUpper(r) && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
			b.WriteByte(' ')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// table describes how a listing prints by default.
type table struct {
	format  string            // default row template, e.g. "{{.ID}}\t{{.Name}}"
	headers map[string]string // header overrides per field
	json    jsonStyle         // how --format json indents
}

// render prints items according to the user's --format (empty: the default table), podman style:
// "json" prints the whole list as JSON; "table ..." prints a header and aligned columns; any other
// template is applied to each item with no header.
func render(w io.Writer, format string, noHeading bool, items []any, jsonValue any, t table) error {
	if format == "json" && jsonValue != nil {
		return printJSONStyle(w, jsonValue, t.json)
	}
	isTable := false
	switch {
	case format == "":
		format, isTable = t.format, true
	case strings.HasPrefix(format, "table"):
		format, isTable = strings.TrimSpace(strings.TrimPrefix(format, "table")), true
		if format == "" {
			format = t.format
		}
		// podman's tables take every space of the template for a column break, even one
		// inside an action's string.
		format = strings.ReplaceAll(format, " ", "\t")
	}
	format = normalizeTemplate(format)
	var fast *fieldList
	if len(items) > 0 {
		fast = compileFieldList(format, items[0])
	}
	var tmpl *template.Template
	if fast == nil && (len(items) > 0 || !plainTemplate(format)) {
		var err error
		if tmpl, err = template.New("format").Funcs(templateFuncs).Parse(format); err != nil {
			return fmt.Errorf("invalid --format template: %w", err)
		}
	}
	var out bytes.Buffer
	if isTable && !noHeading {
		out.WriteString(headerFor(format, t.headers))
	}
	for _, it := range items {
		if fast != nil {
			fast.execute(&out, it)
			continue
		}
		if err := tmpl.Execute(&out, it); err != nil {
			return fmt.Errorf("--format: %w", err)
		}
	}
	b := out.Bytes()
	if isTable {
		b = alignColumns(b)
	}
	// One write for the whole listing: hundreds of rows otherwise cost thousands of write(2)s.
	_, err := w.Write(b)
	return err
}

// renderEach applies a user template to each value (inspect --format), or prints JSON in
// style.
func renderEach(w io.Writer, format string, values []any, style jsonStyle) error {
	if format == "" || format == "json" {
		return printJSONStyle(w, values, style)
	}
	tmpl, err := template.New("format").Funcs(templateFuncs).Parse(normalizeTemplate(format))
	if err != nil {
		return fmt.Errorf("invalid --format template: %w", err)
	}
	for _, v := range values {
		if err := tmpl.Execute(w, v); err != nil {
			return fmt.Errorf("--format: %w", err)
		}
	}
	return nil
}

// inspectEach looks up every name, prints what was found (JSON array or the template per
// value; an empty JSON array when nothing was), and reports the failures as podman does.
func inspectEach(a *app, names []string, format string, lookup func(name string) (any, error)) error {
	return inspectEachStyle(a, names, format, jsonFive, lookup)
}

// inspectNormalize rewrites the field names podman's inspect takes besides the views' own: an
// action that is only .Id is .ID, .Src and .Dst are a mount's .Source and .Destination, .ImageID
// is a container's .Image, and for an image .Config.Healthcheck is its .HealthCheck.
func inspectNormalize(format string, image bool) string {
	var b strings.Builder
	for rest := format; ; {
		i := strings.Index(rest, "{{")
		if i < 0 {
			b.WriteString(rest)
			break
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:i])
		if strings.TrimSpace(rest[i+2:i+j]) == ".Id" {
			b.WriteString("{{.ID}}")
		} else {
			b.WriteString(rest[i : i+j+2])
		}
		rest = rest[i+j+2:]
	}
	pairs := []string{".Src", ".Source", ".Dst", ".Destination", ".ImageID", ".Image"}
	if image {
		pairs = append(pairs, ".Config.Healthcheck", ".HealthCheck")
	}
	return strings.NewReplacer(pairs...).Replace(b.String())
}

// inspectEachStyle is inspectEach whose JSON is in style.
func inspectEachStyle(a *app, names []string, format string, style jsonStyle, lookup func(name string) (any, error)) error {
	if format != "" && format != "json" {
		format = inspectNormalize(format, false)
	}
	var values []any
	var errs []error
	for _, name := range names {
		v, err := lookup(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		values = append(values, v)
	}
	if len(values) > 0 {
		if err := renderEach(a.stdout, format, values, style); err != nil {
			return err
		}
	} else if format == "" || format == "json" {
		fmt.Fprintln(a.stdout, "[]")
	}
	return joinErrors(a, errs)
}

// removeEach removes every name, printing what remove returns for each one removed (the name,
// or an ID), and reports the failures.
func removeEach(a *app, names []string, remove func(name string) (string, error)) error {
	var errs []error
	for _, name := range names {
		shown, err := remove(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(a.stdout, shown)
	}
	return joinErrors(a, errs)
}
