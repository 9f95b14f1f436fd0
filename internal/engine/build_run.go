package engine

// A build's RUN: a real container of the image so far (crun under conmon, as pea run), with the
// build's RUN settings (--volume, --cap-add, --memory, --add-host... as BuildOptions.RunTemplate
// carries them) and the step's own --mount=type=cache|bind|tmpfs|secret mounts, none of which
// end in the layer: the layer is the container's overlay upper directory, less the mount points
// the step's mounts made.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	"syscall"

	"pea/internal/errdefs"
	"pea/internal/model"
)

// shell is the shell of shell-form RUN, CMD and ENTRYPOINT: SHELL's, else /bin/sh -c.
func (b *builder) shell() []string {
	if len(b.conf.Shell) > 0 {
		return slices.Clone(b.conf.Shell)
	}
	return []string{"/bin/sh", "-c"}
}

// runArgv is the command of a RUN: its JSON form, or its text (with any here-documents) run
// by the shell. A RUN that is one bare here-document runs the document as the shell's script.
func (b *builder) runArgv(in instruction, arg string) ([]string, error) {
	if strings.HasPrefix(arg, "[") && len(in.docs) == 0 {
		var argv []string
		if err := json.Unmarshal([]byte(arg), &argv); err != nil {
			return nil, fmt.Errorf("RUN %s: not a JSON array of strings: %w", arg, errdefs.ErrInvalid)
		}
		if len(argv) == 0 {
			return nil, fmt.Errorf("RUN needs a command: %w", errdefs.ErrInvalid)
		}
		return argv, nil
	}
	if strings.TrimSpace(arg) == "" {
		return nil, fmt.Errorf("RUN needs a command: %w", errdefs.ErrInvalid)
	}
	if len(in.docs) == 1 && in.docs[0].bare(in.rest) {
		return append(b.shell(), in.docs[0].body), nil
	}
	script := arg
	for _, d := range in.docs {
		script += "\n" + d.body + d.name
	}
	return append(b.shell(), script), nil
}

// runStep runs a RUN in a container of the image so far and commits what it changed.
func (b *builder) runStep(ctx context.Context, in instruction, arg string) error {
	if b.cur == nil {
		return fmt.Errorf("RUN in an empty image (FROM scratch): there is no shell to run it: %w", errdefs.ErrInvalid)
	}
	for k := range in.flags {
		switch k {
		case "network":
			switch in.flags[k] {
			case "none", "host", "default":
			default:
				return fmt.Errorf("RUN --network=%s: none, host or default: %w", in.flags[k], errdefs.ErrInvalid)
			}
		default:
			return fmt.Errorf("RUN --%s is not supported (--mount and --network are): %w", k, errdefs.ErrInvalid)
		}
	}
	argv, err := b.runArgv(in, arg)
	if err != nil {
		return err
	}
	env := slices.Clone(b.conf.Env)
	for _, k := range slices.Sorted(maps.Keys(b.vars)) {
		if !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, k+"=") }) {
			env = append(env, k+"="+b.vars[k])
		}
	}
	network := b.o.Network
	if n := in.flags["network"]; n != "" && n != "default" {
		network = n
	}
	argvJSON, _ := json.Marshal(argv)
	envJSON, _ := json.Marshal(env)
	key := b.cacheKey("RUN", string(argvJSON), string(envJSON), network, strings.Join(in.mounts, "\x00"))
	if b.cached(key, 1) {
		return nil
	}
	mounts, cleanup, err := b.runMounts(ctx, in)
	defer cleanup()
	if err != nil {
		return err
	}
	cfg := b.runConfig()
	ns, nets := NetworkMode(network)
	// The template's variables (the host's proxy ones, --http-proxy) are RUN's, not the image's.
	for _, kv := range cfg.Env {
		if k, _, _ := strings.Cut(kv, "="); !hasEnv(env, k) {
			env = append(env, kv)
		}
	}
	cfg.ImageName, cfg.Cmd, cfg.Env, cfg.WorkingDir, cfg.User = b.cur.ID, argv, env, b.conf.WorkingDir, b.conf.User
	cfg.Stdin = b.o.Stdin != nil
	cfg.Namespaces[model.NSNet], cfg.Network.Networks = ns, nets
	cfg.Mounts = append(cfg.Mounts, mounts...)
	if err := b.r.applyBuildConf(cfg, network); err != nil {
		return err
	}
	c, err := b.container(ctx, cfg)
	if err != nil {
		return err
	}
	defer b.r.RemoveContainer(context.Background(), c.Config.ID, RemoveOptions{Force: true, Timeout: uintPtr(0), Ignore: true})
	if err := b.ensureWorkdir(c); err != nil {
		return err
	}
	streams := &Streams{Stdin: b.o.Stdin, Stdout: b.o.Stdout, Stderr: b.o.Stderr}
	started, err := b.r.StartCreated(ctx, c, streams)
	if err != nil {
		return err
	}
	code, err := b.r.AttachWait(ctx, started, streams)
	if err != nil {
		return err
	}
	b.r.SyncContainer(c.Config.ID)
	if code != 0 {
		return &errdefs.ExitError{Code: code, Err: fmt.Errorf("the command exited with %d", code)}
	}
	upper := filepath.Join(b.r.ctrDir(c.Config.ID), "upper")
	lowers, _ := b.r.ImageLayerDirs(b.cur)
	for _, m := range cfg.Mounts {
		removeMountStub(upper, lowers, m.Destination)
	}
	uidMap, gidMap := b.r.IDMappings(c.Config)
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(writeChanges(pw, upper, uidMap, gidMap))
	}()
	err = b.commit(pr, b.runCreatedBy(arg), key)
	pr.CloseWithError(io.ErrClosedPipe)
	return err
}

// runConfig is a RUN container's config before the step's own settings: a copy of the
// build's RUN template.
func (b *builder) runConfig() *model.ContainerConfig {
	cfg := &model.ContainerConfig{}
	if t := b.o.RunTemplate; t != nil {
		*cfg = *t
		cfg.Mounts = slices.Clone(t.Mounts)
		cfg.Namespaces = maps.Clone(t.Namespaces)
	}
	if cfg.Namespaces == nil {
		cfg.Namespaces = map[string]model.Namespace{}
	}
	return cfg
}

// removeMountStub takes out of a RUN's upper directory the empty file or directory made there
// only to mount on, and the empty directories made above it, where the image (its layer
// directories, lowers) has none: a mount's contents never reach the layer, and neither do the
// paths made for it.
func removeMountStub(upper string, lowers []string, dest string) {
	for p := path.Clean("/" + dest); p != "/"; p = path.Dir(p) {
		host := filepath.Join(upper, filepath.FromSlash(p))
		fi, err := os.Lstat(host)
		if err != nil || slices.ContainsFunc(lowers, func(l string) bool {
			_, err := os.Lstat(filepath.Join(l, filepath.FromSlash(p)))
			return err == nil
		}) {
			return
		}
		switch {
		case fi.IsDir():
			if os.Remove(host) != nil { // not empty: the step wrote there
				return
			}
		case fi.Mode().IsRegular() && fi.Size() == 0:
			os.Remove(host)
		default:
			return
		}
	}
}

// ensureWorkdir makes the RUN's working directory in its container's upper directory before it
// starts, when the image has none: the missing directories belong to the RUN's user (a numeric
// user without a passwd entry: its UID as group too), as podman's builds make them (the runtime
// would make them root's, and a USER's RUN could not write there).
func (b *builder) ensureWorkdir(c *model.Container) error {
	wd := path.Clean("/" + b.conf.WorkingDir)
	if wd == "/" {
		return nil
	}
	if uidMap, gidMap := b.r.IDMappings(c.Config); len(uidMap) > 0 || len(gidMap) > 0 {
		return nil // IDs of a user namespace: left to the runtime
	}
	upper := filepath.Join(b.r.ctrDir(c.Config.ID), "upper")
	lowers, err := b.r.ImageLayerDirs(b.cur)
	if err != nil {
		return nil
	}
	if err := os.MkdirAll(upper, 0o755); err != nil { // the start makes it otherwise
		return err
	}
	// The layer with the image's passwd and group files (a layer holds a file whole).
	root := lowers[0]
	for i := len(lowers) - 1; i >= 0; i-- {
		if _, ok := lowerLookup(lowers[i:i+1], "/etc/passwd"); ok {
			root = lowers[i]
			break
		}
	}
	uid, gid, _, _, err := lookupUser(root, b.conf.User)
	if err != nil {
		return nil // the RUN fails on it as it would
	}
	if u, _, hasGroup := strings.Cut(b.conf.User, ":"); !hasGroup {
		if _, numeric := strconv.Atoi(u); numeric == nil && !slices.ContainsFunc(readColonFile(root, "etc/passwd"), func(f []string) bool { return len(f) > 2 && f[2] == u }) {
			gid = uid
		}
	}
	var prefixes []string
	for p := wd; p != "/"; p = path.Dir(p) {
		prefixes = append([]string{p}, prefixes...)
	}
	for i, p := range prefixes {
		fi, ok := lowerLookup(lowers, p)
		if ok {
			if !fi.IsDir() {
				return nil // a file or a link on the way: left to the runtime
			}
			continue
		}
		// p and what is below it are missing: their parents that exist go into the upper
		// directory as they are (as a copy-up would), then the missing ones, the user's.
		for _, a := range prefixes[:i] {
			host := filepath.Join(upper, filepath.FromSlash(a))
			if _, err := os.Lstat(host); err == nil {
				continue
			}
			afi, _ := lowerLookup(lowers, a)
			st, _ := afi.Sys().(*syscall.Stat_t)
			if err := os.Mkdir(host, afi.Mode().Perm()); err != nil {
				return err
			}
			if st != nil {
				os.Lchown(host, int(st.Uid), int(st.Gid))
			}
			os.Chmod(host, afi.Mode()&(fs.ModePerm|fs.ModeSetgid|fs.ModeSetuid|fs.ModeSticky))
		}
		for _, m := range prefixes[i:] {
			host := filepath.Join(upper, filepath.FromSlash(m))
			if err := os.Mkdir(host, 0o755); err != nil && !os.IsExist(err) {
				return err
			}
			if err := os.Lchown(host, int(uid), int(gid)); err != nil {
				return err
			}
		}
		return nil
	}
	return nil
}

// lowerLookup finds p in the image's layers (bottom first), as the overlay shows it: the
// topmost layer that has it, unless that is a whiteout.
func lowerLookup(lowers []string, p string) (fs.FileInfo, bool) {
	for i := len(lowers) - 1; i >= 0; i-- {
		fi, err := os.Lstat(filepath.Join(lowers[i], filepath.FromSlash(p)))
		if err != nil {
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && fi.Mode()&fs.ModeCharDevice != 0 && st.Rdev == 0 {
			return nil, false // a whiteout
		}
		return fi, true
	}
	return nil, false
}

// runMount is one RUN --mount=... parsed.
type runMount struct {
	typ, target, source, from, id string
	readOnly, rw, required        bool
	mode                          os.FileMode
	uid, gid                      int
	size                          string
}

func parseRunMount(spec string) (runMount, error) {
	m := runMount{typ: "bind", uid: -1, gid: -1}
	bad := func(why string) (runMount, error) {
		return runMount{}, fmt.Errorf("RUN --mount=%s: %s: %w", spec, why, errdefs.ErrInvalid)
	}
	for _, kv := range strings.Split(spec, ",") {
		k, v, hasV := strings.Cut(kv, "=")
		switch strings.ToLower(k) {
		case "type":
			m.typ = v
		case "target", "dst", "destination":
			m.target = v
		case "source", "src":
			m.source = v
		case "from":
			m.from = v
		case "id":
			m.id = v
		case "ro", "readonly":
			m.readOnly = !hasV || v == "true"
		case "rw", "readwrite":
			m.rw = !hasV || v == "true"
		case "required":
			m.required = !hasV || v == "true"
		case "sharing":
			if v != "shared" && v != "private" && v != "locked" {
				return bad("sharing is shared, private or locked")
			}
		case "mode":
			n, err := strconv.ParseUint(v, 8, 32)
			if err != nil {
				return bad("mode is octal")
			}
			m.mode = os.FileMode(n)
		case "uid", "gid":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return bad(k + " is a number")
			}
			if k == "uid" {
				m.uid = n
			} else {
				m.gid = n
			}
		case "size", "tmpfs-size":
			m.size = v
		default:
			return bad("unknown option " + k)
		}
	}
	switch m.typ {
	case "bind", "cache", "tmpfs", "secret":
	default:
		return bad("type is bind, cache, tmpfs or secret")
	}
	if m.typ == "secret" {
		if m.id == "" && m.target != "" {
			m.id = path.Base(m.target)
		}
		if m.id == "" {
			return bad("a secret needs id=ID")
		}
		if m.target == "" {
			m.target = "/run/secrets/" + m.id
		}
	}
	if m.target == "" {
		return bad("target=PATH is needed")
	}
	return m, nil
}

// runMounts are the container mounts of a RUN's --mount flags; cleanup (always to be called)
// removes the temporary copies some of them are made from.
func (b *builder) runMounts(ctx context.Context, in instruction) ([]model.Mount, func(), error) {
	var cleanups []func()
	cleanup := func() {
		for _, c := range cleanups {
			c()
		}
	}
	var out []model.Mount
	for _, spec := range in.mounts {
		m, err := parseRunMount(expandArgs(spec, b.vars))
		if err != nil {
			return nil, cleanup, err
		}
		target := m.target
		if !path.IsAbs(target) {
			target = path.Join("/", b.conf.WorkingDir, target)
		}
		switch m.typ {
		case "tmpfs":
			tm := model.Mount{Type: "tmpfs", Destination: target}
			if m.size != "" {
				if _, err := ParseSize(m.size); err != nil {
					return nil, cleanup, fmt.Errorf("RUN --mount=%s: size: %w", spec, err)
				}
				tm.Options = []string{"size=" + m.size}
			}
			out = append(out, tm)
		case "cache":
			if m.from != "" {
				return nil, cleanup, fmt.Errorf("RUN --mount=%s: a cache seeded from=... is not supported: %w", spec, errdefs.ErrInvalid)
			}
			dir, err := b.cacheDir(m, target)
			if err != nil {
				return nil, cleanup, err
			}
			out = append(out, model.Mount{Type: "bind", Source: dir, Destination: target, ReadOnly: m.readOnly})
		case "secret":
			src, ok := b.o.Secrets[m.id]
			if !ok {
				if m.required {
					return nil, cleanup, fmt.Errorf("RUN --mount=%s: no secret %q was given to the build (--secret id=%s,src=FILE): %w", spec, m.id, m.id, errdefs.ErrNotFound)
				}
				continue
			}
			out = append(out, model.Mount{Type: "bind", Source: src, Destination: target, ReadOnly: true})
		case "bind":
			src, err := b.bindSource(ctx, m, &cleanups)
			if err != nil {
				return nil, cleanup, fmt.Errorf("RUN --mount=%s: %w", spec, err)
			}
			out = append(out, model.Mount{Type: "bind", Source: src, Destination: target, ReadOnly: !m.rw})
		}
	}
	return out, cleanup, nil
}

// bindSource is the host path a bind mount of a RUN shows: a path of the context (read-only;
// rw is refused, as its writes would land in the context), or a copy of a path of a stage or
// image (from=...), whose writes are thrown away with the copy.
func (b *builder) bindSource(ctx context.Context, m runMount, cleanups *[]func()) (string, error) {
	src := path.Clean("/" + m.source)
	if m.from == "" {
		if m.rw {
			return "", fmt.Errorf("a read-write bind of the context is not supported (use from=STAGE, or COPY): %w", errdefs.ErrInvalid)
		}
		host := filepath.Join(b.o.Context, filepath.FromSlash(src))
		if _, err := os.Stat(host); err != nil || b.ignore.excluded(b.contextRel(host)) {
			return "", fmt.Errorf("%s: no such path in the build context: %w", m.source, errdefs.ErrNotFound)
		}
		// A link of the context must not lead the mount out of it.
		real, err1 := filepath.EvalSymlinks(host)
		root, err2 := filepath.EvalSymlinks(b.o.Context)
		if err1 != nil || err2 != nil || (real != root && !strings.HasPrefix(real, root+string(filepath.Separator))) {
			return "", fmt.Errorf("%s: leads out of the build context: %w", m.source, errdefs.ErrInvalid)
		}
		return real, nil
	}
	from := expandArgs(m.from, b.vars)
	if _, stage := b.stages[strings.ToLower(from)]; !stage && m.rw && b.o.Contexts[strings.ToLower(from)] != "" {
		return "", fmt.Errorf("a read-write bind of the build context %s is not supported: %w", from, errdefs.ErrInvalid)
	}
	got, cleanup, err := b.copyFrom(ctx, from, []string{src})
	*cleanups = append(*cleanups, cleanup)
	if err != nil {
		return "", err
	}
	return got[0], nil
}

// cacheDir is the directory of a RUN --mount=type=cache: one per id (default: the target)
// under the store, kept across builds until `system reset`.
func (b *builder) cacheDir(m runMount, target string) (string, error) {
	id := m.id
	if id == "" {
		id = target
	}
	sum := sha256.Sum256([]byte(id))
	dir := filepath.Join(b.r.opts.Root, "build-cache", hex.EncodeToString(sum[:16]))
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if m.mode != 0 {
		if err := os.Chmod(dir, m.mode); err != nil {
			return "", err
		}
	}
	if m.uid >= 0 || m.gid >= 0 {
		if err := os.Chown(dir, max(m.uid, 0), max(m.gid, 0)); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// squashAll replaces the image built by one of a single layer, its whole file system (through
// a container of it that never runs, as export writes it), with the same config.
func (b *builder) squashAll(ctx context.Context) error {
	if b.cur == nil {
		return nil
	}
	c, err := b.container(ctx, &model.ContainerConfig{ImageName: b.cur.ID, Cmd: []string{"true"},
		Namespaces: map[string]model.Namespace{model.NSNet: {Mode: model.NSModeNone}}})
	if err != nil {
		return err
	}
	defer b.r.RemoveContainer(context.Background(), c.Config.ID, RemoveOptions{Force: true, Timeout: uintPtr(0), Ignore: true})
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(b.r.ExportContainer(ctx, c.Config.ID, pw)) }()
	conf := b.conf
	prev := b.cur
	b.cur = nil
	err = b.commit(pr, "/bin/sh -c #(nop) squashed", "")
	pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		b.cur = prev
		return err
	}
	b.conf = conf
	b.made = append(b.made, prev.ID)
	return nil
}
