package engine

// A build's COPY and ADD: their layer written straight from the context (or from a stage or
// image, --from), no container; here-documents as files; local tars unpacked by ADD.

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
	"pea/internal/image"
	"pea/internal/model"
)

// copyStep writes a COPY or ADD's layer from the context: the sources (paths or globs in the
// context) at the destination, a directory's contents rather than itself, as Docker's.
func (b *builder) copyStep(ctx context.Context, in instruction, arg string) error {
	for k := range in.flags {
		if k == "link" { // BuildKit's: a layer independent of those below; pea's layer is that already
			continue
		}
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
		fetched    []byte // ADD URL: the downloaded file
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
		if in.cmd == "ADD" && (strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")) {
			body, err := fetchURL(ctx, s)
			if err != nil {
				return fmt.Errorf("ADD %s: %w", s, err)
			}
			matches = append(matches, source{name: urlBase(s), fetched: body})
			continue
		}
		if in.cmd == "ADD" && strings.Contains(s, "://") {
			return fmt.Errorf("ADD %s: only http and https URLs are fetched: %w", s, errdefs.ErrInvalid)
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
		if m.fetched != nil { // a downloaded file: as Docker's and podman's, 0600 and never unpacked
			fw := *w
			if fw.mode < 0 {
				fw.mode = 0o600
			}
			if err := fw.addBytes(path.Clean(target), m.fetched); err != nil {
				return err
			}
			continue
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
			if err := w.contentsDir(path.Clean(target)); err != nil {
				return err
			}
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
	if b.o.Timestamp != nil { // the files' times are --timestamp's, in the key as in the layer
		var re bytes.Buffer
		if err := retimeTar(&re, &buf, *b.o.Timestamp); err != nil {
			return err
		}
		buf = re
	}
	// The layer's own bytes are the key's content part (its files' times are set to a fixed
	// one in the tar, so the same files give the same bytes).
	sum := sha256.Sum256(buf.Bytes())
	key := b.cacheKey(in.cmd, hex.EncodeToString(sum[:]))
	if b.cached(key, 1) {
		return nil
	}
	return b.commit(&buf, fmt.Sprintf("/bin/sh -c #(nop) %s %s", in.cmd, arg), key)
}

// fetchURL downloads an ADD's URL (through the registry helper, which has pea's HTTP client).
func fetchURL(ctx context.Context, url string) ([]byte, error) {
	body, err := image.FetchURL(ctx, url)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if b == nil {
		b = []byte{}
	}
	return b, err
}

// urlBase is the file name an ADD'ed URL gets in a destination directory: its path's last
// element, "index.html"-less as Docker's (a URL without one names nothing).
func urlBase(u string) string {
	rest := u[strings.Index(u, "://")+3:]
	rest, _, _ = strings.Cut(rest, "?")
	rest, _, _ = strings.Cut(rest, "#")
	if i := strings.Index(rest, "/"); i >= 0 {
		if b := path.Base(rest[i:]); b != "/" && b != "." {
			return b
		}
	}
	return "download"
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
	if dir, named := b.o.Contexts[strings.ToLower(from)]; !ok && named {
		got, err := contextPaths(from, dir, paths)
		return got, cleanup, err
	}
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

// contentsDir writes name, the directory a directory's contents are copied into, as a new
// directory: 0755, the --chown owner, the fixed time. The source directory itself is not
// copied (Docker's and buildah's rule); its mode and time were: a context the API unpacked
// into a fresh temporary directory made the destination 0700, unreadable to a later USER, and
// its time a new layer on every build (COPY . /app never cached).
func (w *layerWriter) contentsDir(name string) error {
	if name == "/" || w.dirs[name] {
		return nil
	}
	if err := w.parents(name); err != nil {
		return err
	}
	w.dirs[name] = true
	return w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(name, "/") + "/", Mode: 0o755,
		Uid: max(w.uid, 0), Gid: max(w.gid, 0), ModTime: copyTime, Format: tar.FormatPAX})
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

// openArchive opens a local file ADD unpacks: a tar, plain or compressed with gzip, bzip2 or
// xz (by its first bytes, as Docker tells them, not by its name). ok is false for a file that
// is none of these, which ADD copies as it is.
func openArchive(host string) (tr *tar.Reader, closeFn func(), ok bool, err error) {
	f, err := os.Open(host)
	if err != nil {
		return nil, nil, false, err
	}
	closers := []func(){func() { f.Close() }}
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	br := bufio.NewReader(f)
	magic, _ := br.Peek(6)
	var r io.Reader = br
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			closeAll()
			return nil, nil, false, err
		}
		r = zr
	case len(magic) >= 3 && string(magic[:3]) == "BZh":
		r = bzip2.NewReader(br)
	case len(magic) >= 6 && string(magic) == "\xfd7zXZ\x00":
		cmd := cpupin.Command("xz", "-dc")
		cmd.Stdin = br
		out, err := cmd.StdoutPipe()
		if err == nil {
			err = cpupin.Start(cmd)
		}
		if err != nil {
			closeAll()
			return nil, nil, false, fmt.Errorf("unpacking an xz archive needs the xz program: %w", err)
		}
		closers = append(closers, func() { out.Close(); cmd.Process.Kill(); cmd.Wait() })
		r = out
	}
	// A tar has "ustar" at offset 257 of its first header.
	tbr := bufio.NewReaderSize(r, 1024)
	head, _ := tbr.Peek(262)
	if len(head) < 262 || string(head[257:262]) != "ustar" {
		closeAll()
		return nil, nil, false, nil
	}
	return tar.NewReader(tbr), closeAll, true, nil
}

// addArchive writes an archive's entries into the layer under dest (a directory), as ADD
// unpacks a local tar: owners kept (or --chown's), names that climb out of dest refused.
func (w *layerWriter) addArchive(tr *tar.Reader, dest string) error {
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the archive: %w", err)
		}
		name := path.Clean("/" + h.Name)
		if name == "/" {
			continue
		}
		full := path.Join(dest, name)
		if err := w.parents(full); err != nil {
			return err
		}
		nh := *h
		nh.Name = strings.TrimPrefix(full, "/")
		if h.Typeflag == tar.TypeDir {
			nh.Name += "/"
			if w.dirs[full] {
				continue
			}
			w.dirs[full] = true
		}
		if h.Typeflag == tar.TypeLink {
			nh.Linkname = strings.TrimPrefix(path.Join(dest, path.Clean("/"+h.Linkname)), "/")
		}
		if w.uid >= 0 {
			nh.Uid, nh.Gid, nh.Uname, nh.Gname = w.uid, max(w.gid, 0), "", ""
		}
		nh.Format = tar.FormatPAX
		if err := w.tw.WriteHeader(&nh); err != nil {
			return err
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := io.Copy(w.tw, tr); err != nil {
				return err
			}
		}
	}
}
