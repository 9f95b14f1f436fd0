package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Secrets: created from a file or standard input, listed and inspected without their data,
// given to a container as files (default /run/secrets/NAME, 0444; target, uid, mode) and as
// environment variables, never written into its config; one in use is not removed; bad input
// is refused with nothing made.
func TestSecrets(t *testing.T) {
	e := newEnv(t).withBusybox().withUserNS()
	id := e.PeaIn("s3cret-pass", "secret", "create", "dbpass", "-")
	if r := e.PeaIn("", "secret", "create", "dbpass", "-"); r.Code == 0 {
		t.Fatalf("secret create of an empty secret: %v", r)
	}
	f := filepath.Join(e.Dir, "token")
	os.WriteFile(f, []byte("tok-123"), 0o600)
	e.Pea("secret", "create", "--label", "app=x", "token", f)
	r := e.Fails(125, "secret", "create", "dbpass", f)
	if !strings.Contains(r.Stderr, "already exists") {
		t.Fatalf("a second dbpass: %v", r)
	}
	if got := e.Pea("secret", "ls", "--format", "{{.Name}} {{.Driver}}"); got != "dbpass file\ntoken file" {
		t.Fatalf("secret ls: %q", got)
	}
	if got := e.Pea("secret", "inspect", "--format", "{{.ID}} {{.Spec.Name}} {{.Spec.Labels}}", "token"); !strings.HasSuffix(got, " token map[app:x]") {
		t.Fatalf("secret inspect: %q", got)
	}
	if got := e.Pea("secret", "inspect", "dbpass"); !strings.Contains(got, strings.TrimSpace(id.Stdout)) || strings.Contains(got, "s3cret") {
		t.Fatalf("secret inspect shows the data or not the ID: %q", got)
	}
	out := e.Pea("run", "--name", "c", "--network", "none", "--user", "bob",
		"--secret", "dbpass", "--secret", "token,type=env,target=TOKEN", "--secret", "dbpass,target=copy,uid=1000,mode=0400",
		"localhost/bb", "sh", "-c", "cat /run/secrets/dbpass; echo; echo $TOKEN; cat /run/secrets/copy; echo; stat -c '%n %u %a' /run/secrets/dbpass /run/secrets/copy")
	if out != "s3cret-pass\ntok-123\ns3cret-pass\n/run/secrets/dbpass 0 444\n/run/secrets/copy 1000 400" {
		t.Fatalf("the secrets in the container: %q", out)
	}
	if cfg := e.Pea("inspect", "--format", "{{json .Config}}", "c"); strings.Contains(cfg, "s3cret") || strings.Contains(cfg, "tok-123") {
		t.Fatalf("a secret's data is in the container's config: %s", cfg)
	}
	// In a user namespace of its own, the file is the container's root's (the mapped host uid).
	if got := e.Pea("run", "--rm", "--network", "none", "--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536",
		"--secret", "dbpass", "localhost/bb", "stat", "-c", "%u:%g", "/run/secrets/dbpass"); got != "0:0" {
		t.Fatalf("a secret's owner in a user namespace: %q", got)
	}
	r = e.Fails(125, "secret", "rm", "dbpass")
	if !strings.Contains(r.Stderr, "used by container c") {
		t.Fatalf("rm of a secret in use: %v", r)
	}
	e.Pea("rm", "c")
	// rm prints the removed secret's ID, as podman's does, not the name it was given.
	sid := e.Pea("secret", "inspect", "--format", "{{.ID}}", "dbpass")
	if got := e.Pea("secret", "rm", "dbpass"); got != sid || len(sid) != 25 {
		t.Fatalf("secret rm printed %q, want the ID %q", got, sid)
	}
	r = e.Fails(125, "run", "--name", "nope", "--network", "none", "--secret", "dbpass", "localhost/bb", "true")
	if !strings.Contains(r.Stderr, "no such secret") {
		t.Fatalf("run with a removed secret: %v", r)
	}
	e.Fails(125, "run", "--network", "none", "--secret", "token,type=bad", "localhost/bb", "true")
	if got := e.Pea("ps", "-a", "-q"); got != "" {
		t.Fatalf("a refused run made a container: %q", got)
	}
	e.Pea("secret", "rm", "--all")
	if got := e.Pea("secret", "ls", "-q"); got != "" {
		t.Fatalf("secrets after rm --all: %q", got)
	}
	if ents, _ := os.ReadDir(filepath.Join(e.Root, "secrets")); len(ents) != 0 {
		t.Fatalf("files left in the secret store: %v", ents)
	}
}

// TestSecretDrivers: the shell driver keeps a secret's data where its commands say (store,
// lookup, delete with SECRET_ID), and containers get it through lookup; the file driver's path
// option puts the data in another directory; bad drivers and options are refused with nothing
// made; inspect --pretty is podman's layout.
func TestSecretDrivers(t *testing.T) {
	e := newEnv(t).withBusybox()
	vault := t.TempDir()
	opts := "store=cat > " + vault + "/$SECRET_ID,lookup=cat " + vault + "/$SECRET_ID,delete=rm " + vault + "/$SECRET_ID,list=ls " + vault
	id := strings.TrimSpace(e.PeaIn("s3cr3t", "secret", "create", "--driver", "shell", "--driver-opts", opts, "sh1", "-").Stdout)
	if b, err := os.ReadFile(filepath.Join(vault, id)); err != nil || string(b) != "s3cr3t" {
		t.Fatalf("the shell driver's store: %q %v", b, err)
	}
	if out := e.Pea("run", "--rm", "--network", "none", "--secret", "sh1", "localhost/bb", "cat", "/run/secrets/sh1"); out != "s3cr3t" {
		t.Fatalf("a container's shell-driver secret: %q", out)
	}
	if out := e.Pea("secret", "inspect", "-f", "{{.Spec.Driver.Name}}", "sh1"); out != "shell" {
		t.Fatalf("driver: %q", out)
	}
	pretty := e.Pea("secret", "inspect", "--pretty", "sh1")
	if !strings.HasPrefix(pretty, "ID:              "+id+"\nName:              sh1\nDriver:            shell\nCreated at:        ") {
		t.Fatalf("inspect --pretty:\n%s", pretty)
	}
	e.Pea("secret", "rm", "sh1")
	if _, err := os.Stat(filepath.Join(vault, id)); !os.IsNotExist(err) {
		t.Fatalf("the shell driver's delete did not run: %v", err)
	}
	dir := t.TempDir()
	fid := strings.TrimSpace(e.PeaIn("filed", "secret", "create", "--driver-opts", "path="+dir, "f1", "-").Stdout)
	if b, err := os.ReadFile(filepath.Join(dir, fid+".data")); err != nil || string(b) != "filed" {
		t.Fatalf("the file driver's path: %q %v", b, err)
	}
	if out := e.Pea("run", "--rm", "--network", "none", "--secret", "f1,type=env,target=F", "localhost/bb", "sh", "-c", "echo $F"); out != "filed" {
		t.Fatalf("a file-driver secret in another directory: %q", out)
	}
	for _, bad := range [][]string{
		{"--driver", "pass", "p1", "-"},
		{"--driver", "shell", "--driver-opts", "store=true", "p2", "-"},
		{"--driver", "shell", "--driver-opts", "store=true,lookup=true,delete=true,color=red", "p4", "-"},
	} {
		if r := e.PeaIn("x", append([]string{"secret", "create"}, bad...)...); r.Code != 125 || strings.Count(r.Stderr, "\n") != 1 {
			t.Fatalf("secret create %v: %s", bad, r)
		}
	}
	// The file driver keeps an option it does not use, as podman's.
	if r := e.PeaIn("x", "secret", "create", "--driver-opts", "color=red", "p3", "-"); r.Code != 0 {
		t.Fatalf("secret create with an unknown file driver option: %s", r)
	}
	if out := e.Pea("secret", "inspect", "--format", "{{.Spec.Driver.Options.color}}", "p3"); out != "red" {
		t.Fatalf("the file driver's options: %q", out)
	}
	if out := e.Pea("secret", "ls", "--format", "{{.Name}}"); out != "f1\np3" {
		t.Fatalf("secrets after the refusals: %q", out)
	}
}

// secret exists (podman 4.5's verb): exit 0 for a secret's name or ID, 1 for none, 125 without
// exactly one argument.
func TestSecretExists(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(e.PeaIn("value", "secret", "create", "known-secret", "-").Stdout)
	for _, name := range []string{"known-secret", id, id[:12]} {
		if r := e.Try("secret", "exists", name); r.Code != 0 || r.Stdout != "" || r.Stderr != "" {
			t.Errorf("secret exists %s: %s", name, r)
		}
	}
	if r := e.Try("secret", "exists", "unknown-secret"); r.Code != 1 || r.Stdout != "" || r.Stderr != "" {
		t.Errorf("secret exists of a missing secret: %s, want exit 1 and nothing printed", r)
	}
	e.Fails(125, "secret", "exists")
	e.Fails(125, "secret", "exists", "known-secret", "unknown-secret")
	e.Pea("secret", "rm", "known-secret")
	e.Fails(1, "secret", "exists", "known-secret")
}
