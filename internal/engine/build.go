package engine

// pea build: an image from a Containerfile (Dockerfile), without a daemon or buildah. Each
// RUN runs in a real container (crun under conmon, as pea run) made from the image so far, and
// its overlay upper directory becomes the next layer (as commit writes it); COPY and ADD write
// their layer straight from the context directory, no container; the other instructions change
// the config alone (image.ApplyChanges) and make a config-only image each, as podman's builds
// make an image per step. The steps' images stay as the cache (with --no-cache they are
// removed once the last one is made).
//
// Stages: each FROM starts one (FROM IMAGE [AS NAME]); a later one may start FROM an earlier
// one, and COPY --from=NAME|NUMBER|IMAGE copies out of an earlier stage's image or any image;
// the last stage is the image built (or --target's). ADD unpacks local tars; RUN's mounts and
// the build's RUN settings are in build_run.go; SHELL, HEALTHCHECK, ONBUILD and here-documents
// in build_instr.go; COPY and ADD in build_copy.go (ADD fetches http and https URLs through the
// registry helper).
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
	Labels     map[string]string // labels of the image built, added as LABEL steps
	LabelOrder []string          // the order of Labels' keys, as given (the rest sorted after)
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
	// from is the comment of the next step's history entry, as podman's: "FROM " and the image
	// the step starts from (the FROM image's name, then the previous step's image's ID).
	from string
	// pending are the history entries of config steps made while there was no image to make
	// theirs from (FROM scratch, before its first layer).
	pending []image.History
	// stageArgs are the ARGs the stage being built declared, in order (RUN's history names
	// those with values, as podman's).
	stageArgs []string
	// baseName is the FROM image's name ("" : scratch or a stage), which the steps' images
	// carry as podman's (org.opencontainers.image.base.name).
	baseName string
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
	if !slices.ContainsFunc(ins, func(in instruction) bool { return in.cmd == "FROM" }) {
		return nil, fmt.Errorf("no FROM instruction: %w", errdefs.ErrInvalid)
	}
	if b.o.Target != "" {
		end := targetEnd(ins, b.o.Target)
		if end < 0 {
			return nil, fmt.Errorf("target stage %q not found in the Containerfile: %w", b.o.Target, errdefs.ErrInvalid)
		}
		ins = ins[:end]
	}
	ins = append(ins, b.labelSteps(ins[len(ins)-1].line)...)
	skip := b.unusedStages(ins)
	// podman's step lines: STEP k/m counts the instructions of a stage (its FROM first); with
	// several stages each line starts [stage/stages].
	stageOf := make([]int, len(ins))
	var stageLen []int
	for i, in := range ins {
		if in.cmd == "FROM" {
			stageLen = append(stageLen, 0)
		}
		stageOf[i] = len(stageLen) - 1
		if len(stageLen) > 0 {
			stageLen[len(stageLen)-1]++
		}
	}
	prefix := func(i int) string {
		if len(stageLen) > 1 {
			return fmt.Sprintf("[%d/%d] ", stageOf[i]+1, len(stageLen))
		}
		return ""
	}
	seenFrom := false
	step := 0
	skipping := false
	for i, in := range ins {
		if in.cmd == "FROM" {
			step = 0
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
			text := in.String()
			if in.cmd == "FROM" {
				text = "FROM " + expandArgs(in.rest, b.fromVars())
			}
			fmt.Fprintf(b.o.Stdout, "%sSTEP %d/%d: %s\n", prefix(i), step, stageLen[stageOf[i]], text)
		}
		before := b.cur
		err := b.do(ctx, in, &seenFrom)
		if err == nil && in.cmd != "FROM" && seenFrom {
			if createdBy := configCreatedBy(in); createdBy != "" {
				err = b.configStep(createdBy)
			}
		}
		if err != nil {
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
		// The step's image, as podman prints it (the last one's after COMMIT).
		if in.cmd != "FROM" && i < len(ins)-1 && b.cur != nil && (before == nil || b.cur.ID != before.ID) {
			fmt.Fprintf(b.o.Stdout, "--> %s\n", b.cur.ID[:11])
		}
	}
	lastStage := stageOf[len(ins)-1]
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
	commit := "COMMIT"
	if len(b.o.Tags) > 0 {
		commit += " " + strings.Join(b.o.Tags, " ")
	}
	if len(stageLen) > 1 {
		commit = fmt.Sprintf("[%d/%d] %s", lastStage+1, len(stageLen), commit)
	}
	img, err := b.r.ImageLookup(final.ID)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(b.o.Stdout, "%s\n--> %s\n", commit, final.ID[:11])
	for _, t := range b.o.Tags {
		if n, err := image.NormalizeLocalName(t); err == nil {
			fmt.Fprintf(b.o.Stdout, "Successfully tagged %s\n", n)
		}
	}
	return img, nil
}

// labelSteps are the build's labels (--label) as steps of the last stage, one LABEL each, in
// the order given: podman's build (and Docker's classic builder) adds them so, and the image of
// the last step of the file stays the labelled image's parent (an intermediate image).
func (b *builder) labelSteps(lastLine int) []instruction {
	keys := slices.Clone(b.o.LabelOrder)
	for _, k := range slices.Sorted(maps.Keys(b.o.Labels)) {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	var out []instruction
	for _, k := range keys {
		if v, ok := b.o.Labels[k]; ok {
			out = append(out, instruction{cmd: "LABEL", rest: fmt.Sprintf("%q=%q", k, v), line: lastLine + 1})
		}
	}
	return out
}

// configCreatedBy is the history entry podman's build writes for a step that changes the
// config alone ("" for any other step): the instruction as written, an ARG's name only.
func configCreatedBy(in instruction) string {
	switch in.cmd {
	case "ENV", "LABEL", "WORKDIR", "USER", "EXPOSE", "VOLUME", "STOPSIGNAL", "MAINTAINER",
		"CMD", "ENTRYPOINT", "SHELL", "HEALTHCHECK", "ONBUILD":
		return "/bin/sh -c #(nop) " + in.String()
	case "ARG":
		name, _, _ := strings.Cut(strings.TrimSpace(in.rest), "=")
		return "/bin/sh -c #(nop) ARG " + strings.TrimSpace(name)
	}
	return ""
}

// fromVars are the variables a FROM line expands: the ARGs so far, and the platform's.
func (b *builder) fromVars() map[string]string {
	vars := maps.Clone(b.vars)
	for _, k := range []string{"TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT", "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT"} {
		if _, ok := vars[k]; !ok {
			vars[k] = platformArg(k)
		}
	}
	return vars
}

// runCreatedBy is the history entry of a RUN: its command after podman's (and Docker's) list
// of the stage's ARGs that have a value, "|N NAME=VALUE...", when there are any.
func (b *builder) runCreatedBy(arg string) string {
	var kv []string
	for _, name := range slices.Sorted(slices.Values(b.stageArgs)) {
		if v, ok := b.vars[name]; ok && !slices.Contains(kv, name+"="+v) {
			kv = append(kv, name+"="+v)
		}
	}
	if len(kv) == 0 {
		return "/bin/sh -c " + arg
	}
	return fmt.Sprintf("|%d %s /bin/sh -c %s", len(kv), strings.Join(kv, " "), arg)
}

// endStage makes the image of the stage being built when its steps left it without one (FROM
// scratch with no layer: an image of one empty layer) or changed the config after the last
// one (--label, --unsetenv: the same history with the new config, as podman's final commit),
// and records it under the stage's name and number.
func (b *builder) endStage() error {
	switch {
	case b.cur == nil:
		if key := b.cacheKey("EMPTY"); !b.cached(key, 1) {
			if err := b.commit(bytes.NewReader(emptyTar()), "/bin/sh -c #(nop) config", key); err != nil {
				return err
			}
		}
	case b.dirty:
		key := b.cacheKey("CONFIG")
		if b.cached(key, 0) {
			break
		}
		o := b.commitOptions("", key)
		o.KeepHistory = true
		// The image of the stage's last step, amended: the base it names is that step's.
		if d, ok := b.cur.Annotations["org.opencontainers.image.base.digest"]; ok {
			o.Annotations["org.opencontainers.image.base.digest"] = d
		}
		img, err := b.is.Reconfigure(b.cur, b.conf, o)
		if err != nil {
			return err
		}
		b.stepImage(img)
		b.made = append(b.made, img.ID)
	}
	b.stages[strconv.Itoa(b.nstage)] = b.cur
	if b.stageName != "" {
		b.stages[b.stageName] = b.cur
	}
	b.nstage++
	return nil
}

// fromName is how a step's history names the FROM image it started from: the name the FROM
// gave, in full, as podman's; else the image's first name, else its ID.
func fromName(img *image.Image, ref string) string {
	if n, err := image.NormalizeName(ref); err == nil && slices.Contains(img.Names, n) {
		return n
	}
	if n, err := image.NormalizeLocalName(ref); err == nil && slices.Contains(img.Names, n) {
		return n
	}
	if len(img.Names) > 0 {
		return img.Names[0]
	}
	return img.ID[:12]
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
		vars := b.fromVars()
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
		} else if !slices.Contains(b.stageArgs, name) {
			b.stageArgs = append(b.stageArgs, name)
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
		b.pending, b.stageArgs, b.from, b.baseName = nil, nil, "", ""
		switch st, ok := b.stages[strings.ToLower(ref[0])]; {
		case ref[0] == "scratch":
			b.cur, b.conf = nil, image.Config{}
		case ok: // an earlier stage
			b.cur, b.conf = st, st.Config.Config
			b.from = "FROM " + st.ID[:12]
		default:
			img, err := b.r.resolveImage(ctx, ref[0], CreateOptions{Pull: b.o.Pull, Registry: b.o.Registry})
			if err != nil {
				return err
			}
			b.cur, b.conf = img, img.Config.Config
			b.baseName = fromName(img, ref[0])
			b.from = "FROM " + b.baseName
		}
		b.stageBase = b.cur
		// As podman's builds: the images of the steps have a PATH, the default one when the
		// FROM image sets none (a FROM alone still gives the FROM image itself).
		if !hasEnv(b.conf.Env, "PATH") {
			b.conf.Env = append(slices.Clone(b.conf.Env), defaultPath)
		}
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
