package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestContainerRunlabel: the command of an image's label runs on the host with IMAGE and NAME
// put in; a leading podman is this pea on this store; --display prints it; a missing label is
// one error line, exit 125.
func TestContainerRunlabel(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := t.TempDir()
	os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte(`FROM localhost/bb
LABEL RUN="podman run --rm --network none --name NAME -e IMG=IMAGE \$IMAGE sh -c 'echo \$IMG in \$0' NAME"
LABEL INSTALL="echo installing \${IMAGE} as \$NAME"
`), 0o644)
	e.Pea("build", "-q", "-t", "localhost/lbl", ctx)
	disp := e.Pea("container", "runlabel", "--display", "--name", "foo", "RUN", "localhost/lbl", "x")
	if !strings.HasPrefix(disp, "command: ") || !strings.Contains(disp, " --root "+e.Root+" ") ||
		!strings.HasSuffix(disp, " run --rm --network none --name foo -e IMG=localhost/lbl:latest localhost/lbl:latest sh -c echo $IMG in $0 foo x") {
		t.Fatalf("--display: %q", disp)
	}
	if out := e.Pea("container", "runlabel", "RUN", "localhost/lbl"); out != "localhost/lbl:latest in lbl" {
		t.Fatalf("runlabel RUN: %q", out)
	}
	if out := e.Pea("ps", "-aq"); out != "" {
		t.Fatalf("the label's --rm container is left: %q", out)
	}
	if out := e.Pea("container", "runlabel", "INSTALL", "localhost/lbl"); out != "installing localhost/lbl:latest as lbl" {
		t.Fatalf("runlabel INSTALL: %q", out)
	}
	oneLine(t, e.Fails(125, "container", "runlabel", "NOPE", "localhost/lbl"), "cannot find the value of label: NOPE")
}
