package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImageTreeAndDiff: image tree lists the layers with the images they top, in podman's
// layout; image diff (and diff of an image) lists what the top layer changed, or what changed
// between two images; a layer's deletion shows as D, not C (the layers' whiteouts are
// overlayfs character devices).
func TestImageTreeAndDiff(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := t.TempDir()
	os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte("FROM localhost/bb\nRUN echo hi > /x\nRUN rm /bin/ls\n"), 0o644)
	e.Pea("build", "-q", "-t", "localhost/two", ctx)
	tree := e.Pea("image", "tree", "localhost/two")
	lines := strings.Split(tree, "\n")
	if len(lines) != 7 || !strings.HasPrefix(lines[0], "Image ID: ") || lines[1] != "Tags:     [localhost/two:latest]" ||
		!strings.HasPrefix(lines[2], "Size:     ") || lines[3] != "Image Layers" ||
		!strings.HasPrefix(lines[4], "├── ID: ") || !strings.HasSuffix(lines[4], "Top Layer of: [localhost/bb:latest]") ||
		!strings.HasPrefix(lines[5], "├── ID: ") || strings.Contains(lines[5], "Top Layer") ||
		!strings.HasPrefix(lines[6], "└── ID: ") || !strings.HasSuffix(lines[6], "Top Layer of: [localhost/two:latest]") {
		t.Fatalf("image tree:\n%s", tree)
	}
	// The base's dependents: from its top layer up through two's.
	req := strings.Split(e.Pea("image", "tree", "--whatrequires", "localhost/bb"), "\n")
	if len(req) != 7 || req[1] != "Tags:     [localhost/bb:latest]" || req[6] != lines[6] {
		t.Fatalf("image tree --whatrequires:\n%s", strings.Join(req, "\n"))
	}
	if out := e.Pea("image", "diff", "localhost/two"); !strings.Contains(out, "D /bin/ls") || strings.Contains(out, "/x") || strings.Contains(out, "C /bin/ls") {
		t.Fatalf("image diff against the parent layers: %q", out)
	}
	if out := e.Pea("diff", "localhost/two"); !strings.Contains(out, "D /bin/ls") {
		t.Fatalf("diff of an image: %q", out)
	}
	if out := e.Pea("image", "diff", "localhost/two", "localhost/bb"); !strings.Contains(out, "A /x") || !strings.Contains(out, "D /bin/ls") {
		t.Fatalf("image diff of two images: %q", out)
	}
	if out := e.Pea("image", "diff", "--format", "json", "localhost/two"); !strings.Contains(out, "\"deleted\": [\n          \"/bin/ls\"") {
		t.Fatalf("image diff --format json: %q", out)
	}
	// A container that writes back a file a layer deleted added it (regression: C).
	e.Pea("run", "--name", "w", "--network", "none", "localhost/two", "sh", "-c", "echo back > /bin/ls")
	if out := e.Pea("diff", "w"); !strings.Contains(out, "A /bin/ls") {
		t.Fatalf("diff of a container re-adding a deleted file: %q", out)
	}
	e.Fails(125, "image", "tree", "nosuch")
}

// TestJSONIndentAsPodman: --format json is indented as podman 4.3 indents each command's.
func TestJSONIndentAsPodman(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "s", "--network", "none", "localhost/bb", "sleep", "300")
	e.Pea("pod", "create", "--network", "none", "--name", "p")
	e.Pea("pod", "start", "p")
	e.Pea("volume", "create", "v")
	for _, c := range []struct {
		args []string
		want string // the start of the output
	}{
		{[]string{"inspect", "s"}, "[\n     {\n          \"Id\""},
		{[]string{"image", "inspect", "localhost/bb"}, "[\n     {\n          \"Id\""},
		{[]string{"pod", "inspect", "p"}, "{\n     \"Id\""},
		{[]string{"volume", "inspect", "v"}, "[\n     {\n          \"Name\""},
		{[]string{"ps", "--format", "json"}, "[\n  {\n    \""},
		{[]string{"pod", "ps", "--format", "json"}, "[\n  {\n    \""},
		{[]string{"volume", "ls", "--format", "json"}, "[\n  {\n    \"Name\""},
		{[]string{"stats", "--no-stream", "--format", "json"}, "[\n {\n  \"id\": "},
		{[]string{"pod", "stats", "--no-stream", "--format", "json"}, "[\n     {\n          \"CPU\": "},
		{[]string{"images", "--format", "json"}, "[\n    {\n        \""},
		{[]string{"history", "--format", "json", "localhost/bb"}, "[{\"id\":\""},
		{[]string{"version", "--format", "json"}, "{\"Client\":{"},
	} {
		if out := e.Pea(c.args...); !strings.HasPrefix(out, c.want) {
			t.Errorf("%s: %.80q, want it to start %q", strings.Join(c.args, " "), out, c.want)
		}
	}
}
