package tests

import (
	"strings"
	"testing"
)

// The docker client's everyday commands that a sweep against pea's service found wrong, each
// driven with the real client.

// docker system prune and docker builder prune ask POST /build/prune last: it answered 404 and
// failed both after the rest had been pruned.
func TestAPIDockerSystemPrune(t *testing.T) {
	a := newAPIEnv(t)
	a.MustDocker("create", "--name", "k1", "localhost/bb", "true")
	out := a.MustDocker("system", "prune", "-f")
	if !strings.Contains(out, "Deleted Containers:") || !strings.Contains(out, "Total reclaimed space") {
		t.Fatalf("docker system prune: %q", out)
	}
	if got := a.Pea("ps", "-aq"); got != "" {
		t.Fatalf("after system prune: %q", got)
	}
	a.MustDocker("builder", "prune", "-f")
}
