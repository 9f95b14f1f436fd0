package image

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"pea/internal/errdefs"
)

// pea as scripts/build.sh builds it (the pea_split tag) must link no HTTP, TLS or X.509: that is
// what the registry helper is for. A dependency that starts importing net/http (the CNI library
// did from v1.3, through OpenTelemetry) fails this test.
func TestSplitPeaLinksNoHTTP(t *testing.T) {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		t.Skip("no go tool:", err)
	}
	cmd := exec.Command(goTool, "list", "-deps", "-tags", "netgo osusergo sqlite_omit_load_extension pea_split", "pea/cmd/pea")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		deps[p] = true
	}
	if !deps["pea/internal/image"] {
		t.Fatalf("go list gave no dependencies of pea: %s", out)
	}
	for _, p := range []string{"net/http", "crypto/tls", "crypto/x509"} {
		if deps[p] {
			t.Errorf("pea links %s; only its registry helper may", p)
		}
	}
}

// Errors cross from the helper with their message and class.
func TestHelperResultKeepsErrorClass(t *testing.T) {
	for _, err := range []error{
		errors.Join(errors.New("pulling x: manifest unknown"), errdefs.ErrNotFound),
		errdefs.ErrInvalid, context.Canceled,
	} {
		got := resultOf(err).err()
		if got.Error() != err.Error() {
			t.Errorf("message %q became %q", err, got)
		}
		for _, class := range []error{errdefs.ErrNotFound, errdefs.ErrInvalid, context.Canceled} {
			if errors.Is(err, class) != errors.Is(got, class) {
				t.Errorf("%q: errors.Is(%v) was %v, is %v", err, class, errors.Is(err, class), errors.Is(got, class))
			}
		}
	}
	if resultOf(nil).err() != nil {
		t.Error("no error became one")
	}
}
