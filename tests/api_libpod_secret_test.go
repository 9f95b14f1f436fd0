package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLibpodSecrets: podman --remote secret create (file and shell drivers, labels), ls, inspect,
// exists and rm; a container made through pea gets the secret.
func TestLibpodSecrets(t *testing.T) {
	a := newAPIEnv(t)
	src := filepath.Join(a.Dir, "data")
	os.WriteFile(src, []byte("hunter2"), 0o600)
	id := a.mustPodman("secret", "create", "--label", "team=blue", "pw", src)
	if got := a.Pea("secret", "inspect", "-f", "{{.ID}} {{.Spec.Labels.team}}", "pw"); got != id+" blue" {
		t.Fatalf("pea sees the remote secret as %q (id %q)", got, id)
	}
	if out := a.mustPodman("secret", "ls", "--format", "{{.Name}} {{.Driver}}"); out != "pw file" {
		t.Fatalf("secret ls: %q", out)
	}
	if out := a.mustPodman("secret", "inspect", "--format", "{{.Spec.Name}} {{.Spec.Driver.Name}}", "pw"); out != "pw file" {
		t.Fatalf("secret inspect: %q", out)
	}
	if out := a.Pea("run", "--rm", "--network", "none", "--secret", "pw", "localhost/bb", "cat", "/run/secrets/pw"); out != "hunter2" {
		t.Fatalf("the secret in a container: %q", out)
	}
	vault := t.TempDir()
	a.runPodmanIn("shelled", "secret", "create", "--driver", "shell", "--driver-opts",
		"store=cat > "+vault+"/$SECRET_ID,lookup=cat "+vault+"/$SECRET_ID,delete=rm "+vault+"/$SECRET_ID,list=ls "+vault, "sh1", "-")
	if out := a.Pea("run", "--rm", "--network", "none", "--secret", "sh1", "localhost/bb", "cat", "/run/secrets/sh1"); out != "shelled" {
		t.Fatalf("a remote shell-driver secret: %q", out)
	}
	a.mustPodman("secret", "rm", "pw", "sh1")
	if out := a.Pea("secret", "ls", "-q"); out != "" {
		t.Fatalf("secrets after rm: %q", out)
	}
	if r := a.podmanRemote("secret", "inspect", "pw"); r.Code != 125 || !strings.Contains(r.Stderr, "no such secret") {
		t.Fatalf("inspect of a removed secret: %s", r)
	}
}
