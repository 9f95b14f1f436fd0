package cli

import (
	"bytes"
	"strings"
	"testing"
	"text/template"
)

type fastRow struct {
	ID, Name string
	Count    int
	Tags     []string
}

func (r *fastRow) Upper() string { return strings.ToUpper(r.Name) }

// The field-list shortcut must print exactly what text/template prints, and must leave to the
// engine every template it cannot do alone.
func TestFieldListMatchesTemplate(t *testing.T) {
	rows := []any{&fastRow{ID: "a1", Name: "web"}, &fastRow{ID: "b2", Name: "db {{x}}"}}
	for _, f := range []string{"{{.ID}}\t{{.Name}}\n", "{{ .Name }}\n", "id={{.ID}} }} name\n", "plain\n"} {
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
	for _, f := range []string{"{{.Count}}\n", "{{.Tags}}\n", "{{.Upper}}\n", "{{.Name | upper}}\n", "{{json .ID}}\n",
		"{{.Missing}}\n", "{{if .ID}}x{{end}}\n", "{{- .ID}}\n", "{{.ID\n"} {
		if compileFieldList(f, rows[0]) != nil {
			t.Errorf("%q: compiled, but needs the template engine", f)
		}
	}
}
