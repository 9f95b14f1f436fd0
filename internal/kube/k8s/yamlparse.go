package k8s

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file is pea's YAML reader, written for pea (it replaced go.yaml.in/yaml/v3, whose
// package init cost every pea command ~0.08 ms): YAML 1.2 as Kubernetes manifests use it, read
// into a tree of nodes that yaml.go converts to JSON. It reads block mappings and sequences
// (with kubectl's forms: "- name: x" and lists at their key's indentation), flow collections,
// the five scalar styles, anchors, aliases, merge keys, tags, %YAML/%TAG directives and
// explicit keys; of a stream it reads the first document. Plain scalars resolve by the core
// schema (see resolvePlain). Where yaml.v3 departs from the spec in what it accepts, this
// reader mostly follows yaml.v3, so that manifests read as before; yaml_diff_test.go compares
// the two.

type yKind uint8

const (
	yScalar yKind = iota + 1
	ySeq
	yMap
	yAlias
)

type yStyle uint8

const (
	yPlain yStyle = iota
	ySingle
	yDouble
	yLiteral
	yFolded
)

// ynode is one node of a document.
type ynode struct {
	kind    yKind
	style   yStyle // of a scalar
	tag     string // an explicit tag ("!!str", "!local"), or ""
	value   string
	content []*ynode // a sequence's items; a mapping's keys and values, alternating
	alias   *ynode   // what an alias names
	line    int
}

// shortTag is the node's tag: the explicit one, or what it resolves to ("!!str", "!!int", …).
func (n *ynode) shortTag() string {
	if n.tag != "" {
		return n.tag
	}
	switch n.kind {
	case ySeq:
		return "!!seq"
	case yMap:
		return "!!map"
	case yScalar:
		if n.style != yPlain {
			return "!!str"
		}
		if n.value == "<<" {
			return "!!merge"
		}
		return resolvePlain(n.value)
	}
	return ""
}

// resolvePlain resolves a plain scalar by the core schema: null (empty, ~, null), booleans
// (true, false; in three cases each), integers (decimal, 0x, 0o, 0b, 0-prefixed octal; _ may
// separate digits), floats (with .inf and .nan), and otherwise strings.
func resolvePlain(s string) string {
	if s == "" {
		return "!!null"
	}
	switch s {
	case "~", "null", "Null", "NULL":
		return "!!null"
	case "true", "True", "TRUE", "false", "False", "FALSE":
		return "!!bool"
	case ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF":
		return "!!float"
	}
	switch c := s[0]; {
	case c == '.':
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			return "!!float"
		}
	case c == '+' || c == '-' || c >= '0' && c <= '9':
		d := strings.ReplaceAll(s, "_", "")
		if _, err := strconv.ParseInt(d, 0, 64); err == nil {
			return "!!int"
		}
		if _, err := strconv.ParseUint(d, 0, 64); err == nil {
			return "!!int"
		}
		if floatSyntax(d) {
			if _, err := strconv.ParseFloat(d, 64); err == nil {
				return "!!float"
			}
		}
		// Prefixed forms ParseInt refused (a sign after the prefix, or too large).
		for _, pre := range []struct {
			p    string
			base int
		}{{"0b", 2}, {"0o", 8}} {
			if rest, ok := strings.CutPrefix(d, pre.p); ok {
				if _, err := strconv.ParseInt(rest, pre.base, 64); err == nil {
					return "!!int"
				}
				if _, err := strconv.ParseUint(rest, pre.base, 64); err == nil {
					return "!!int"
				}
			} else if rest, ok := strings.CutPrefix(d, "-"+pre.p); ok {
				if _, err := strconv.ParseInt("-"+rest, pre.base, 64); err == nil {
					return "!!int"
				}
			}
		}
	}
	return "!!str"
}

// floatSyntax says whether s is [-+]?(.D+|D+(.D*)?)([eE][-+]?D+)?, D a decimal digit.
func floatSyntax(s string) bool {
	digits := func(i int) int {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		return j - i
	}
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	if i < len(s) && s[i] == '.' {
		n := digits(i + 1)
		if n == 0 {
			return false
		}
		i += 1 + n
	} else {
		n := digits(i)
		if n == 0 {
			return false
		}
		i += n
		if i < len(s) && s[i] == '.' {
			i += 1 + digits(i+1)
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		n := digits(i)
		if n == 0 {
			return false
		}
		i += n
	}
	return i == len(s)
}

// yamlSyntaxError is a malformed document; parse panics with it and ParseYAML recovers it.
type yamlSyntaxError struct {
	err error
	pos int // where in the (normalized) source the reader stopped
}

// Nesting bound of the parser (the converter has its own, lower one).
const maxParseDepth = 10000

type yparser struct {
	src        []byte
	pos        int
	line       int // 1-based line of pos
	lineStart  int // offset of that line's first byte
	flow       int // depth of flow collections around pos
	anchors    map[string]*ynode
	handles    map[string]string // %TAG directives
	trailing   error             // content after the root node (which parseYAML returns too)
	markerLine int               // the line of the "---" that starts the document
}

// parseYAML reads the first document of src: its root node, or nil when it has none.
func parseYAML(src []byte) (root *ynode, err error) {
	root, err, _ = parseYAMLPos(src)
	return root, err
}

// parseYAMLPos is parseYAML that also says where in the normalized source an error was found.
func parseYAMLPos(src []byte) (root *ynode, err error, pos int) {
	p := &yparser{src: normalizeBreaks(src), line: 1, anchors: map[string]*ynode{}}
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(yamlSyntaxError)
			if !ok {
				panic(r)
			}
			root, err, pos = nil, se.err, se.pos
		}
	}()
	p.checkChars()
	root = p.document()
	return root, p.trailing, p.pos
}

// normalizeBreaks drops byte order marks at the start and turns CRLF and CR line breaks into LF.
func normalizeBreaks(src []byte) []byte {
	for ok := true; ok; {
		src, ok = bytes.CutPrefix(src, []byte("\ufeff"))
	}
	if bytes.IndexByte(src, '\r') < 0 {
		return src
	}
	s := strings.ReplaceAll(string(src), "\r\n", "\n")
	return []byte(strings.ReplaceAll(s, "\r", "\n"))
}

// failAt stops parsing with an error naming a line and column.
func (p *yparser) failAt(line, col int, format string, args ...any) {
	panic(yamlSyntaxError{fmt.Errorf("yaml: line %d: %s (column %d)", line, fmt.Sprintf(format, args...), col), p.pos})
}

// fail stops parsing with an error at the current position.
func (p *yparser) fail(format string, args ...any) {
	panic(p.errorHere(format, args...))
}

func (p *yparser) errorHere(format string, args ...any) yamlSyntaxError {
	col := utf8.RuneCount(p.src[p.lineStart:min(p.pos, len(p.src))]) + 1
	return yamlSyntaxError{fmt.Errorf("yaml: line %d: %s (column %d)", p.line, fmt.Sprintf(format, args...), col), p.pos}
}

// failLine stops parsing with an error naming a line only.
func (p *yparser) failLine(line int, format string, args ...any) {
	panic(yamlSyntaxError{fmt.Errorf("yaml: line %d: %s", line, fmt.Sprintf(format, args...)), p.pos})
}

// checkChars rejects what YAML does not allow in a stream: invalid UTF-8, control characters.
func (p *yparser) checkChars() {
	line, start := 1, 0
	for i := 0; i < len(p.src); {
		r, size := utf8.DecodeRune(p.src[i:])
		ok := r == '\t' || r == '\n' || r >= 0x20 && r <= 0x7e || r == 0x85 || r >= 0xa0 && r <= 0xd7ff ||
			r >= 0xe000 && r <= 0xfffd || r >= 0x10000 && r <= 0x10ffff
		if r == utf8.RuneError && size <= 1 {
			p.failAt(line, utf8.RuneCount(p.src[start:i])+1, "invalid UTF-8")
		}
		if !ok {
			p.failAt(line, utf8.RuneCount(p.src[start:i])+1, "control characters are not allowed")
		}
		if r == '\n' {
			line, start = line+1, i+1
		}
		i += size
	}
}

func (p *yparser) peek(off int) byte {
	if i := p.pos + off; i < len(p.src) {
		return p.src[i]
	}
	return 0
}

func (p *yparser) eof() bool { return p.pos >= len(p.src) }

func (p *yparser) col() int { return p.pos - p.lineStart }

// blankz: a space, tab, line break or the end.
func (p *yparser) blankz(off int) bool {
	c := p.peek(off)
	return c == ' ' || c == '\t' || c == '\n' || c == 0 && p.pos+off >= len(p.src)
}

// lineStarts says whether only blanks precede pos on its line.
func (p *yparser) lineStarts() bool {
	for _, c := range p.src[p.lineStart:p.pos] {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

func (p *yparser) newline() {
	p.pos++
	p.line++
	p.lineStart = p.pos
}

type ymark struct{ pos, line, lineStart int }

func (p *yparser) mark() ymark       { return ymark{p.pos, p.line, p.lineStart} }
func (p *yparser) reset(m ymark)     { p.pos, p.line, p.lineStart = m.pos, m.line, m.lineStart }
func (p *yparser) skipBlanks()       { p.skipWhile(func(c byte) bool { return c == ' ' || c == '\t' }) }
func (p *yparser) skipToLineEnd()    { p.skipWhile(func(c byte) bool { return c != '\n' }) }
func (p *yparser) atDocMarker() bool { return p.atMarker("---") || p.atMarker("...") }

func (p *yparser) skipWhile(f func(byte) bool) {
	for p.pos < len(p.src) && f(p.src[p.pos]) {
		p.pos++
	}
}

func (p *yparser) atMarker(m string) bool {
	return p.col() == 0 && len(p.src)-p.pos >= 3 && string(p.src[p.pos:p.pos+3]) == m && p.blankz(3)
}

// skipSep skips blanks, comments and line breaks up to the next content; it says whether it
// crossed a line break. Outside flow collections, indentation is spaces: a tab before content
// at the start of a line is an error.
func (p *yparser) skipSep() (crossed bool) {
	if p.pos == p.lineStart {
		p.indentation()
	}
	for {
		p.skipBlanks()
		if p.peek(0) == '#' {
			p.skipToLineEnd()
		}
		if p.eof() || p.peek(0) != '\n' {
			return crossed
		}
		p.newline()
		crossed = true
		p.indentation()
	}
}

// indentation skips the spaces that start a line; outside flow collections, a tab there is an
// error unless the line is blank or a comment.
func (p *yparser) indentation() {
	p.skipWhile(func(c byte) bool { return c == ' ' })
	if p.flow == 0 && p.peek(0) == '\t' {
		m := p.mark()
		p.skipBlanks()
		if c := p.peek(0); !p.eof() && c != '\n' && c != '#' {
			p.reset(m)
			p.fail("found a tab character where indentation spaces are expected")
		}
	}
}

// document reads the first document of the stream.
func (p *yparser) document() *ynode {
	directives := false
	for {
		p.skipSep()
		if p.eof() || p.col() != 0 || p.peek(0) != '%' {
			break
		}
		p.directive()
		directives = true
	}
	switch {
	case p.atMarker("---"):
		p.pos += 3
		p.markerLine = p.line
	case directives:
		p.fail("did not find expected <document start> after directives")
	case p.eof() || p.atMarker("..."):
		return nil
	}
	root := p.blockNode(-1, cDoc, 0)
	p.skipSep()
	if !p.eof() && !p.atDocMarker() {
		p.trailing = p.errorHere("did not find expected end of document (is the indentation consistent?)").err
	}
	return root
}

// directive reads a %YAML or %TAG line (and ignores others).
func (p *yparser) directive() {
	start := p.pos
	p.skipToLineEnd()
	line := string(p.src[start:p.pos])
	if i := strings.Index(line, " #"); i >= 0 {
		line = line[:i]
	}
	f := strings.Fields(line)
	switch f[0] {
	case "%YAML":
		major, minor, ok := strings.Cut(strings.Join(f[1:], " "), ".")
		if _, err := strconv.ParseUint(major, 10, 8); err != nil || !ok || len(f) != 2 {
			p.failLine(p.line, "malformed %%YAML directive")
		}
		if _, err := strconv.ParseUint(minor, 10, 8); err != nil || strings.ContainsAny(major+minor, "+") {
			p.failLine(p.line, "malformed %%YAML directive")
		}
	case "%TAG":
		if len(f) != 3 || !strings.HasPrefix(f[1], "!") || !strings.HasSuffix(f[1], "!") ||
			strings.IndexFunc(f[1][1:len(f[1])-min(len(f[1])-1, 1)], func(r rune) bool { return r > 0x7f || !isAnchorChar(byte(r)) }) >= 0 ||
			strings.IndexFunc(f[2], func(r rune) bool { return r > 0x7f || !isTagChar(byte(r)) }) >= 0 {
			p.failLine(p.line, "malformed %%TAG directive")
		}
		if p.handles == nil {
			p.handles = map[string]string{}
		}
		p.handles[f[1]] = p.unescapeTag(f[2])
	default:
		p.failLine(p.line, "unknown directive %s", f[0])
	}
}

// bctx is where a block node stands.
type bctx uint8

const (
	cDoc         bctx = iota // the document's root
	cMapValue                // a mapping's value: a sequence may sit at the mapping's indentation
	cSeqEntry                // after "- ": a collection may start on the same line
	cExplicitKey             // after "? ": likewise, and as for a value, a sequence may sit at the mapping's indentation
)

// yprops are a node's tag and anchor.
type yprops struct {
	tag, anchor    string
	tagged         bool // tag may be "" for the non-specific tag !
	pos, line, col int  // where they start
}

// blockNode reads the node that follows an indicator (or starts the document) in block
// context; n is the indentation of the collection around it (-1 at the root).
func (p *yparser) blockNode(n int, ctx bctx, depth int) *ynode {
	if depth > maxParseDepth {
		p.fail("document nested too deeply")
	}
	line := p.line
	crossed := p.skipSep() || ctx == cDoc && p.line != p.markerLine
	if p.blockEnds(n, ctx, crossed) {
		return &ynode{kind: yScalar, line: line} // empty
	}
	var props *yprops
	if c := p.peek(0); c == '&' || c == '!' {
		props = p.properties()
		crossedProps := p.skipSep()
		if p.eof() || p.atDocMarker() {
			return p.newNode(props).withKind(yScalar)
		}
		if crossedProps {
			// The properties are the node's below, not the first key's.
			nd := p.newNode(props)
			crossed = true
			if p.blockEnds(n, ctx, crossed) {
				nd.kind = yScalar
				return nd
			}
			var inner *yprops // properties of the content's first node
			if c := p.peek(0); c == '&' && props.anchor != "" || c == '!' && props.tagged {
				return nd.withKind(yScalar) // a second tag or anchor starts another node
			} else if c == '&' || c == '!' {
				inner = p.properties()
				p.skipBlanks()
			}
			return p.blockContent(n, ctx, crossed, inner, nd, depth)
		}
	}
	return p.blockContent(n, ctx, crossed, props, nil, depth)
}

// blockEnds says whether the node at pos is not in the block that is being read: the node
// is empty.
func (p *yparser) blockEnds(n int, ctx bctx, crossed bool) bool {
	if p.eof() || p.atDocMarker() {
		return true
	}
	if !crossed {
		return false
	}
	if c := p.col(); c > n {
		return false
	} else if c == n && (ctx == cMapValue || ctx == cExplicitKey) && p.peek(0) == '-' && p.blankz(1) {
		return false
	} else if c == n && ctx != cDoc && (p.peek(0) == '|' || p.peek(0) == '>') {
		return false // as yaml.v3 reads it: a block scalar at its key's or '-''s indentation is its value
	}
	return true
}

// newNode makes a node with properties; its anchor names it from now on.
func (p *yparser) newNode(props *yprops) *ynode {
	nd := &ynode{line: p.line}
	if props != nil {
		nd.tag, nd.line = props.tag, props.line
		if props.anchor != "" {
			p.anchors[props.anchor] = nd
		}
	}
	return nd
}

// blockContent reads a block node's content at pos. Properties on the content's line (props)
// go to its first node: the first key, if the content is a mapping. Properties on a line of
// their own have been given to into, the node to fill (nil: a new node).
func (p *yparser) blockContent(n int, ctx bctx, crossed bool, props *yprops, into *ynode, depth int) *ynode {
	line, col := p.line, p.col()
	if props != nil {
		line, col = props.line, props.col
	}
	nested := crossed || ctx == cSeqEntry || ctx == cExplicitKey // a collection may start here
	fill := func() *ynode {
		if into != nil {
			return into
		}
		return p.newNode(props)
	}
	switch c := p.peek(0); {
	case c == '-' && p.blankz(1):
		if !nested || props != nil {
			p.fail("block sequence entries are not allowed in this context")
		}
		nd := fill()
		p.blockSeq(nd, p.col(), (ctx == cMapValue || ctx == cExplicitKey) && p.col() == n, depth)
		return nd
	case c == '?' && p.blankz(1):
		if !nested || props != nil {
			p.fail("an explicit key (?) is not allowed in this context")
		}
		nd := fill()
		nd.kind = yMap
		p.blockMap(nd, p.col(), nil, depth)
		return nd
	case c == '|' || c == '>':
		nd := fill()
		p.blockScalar(nd, n)
		return nd
	case c == ':' && p.blankz(1) && props == nil:
		p.fail("did not find expected key before ':'")
	}
	startLine, keyStart := p.line, p.pos
	if props != nil {
		keyStart = props.pos
	}
	first := p.inlineNode(props, n, depth)
	end := p.mark()
	p.skipBlanks()
	if !(p.peek(0) == ':' && p.blankz(1)) {
		p.reset(end)
		if into == nil {
			return first
		}
		if first.kind == yAlias {
			p.failLine(into.line, "an alias may not have a tag or anchor")
		}
		into.kind, into.style, into.value, into.content = first.kind, first.style, first.value, first.content
		if props != nil {
			if props.tag != "" {
				into.tag = props.tag
			}
			if props.anchor != "" {
				p.anchors[props.anchor] = into
			}
		}
		return into
	}
	// first is a key.
	if !nested || p.line != startLine {
		p.fail("mapping values are not allowed in this context")
	}
	p.checkKeyLength(keyStart)
	nd := into
	if nd == nil {
		nd = &ynode{line: line}
	}
	nd.kind = yMap
	p.blockMap(nd, col, first, depth)
	return nd
}

// blockMap reads a block mapping's pairs at indentation m; first is its first key, read
// already (pos is then at its ':').
func (p *yparser) blockMap(nd *ynode, m int, first *ynode, depth int) {
	key := first
	for {
		hasValue := true
		if key == nil {
			switch c := p.peek(0); {
			case c == '?' && p.blankz(1):
				p.pos++
				p.noTabAfter('?')
				key = p.blockNode(m, cExplicitKey, depth+1)
				p.skipSep()
				hasValue = !p.eof() && !p.atDocMarker() && p.col() == m && p.peek(0) == ':' && p.blankz(1)
			case c == ':' && p.blankz(1):
				p.fail("did not find expected key before ':'")
			case c == '-' && p.blankz(1):
				p.fail("did not find expected key (a sequence entry stands where a mapping key is due)")
			case c == '|' || c == '>':
				p.fail("a block scalar may not be a mapping key")
			default:
				var props *yprops
				keyStart := p.pos
				if c == '&' || c == '!' {
					props = p.properties()
					p.skipBlanks()
					if p.eof() || p.peek(0) == '\n' || p.peek(0) == '#' {
						p.fail("did not find expected key after the properties")
					}
				}
				line := p.line
				key = p.inlineNode(props, m, depth+1)
				end := p.mark()
				p.skipBlanks()
				if !(p.peek(0) == ':' && p.blankz(1)) {
					p.reset(end)
					p.failLine(line, "could not find expected ':' after a mapping key")
				}
				if p.line != line {
					p.fail("a mapping key must be on a single line")
				}
				p.checkKeyLength(keyStart)
			}
		}
		var val *ynode
		if hasValue {
			p.pos++ // ':'
			val = p.blockNode(m, cMapValue, depth+1)
		} else {
			val = &ynode{kind: yScalar, line: p.line}
		}
		nd.content = append(nd.content, key, val)
		key = nil
		p.skipSep()
		if p.eof() || p.atDocMarker() {
			return
		}
		if !p.lineStarts() {
			p.fail("found unexpected content after a mapping value")
		}
		if c := p.col(); c < m {
			return
		} else if c > m {
			p.fail("bad indentation of a mapping entry (expected column %d)", m+1)
		}
	}
}

// blockSeq reads a block sequence's entries at indentation s. An indentless sequence (a
// mapping's value, at the mapping's indentation) ends at the mapping's next key.
func (p *yparser) blockSeq(nd *ynode, s int, indentless bool, depth int) {
	nd.kind = ySeq
	if nd.line == 0 {
		nd.line = p.line
	}
	for {
		p.pos++ // '-'
		p.noTabAfter('-')
		nd.content = append(nd.content, p.blockNode(s, cSeqEntry, depth+1))
		p.skipSep()
		if p.eof() || p.atDocMarker() {
			return
		}
		if !p.lineStarts() {
			p.fail("found unexpected content after a sequence entry")
		}
		c := p.col()
		switch {
		case c < s:
			return
		case c > s:
			p.fail("bad indentation of a sequence entry (expected column %d)", s+1)
		case !(p.peek(0) == '-' && p.blankz(1)):
			if indentless {
				return
			}
			p.fail("did not find expected '-' indicator of a sequence entry")
		}
	}
}

// checkKeyLength rejects an implicit key (from start to pos, its ':') longer than 1024
// characters, as YAML does.
func (p *yparser) checkKeyLength(start int) {
	if p.pos-start > 1024 && utf8.RuneCount(p.src[start:p.pos]) > 1024 {
		p.fail("an implicit mapping key may be at most 1024 characters long (use an explicit key: ? key)")
	}
}

// noTabAfter rejects a tab in the blanks after a block indicator, as yaml.v3 does.
func (p *yparser) noTabAfter(indicator byte) {
	for i := p.pos; i < len(p.src) && (p.src[i] == ' ' || p.src[i] == '\t'); i++ {
		if p.src[i] == '\t' {
			p.pos = i
			p.fail("found a tab character after '%c' (use spaces)", indicator)
		}
	}
}

// properties reads a node's tag and anchor (either, or both in either order).
func (p *yparser) properties() *yprops {
	pr := &yprops{pos: p.pos, line: p.line, col: p.col()}
	seenTag, seenAnchor := false, false
	defer func() { pr.tagged = seenTag }()
	for {
		switch p.peek(0) {
		case '!':
			if seenTag {
				p.fail("a node may have only one tag")
			}
			seenTag = true
			pr.tag = p.readTag()
		case '&':
			if seenAnchor {
				p.fail("a node may have only one anchor")
			}
			seenAnchor = true
			p.pos++
			pr.anchor = p.anchorName("anchor")
		default:
			return pr
		}
		m := p.mark()
		p.skipBlanks()
		if c := p.peek(0); c != '!' && c != '&' || (c == '!' && seenTag) || (c == '&' && seenAnchor) {
			p.reset(m)
			return pr
		}
	}
}

func isAnchorChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// anchorName reads the name after & or *.
func (p *yparser) anchorName(what string) string {
	start := p.pos
	p.skipWhile(isAnchorChar)
	name := string(p.src[start:p.pos])
	if name == "" || !p.blankz(0) && !strings.ContainsRune("?:,]}%@`", rune(p.peek(0))) {
		p.fail("an %s name is letters, digits, _ and - (followed by a space)", what)
	}
	return name
}

func isTagChar(c byte) bool {
	return isAnchorChar(c) || strings.IndexByte(";/?:@&=+$,.!~*'()[]%", c) >= 0
}

// readTag reads a tag and returns it in short form: "!!str" for tag:yaml.org,2002:str, ""
// for the non-specific "!".
func (p *yparser) readTag() string {
	start := p.pos
	p.pos++ // '!'
	var tag string
	if p.peek(0) == '<' {
		p.pos++
		uri := p.pos
		p.skipWhile(isTagChar)
		if p.pos == uri || p.peek(0) != '>' {
			p.fail("did not find the '>' that ends a verbatim tag")
		}
		tag = p.unescapeTag(string(p.src[uri:p.pos]))
		p.pos++
	} else {
		p.skipWhile(isTagChar)
		text := string(p.src[start:p.pos])
		// A handle is ! or !! or !name!; a tag without one is local: ! and its suffix.
		j := 1
		for j < len(text) && isAnchorChar(text[j]) {
			j++
		}
		h, suffix := "!", text[1:]
		if j < len(text) && text[j] == '!' {
			h, suffix = text[:j+1], text[j+1:]
			if suffix == "" {
				p.fail("did not find expected tag URI after the tag handle %s", h)
			}
		}
		suffix = p.unescapeTag(suffix)
		switch pre, ok := p.handles[h]; {
		case text == "!":
			tag = "!"
		case ok:
			tag = pre + suffix
		case h == "!!":
			tag = "tag:yaml.org,2002:" + suffix
		case h == "!":
			tag = "!" + suffix
		default:
			p.fail("undefined tag handle %s", h)
		}
	}
	if !p.blankz(0) && !(p.flow > 0 && p.peek(0) == ',') {
		p.fail("a tag must be followed by a space")
	}
	if tag == "!" {
		return ""
	}
	if s, ok := strings.CutPrefix(tag, "tag:yaml.org,2002:"); ok {
		return "!!" + s
	}
	return tag
}

// unescapeTag decodes the %XX escapes of a tag.
func (p *yparser) unescapeTag(t string) string {
	if !strings.Contains(t, "%") {
		return t
	}
	var b []byte
	for i := 0; i < len(t); i++ {
		if t[i] != '%' {
			b = append(b, t[i])
			continue
		}
		v, err := strconv.ParseUint(t[i+1:min(i+3, len(t))], 16, 8)
		if err != nil || i+3 > len(t) || t[i+1] == '+' {
			p.fail("did not find URI escaped octet in tag %s", t)
		}
		b = append(b, byte(v))
		i += 2
	}
	if !utf8.Valid(b) {
		p.fail("the escapes of tag %s are not UTF-8", t)
	}
	return string(b)
}

// inlineNode reads a node that lies on one line, or spans lines without indentation rules:
// a flow collection, a quoted or plain scalar, an alias. n is the block indentation around it.
func (p *yparser) inlineNode(props *yprops, n int, depth int) *ynode {
	if depth > maxParseDepth {
		p.fail("document nested too deeply")
	}
	nd := p.newNode(props)
	nd.kind = yScalar
	if c := p.peek(0); props != nil && (c == ':' && p.blankz(1) || p.flow > 0 && strings.IndexByte(",]}:", c) >= 0) {
		return nd // an empty node with properties
	}
	switch c := p.peek(0); c {
	case '[':
		p.flowSeq(nd, n, depth)
	case '{':
		p.flowMap(nd, n, depth)
	case '"':
		nd.style = yDouble
		nd.value = p.doubleQuoted()
	case '\'':
		nd.style = ySingle
		nd.value = p.singleQuoted()
	case '*':
		if props != nil {
			p.fail("an alias may not have a tag or anchor")
		}
		p.pos++
		name := p.anchorName("alias")
		target, ok := p.anchors[name]
		if !ok {
			p.fail("unknown anchor %q referenced", name)
		}
		nd.kind, nd.alias = yAlias, target
	default:
		if !p.plainStarts() {
			if c == '|' || c == '>' {
				p.fail("a block scalar may not stand in a flow collection")
			}
			p.fail("found character %q that cannot start any token", rune(c))
		}
		nd.value = p.plain(n)
	}
	return nd
}

// flowNode reads a node inside a flow collection.
func (p *yparser) flowNode(n int, depth int) *ynode {
	var props *yprops
	if c := p.peek(0); c == '&' || c == '!' {
		props = p.properties()
		p.skipSep()
		if c := p.peek(0); c == ',' || c == ']' || c == '}' || c == ':' {
			nd := p.newNode(props)
			nd.kind = yScalar
			return nd
		}
	}
	return p.inlineNode(props, n, depth+1)
}

func (p *yparser) flowSeq(nd *ynode, n int, depth int) {
	nd.kind = ySeq
	p.flowCollection(']', "sequence", func() {
		var item *ynode
		switch c := p.peek(0); {
		case c == '?':
			item = p.flowPair(n, depth, ']')
		default:
			start, keyStart := p.line, p.pos
			item = p.flowNode(n, depth)
			p.skipSep()
			if p.peek(0) == ':' {
				if p.line != start {
					p.fail("an implicit key must be on the line of its ':'")
				}
				p.checkKeyLength(keyStart)
				item = p.flowPairValue(item, n, depth, ']')
			}
		}
		nd.content = append(nd.content, item)
	})
}

// flowCollection reads a flow sequence or mapping from its opening bracket to closer, each
// entry with entry, which must consume it.
func (p *yparser) flowCollection(closer byte, what string, entry func()) {
	line := p.line
	p.pos++
	p.flow++
	for {
		p.skipSep()
		if p.eof() || p.atDocMarker() {
			p.failLine(line, "did not find expected '%c' to close the flow %s that starts here", closer, what)
		}
		if p.peek(0) == closer {
			break
		}
		entry()
		p.skipSep()
		if c := p.peek(0); c == ',' {
			p.pos++
		} else if c != closer {
			if p.eof() || p.atDocMarker() {
				p.failLine(line, "did not find expected '%c' to close the flow %s that starts here", closer, what)
			}
			p.fail("did not find expected ',' or '%c'", closer)
		}
	}
	p.pos++
	p.flow--
}

// flowPair reads a single-pair mapping in a flow sequence that starts with '?' or ':'.
func (p *yparser) flowPair(n int, depth int, closer byte) *ynode {
	line := p.line
	var key *ynode
	explicit := p.peek(0) == '?'
	if explicit {
		p.pos++
		p.skipSep()
	}
	if c := p.peek(0); explicit && (c == ',' || c == closer || c == ':') {
		if closer == ']' {
			p.fail("did not find expected key after '?' in a flow sequence")
		}
		key = &ynode{kind: yScalar, line: line}
	} else {
		start, keyStart := p.line, p.pos
		key = p.flowNode(n, depth)
		p.skipSep()
		if !explicit && p.peek(0) == ':' {
			if p.line != start {
				p.fail("an implicit key must be on the line of its ':'")
			}
			p.checkKeyLength(keyStart)
		}
	}
	if p.peek(0) != ':' {
		return &ynode{kind: yMap, line: line, content: []*ynode{key, {kind: yScalar, line: p.line}}}
	}
	return p.flowPairValue(key, n, depth, closer)
}

// flowPairValue reads ": value" after key, making a single-pair mapping.
func (p *yparser) flowPairValue(key *ynode, n int, depth int, closer byte) *ynode {
	p.pos++ // ':'
	p.skipSep()
	var val *ynode
	if c := p.peek(0); c == ',' || c == closer {
		val = &ynode{kind: yScalar, line: p.line}
	} else {
		val = p.flowNode(n, depth)
	}
	return &ynode{kind: yMap, line: key.line, content: []*ynode{key, val}}
}

func (p *yparser) flowMap(nd *ynode, n int, depth int) {
	nd.kind = yMap
	p.flowCollection('}', "mapping", func() {
		nd.content = append(nd.content, p.flowPair(n, depth, '}').content...)
	})
}

// plainStarts says whether a plain scalar may start at pos.
func (p *yparser) plainStarts() bool {
	c := p.peek(0)
	if p.eof() || p.blankz(0) {
		return false
	}
	switch c {
	case '-':
		return !p.blankz(1)
	case '?', ':':
		return p.flow == 0 && !p.blankz(1)
	case ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	}
	return true
}

// plainEnds says whether the plain scalar being read stops at pos (within a line).
func (p *yparser) plainEnds() bool {
	switch c := p.peek(0); {
	case p.eof() || c == ' ' || c == '\t' || c == '\n':
		return true
	case c == ':' && p.blankz(1):
		return true
	case p.flow > 0 && strings.IndexByte(",?[]{}", c) >= 0:
		return true
	}
	return false
}

// plain reads a plain scalar, folding its lines; continuation lines of one in block context
// are indented more than n. It leaves pos right after the last character read.
func (p *yparser) plain(n int) string {
	var b []byte
	for {
		start := p.pos
		for !p.plainEnds() {
			p.pos++
		}
		b = append(b, p.src[start:p.pos]...)
		end := p.mark()
		p.skipBlanks()
		var sep []byte
		switch {
		case p.peek(0) == '\n':
			breaks := 0
			for p.peek(0) == '\n' {
				p.newline()
				breaks++
				for c := p.peek(0); c == ' ' || c == '\t'; c = p.peek(0) {
					if c == '\t' && p.col() < n+1 {
						p.fail("found a tab character that violates indentation")
					}
					p.pos++
				}
			}
			if p.eof() || p.atDocMarker() || p.peek(0) == '#' || p.flow == 0 && p.col() <= n {
				p.reset(end)
				return string(b)
			}
			if breaks == 1 {
				sep = []byte{' '}
			} else {
				sep = []byte(strings.Repeat("\n", breaks-1))
			}
		case p.eof() || p.peek(0) == '#':
			p.reset(end)
			return string(b)
		default:
			sep = p.src[end.pos:p.pos]
		}
		if p.plainEnds() {
			p.reset(end)
			return string(b)
		}
		b = append(b, sep...)
	}
}

// singleQuoted reads a single-quoted scalar (” is a quote).
func (p *yparser) singleQuoted() string {
	line := p.line
	p.pos++
	var b []byte
	for {
		switch c := p.peek(0); {
		case p.eof():
			p.failLine(line, "did not find the closing quote of a single-quoted scalar that starts here")
		case c == '\'':
			if p.peek(1) != '\'' {
				p.pos++
				return string(b)
			}
			b = append(b, '\'')
			p.pos += 2
		case c == ' ' || c == '\t' || c == '\n':
			b = p.fold(b, false, line)
		default:
			b = append(b, c)
			p.pos++
		}
	}
}

// fold reads the white space in a quoted scalar: blanks within a line are kept; a line break
// (with the blanks around it) becomes a space, or n-1 line breaks for n of them. After an
// escaped line break (escaped), the break itself is dropped.
func (p *yparser) fold(b []byte, escaped bool, line int) []byte {
	start := p.pos
	p.skipBlanks()
	if !escaped && p.peek(0) != '\n' {
		if p.eof() {
			return b
		}
		return append(b, p.src[start:p.pos]...)
	}
	if !escaped {
		p.newline()
	}
	extra := 0
	for {
		if p.atDocMarker() {
			p.fail("found a document marker inside a quoted scalar")
		}
		p.skipBlanks()
		if p.peek(0) != '\n' {
			break
		}
		p.newline()
		extra++
	}
	if p.eof() {
		return b
	}
	if extra == 0 && !escaped {
		return append(b, ' ')
	}
	return append(b, strings.Repeat("\n", extra)...)
}

// doubleQuoted reads a double-quoted scalar with its escapes.
func (p *yparser) doubleQuoted() string {
	line := p.line
	p.pos++
	var b []byte
	for {
		switch c := p.peek(0); {
		case p.eof():
			p.failLine(line, "did not find the closing quote of a double-quoted scalar that starts here")
		case c == '"':
			p.pos++
			return string(b)
		case c == ' ' || c == '\t' || c == '\n':
			b = p.fold(b, false, line)
		case c == '\\':
			p.pos++
			e := p.peek(0)
			if p.eof() {
				continue
			}
			p.pos++
			if e == '\n' {
				p.line++
				p.lineStart = p.pos
				b = p.fold(b, true, line)
				continue
			}
			if r, ok := simpleEscape(e); ok {
				b = utf8.AppendRune(b, r)
				continue
			}
			size := 0
			switch e {
			case 'x':
				size = 2
			case 'u':
				size = 4
			case 'U':
				size = 8
			default:
				p.pos--
				p.fail("found unknown escape character %q", rune(e))
			}
			if p.pos+size > len(p.src) {
				p.fail("did not find expected hexadecimal number")
			}
			v, err := strconv.ParseUint(string(p.src[p.pos:p.pos+size]), 16, 32)
			if err != nil || strings.ContainsAny(string(p.src[p.pos:p.pos+size]), "+-_") {
				p.fail("did not find expected hexadecimal number")
			}
			if v >= 0xd800 && v <= 0xdfff || v > 0x10ffff {
				p.fail("found invalid Unicode character escape code")
			}
			b = utf8.AppendRune(b, rune(v))
			p.pos += size
		default:
			b = append(b, c)
			p.pos++
		}
	}
}

// simpleEscape is the character a one-letter escape (\n, \t, …) of a double-quoted scalar
// stands for. (A switch, not a map: a package-level map would be built at every start of pea.)
func simpleEscape(e byte) (rune, bool) {
	switch e {
	case '0':
		return 0, true
	case 'a':
		return '\a', true
	case 'b':
		return '\b', true
	case 't', '\t':
		return '\t', true
	case 'n':
		return '\n', true
	case 'v':
		return '\v', true
	case 'f':
		return '\f', true
	case 'r':
		return '\r', true
	case 'e':
		return 0x1b, true
	case ' ', '"', '\'', '/', '\\':
		return rune(e), true
	case 'N':
		return 0x85, true
	case '_':
		return 0xa0, true
	case 'L':
		return 0x2028, true
	case 'P':
		return 0x2029, true
	}
	return 0, false
}

// blockScalar reads a literal (|) or folded (>) scalar; n is the indentation of the collection
// around it. It leaves pos at the end of its last line, before the line break.
func (p *yparser) blockScalar(nd *ynode, n int) {
	literal := p.peek(0) == '|'
	nd.kind, nd.style = yScalar, yFolded
	if literal {
		nd.style = yLiteral
	}
	headerLine := p.line
	p.pos++
	chomp, incr := 0, 0
	for range 2 {
		switch c := p.peek(0); {
		case (c == '+' || c == '-') && chomp == 0:
			chomp = 1
			if c == '-' {
				chomp = -1
			}
			p.pos++
		case c >= '0' && c <= '9' && incr == 0:
			if c == '0' {
				p.fail("a block scalar's indentation indicator must be 1 to 9")
			}
			incr = int(c - '0')
			p.pos++
		}
	}
	p.skipBlanks()
	if p.peek(0) == '#' {
		p.skipToLineEnd()
	}
	if !p.eof() && p.peek(0) != '\n' {
		p.fail("did not find expected comment or line break after a block scalar's header")
	}
	if !p.eof() {
		p.newline()
	}
	indent := 0
	if incr > 0 {
		indent = incr
		if n >= 0 {
			indent = n + incr
		}
	}
	// breaks reads empty lines (settling the indentation if it is to be detected).
	breaks := func() []byte {
		var br []byte
		maxIndent := 0
		for {
			for (indent == 0 || p.col() < indent) && p.peek(0) == ' ' {
				p.pos++
			}
			maxIndent = max(maxIndent, p.col())
			if (indent == 0 || p.col() < indent) && p.peek(0) == '\t' {
				p.fail("found a tab character where an indentation space is expected")
			}
			if p.peek(0) != '\n' {
				break
			}
			p.newline()
			br = append(br, '\n')
		}
		if indent == 0 {
			indent = max(maxIndent, n+1, 1)
		}
		return br
	}
	var s []byte
	trailing := breaks()
	leadingBreak, leadingBlank := false, false
	for p.col() == indent && !p.eof() {
		trailingBlank := p.peek(0) == ' ' || p.peek(0) == '\t'
		if !literal && leadingBreak && !leadingBlank && !trailingBlank {
			if len(trailing) == 0 {
				s = append(s, ' ')
			}
		} else if leadingBreak {
			s = append(s, '\n')
		}
		s = append(s, trailing...)
		leadingBlank = trailingBlank
		start := p.pos
		p.skipToLineEnd()
		s = append(s, p.src[start:p.pos]...)
		leadingBreak = false
		if p.eof() {
			trailing = nil
			break
		}
		p.newline()
		leadingBreak = true
		trailing = breaks()
	}
	if chomp != -1 && leadingBreak {
		s = append(s, '\n')
	}
	if chomp == 1 {
		s = append(s, trailing...)
	}
	nd.value = string(s)
	// Back to the end of the last line read, so that what follows starts on a new line.
	if p.line > headerLine && p.lineStart > 0 && p.col() <= indent {
		p.pos = p.lineStart - 1
		p.line--
		p.lineStart = bytes.LastIndexByte(p.src[:p.pos], '\n') + 1
	}
}

func (n *ynode) withKind(k yKind) *ynode {
	n.kind = k
	return n
}
