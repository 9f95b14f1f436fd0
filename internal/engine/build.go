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
// in build_instr.go. ADD of URLs is refused with its own message.

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
}

// instruction is one parsed line of a Containerfile.
type instruction struct {
	cmd    string            // upper case: FROM, RUN, ...
	flags  map[string]string // --chown=..., --from=...
	mounts []string          // RUN's --mount=... values, in order (the flag repeats)
	rest   string            // what follows the instruction and its flags
	line   int
	docs   []heredoc // the here-documents rest names (<<EOF), in order
}

func (in instruction) String() string {
	s := in.cmd
	for _, k := range slices.Sorted(maps.Keys(in.flags)) {
		s += " --" + k + "=" + in.flags[k]
	}
	for _, m := range in.mounts {
		s += " --mount=" + m
	}
	return s + " " + in.rest
}

// parseContainerfile splits a Containerfile into instructions: comments and blank lines go,
// a line ending in a backslash continues on the next.
func parseContainerfile(b []byte) ([]instruction, error) {
	var out []instruction
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var cur strings.Builder
	start, n := 0, 0
	flush := func() error {
		text := strings.TrimSpace(cur.String())
		cur.Reset()
		if text == "" {
			return nil
		}
		cmd, rest, _ := strings.Cut(text, " ")
		if i := strings.IndexAny(text, " \t"); i >= 0 {
			cmd, rest = text[:i], strings.TrimSpace(text[i+1:])
		}
		in := instruction{cmd: strings.ToUpper(cmd), flags: map[string]string{}, line: start}
		for strings.HasPrefix(rest, "--") {
			f, r, _ := strings.Cut(rest, " ")
			k, v, ok := strings.Cut(strings.TrimPrefix(f, "--"), "=")
			if !ok {
				return fmt.Errorf("line %d: %s: flag --%s needs a value (--%s=VALUE): %w", start, in.cmd, k, k, errdefs.ErrInvalid)
			}
			if k == "mount" {
				in.mounts = append(in.mounts, v)
			} else {
				in.flags[k] = v
			}
			rest = strings.TrimSpace(r)
		}
		in.rest = rest
		if in.cmd == "RUN" || in.cmd == "COPY" || in.cmd == "ADD" {
			in.docs = heredocMarkers(rest)
		}
		// The here-documents' bodies are the lines that follow, each up to its terminator.
		for i := range in.docs {
			var body strings.Builder
			ended := false
			for sc.Scan() {
				n++
				line := sc.Text()
				if in.docs[i].strip {
					line = strings.TrimLeft(line, "\t")
				}
				if line == in.docs[i].name {
					ended = true
					break
				}
				body.WriteString(line + "\n")
			}
			if !ended {
				return fmt.Errorf("line %d: %s: the here-document <<%s has no terminating %s line: %w", start, in.cmd, in.docs[i].name, in.docs[i].name, errdefs.ErrInvalid)
			}
			in.docs[i].body = body.String()
		}
		out = append(out, in)
		return nil
	}
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 {
			if trimmed == "" || strings.HasPrefix(trimmed, "#") {
				continue
			}
			start = n
		} else if strings.HasPrefix(trimmed, "#") {
			continue // a comment inside a continued instruction
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\"))
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(trimmed)
		if err := flush(); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// expandArgs replaces $NAME, ${NAME}, ${NAME:-default} and ${NAME:+alt} from vars; \$ stays a
// dollar sign. Unknown names expand to nothing, as Docker's.
func expandArgs(s string, vars map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		if c != '$' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		if s[i+1] == '{' {
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				b.WriteString(s[i:])
				break
			}
			expr := s[i+2 : i+end]
			i += end
			name, word, op := expr, "", ""
			if j := strings.Index(expr, ":-"); j >= 0 {
				name, word, op = expr[:j], expr[j+2:], "-"
			} else if j := strings.Index(expr, ":+"); j >= 0 {
				name, word, op = expr[:j], expr[j+2:], "+"
			}
			v, ok := vars[name]
			switch {
			case op == "-" && (!ok || v == ""):
				v = word
			case op == "+":
				if ok && v != "" {
					v = word
				} else {
					v = ""
				}
			}
			b.WriteString(v)
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || j > i+1 && s[j] >= '0' && s[j] <= '9') {
			j++
		}
		if j == i+1 {
			b.WriteByte(c)
			continue
		}
		b.WriteString(vars[s[i+1:j]])
		i = j - 1
	}
	return b.String()
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
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading the Containerfile: %w", err)
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
	return img, nil
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
	seenFrom = false
	step := 0
	for _, in := range ins {
		if !seenFrom && in.cmd != "ARG" && in.cmd != "FROM" {
			return nil, fmt.Errorf("line %d: %s before FROM: %w", in.line, in.cmd, errdefs.ErrInvalid)
		}
		if in.cmd != "ARG" || seenFrom {
			step++
			fmt.Fprintf(b.o.Stdout, "STEP %d/%d: %s\n", step, steps, in)
		}
		if err := b.do(ctx, in, &seenFrom); err != nil {
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
	if len(b.o.Labels) > 0 {
		if b.conf.Labels == nil {
			b.conf.Labels = map[string]string{}
		}
		maps.Copy(b.conf.Labels, b.o.Labels)
		b.dirty = true
	}
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
	case "FROM", "ARG":
		arg = expandArgs(in.rest, b.vars) // the ARGs alone: the last stage's ENVs are not this one's
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
			b.vars[name] = ""
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

// commit stores the image so far: cur's layers and one more from layer, with conf; key (when
// not "") is the step's cache key, kept in the new history entry's comment.
func (b *builder) commit(layer io.Reader, createdBy, key string) error {
	img, err := b.is.Commit(b.cur, layer, b.conf, b.commitOptions(createdBy, key))
	if err != nil {
		return err
	}
	b.cur, b.dirty = img, false
	b.made = append(b.made, img.ID)
	return nil
}

// commitOptions are the options of a step's image: its history entry, and the build's
// --timestamp.
func (b *builder) commitOptions(createdBy, key string) image.CommitOptions {
	o := image.CommitOptions{CreatedBy: createdBy, Comment: key}
	if b.o.Timestamp != nil {
		o.Created = *b.o.Timestamp
	}
	return o
}

// contextRel is a host path of the context as a slash-separated path relative to it.
func (b *builder) contextRel(host string) string {
	rel, err := filepath.Rel(b.o.Context, host)
	if err != nil {
		return ""
	}
	return filepath.ToSlash(rel)
}

// cacheMark starts the history comment of a cached step.
const cacheMark = "pea-build-cache "

// cacheKey is the key of a step from the image so far: its ID, the config the step's image
// gets, and what the step does (parts).
func (b *builder) cacheKey(parts ...string) string {
	h := sha256.New()
	parent := "scratch"
	if b.cur != nil {
		parent = b.cur.ID
	}
	conf, _ := json.Marshal(b.conf)
	fmt.Fprintf(h, "%s\x00%s", parent, conf)
	if b.o.Timestamp != nil { // the image's time is part of what the step makes
		fmt.Fprintf(h, "\x00time=%d", b.o.Timestamp.Unix())
	}
	for _, p := range parts {
		fmt.Fprintf(h, "\x00%s", p)
	}
	return cacheMark + "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// cached finds the image a step of this key made before, from the image so far: one more
// history entry than it, carrying the key, on its layers. On a hit the build goes on from it.
func (b *builder) cached(key string) bool {
	if b.o.NoCache {
		return false
	}
	imgs, err := b.r.ImageList()
	if err != nil {
		return false
	}
	var parentLayers []string
	var parentHist int
	if b.cur != nil {
		parentLayers, parentHist = b.cur.Layers, len(b.cur.Config.History)
	}
	for _, img := range imgs {
		h := img.Config.History
		if len(h) != parentHist+1 || h[len(h)-1].Comment != key || len(img.Layers) < len(parentLayers) ||
			!slices.Equal(img.Layers[:len(parentLayers)], parentLayers) {
			continue
		}
		fmt.Fprintf(b.o.Stdout, "--> Using cache %s\n", img.ID)
		b.cur, b.dirty = img, false
		return true
	}
	return false
}

// container makes a build's container (cfg's image, command and namespaces; no entrypoint,
// never a pull), labelled as the build's own.
func (b *builder) container(ctx context.Context, cfg *model.ContainerConfig) (*model.Container, error) {
	cfg.Entrypoint, cfg.StopTimeout, cfg.Labels = []string{}, 10, map[string]string{"io.pea.build": "1"}
	return b.r.CreateContainer(ctx, cfg, CreateOptions{Pull: "never", EntrypointSet: true, CmdSet: true})
}

// copyStep writes a COPY or ADD's layer from the context: the sources (paths or globs in the
// context) at the destination, a directory's contents rather than itself, as Docker's.
func (b *builder) copyStep(ctx context.Context, in instruction, arg string) error {
	for k := range in.flags {
		if k != "chown" && k != "chmod" && (k != "from" || in.cmd != "COPY") {
			return fmt.Errorf("%s --%s is not supported (one stage, local sources): %w", in.cmd, k, errdefs.ErrInvalid)
		}
	}
	var parts []string
	if strings.HasPrefix(arg, "[") {
		if err := json.Unmarshal([]byte(arg), &parts); err != nil {
			return fmt.Errorf("%s %s: not a JSON array of strings: %w", in.cmd, arg, errdefs.ErrInvalid)
		}
	} else {
		parts = strings.Fields(arg)
	}
	if len(parts) < 2 {
		return fmt.Errorf("%s needs a source and a destination: %w", in.cmd, errdefs.ErrInvalid)
	}
	dest, srcs := parts[len(parts)-1], parts[:len(parts)-1]
	if !path.IsAbs(dest) {
		wd := b.conf.WorkingDir
		if wd == "" {
			wd = "/"
		}
		intoWD := strings.HasSuffix(dest, "/") || dest == "."
		dest = path.Join(wd, dest)
		if intoWD {
			dest += "/" // still a directory to copy into
		}
	}
	uid, gid := -1, -1
	if ch := in.flags["chown"]; ch != "" {
		u, g, hasG := strings.Cut(ch, ":")
		var err1, err2 error
		uid, err1 = strconv.Atoi(u)
		gid = uid
		if hasG {
			gid, err2 = strconv.Atoi(g)
		}
		if err1 != nil || err2 != nil {
			return fmt.Errorf("%s --chown=%s: pea build takes numeric IDs (UID[:GID]): %w", in.cmd, ch, errdefs.ErrInvalid)
		}
	}
	var mode int64 = -1
	if m := in.flags["chmod"]; m != "" {
		v, err := strconv.ParseUint(m, 8, 32)
		if err != nil {
			return fmt.Errorf("%s --chmod=%s: an octal mode is needed: %w", in.cmd, m, errdefs.ErrInvalid)
		}
		mode = int64(v)
	}
	// The sources, as host paths and the names they go by (or here-documents).
	type source struct {
		host, name string
		doc        *heredoc
	}
	var matches []source
	if from := in.flags["from"]; from != "" {
		got, cleanup, err := b.copyFrom(ctx, expandArgs(from, b.vars), srcs)
		defer cleanup()
		if err != nil {
			return err
		}
		for i, g := range got {
			matches = append(matches, source{host: g, name: path.Base(path.Clean("/" + srcs[i]))})
		}
	}
	for _, s := range srcs {
		if in.flags["from"] != "" {
			break
		}
		if i := slices.IndexFunc(in.docs, func(d heredoc) bool { return d.word == s }); i >= 0 {
			matches = append(matches, source{name: in.docs[i].name, doc: &in.docs[i]})
			continue
		}
		if in.cmd == "ADD" && strings.Contains(s, "://") {
			return fmt.Errorf("ADD %s: pea build adds local files only, not URLs (RUN a download instead): %w", s, errdefs.ErrInvalid)
		}
		clean := filepath.Join(b.o.Context, filepath.FromSlash(path.Clean("/"+s)))
		got, err := filepath.Glob(clean)
		got = slices.DeleteFunc(got, func(g string) bool { return b.ignore.excluded(b.contextRel(g)) })
		if err != nil || len(got) == 0 {
			return fmt.Errorf("%s %s: no such file in the build context (or its ignore file leaves it out): %w", in.cmd, s, errdefs.ErrNotFound)
		}
		for _, g := range got {
			matches = append(matches, source{host: g, name: filepath.Base(g)})
		}
	}
	intoDir := strings.HasSuffix(dest, "/") || len(matches) > 1
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	w := &layerWriter{tw: tw, uid: uid, gid: gid, mode: mode, dirs: map[string]bool{}}
	if in.flags["from"] == "" && len(b.ignore) > 0 {
		w.skip = func(host string) bool { return b.ignore.excluded(b.contextRel(host)) }
		w.reincludes = slices.ContainsFunc(b.ignore, func(r ignoreRule) bool { return r.negate })
	}
	for _, m := range matches {
		target := dest
		if intoDir {
			target = path.Join(dest, m.name)
		}
		if m.doc != nil {
			body := m.doc.body
			if !m.doc.quoted {
				body = expandArgs(body, b.vars)
			}
			if err := w.addBytes(path.Clean(target), []byte(body)); err != nil {
				return err
			}
			continue
		}
		fi, err := os.Lstat(m.host)
		if err != nil {
			return err
		}
		if fi.IsDir() {
			target = dest // its contents go at dest
		}
		if in.cmd == "ADD" && in.flags["from"] == "" && fi.Mode().IsRegular() {
			tr, closeFn, ok, err := openArchive(m.host)
			if err != nil {
				return fmt.Errorf("ADD %s: %w", m.name, err)
			}
			if ok { // a local tar is unpacked into dest, a directory
				err = w.addArchive(tr, path.Clean(dest))
				closeFn()
				if err != nil {
					return fmt.Errorf("ADD %s: %w", m.name, err)
				}
				continue
			}
		}
		if err := w.add(m.host, path.Clean(target), fi); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	// The layer's own bytes are the key's content part (its files' times are set to a fixed
	// one in the tar, so the same files give the same bytes).
	sum := sha256.Sum256(buf.Bytes())
	key := b.cacheKey(in.cmd, hex.EncodeToString(sum[:]))
	if b.cached(key) {
		return nil
	}
	return b.commit(&buf, fmt.Sprintf("/bin/sh -c #(nop) %s %s", in.cmd, arg), key)
}

// copyFrom copies paths out of an earlier stage's image (by name or number) or any image, into
// a temporary directory, through a container of the image that never runs (pea cp's copier,
// chroot'ed in its root, so no link of the image leads out). It returns the host paths, in
// the order of paths, and a cleanup to call in any case.
func (b *builder) copyFrom(ctx context.Context, from string, paths []string) ([]string, func(), error) {
	var tmp, ctrID string
	cleanup := func() {
		if ctrID != "" {
			b.r.RemoveContainer(context.Background(), ctrID, RemoveOptions{Force: true, Timeout: uintPtr(0), Ignore: true})
		}
		if tmp != "" {
			os.RemoveAll(tmp)
		}
	}
	img, ok := b.stages[strings.ToLower(from)]
	if !ok {
		var err error
		if img, err = b.r.resolveImage(ctx, from, CreateOptions{Pull: b.o.Pull, Registry: b.o.Registry}); err != nil {
			return nil, cleanup, fmt.Errorf("COPY --from=%s: neither an earlier stage nor an image: %w", from, err)
		}
	}
	if img == nil || len(img.Layers) == 0 {
		return nil, cleanup, fmt.Errorf("COPY --from=%s: the stage is empty: %w", from, errdefs.ErrNotFound)
	}
	c, err := b.container(ctx, &model.ContainerConfig{ImageName: img.ID, Cmd: []string{"true"},
		Namespaces: map[string]model.Namespace{model.NSNet: {Mode: model.NSModeNone}}})
	if err != nil {
		return nil, cleanup, err
	}
	ctrID = c.Config.ID
	if tmp, err = os.MkdirTemp("", "pea-build-from-"); err != nil {
		return nil, cleanup, err
	}
	var out []string
	for i, p := range paths {
		if strings.ContainsAny(p, "*?[") {
			return nil, cleanup, fmt.Errorf("COPY --from=%s %s: patterns are not supported with --from: %w", from, p, errdefs.ErrInvalid)
		}
		host := filepath.Join(tmp, strconv.Itoa(i))
		if err := b.r.CopyPath(ctx, ctrID+":"+path.Clean("/"+p), host); err != nil {
			return nil, cleanup, fmt.Errorf("COPY --from=%s %s: %w", from, p, err)
		}
		out = append(out, host)
	}
	return out, cleanup, nil
}

// copyTime is the time of the parent directories a COPY adds (fixed, so the same files make
// the same layer).
var copyTime = time.Unix(0, 0).UTC()

// layerWriter writes context files into a layer tar.
type layerWriter struct {
	tw       *tar.Writer
	uid, gid int   // -1: the file's own owner is not kept; root's is
	mode     int64 // -1: the file's own
	dirs     map[string]bool
	skip     func(host string) bool // a file of a directory being copied to leave out
	// reincludes: some ignore pattern brings paths back (!), so left-out directories are walked.
	reincludes bool
}

// parents writes the directories above name, once each.
func (w *layerWriter) parents(name string) error {
	dir := path.Dir(name)
	if dir == "/" || dir == "." || w.dirs[dir] {
		return nil
	}
	if err := w.parents(dir); err != nil {
		return err
	}
	w.dirs[dir] = true
	return w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(dir, "/") + "/", Mode: 0o755, ModTime: copyTime})
}

func (w *layerWriter) header(fi fs.FileInfo, name, link string) (*tar.Header, error) {
	h, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return nil, err
	}
	h.Name = strings.TrimPrefix(name, "/")
	h.Uid, h.Gid, h.Uname, h.Gname = max(w.uid, 0), max(w.gid, 0), "", ""
	// Files keep their modification time (make and friends look at it); access and change
	// times, which reading the context changes, are left out, so the same files make the same
	// layer.
	h.AccessTime, h.ChangeTime, h.Format = time.Time{}, time.Time{}, tar.FormatPAX
	if w.mode >= 0 && !fi.IsDir() {
		h.Mode = w.mode
	}
	if fi.IsDir() {
		h.Name += "/"
	}
	return h, nil
}

// addBytes writes a file of content as name (a here-document COPY makes).
func (w *layerWriter) addBytes(name string, content []byte) error {
	if err := w.parents(name); err != nil {
		return err
	}
	mode := int64(0o644)
	if w.mode >= 0 {
		mode = w.mode
	}
	h := &tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(name, "/"), Mode: mode, Size: int64(len(content)),
		Uid: max(w.uid, 0), Gid: max(w.gid, 0), ModTime: copyTime, Format: tar.FormatPAX}
	if err := w.tw.WriteHeader(h); err != nil {
		return err
	}
	_, err := w.tw.Write(content)
	return err
}

// add writes the file or tree at src as name (a directory: its contents under name).
func (w *layerWriter) add(src, name string, fi fs.FileInfo) error {
	if fi.IsDir() {
		if err := w.parents(name); err != nil {
			return err
		}
		if name != "/" && !w.dirs[name] && (w.skip == nil || !w.skip(src)) {
			h, err := w.header(fi, name, "")
			if err != nil {
				return err
			}
			w.dirs[name] = true
			if err := w.tw.WriteHeader(h); err != nil {
				return err
			}
		}
		ents, err := os.ReadDir(src)
		if err != nil {
			return err
		}
		for _, e := range ents {
			// A directory left out is still walked when some pattern brings paths back (!).
			if w.skip != nil && w.skip(filepath.Join(src, e.Name())) && (!e.IsDir() || !w.reincludes) {
				continue
			}
			efi, err := e.Info()
			if err != nil {
				return err
			}
			if err := w.add(filepath.Join(src, e.Name()), path.Join(name, e.Name()), efi); err != nil {
				return err
			}
		}
		return nil
	}
	if err := w.parents(name); err != nil {
		return err
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		link, err := os.Readlink(src)
		if err != nil {
			return err
		}
		h, err := w.header(fi, name, link)
		if err != nil {
			return err
		}
		return w.tw.WriteHeader(h)
	case fi.Mode().IsRegular():
		h, err := w.header(fi, name, "")
		if err != nil {
			return err
		}
		f, err := os.Open(src)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := w.tw.WriteHeader(h); err != nil {
			return err
		}
		_, err = io.Copy(w.tw, f)
		return err
	}
	return nil // sockets, devices and pipes of the context are left out
}
