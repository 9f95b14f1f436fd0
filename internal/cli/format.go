package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
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

// printJSON writes v as indented JSON, as podman's --format json does.
func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

var fieldRe = lazyRegexp(`{{\s*\.(\w+)[^}]*}}`)

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
// verb gives its own name for the field in headers.
func headerFor(f string, headers map[string]string) string {
	return fieldRe().ReplaceAllStringFunc(f, func(m string) string {
		name := fieldRe().FindStringSubmatch(m)[1]
		if h, ok := headers[name]; ok {
			return h
		}
		return splitCamel(name)
	})
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
}

// render prints items according to the user's --format (empty: the default table), podman style:
// "json" prints the whole list as JSON; "table ..." prints a header and aligned columns; any other
// template is applied to each item with no header.
func render(w io.Writer, format string, noHeading bool, items []any, jsonValue any, t table) error {
	if format == "json" && jsonValue != nil {
		return printJSON(w, jsonValue)
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
	}
	format = normalizeTemplate(format)
	tmpl, err := template.New("format").Funcs(templateFuncs).Parse(format)
	if err != nil {
		return fmt.Errorf("invalid --format template: %w", err)
	}
	// One write at the end instead of one per cell: a listing of hundreds of rows otherwise costs
	// thousands of write(2) calls.
	buf := bufio.NewWriter(w)
	defer buf.Flush()
	var out io.Writer = buf
	var tw *tabwriter.Writer
	if isTable {
		tw = tabwriter.NewWriter(buf, 0, 0, 2, ' ', 0)
		out = tw
		if !noHeading {
			fmt.Fprint(tw, headerFor(format, t.headers))
		}
	}
	var fast *fieldList
	if len(items) > 0 {
		fast = compileFieldList(format, items[0])
	}
	for _, it := range items {
		if fast != nil {
			if err := fast.execute(out, it); err != nil {
				return err
			}
			continue
		}
		if err := tmpl.Execute(out, it); err != nil {
			return fmt.Errorf("--format: %w", err)
		}
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}

// renderEach applies a user template to each value (inspect --format), or prints JSON.
func renderEach(w io.Writer, format string, values []any) error {
	if format == "" || format == "json" {
		return printJSON(w, values)
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
		if err := renderEach(a.stdout, format, values); err != nil {
			return err
		}
	} else if format == "" || format == "json" {
		fmt.Fprintln(a.stdout, "[]")
	}
	return joinErrors(a, errs)
}

// removeEach removes every name, printing each one removed, and reports the failures.
func removeEach(a *app, names []string, remove func(name string) error) error {
	var errs []error
	for _, name := range names {
		if err := remove(name); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(a.stdout, name)
	}
	return joinErrors(a, errs)
}
