package cli

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"text/template"
	"time"
)

type fastRow struct {
	ID, Name string
	Count    int
	Small    int8
	Big      uint64
	On       bool
	Tags     []string
	When     time.Time
}

func (r *fastRow) Upper() string { return strings.ToUpper(r.Name) }

// The field-list shortcut must print exactly what text/template prints, and must leave to the
// engine every template it cannot do alone.
func TestFieldListMatchesTemplate(t *testing.T) {
	rows := []any{&fastRow{ID: "a1", Name: "web", Count: -3, Small: 7, Big: 1 << 63, On: true}, &fastRow{ID: "b2", Name: "db {{x}}"}}
	for _, f := range []string{"{{.ID}}\t{{.Name}}\n", "{{ .Name }}\n", "id={{.ID}} }} name\n", "plain\n",
		"{{.Count}} {{.Small}} {{.Big}} {{.On}}\n"} {
		fl := compileFieldList(f, rows[0])
		if fl == nil {
			t.Fatalf("%q: not compiled", f)
		}
		tmpl := template.Must(template.New("").Parse(f))
		var want, got bytes.Buffer
		for _, r := range rows {
			tmpl.Execute(&want, r)
			fl.execute(&got, r)
		}
		if got.String() != want.String() {
			t.Errorf("%q: %q, template gives %q", f, got.String(), want.String())
		}
	}
	for _, f := range []string{"{{.When}}\n", "{{.Tags}}\n", "{{.Upper}}\n", "{{.Name | upper}}\n", "{{json .ID}}\n",
		"{{.Missing}}\n", "{{if .ID}}x{{end}}\n", "{{- .ID}}\n", "{{.ID\n", "{{\f.ID}}\n"} {
		if compileFieldList(f, rows[0]) != nil {
			t.Errorf("%q: compiled, but needs the template engine", f)
		}
	}
}

// alignColumns must lay out exactly what text/tabwriter lays out.
func TestAlignColumnsMatchesTabwriter(t *testing.T) {
	for _, in := range []string{
		"", "\n", "a\n", "no newline\tat end",
		"ID\tNAME\n1\tweb\n22222\tdb\n",
		"A\tB\tC\n\t\t\nxx\tyyy\tz\n",
		"É\tñé\tx\n日本語\tb\tc\n",
		"a\tb\n\n", "a\tb\nc\n", "a\tb\tc\nd\te\n",
		"a\vb\nc\td\n", "a\fb\tc\n", "a\xffb\tc\n\xff\t\n",
		"trailing\t\nx\t\n",
	} {
		if got, want := string(alignColumns([]byte(in))), string(tabwrite([]byte(in))); got != want {
			t.Errorf("%q:\n got %q\nwant %q", in, got, want)
		}
	}
}

func FuzzAlignColumns(f *testing.F) {
	f.Add("ID\tNAME\n1\tweb\n22222\tdb\n")
	f.Add("É\tñé\tx\n日本語\tb\tc\n")
	f.Fuzz(func(t *testing.T, in string) {
		if got, want := string(alignColumns([]byte(in))), string(tabwrite([]byte(in))); got != want {
			t.Errorf("%q:\n got %q\nwant %q", in, got, want)
		}
	})
}

// headerFor must turn the same actions into headers as the regular expression it replaced,
// {{\s*\.(\w+)[^}]*}}.
func TestHeaderForMatchesPattern(t *testing.T) {
	re := regexp.MustCompile(`{{\s*\.(\w+)[^}]*}}`)
	headers := map[string]string{"ID": "CONTAINER ID"}
	reference := func(f string) string {
		return re.ReplaceAllStringFunc(f, func(m string) string {
			name := re.FindStringSubmatch(m)[1]
			if h, ok := headers[name]; ok {
				return h
			}
			return splitCamel(name)
		})
	}
	for _, f := range []string{
		"{{.ID}}\t{{.Image}}\t{{.CreatedHuman}}\n", "{{ .Names | join \",\" }}\t{{.Ports}}\n",
		"{{{.ID}}}", "{{.}}", "{{ . }}", "{{json .ID}}", "{{.ID", "{{.ID}", "{{.a_b9}}x{{\t.Q }}",
		"{{.X}y}}", "{{\n.PodName}}", "no actions", "{{.ID}}{{.ID}}", "{{ {{.ID}}",
	} {
		if got, want := headerFor(f, headers), reference(f); got != want {
			t.Errorf("%q: %q, the pattern gives %q", f, got, want)
		}
	}
}

// Whatever plainTemplate lets skip the parse must be a template text/template accepts.
func TestPlainTemplateParses(t *testing.T) {
	for _, f := range []string{"{{.ID}}\t{{.Name}}\n", "x\n", "{{ .A }}{{.B}}\n"} {
		if !plainTemplate(f) {
			t.Errorf("%q: not plain", f)
		}
	}
	for _, f := range []string{"{{.ID\n", "{{.ID | upper}}\n", "{{if .A}}{{end}}\n", "a }} b\n", "{{}}\n", "{{.A.B}}\n"} {
		if plainTemplate(f) {
			t.Errorf("%q: plain", f)
		}
	}
}

func FuzzPlainTemplate(f *testing.F) {
	f.Add("{{.ID}}\t{{ .Name }}\n")
	f.Fuzz(func(t *testing.T, s string) {
		if !plainTemplate(s) {
			return
		}
		if _, err := template.New("").Parse(s); err != nil {
			t.Errorf("%q is plain but does not parse: %v", s, err)
		}
	})
}

// Whatever the field-list shortcut compiles, text/template must accept and print the same.
func FuzzFieldList(f *testing.F) {
	f.Add("{{.ID}}\t{{ .Name }}\n")
	f.Add("id={{.ID}} }} name\n")
	f.Fuzz(func(t *testing.T, format string) {
		row := &fastRow{ID: "a1", Name: "web"}
		fl := compileFieldList(format, row)
		if fl == nil {
			return
		}
		tmpl, err := template.New("").Parse(format)
		if err != nil {
			t.Fatalf("%q compiles but does not parse: %v", format, err)
		}
		var want, got bytes.Buffer
		tmpl.Execute(&want, row)
		fl.execute(&got, row)
		if got.String() != want.String() {
			t.Errorf("%q: %q, template gives %q", format, got.String(), want.String())
		}
	})
}

// render: rows the shortcut cannot print go through the template engine; an empty listing of a
// plain template prints only the header; an invalid template is an error even with no rows.
func TestRenderTable(t *testing.T) {
	tb := table{format: "{{.ID}}\t{{.Tags}}\n", headers: map[string]string{"ID": "POD ID"}}
	var b bytes.Buffer
	if err := render(&b, "", false, []any{&fastRow{ID: "a1", Tags: []string{"x"}}, &fastRow{ID: "long-id", Tags: []string{"y", "z"}}}, nil, tb); err != nil {
		t.Fatal(err)
	}
	// podman's columns: at least 12 wide, 2 spaces after the widest cell.
	if want := "POD ID      TAGS\na1          [x]\nlong-id     [y z]\n"; b.String() != want {
		t.Fatalf("table:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := render(&b, "", false, nil, nil, tb); err != nil || b.String() != "POD ID      TAGS\n" {
		t.Fatalf("empty table: %q %v", b.String(), err)
	}
	if err := render(&b, "{{.ID", false, nil, nil, tb); err == nil {
		t.Fatal("an invalid template with no rows was accepted")
	}
}
