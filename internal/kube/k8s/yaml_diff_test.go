package k8s

// The differential test: pea's YAML reader against go.yaml.in/yaml/v3, which it replaced.
// yaml.v3 is a test-only dependency; it is not linked into pea.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// fromV3 turns yaml.v3's tree into ynodes, so that the converter can run on both.
func fromV3(n *yaml.Node, seen map[*yaml.Node]*ynode) *ynode {
	if y, ok := seen[n]; ok {
		return y
	}
	y := &ynode{value: n.Value, line: n.Line}
	seen[n] = y
	switch n.Kind {
	case yaml.ScalarNode:
		y.kind = yScalar
	case yaml.SequenceNode:
		y.kind = ySeq
	case yaml.MappingNode:
		y.kind = yMap
	case yaml.AliasNode:
		y.kind = yAlias
		y.alias = fromV3(n.Alias, seen)
	}
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		y.style = yDouble
	case n.Style&yaml.SingleQuotedStyle != 0:
		y.style = ySingle
	case n.Style&yaml.LiteralStyle != 0:
		y.style = yLiteral
	case n.Style&yaml.FoldedStyle != 0:
		y.style = yFolded
	}
	if n.Style&yaml.TaggedStyle != 0 {
		y.tag = n.ShortTag()
	}
	for _, c := range n.Content {
		y.content = append(y.content, fromV3(c, seen))
	}
	return y
}

func parseV3(data []byte) (root *ynode, v3 *yaml.Node, err error) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, nil, err
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return fromV3(n.Content[0], map[*yaml.Node]*ynode{}), n.Content[0], nil
	}
	return nil, nil, nil
}

// isNull says whether a root is no document at all, or an empty one.
func isNull(n *ynode) bool {
	return n == nil || n.kind == yScalar && n.style == yPlain && n.value == "" && n.tag == ""
}

// sameTree compares pea's tree (a) with yaml.v3's (b, with its nodes v) and says where they differ.
func sameTree(a *ynode, b *ynode, v *yaml.Node, pairs map[*ynode]*ynode, lines bool) string {
	if isNull(a) && isNull(b) {
		return ""
	}
	if a == nil || b == nil {
		return fmt.Sprintf("one root is missing: %v %v", a, b)
	}
	if q, ok := pairs[a]; ok {
		if q != b {
			return "aliases name different nodes"
		}
		return ""
	}
	pairs[a] = b
	where := fmt.Sprintf("node at line %d/%d %q", a.line, b.line, b.value)
	if a.kind != b.kind {
		return fmt.Sprintf("%s: kind %d, yaml.v3 %d", where, a.kind, b.kind)
	}
	if a.kind == yAlias {
		return sameTree(a.alias, b.alias, v.Alias, pairs, lines)
	}
	if lines && a.line != b.line {
		return fmt.Sprintf("%s: line %d, yaml.v3 %d", where, a.line, b.line)
	}
	tag := v.ShortTag()
	if tag == "!!timestamp" {
		tag = "!!str" // pea does not tell timestamps from strings: both stay as written
	}
	if a.shortTag() != tag {
		return fmt.Sprintf("%s: tag %s, yaml.v3 %s", where, a.shortTag(), tag)
	}
	if a.kind == yScalar && (a.value != b.value || a.style != b.style) {
		return fmt.Sprintf("%s: scalar %q (style %d), yaml.v3 %q (style %d)", where, a.value, a.style, b.value, b.style)
	}
	if len(a.content) != len(b.content) {
		return fmt.Sprintf("%s: %d children, yaml.v3 %d", where, len(a.content), len(b.content))
	}
	for i := range a.content {
		if d := sameTree(a.content[i], b.content[i], v.Content[i], pairs, lines); d != "" {
			return d
		}
	}
	return ""
}

// converted is what the converter makes of a tree for a few target types.
func converted(root *ynode) string {
	var out []string
	for _, t := range []reflect.Type{nil, reflect.TypeFor[Pod](), reflect.TypeFor[Deployment](), reflect.TypeFor[ConfigMap](), reflect.TypeFor[Service]()} {
		if root == nil {
			out = append(out, "<empty>")
			continue
		}
		c := converter{}
		tree := c.convert(root, t, "", 0)
		j, err := json.Marshal(tree)
		out = append(out, fmt.Sprintf("%s %v %q %v", j, err, c.warnings, c.err))
	}
	return strings.Join(out, "\n")
}

// diff parses data with both readers and describes how they differ ("" if they do not).
func diff(data []byte, lines bool) string {
	if bytes.Contains(data, []byte("\u0085")) || bytes.Contains(data, []byte("\u2028")) || bytes.Contains(data, []byte("\u2029")) {
		return "" // line breaks in YAML 1.1 and yaml.v3, ordinary characters in YAML 1.2 and pea
	}
	if explicitKeyInFlowSeq(data) {
		return "" // yaml.v3 is inconsistent there ("[? a]" reads, "[?, a]" does not, "[?,]" does); pea reads only "[? a]"
	}
	if bytes.Contains(bytes.TrimLeft(data, "\ufeff"), []byte("\ufeff")) {
		return "" // yaml.v3 skips a byte order mark at the start of any line; pea only at the start
	}
	mine, err, pos := parseYAMLPos(data)
	theirs, v, err3 := parseV3(data)
	if err != nil && err3 == nil && !strings.Contains(err.Error(), "expected end of document") {
		// Where yaml.v3 reads the same up to where pea found an error, the error lies in what
		// yaml.v3 does not read: what follows the document's root.
		cut, _, cerr := parseV3(normalizeBreaks(data)[:pos])
		if cerr == nil && sameTree(cut, theirs, v, map[*ynode]*ynode{}, false) == "" && v != nil {
			return ""
		}
	}
	if rest := normalizeBreaks(data)[pos:]; err == nil && err3 != nil && (bytes.HasPrefix(rest, []byte("---")) || bytes.HasPrefix(rest, []byte("..."))) {
		// yaml.v3 may fail in the next document, which it has begun to read: then it must
		// read the first one as pea does.
		cut, cv, cerr := parseV3(normalizeBreaks(data)[:pos])
		if cerr == nil && sameTree(mine, cut, cv, map[*ynode]*ynode{}, false) == "" {
			return ""
		}
	}
	switch {
	case err != nil && err3 != nil:
		return ""
	// Known differences, where pea is the one that follows YAML 1.2:
	case err3 != nil && strings.Contains(err3.Error(), "incompatible YAML document"):
		return "" // yaml.v3 reads only %YAML 1.1 documents; pea ignores the directive
	case err3 != nil && strings.Contains(err3.Error(), "unknown escape") && bytes.Contains(data, []byte(`\/`)):
		return "" // \/ is an escape of YAML 1.2
	case err3 != nil && strings.Contains(err3.Error(), "did not find expected node content") && onlyDocEnd(data):
		return "" // a document of only "..." is empty
	case err3 != nil && tabBlankLine(data):
		return "" // pea allows tabs in lines that are blank or a comment
	case err != nil && (strings.Contains(err.Error(), "invalid UTF-8") || strings.Contains(err.Error(), "control characters")):
		return "" // yaml.v3 checks only what it reads: the first document, and not always all of it
	case err != nil && strings.Contains(err.Error(), "expected end of document") && err3 == nil:
		// yaml.v3 ignores what follows a document's root: the roots must agree.
	case err != nil && !strings.Contains(err.Error(), "expected end of document"):
		return fmt.Sprintf("pea fails (%v), yaml.v3 reads it", err)
	case err3 != nil:
		return fmt.Sprintf("yaml.v3 fails (%v), pea reads it", err3)
	case err != nil:
		return fmt.Sprintf("pea fails (%v), yaml.v3 reads it", err)
	}
	if d := sameTree(mine, theirs, v, map[*ynode]*ynode{}, lines); d != "" {
		return d
	}
	if a, b := converted(mine), converted(theirs); a != b {
		return fmt.Sprintf("converted:\n%s\nyaml.v3:\n%s", a, b)
	}
	return ""
}

func tabBlankLine(data []byte) bool {
	for l := range strings.Lines(string(normalizeBreaks(data))) {
		if t := strings.TrimLeft(l, " \t"); strings.Contains(l[:len(l)-len(t)], "\t") && (strings.TrimSpace(t) == "" || t[0] == '#') {
			return true
		}
	}
	return false
}

// explicitKeyInFlowSeq says, roughly, whether a "?" stands in brackets.
func explicitKeyInFlowSeq(data []byte) bool {
	depth := 0
	for _, c := range data {
		switch {
		case c == '[':
			depth++
		case c == ']' && depth > 0:
			depth--
		case c == '?' && depth > 0:
			return true
		}
	}
	return false
}

func onlyDocEnd(data []byte) bool {
	for l := range strings.Lines(string(data)) {
		if t := strings.TrimSpace(l); t != "" && t != "..." && !strings.HasPrefix(t, "#") {
			return false
		}
	}
	return true
}

// splitDocs cuts a stream at its "---" lines, as kube's reader does.
func splitDocs(data []byte) [][]byte {
	var out [][]byte
	var cur []byte
	for l := range bytes.Lines(data) {
		t := strings.TrimRight(string(l), "\r\n")
		if t == "---" || strings.HasPrefix(t, "--- ") {
			out = append(out, cur)
			cur = append([]byte(nil), strings.TrimPrefix(t, "---")+"\n"...)
			continue
		}
		cur = append(cur, l...)
	}
	return append(out, cur)
}

// yamlCorpus gathers YAML from pea's tests and testdata, the acceptance script, and hand-made
// cases.
func yamlCorpus(t testing.TB) map[string][]byte {
	corpus := map[string][]byte{}
	add := func(name string, data []byte) {
		corpus[name] = data
		for i, d := range splitDocs(data) {
			corpus[fmt.Sprintf("%s#%d", name, i+1)] = d
		}
	}
	files, _ := filepath.Glob("../testdata/*.yaml")
	more, _ := filepath.Glob("../../../tests/*.yaml")
	for _, f := range append(files, more...) {
		if b, err := os.ReadFile(f); err == nil {
			add(f, b)
		}
	}
	goFiles, _ := filepath.Glob("../*_test.go")
	more, _ = filepath.Glob("*_test.go")
	goFiles = append(append(goFiles, more...), "../../../tests/kube_test.go")
	fset := token.NewFileSet()
	for _, f := range goFiles {
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			continue
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && strings.ContainsAny(s, ":-[{") {
					add(fset.Position(lit.Pos()).String(), []byte(s))
				}
			}
			return true
		})
	}
	if b, err := os.ReadFile("/work/shared/acceptance/07-kube.sh"); err == nil {
		parts := strings.Split(string(b), "<<'Y'\n")
		for i, p := range parts[1:] {
			if end := strings.Index(p, "\nY\n"); end >= 0 {
				add(fmt.Sprintf("07-kube.sh heredoc %d", i+1), []byte(p[:end+1]))
			}
		}
	}
	for i, s := range trickyYAML {
		add(fmt.Sprintf("tricky %d", i), []byte(s))
	}
	return corpus
}

var trickyYAML = []string{
	"", "\n", "# c\n", "---\n", "--- # c\n", "...\n", "a: 1\n...\nb: 2\n", "a: 1\n---\nb: 2\n",
	"\ufeffa: 1\n", "a: 1\r\nb:\r\n  - x\r\n  - y\r\n", "%YAML 1.2\n---\na: 1\n", "%TAG !e! tag:example.com,2000:\n---\na: !e!foo x\n",
	"a: b\n", "a:\n  b: c\n  d: e\nf: g\n", "a:\n- 1\n- 2\nb: 3\n", "a:\n    - 1\n    - 2\n", "- a\n- b\n-\n- - c\n  - d\n",
	"- name: x\n  image: y\n  ports:\n  - containerPort: 80\n    protocol: TCP\n- name: z\n",
	"- - - a\n    - b\n  - c\n", "- a: 1\n  b: 2\n- c: 3\n", "-   a: 1\n    b: 2\n", "key:   \n  value\n",
	"a: [1, 2, 3]\n", "a: {b: 1, c: [x, y]}\n", "a: [\n  1,\n  2,\n]\n", "a: {\n b: 1,\n c: 2\n}\n", "[a, b]\n", "{a: 1}\n",
	"a: [b: 1, c: 2]\n", "a: {b, c: }\n", "a: [{}, [], {x: [y]}]\n", `a: {"b":1, 'c': 2}` + "\n", "a: [a:b, http://x/y]\n",
	"a: plain text\n  continued here\n\n  and a new paragraph\n", "- multi\n  line\n- next\n", "a: x # comment\nb: y#not\n",
	"a: 'it''s'\nb: 'multi\n  line\n\n  para'\n", `a: "esc \t \n \\ \" \x41 \u00e9 \U0001F600 \/ \0 \a \b \e \f \r \v \N \_ \L \P"` + "\n",
	`a: "\t \n \\ \" \' \x41 \u00e9 \U0001F600 \0 \a \b \e \f \r \v \N \_ \L \P \	x"` + "\n",
	"a: \"fold\n  ed\\\n  joined\\\n\n  x\"\n", "a: \"  lead and trail  \"\n",
	"a: |\n  line 1\n  line 2\nb: 1\n", "a: |-\n  x\n\n", "a: |+\n  x\n\n\nb: 1\n", "a: >\n  folded\n  text\n\n  para\n    more\n  back\n",
	"a: >-\n  x\n  y\n", "a: |2\n   indented\n  base\n", "- |1\n  x\n", "a: |\n\n  after blank\n", "a: |\nb: 1\n", "a: >+\n\n", "|\n x\n y\n",
	"a: &x 1\nb: *x\n", "base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\n", "a: &a {x: 1}\nb: &b {y: 2}\nc:\n  <<: [*a, *b]\n  z: 3\n",
	"a: !!str 123\nb: !!int \"12\"\nc: !!float 1\nd: ! 12\ne: !local x\nf: !<tag:yaml.org,2002:str> 5\n", "? a\n: b\n? [c]\n: d\n", "? x\n",
	"a: yes\nb: no\nc: on\nd: ~\ne: null\nf: Null\ng: NULL\nh:\ni: true\nj: False\nk: TRUE\n",
	"n: [0x1F, 0o17, 017, 0b101, -0b101, +12, 1_000, 1.5, 1.50, .5, -.5e3, 1e3, 1E-3, .inf, -.Inf, .nan, +.inf, 08, 1e400, 9999999999999999999, 99999999999999999999, 0x, 0b2, 0o8, -0o17, 0b+1, 2001-12-14, 1:20, -, +, ., 1., +1_0]\n",
	"a: &anc\n  b: 1\nc: *anc\n", "&root\na: 1\n", "!!map\na: 1\n", "a: &x\nb: *x\n", "a: !!str\nb: 1\n",
	"a:\tb\n", "a: b\t# c\n", "a: 'x'  # c\n", "a: \"x\"\nb: [1, 2] # c\n", "'quoted key': 1\n\"dq key\": 2\n",
	"a: b: c\n", "a: 1\n b: 2\n", "a: 1\n\tb: 2\n", "a:\n  b: 1\n c: 2\n", "- a\nb: 1\n", "a: [1, 2\n", "a: {b: 1\n", "a: 'x\n",
	"a: \"x\n", "a: *nope\n", "a: &a [*a]\n", "a: |0\n x\n", "- a\n - b\n", "a: 1\n- b\n", "key: value\n  more: x\n", "[a, b]: c\n",
	"a: -1\nb: - 1\n", "a: @x\n", "a: `x`\n", "a: %x\n", "a: \"\\q\"\n", "a: \"\\x4\"\n", "a: \"\\uD800\"\n", "--- a\n--- b\n", "--- |\n  x\n",
	"a:\n  - b\n  -\n  - c: 1\n    d: 2\n  - [e]\n", "a: # comment\n  b: 1\n", "a:\n\n\n  b: 1\n", "a:\n  # c\n  b: 1\n# c\nc: 2\n",
	"a: 1 # c\n# c\n\n", "x: |\n  #not comment\n", "x: 'a # b'\n", "s: [a, 'b', \"c\", {d: e}]\n", "? a\n? b\n", "a: ? b\n",
	"- ? a\n  : b\n", "a:\n  ? b\n  : c\n", "- !!str\n- !!null ''\n", "a: !!binary aGk=\n", "a: 1\na: 2\n", "<<: {a: 1}\nb: 2\n",
	"a: {<<: {b: 1}, c: 2}\n", "'<<': {a: 1}\n", "[a, [b, [c]]]\n", "{a: {b: {c: d}}}\n", "a: [b,\nc]\n", "a: [b\n  c]\n", "a: \"b\n c\"\n",
	"  a: 1\n  b: 2\n", "  - a\n  - b\n", "-\n  a: 1\n", "- \n  - a\n", "a:\n-\n  b\n", "a: >\n\n  x\n\n\n", "a: >\n x\n\n y\n  z\n w\n",
	"a: |\n  x\n   y\n  z\n", "a: '\n  x\n  '\n", "a:   \"x\"   \n", "a: b\n...\n", "a: b\n... # c\n", "1: one\n2.5: x\ntrue: t\n~: n\n",
	"[a, b, ]\n", "{a: 1, }\n", "[,]\n", "[a,,b]\n", "a: [b]c\n", "a: {b: c}d\n", "- &a x\n- *a\n- &b\n  k: v\n- *b\n",
	"&a a: b\n*a : c\n",
	// Found by fuzzing against yaml.v3.
	"!", ":", "&000: x\n", "!00 :", "  !0 -", "{,0}", "[:]", "[: a]", "{: a}", "[? a]", "{? a}", "[?]", "{?}", "[?, a]", "{?, a}", "[? : b]", "{? : b}", "!!! 0", "0: !!", "!<>", "!<\">", "%\n---",
	"-\t", "- \tx", "?\t", "-\n|", "a:\n|\n x\n", "x:\n  a:\n  |\n   z\n  b: 1\n", "{0\n: }", "--- -", "!\n&0 0", "<<:\n", "!%80", "!%41 x",
	"%TAG ! \"\n---", "%TAG ! %\n---", "%TAG !e! a%41\n---\n!e!b x\n", "!0\n!0\t00", "0\n--- 000:", " 000:\né0", "\t000", "!0 ", "a:\n  b\n  c: d\n", "a: " + strings.Repeat("k", 1030) + ": v\n", "- !!str &x y\n- *x\n", "a: \"\\\n  b\"\n", "a: 'b\n\n\n  c'\n", "a:\n  |\n  x\n", "a: x\n\n\n",
}

func TestYAMLDiff(t *testing.T) {
	corpus := yamlCorpus(t)
	if len(corpus) < 200 {
		t.Fatalf("only %d cases in the corpus", len(corpus))
	}
	for name, data := range corpus {
		if d := diff(data, true); d != "" {
			t.Errorf("%s %q:\n%s", name, data, d)
		}
	}
}

func FuzzYAMLDiff(f *testing.F) {
	for _, data := range yamlCorpus(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if d := diff(data, false); d != "" {
			t.Errorf("%q:\n%s", data, d)
		}
	})
}
