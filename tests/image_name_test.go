package tests

import (
	"testing"
)

// TestContainerImageNameIsTheOneGiven: a container records the name its image reference
// resolved to, as podman's (ps's IMAGE, inspect's ImageName), not the image's first name: pea
// showed localhost/bb:latest for a container made from "other" when the image had both names.
func TestContainerImageNameIsTheOneGiven(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("tag", "localhost/bb", "other")
	id := e.Pea("images", "--no-trunc", "--format", "{{.ID}}", "localhost/bb")
	for _, c := range []struct{ ref, want string }{
		{"other", "localhost/other:latest"},
		{"localhost/other:latest", "localhost/other:latest"},
		{"bb", "localhost/bb:latest"},
		{id[7:19], e.Pea("image", "inspect", "--format", "{{index .RepoTags 0}}", id)}, // by ID: its first name
		{id, id}, // sha256:ID stays as given
	} {
		cid := e.Pea("create", c.ref, "true")
		if got := e.Pea("ps", "-a", "--filter", "id="+cid, "--format", "{{.Image}}"); got != c.want {
			t.Errorf("create %s: ps shows image %q, want %q", c.ref, got, c.want)
		}
		if got := e.Pea("inspect", "--format", "{{.ImageName}}", cid); got != c.want {
			t.Errorf("create %s: ImageName %q, want %q", c.ref, got, c.want)
		}
	}
}
