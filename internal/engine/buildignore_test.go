package engine

import (
	"os"
	"path/filepath"
	"testing"
)

// Docker's ignore-file rules: * within a component, ** across, a directory's contents with
// it, ! bringing paths back, the last match deciding, comments and leading slashes.
func TestIgnoreRules(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("# comment\n*.log\n!keep.log\n/secret\n**/node_modules\nbuild/*.o\ndocs/**/draft?.md\n"), 0o644)
	rules, err := loadIgnore(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]bool{
		"a.log": true, "keep.log": false, "sub/a.log": false, "secret": true, "secret/key": true,
		"node_modules/x": true, "web/node_modules": true, "web/node_modules/a/b": true,
		"build/x.o": true, "build/sub/x.o": false, "docs/a/b/draft1.md": true, "docs/draft2.md": true,
		"docs/final.md": false, "main.go": false, "": false,
	} {
		if got := rules.excluded(rel); got != want {
			t.Errorf("%q: excluded %v, want %v", rel, got, want)
		}
	}
	// .containerignore wins over .dockerignore.
	os.WriteFile(filepath.Join(dir, ".containerignore"), []byte("main.go\n"), 0o644)
	rules, _ = loadIgnore(dir, "")
	if !rules.excluded("main.go") || rules.excluded("a.log") {
		t.Fatalf(".containerignore not preferred: %v", rules)
	}
}
