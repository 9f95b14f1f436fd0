package image

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"pea/internal/rootless"
)

// What an unpacked layer should hold, read from its tar stream as unpackTar would have written
// it: one expectation per host path (a later entry of the same path replaces an earlier one,
// a whiteout or a replacement removes what was below), parents resolved the way unpackTar
// resolves them (inside the layer, through its symlinks).

type entryKind byte

const (
	kindDir entryKind = iota
	kindReg
	kindSymlink
	kindDevice   // character or block device, or fifo: made only when pea may
	kindWhiteout // overlayfs' 0:0 character device
)

func (k entryKind) String() string {
	return [...]string{"a directory", "a file", "a symbolic link", "a device or fifo", "a whiteout"}[k]
}

type expected struct {
	kind     entryKind
	mode     uint32 // permission and set-id bits (files and directories)
	uid, gid int
	size     int64
	sum      [sha256.Size]byte
	target   string
}

// layerEntries reads a layer's tar stream and returns what root (its unpacked diff directory)
// should hold, by host path.
func layerEntries(root string, r io.Reader) (map[string]*expected, error) {
	u := &unpacker{root: root}
	want := map[string]*expected{}
	removeBelow := func(p string) {
		prefix := p + "/"
		for k := range want {
			if strings.HasPrefix(k, prefix) {
				delete(want, k)
			}
		}
	}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return want, nil
		}
		if err != nil {
			return nil, err
		}
		clean := path.Clean("/" + hdr.Name)
		if hdr.Typeflag == tar.TypeXGlobalHeader || clean == "/" {
			continue
		}
		dirRel, base := path.Split(clean)
		parent, err := u.resolve(dirRel)
		if err != nil {
			return nil, err
		}
		p := filepath.Join(parent, base)
		if strings.HasPrefix(base, whiteoutPrefix) {
			if base == whiteoutOpaque || strings.HasPrefix(base, whiteoutMeta) {
				continue
			}
			p = filepath.Join(parent, base[len(whiteoutPrefix):])
			delete(want, p)
			removeBelow(p)
			want[p] = &expected{kind: kindWhiteout}
			continue
		}
		if prev := want[p]; prev != nil && !(prev.kind == kindDir && hdr.Typeflag == tar.TypeDir) {
			delete(want, p)
			removeBelow(p)
		}
		e := &expected{mode: uint32(hdr.Mode & 0o7777), uid: hdr.Uid, gid: hdr.Gid}
		switch hdr.Typeflag {
		case tar.TypeDir:
			e.kind = kindDir
		case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
			e.kind = kindReg
			h := sha256.New()
			if e.size, err = io.Copy(h, tr); err != nil {
				return nil, err
			}
			copy(e.sum[:], h.Sum(nil))
		case tar.TypeSymlink:
			e.kind, e.target = kindSymlink, hdr.Linkname
		case tar.TypeLink:
			lclean := path.Clean("/" + hdr.Linkname)
			ldir, lbase := path.Split(lclean)
			lparent, err := u.resolve(ldir)
			if err != nil {
				return nil, err
			}
			t := want[filepath.Join(lparent, lbase)]
			if t == nil || t.kind == kindDir {
				continue // unpackTar refuses such a link: the layer could not have been stored
			}
			c := *t
			e = &c
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			e.kind = kindDevice
		default:
			continue
		}
		want[p] = e
	}
}

// compareLayer compares root with want and returns the differences (the first few).
func compareLayer(root string, want map[string]*expected) []string {
	const most = 10
	var probs []string
	more := 0
	add := func(format string, args ...any) {
		if len(probs) < most {
			probs = append(probs, fmt.Sprintf(format, args...))
		} else {
			more++
		}
	}
	rel := func(p string) string { return "/" + strings.TrimPrefix(strings.TrimPrefix(p, root), "/") }
	owners := os.Geteuid() == 0 && !rootless.Active()
	privileged := os.Geteuid() == 0 // may make whiteouts (and devices, outside a namespace)
	paths := make([]string, 0, len(want))
	dirs := map[string]bool{root: true} // what may be there besides the entries: their parents
	for p := range want {
		paths = append(paths, p)
		for d := filepath.Dir(p); strings.HasPrefix(d, root) && !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		e := want[p]
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			if e.kind == kindDevice && !(owners && privileged) || e.kind == kindWhiteout && !privileged {
				continue // unpackTar skips what it may not make
			}
			add("%s is missing", rel(p))
			continue
		}
		if got := kindOf(&st); got != e.kind {
			add("%s is %s, the layer has %s", rel(p), got, e.kind)
			continue
		}
		switch e.kind {
		case kindReg:
			if st.Size != e.size {
				add("%s has %d bytes, the layer has %d", rel(p), st.Size, e.size)
				continue
			}
			if sum, err := fileSum(p); err != nil {
				add("%s cannot be read: %v", rel(p), err)
				continue
			} else if !bytes.Equal(sum, e.sum[:]) {
				add("%s has other content than the layer's", rel(p))
				continue
			}
		case kindSymlink:
			if t, err := os.Readlink(p); err != nil || t != e.target {
				add("%s points to %q, the layer has %q", rel(p), t, e.target)
			}
			continue
		case kindWhiteout:
			if st.Rdev != 0 {
				add("%s is a device, not a whiteout", rel(p))
			}
			continue
		case kindDevice:
			continue
		}
		if st.Mode&0o7777 != e.mode {
			add("%s has mode %04o, the layer has %04o", rel(p), st.Mode&0o7777, e.mode)
		} else if owners && (int(st.Uid) != e.uid || int(st.Gid) != e.gid) {
			add("%s is owned by %d:%d, the layer has %d:%d", rel(p), st.Uid, st.Gid, e.uid, e.gid)
		}
	}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && want[p] == nil && !dirs[p] {
			add("%s is not in the layer", rel(p))
		}
		return nil
	})
	if more > 0 {
		probs = append(probs, fmt.Sprintf("and %d more differences", more))
	}
	return probs
}

func kindOf(st *unix.Stat_t) entryKind {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return kindDir
	case unix.S_IFREG:
		return kindReg
	case unix.S_IFLNK:
		return kindSymlink
	case unix.S_IFCHR:
		if st.Rdev == 0 {
			return kindWhiteout
		}
	}
	return kindDevice
}

func fileSum(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
