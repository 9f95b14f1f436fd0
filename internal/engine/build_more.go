package engine

// What a build does beyond its instructions: the platform it is for (this machine's only),
// the stages it leaves out (those the image built does not need), the named contexts of
// --build-context, and, once the image is made, its file system written out (--output) and
// the image added to a manifest list (--manifest).

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"pea/internal/errdefs"
	"pea/internal/image"
	"pea/internal/model"
)

// checkBuildExtras refuses, before anything is made, what the build could not finish: another
// platform than this machine's, a bad output, a manifest list name that is an image, a named
// context that is no directory.
func (r *Runtime) checkBuildExtras(o *BuildOptions) error {
	if o.Platform != "" {
		if err := checkBuildPlatform(o.Platform); err != nil {
			return err
		}
	}
	switch o.OutputType {
	case "":
	case "local", "tar":
		if o.OutputDest == "" {
			return fmt.Errorf("--output type=%s needs dest=PATH: %w", o.OutputType, errdefs.ErrInvalid)
		}
		if o.OutputDest == "-" {
			return fmt.Errorf("--output to stdout (dest=-) is not supported: give a file or directory: %w", errdefs.ErrInvalid)
		}
		if o.OutputType == "tar" {
			if fi, err := os.Stat(o.OutputDest); err == nil && fi.IsDir() {
				return fmt.Errorf("--output type=tar,dest=%s: a directory, not a file: %w", o.OutputDest, errdefs.ErrInvalid)
			}
			if fi, err := os.Stat(filepath.Dir(o.OutputDest)); err != nil || !fi.IsDir() {
				return fmt.Errorf("--output type=tar,dest=%s: no directory %s to write it in: %w", o.OutputDest, filepath.Dir(o.OutputDest), errdefs.ErrInvalid)
			}
		} else if fi, err := os.Stat(o.OutputDest); err == nil && !fi.IsDir() {
			return fmt.Errorf("--output type=local,dest=%s: not a directory: %w", o.OutputDest, errdefs.ErrInvalid)
		}
	default:
		return fmt.Errorf("--output type=%s: pea writes type=local or type=tar: %w", o.OutputType, errdefs.ErrInvalid)
	}
	if o.Manifest != "" {
		if _, err := image.NormalizeLocalName(o.Manifest); err != nil {
			return fmt.Errorf("--manifest %q: %w", o.Manifest, err)
		}
		if _, err := r.ManifestExists(o.Manifest); err != nil {
			return fmt.Errorf("--manifest: %w", err)
		}
	}
	for name, dir := range o.Contexts {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return fmt.Errorf("--build-context %s=%s: not a directory: %w", name, dir, errdefs.ErrInvalid)
		}
	}
	return nil
}

// checkBuildPlatform accepts OS/ARCH[/VARIANT] when it is this machine's: RUN runs natively,
// there is no emulation, so an image of another platform cannot be built here.
func checkBuildPlatform(p string) error {
	parts := strings.Split(p, "/")
	host := platformArg("TARGETPLATFORM")
	ok := len(parts) >= 2 && len(parts) <= 3 && parts[0] == "linux" && normalArch(parts[1]) == runtime.GOARCH
	if ok && len(parts) == 3 {
		ok = parts[2] == "" || runtime.GOARCH == "arm64" && parts[2] == "v8"
	}
	if !ok {
		return fmt.Errorf("platform %s: pea builds for this machine's platform only (%s), without emulation: %w", p, host, errdefs.ErrInvalid)
	}
	return nil
}

// HostPlatform is this machine's OS/ARCH, the platform pea builds for.
func HostPlatform() string { return platformArg("TARGETPLATFORM") }

// normalArch is the Go name of an architecture's other names.
func normalArch(a string) string {
	switch a {
	case "x86_64", "x86-64":
		return "amd64"
	case "aarch64":
		return "arm64"
	}
	return a
}

// finish writes the image's file system out (--output) and adds it to a list (--manifest).
func (b *builder) finish(ctx context.Context, img *image.Image) error {
	if b.o.OutputType != "" {
		if err := b.output(ctx, img); err != nil {
			return err
		}
	}
	if b.o.Manifest == "" {
		return nil
	}
	ref := []string{"containers-storage:" + img.ID}
	exists, err := b.r.ManifestExists(b.o.Manifest)
	if err != nil {
		return err
	}
	if exists {
		_, err = b.r.ManifestAdd(ctx, b.o.Manifest, ref, ManifestAddOptions{})
	} else {
		_, err = b.r.ManifestCreate(ctx, b.o.Manifest, ref, false, ManifestAddOptions{})
	}
	if err != nil {
		return fmt.Errorf("--manifest %s: %w", b.o.Manifest, err)
	}
	return nil
}

// output writes the file system of img, through a container of it that never runs (as export
// writes it), into a directory (local) or a tar file.
func (b *builder) output(ctx context.Context, img *image.Image) error {
	c, err := b.container(ctx, &model.ContainerConfig{ImageName: img.ID, Cmd: []string{"true"},
		Namespaces: map[string]model.Namespace{model.NSNet: {Mode: model.NSModeNone}}})
	if err != nil {
		return err
	}
	defer b.r.RemoveContainer(context.Background(), c.Config.ID, RemoveOptions{Force: true, Timeout: uintPtr(0), Ignore: true})
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(b.r.ExportContainer(ctx, c.Config.ID, pw)) }()
	defer pr.CloseWithError(io.ErrClosedPipe)
	dest := b.o.OutputDest
	if b.o.OutputType == "tar" {
		tmp := dest + ".pea-tmp"
		f, err := os.Create(tmp)
		if err != nil {
			return fmt.Errorf("--output: %w", err)
		}
		_, err = io.Copy(f, pr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp, dest)
		}
		if err != nil {
			os.Remove(tmp)
			return fmt.Errorf("--output: %w", err)
		}
		return nil
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	if err := Untar(pr, dest); err != nil {
		return fmt.Errorf("--output %s: %w", dest, err)
	}
	return nil
}

// unusedStages marks the instructions of the stages the image built does not need: the last
// stage needs the stages it starts FROM, copies --from or mounts from=, and so on back. A
// reference it cannot resolve (an ARG without a value) keeps every stage.
func (b *builder) unusedStages(ins []instruction) []bool {
	skip := make([]bool, len(ins))
	if b.o.AllStages {
		return skip
	}
	// The ARGs' values: --build-arg's, else the default; one declared with different defaults
	// (or none) is unknown here.
	vars := map[string]string{}
	unknown := map[string]bool{}
	for _, in := range ins {
		if in.cmd == "ARG" {
			name, def, hasDef := strings.Cut(in.rest, "=")
			name, def = strings.TrimSpace(name), strings.Trim(def, `"`)
			if v, ok := b.o.Args[name]; ok {
				vars[name] = v
			} else if old, seen := vars[name]; !hasDef || seen && old != def {
				unknown[name] = true
			} else {
				vars[name] = def
			}
		}
	}
	for _, k := range []string{"TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT", "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT"} {
		if _, ok := vars[k]; !ok {
			vars[k] = platformArg(k)
		}
	}
	resolve := func(ref string) string {
		if strings.Contains(ref, "$") {
			for name := range unknown {
				if strings.Contains(ref, name) {
					return "$"
				}
			}
		}
		return strings.ToLower(expandArgs(ref, vars))
	}
	type stage struct {
		start int
		name  string
		refs  []string
	}
	var stages []stage
	for i, in := range ins {
		var ref string
		switch in.cmd {
		case "FROM":
			f := strings.Fields(in.rest)
			st := stage{start: i}
			if len(f) == 3 {
				st.name = strings.ToLower(f[2])
			}
			stages = append(stages, st)
			if len(f) > 0 {
				ref = f[0]
			}
		case "COPY", "ADD":
			ref = in.flags["from"]
		case "RUN":
			for _, m := range in.mounts {
				for _, kv := range strings.Split(m, ",") {
					if k, v, _ := strings.Cut(kv, "="); strings.EqualFold(k, "from") {
						stages[len(stages)-1].refs = append(stages[len(stages)-1].refs, resolve(v))
					}
				}
			}
		}
		if ref != "" && len(stages) > 0 {
			stages[len(stages)-1].refs = append(stages[len(stages)-1].refs, resolve(ref))
		}
	}
	if len(stages) < 2 {
		return skip
	}
	needed := make([]bool, len(stages))
	needed[len(stages)-1] = true
	for k := len(stages) - 1; k >= 0; k-- {
		if !needed[k] {
			continue
		}
		for _, ref := range stages[k].refs {
			if ref == "$" || ref == "" {
				return skip // unknown: every stage is built
			}
			for j := range k {
				if stages[j].name == ref || fmt.Sprint(j) == ref {
					needed[j] = true
				}
			}
		}
	}
	for k, st := range stages {
		end := len(ins)
		if k+1 < len(stages) {
			end = stages[k+1].start
		}
		for i := st.start; i < end; i++ {
			skip[i] = !needed[k]
		}
	}
	return skip
}

// contextPaths are the host paths of paths in the named context dir (--build-context), for
// COPY --from=NAME and RUN --mount=from=NAME: each must exist, and no link may lead out of it.
func contextPaths(name, dir string, paths []string) ([]string, error) {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range paths {
		if strings.ContainsAny(p, "*?[") {
			return nil, fmt.Errorf("--from=%s %s: patterns are not supported with --from: %w", name, p, errdefs.ErrInvalid)
		}
		real, err := filepath.EvalSymlinks(filepath.Join(root, filepath.FromSlash(path.Clean("/"+p))))
		if err != nil {
			return nil, fmt.Errorf("--from=%s %s: no such path in the build context %s: %w", name, p, name, errdefs.ErrNotFound)
		}
		if real != root && !strings.HasPrefix(real, root+string(filepath.Separator)) {
			return nil, fmt.Errorf("--from=%s %s: leads out of the build context %s: %w", name, p, name, errdefs.ErrInvalid)
		}
		out = append(out, real)
	}
	return out, nil
}
