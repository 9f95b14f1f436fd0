package engine

// .containerignore / .dockerignore: the context paths COPY and ADD leave out, as Docker reads
// them. One pattern a line (# starts a comment); * and ? do not cross a slash, ** crosses any
// number of directories, [..] is a class; a pattern that matches a directory leaves out what
// is below it; a pattern starting with ! brings back what an earlier one left out; the last
// pattern that matches a path decides.

import (
	"bufio"
	"bytes"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

type ignoreRule struct {
	re     *regexp.Regexp
	negate bool
}

// ignoreRules are a context's ignore file, parsed; nil leaves nothing out.
type ignoreRules []ignoreRule

// loadIgnore reads file (--ignorefile) when given, else the context's .containerignore, else
// its .dockerignore.
func loadIgnore(ctxDir, file string) (ignoreRules, error) {
	var b []byte
	var err error
	if file != "" {
		if b, err = os.ReadFile(file); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{".containerignore", ".dockerignore"} {
		if b != nil {
			break
		}
		if b, err = os.ReadFile(filepath.Join(ctxDir, name)); err == nil {
			break
		}
		if !os.IsNotExist(err) {
			return nil, err
		}
	}
	if b == nil {
		return nil, nil
	}
	var rules ignoreRules
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := ignoreRule{}
		if strings.HasPrefix(line, "!") {
			r.negate, line = true, strings.TrimSpace(line[1:])
		}
		line = strings.TrimPrefix(path.Clean("/"+filepath.ToSlash(line)), "/")
		if line == "" {
			continue
		}
		re, err := regexp.Compile("^" + ignorePatternRegexp(line) + "$")
		if err != nil {
			continue // a pattern Docker would refuse too; it matches nothing
		}
		r.re = re
		rules = append(rules, r)
	}
	return rules, sc.Err()
}

// ignorePatternRegexp turns a pattern into a regular expression over slash-separated paths.
func ignorePatternRegexp(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '*' && strings.HasPrefix(p[i:], "**/"):
			b.WriteString("(.*/)?")
			i += 2
		case c == '*' && strings.HasPrefix(p[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				b.WriteString(`\[`)
				continue
			}
			class := p[i+1 : i+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + class + "]")
			i += j
		case c == '\\' && i+1 < len(p):
			b.WriteString(regexp.QuoteMeta(p[i+1 : i+2]))
			i++
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}

// excluded reports whether the context path rel (slash-separated, relative) is left out: by
// the last rule that matches it or one of the directories above it.
func (rules ignoreRules) excluded(rel string) bool {
	if len(rules) == 0 || rel == "" || rel == "." {
		return false
	}
	out := false
	for _, r := range rules {
		matched := false
		for p := rel; p != "." && p != "/" && p != ""; p = path.Dir(p) {
			if r.re.MatchString(p) {
				matched = true
				break
			}
		}
		if matched {
			out = !r.negate
		}
	}
	return out
}
