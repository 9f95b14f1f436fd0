package main

import (
	"os"
	"path/filepath"
)

// The build group times an image build from a small Containerfile (a COPY from the context,
// one RUN in a container, a CMD), with each engine's own builder: pea build, podman build
// (buildah). Caching is off for both (--no-cache; pea has no cache), so every step runs.

// buildContext writes the context below e's directory (untimed) and returns it.
func buildContext(e *engine) (string, error) {
	dir := filepath.Join(e.dir, "build-context")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "data.txt"), []byte("some data\n"), 0o644); err != nil {
		return "", err
	}
	cf := "FROM " + imageRef + "\nCOPY data.txt /data.txt\nRUN echo built > /built.txt\nCMD [\"cat\", \"/built.txt\"]\n"
	return dir, os.WriteFile(filepath.Join(dir, "Containerfile"), []byte(cf), 0o644)
}

func (b *bench) buildGroup() group {
	return group{name: "build", ops: []op{
		b.single("build: FROM bb, COPY, RUN, CMD (no cache)", func(e *engine) ([]string, error) {
			dir, err := buildContext(e)
			if err != nil {
				return nil, err
			}
			return []string{"build", "-q", "--no-cache", "--network", "none", "-t", e.newName("built"), dir}, nil
		}, func(e *engine, args []string) {
			e.run(b.ctx, "rmi", args[len(args)-2])
		}),
	}}
}
