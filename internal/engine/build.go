package engine

// pea build: an image from a Containerfile (Dockerfile), without a daemon or buildah. Each
// RUN runs in a real container (crun under conmon, as pea run) made from the image so far, and
// its overlay upper directory becomes the next layer (as commit writes it); COPY and ADD write
// their layer straight from the context directory, no container; the other instructions change
// the config alone (image.ApplyChanges), which the next layer's image (or, at the end, an
// empty layer's) carries. Intermediate images are removed once the last one is made.
//
// Stages: each FROM starts one (FROM IMAGE [AS NAME]); a later one may start FROM an earlier
// one, and COPY --from=NAME|NUMBER|IMAGE copies out of an earlier stage's image or any image;
// the last stage is the image built (or --target's). ADD unpacks local tars; RUN's mounts and
// the build's RUN settings are in build_run.go; SHELL, HEALTHCHECK, ONBUILD and here-documents
// in build_instr.go; COPY and ADD in build_copy.go. ADD of URLs is refused with its own message.
// build_more.go has the platform check, the stages left out (those the image built does not
// need), named contexts (--build-context), and what follows the image: --output, --manifest;
// build_meta.go what the image built carries beyond its config (--annotation, --os-version,
// --os-feature), --cache-ttl and the Containerfile.in cpp preprocesses; build_parse.go the
// Containerfile's parsing; build_cache.go the steps' commits and the layer cache.

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"pea/internal/errdefs"
	"pea/internal/image"
	"pea/internal/image/trust"
	"pea/internal/model"
)

// BuildOptions control Build.
type BuildOptions struct {
	File    string            // the Containerfile ("" : Containerfile, else Dockerfile, in the context)
	Context string            // the context directory COPY and ADD read
	Tags    []string          // names of the image (the first is its name; none: untagged)
	Args    map[string]string // --build-arg values
	Network string            // RUN's network: "" (the default network), none, host
	Pull    string            // FROM's pull policy: missing (default), always, never
	// NoCache runs every step, and keeps none of the intermediate images. Otherwise a step
	// whose result is an image already made (same parent, instruction, config, and for COPY the
	// same files) reuses it, and the intermediate images stay, for the next build.
	NoCache bool
	// Stdout receives the steps and what RUN prints; Stderr what RUN writes there.
	Stdout, Stderr io.Writer
	Registry       image.PullOptions // how FROM reaches its registry

	Target     string            // the stage the build stops at (its image is the one built)
	From       string            // the image of the first FROM, instead of the file's
	Labels     map[string]string // labels of the image built
	Env        []string          // KEY=VALUE set at each FROM: RUN sees them, the image keeps them
	IgnoreFile string            // the ignore file, instead of the context's own
	Secrets    map[string]string // --secret id → host file, for RUN --mount=type=secret
	// RunTemplate holds the settings every RUN's container gets (mounts, capabilities, limits,
	// DNS and hosts...); each RUN's image, command, environment and network are its own.
	RunTemplate *model.ContainerConfig
	// Timestamp, when set, is the creation time of the images built and of their history.
	Timestamp *time.Time
	// SquashAll makes the image built one layer of its whole file system; Squash one layer of
	// what the last stage added to its FROM image, on top of that image's layers.
	SquashAll, Squash bool

	// The rest is in build_more.go.
	Manifest string // a manifest list the image built is added to (made when missing)
	// OutputType ("local" or "tar") and OutputDest: the image's file system is also written
	// there, a directory or a tar file ("-": Stdout).
	OutputType, OutputDest string
	UnsetEnv               []string          // variables taken out of the image's environment
	AllStages              bool              // also build the stages the image built does not need
	OmitHistory            bool              // the image built has no history
	Stdin                  io.Reader         // what RUN reads on its stdin (nil: nothing)
	Contexts               map[string]string // --build-context NAME → directory, for --from=NAME
	// Platform is the OS/ARCH[/VARIANT] asked for ("" : this machine's, the only one pea builds).
	Platform string

	// The rest is in build_meta.go.
	Annotations map[string]string // manifest annotations of the image built
	OSVersion   string            // its config's os.version ("" : the base image's)
	// OSFeatures are added to the base image's os.features; "NAME-" takes NAME out.
	OSFeatures []string
	// CacheTTL, when above zero, leaves out of the cache the images stored longer ago than it
	// (zero: no limit; --cache-ttl 0 is NoCache, set by the caller).
	CacheTTL time.Duration
	// CppFlags are given to cpp, which preprocesses a Containerfile whose name ends in .in.
	CppFlags []string
}

// builder is one build's state.
type builder struct {
	r        *Runtime
	o        BuildOptions
	is       *image.Store
	cur      *image.Image // the image so far (nil: FROM scratch, nothing yet)
	conf     image.Config // its config as the instructions so far make it
	dirty    bool         // conf changed since cur was made
	vars     map[string]string
	declared map[string]bool // ARGs the file declared (a --build-arg must be one)
	made     []string        // intermediate images, removed at the end
	// global are the ARGs before the first FROM; stages the images of the stages built, by
	// name and by number; stageName the name of the one being built ("" : none).
	global    map[string]string
	stages    map[string]*image.Image
	ignore    ignoreRules // the context's .containerignore/.dockerignore
	nstage    int
	stageName string
	cmdSet    bool         // the stage set CMD (an ENTRYPOINT after it keeps it)
	stageBase *image.Image // the image the stage being built started from (nil: scratch)
	// final is what the image built gets beyond its config (annotations, os.version,
	// os.features): set as the last stage ends, it goes into the images made from then on.
	final *finalMeta
}

// Build makes an image from a Containerfile and names it with o.Tags.
func (r *Runtime) Build(ctx context.Context, o BuildOptions) (*image.Image, error) {
	if o.Context == "" {
		o.Context = "."
	}
	ctxDir, err := filepath.Abs(o.Context)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(ctxDir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("build context %s: not a directory: %w", o.Context, errdefs.ErrInvalid)
	}
	o.Context = ctxDir
	file := o.File
	if file == "" {
		file = filepath.Join(ctxDir, "Containerfile")
		if _, err := os.Stat(file); err != nil {
			file = filepath.Join(ctxDir, "Dockerfile")
		}
	}
	src, err := readContainerfile(ctx, file, ctxDir, o.CppFlags)
	if err != nil {
		return nil, err
	}
	ins, err := parseContainerfile(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	for _, t := range o.Tags {
		if _, err := image.NormalizeLocalName(t); err != nil {
			return nil, fmt.Errorf("tag %q: %w", t, err)
		}
	}
	if err := r.checkBuildExtras(&o); err != nil {
		return nil, err
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	is, err := r.imageStore()
	if err != nil {
		return nil, err
	}
	ignore, err := loadIgnore(ctxDir, o.IgnoreFile)
	if err != nil {
		return nil, fmt.Errorf("the context's ignore file: %w", err)
	}
	b := &builder{r: r, o: o, is: is, vars: map[string]string{}, declared: map[string]bool{},
		global: map[string]string{}, stages: map[string]*image.Image{}, ignore: ignore}
	defer b.cleanup()
	img, err := b.run(ctx, ins)
	if err != nil {
		return nil, err
	}
	return img, b.finish(ctx, img)
}

// cleanup removes the intermediate images (their layers stay where the final image uses them).
func (b *builder) cleanup() {
	if !b.o.NoCache {
		return // they are the cache of the next build, a failed one's too (its steps that worked)
	}
	for _, id := range b.made {
		b.r.ImageRemoveWith(id, ImageRemoveOptions{Force: true})
	}
}

func (b *builder) run(ctx context.Context, ins []instruction) (*image.Image, error) {
	seenFrom := false
	steps := 0
	for _, in := range ins {
		if in.cmd != "ARG" || seenFrom {
			steps++
		}
		if in.cmd == "FROM" {
			seenFrom = true
		}
	}
	if !seenFrom {
		return nil, fmt.Errorf("no FROM instruction: %w", errdefs.ErrInvalid)
	}
	if b.o.Target != "" {
		end := targetEnd(ins, b.o.Target)
		if end < 0 {
			return nil, fmt.Errorf("target stage %q not found in the Containerfile: %w", b.o.Target, errdefs.ErrInvalid)
		}
		for _, in := range ins[end:] {
			if in.cmd != "ARG" || seenFrom {
				steps--
			}
		}
		ins = ins[:end]
	}
	skip := b.unusedStages(ins)
	for i := range ins {
		if skip[i] { // the instructions of a stage after its FROM, so each a step
			steps--
		}
	}
	seenFrom = false
	step := 0
	skipping := false
	for i, in := range ins {
		if in.cmd == "FROM" {
			if skipping = skip[i]; skipping {
				// A stage the image built does not need: not built, but it keeps its number.
				if seenFrom {
					if err := b.endStage(); err != nil {
						return nil, err
					}
				}
				seenFrom = false
				b.nstage++
			}
		}
		if skipping {
			continue
		}
		if !seenFrom && in.cmd != "ARG" && in.cmd != "FROM" {
			return nil, fmt.Errorf("line %d: %s before FROM: %w", in.line, in.cmd, errdefs.ErrInvalid)
		}
		if in.cmd != "ARG" || seenFrom {
			step++
			fmt.Fprintf(b.o.Stdout, "STEP %d/%d: %s\n", step, steps, in)
		}
		if err := b.do(ctx, in, &seenFrom); err != nil {
			if in.cmd == "FROM" && errors.Is(err, trust.ErrRejected) {
				return nil, fmt.Errorf("creating build container: %w", err)
			}
			err = fmt.Errorf("building at STEP \"%s\": %w", in, err)
			if ee, ok := errors.AsType[*errdefs.ExitError](err); ok {
				// A RUN's exit code is the build's, with the step named.
				return nil, &errdefs.ExitError{Code: ee.Code, Err: err}
			}
			return nil, err
		}
	}
	for name := range b.o.Args {
		if !b.declared[name] {
			fmt.Fprintf(b.o.Stderr, "[Warning] one or more build args were not consumed: [%s]\n", name)
		}
	}
	if len(b.o.UnsetEnv) > 0 {
		b.conf.Env = slices.DeleteFunc(slices.Clone(b.conf.Env), func(kv string) bool {
			k, _, _ := strings.Cut(kv, "=")
			return slices.Contains(b.o.UnsetEnv, k)
		})
		b.dirty = true
	}
	if len(b.o.Labels) > 0 {
		if b.conf.Labels == nil {
			b.conf.Labels = map[string]string{}
		}
		maps.Copy(b.conf.Labels, b.o.Labels)
		b.dirty = true
	}
	b.setFinal()
	if err := b.endStage(); err != nil {
		return nil, err
	}
	switch {
	case b.o.SquashAll:
		if err := b.squashAll(ctx); err != nil {
			return nil, err
		}
	case b.o.Squash:
		if err := b.squashNew(ctx, b.stageBase); err != nil {
			return nil, err
		}
	}
	if b.o.OmitHistory && b.cur != nil {
		o := b.commitOptions("", "")
		o.CreatedBy, o.Comment, o.OmitHistory = "", "", true
		img, err := b.is.Reconfigure(b.cur, b.conf, o)
		if err != nil {
			return nil, err
		}
		b.made = append(b.made, img.ID)
		b.cur = img
	}
	final := b.cur
	b.made = slices.DeleteFunc(b.made, func(id string) bool { return id == final.ID })
	if len(b.o.Tags) > 0 {
		if err := b.r.ImageTag(final.ID, b.o.Tags...); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(b.o.Stdout, "COMMIT %s\n", strings.Join(b.o.Tags, " "))
	return b.r.ImageLookup(final.ID)
}

// endStage makes the image of the stage being built, if its last instructions changed only
// the config (or it has nothing at all), and records it under the stage's name and number.
func (b *builder) endStage() error {
	switch {
	case b.cur == nil: // FROM scratch and nothing else: an image of one empty layer
		if key := b.cacheKey("EMPTY"); !b.cached(key) {
			if err := b.commit(bytes.NewReader(emptyTar()), "/bin/sh -c #(nop) config", key); err != nil {
				return err
			}
		}
	case b.dirty: // the config changed after the last layer
		key := b.cacheKey("CONFIG")
		if b.cached(key) {
			break
		}
		img, err := b.is.Reconfigure(b.cur, b.conf, b.commitOptions("/bin/sh -c #(nop) config", key))
		if err != nil {
			return err
		}
		b.cur, b.dirty = img, false
		b.made = append(b.made, img.ID)
	}
	b.stages[strconv.Itoa(b.nstage)] = b.cur
	if b.stageName != "" {
		b.stages[b.stageName] = b.cur
	}
	b.nstage++
	return nil
}

// emptyTar is a tar stream without entries.
func emptyTar() []byte {
	var buf bytes.Buffer
	tar.NewWriter(&buf).Close()
	return buf.Bytes()
}

// do carries out one instruction.
func (b *builder) do(ctx context.Context, in instruction, seenFrom *bool) error {
	arg := in.rest
	switch in.cmd {
	case "RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK", "SHELL", "ONBUILD":
		// As Docker's: left to the shell, which has the ARGs and ENVs in its environment.
	case "ARG":
		arg = expandArgs(in.rest, b.vars)
	case "FROM": // the ARGs alone (the last stage's ENVs are not this one's), and the platform's
		vars := maps.Clone(b.vars)
		for _, k := range []string{"TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT", "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT"} {
			if _, ok := vars[k]; !ok {
				vars[k] = platformArg(k)
			}
		}
		arg = expandArgs(in.rest, vars)
		if p := expandArgs(in.flags["platform"], vars); p != "" && p != platformArg("TARGETPLATFORM") {
			return fmt.Errorf("FROM --platform=%s: pea builds for %s only: %w", p, platformArg("TARGETPLATFORM"), errdefs.ErrInvalid)
		}
	default:
		// ARGs and the ENVs so far (an ENV wins over an ARG of the same name).
		vars := maps.Clone(b.vars)
		for _, kv := range b.conf.Env {
			if k, v, ok := strings.Cut(kv, "="); ok {
				vars[k] = v
			}
		}
		arg = expandArgs(in.rest, vars)
	}
	switch in.cmd {
	case "ARG":
		name, def, hasDef := strings.Cut(arg, "=")
		name = strings.TrimSpace(name)
		if name == "" {
			return fmt.Errorf("ARG needs a name: %w", errdefs.ErrInvalid)
		}
		b.declared[name] = true
		if v, ok := b.o.Args[name]; ok {
			b.vars[name] = v
		} else if hasDef {
			b.vars[name] = strings.Trim(def, `"`)
		} else if _, ok := b.vars[name]; !ok {
			b.vars[name] = platformArg(name) // TARGETARCH and the like, else nothing
		}
		if !*seenFrom {
			b.global[name] = b.vars[name]
		}
		return nil
	case "FROM":
		if *seenFrom {
			if err := b.endStage(); err != nil {
				return err
			}
		}
		*seenFrom = true
		ref := strings.Fields(arg)
		switch {
		case len(ref) == 1:
			b.stageName = ""
		case len(ref) == 3 && strings.EqualFold(ref[1], "AS"):
			b.stageName = strings.ToLower(ref[2])
		default:
			return fmt.Errorf("FROM %s: use FROM IMAGE [AS NAME]: %w", arg, errdefs.ErrInvalid)
		}
		b.vars = maps.Clone(b.global) // a stage sees the ARGs before the first FROM, declared again
		b.dirty, b.cmdSet = false, false
		if b.o.From != "" && b.nstage == 0 {
			ref[0] = b.o.From
		}
		switch st, ok := b.stages[strings.ToLower(ref[0])]; {
		case ref[0] == "scratch":
			b.cur, b.conf = nil, image.Config{}
		case ok: // an earlier stage
			b.cur, b.conf = st, st.Config.Config
		default:
			img, err := b.r.resolveImage(ctx, ref[0], CreateOptions{Pull: b.o.Pull, Registry: b.o.Registry})
			if err != nil {
				return err
			}
			b.cur, b.conf = img, img.Config.Config
		}
		b.stageBase = b.cur
		if len(b.o.Env) > 0 {
			for _, kv := range b.o.Env {
				k, v, _ := strings.Cut(kv, "=")
				b.conf.Env = setEnvVar(b.conf.Env, k, v)
			}
			b.dirty = true
		}
		return b.onBuildTriggers(ctx, seenFrom)
	case "RUN":
		return b.runStep(ctx, in, arg)
	case "COPY", "ADD":
		return b.copyStep(ctx, in, arg)
	case "CMD", "ENTRYPOINT":
		return b.commandStep(in.cmd, arg)
	case "SHELL":
		return b.shellStep(arg)
	case "HEALTHCHECK":
		return b.healthcheckStep(in, arg)
	case "ONBUILD":
		if t, _, _ := strings.Cut(strings.TrimSpace(in.rest), " "); strings.EqualFold(t, "ONBUILD") || strings.EqualFold(t, "FROM") || strings.EqualFold(t, "MAINTAINER") {
			return fmt.Errorf("ONBUILD %s: %s is not allowed as a trigger: %w", in.rest, strings.ToUpper(t), errdefs.ErrInvalid)
		}
		b.conf.OnBuild = append(b.conf.OnBuild, in.rest) // expanded when it runs, in the later build
		b.dirty = true
		return nil
	case "ENV", "LABEL", "WORKDIR", "USER", "EXPOSE", "VOLUME", "STOPSIGNAL":
		if in.cmd == "WORKDIR" && !path.IsAbs(arg) {
			arg = path.Join("/", b.conf.WorkingDir, arg)
		}
		if err := image.ApplyChanges(&b.conf, []string{in.cmd + " " + arg}); err != nil {
			return err
		}
		b.dirty = true
		return nil
	case "MAINTAINER":
		if b.conf.Labels == nil {
			b.conf.Labels = map[string]string{}
		}
		b.conf.Labels["maintainer"] = arg
		b.dirty = true
		return nil
	}
	return fmt.Errorf("unknown instruction %s: %w", in.cmd, errdefs.ErrInvalid)
}
