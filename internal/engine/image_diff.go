package engine

// image diff and image tree: an image's files compared with its parent's (or another
// image's), and its layers with the images they are the top of.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"pea/internal/errdefs"
	"pea/internal/image"
	"pea/internal/rootless"
)

// fileMeta is what a change of one path is judged by: podman's (containers/storage's) rule,
// a file whose type, mode, owner, size, modification time, link target or device differs is
// changed.
type fileMeta struct {
	mode     uint32
	uid, gid uint32
	size     int64
	mtime    int64
	rdev     uint64
	target   string
}

// layerTree is the merged tree of layer directories (bottom first, overlay form: a whiteout is
// a 0:0 character device, an opaque directory has trusted.overlay.opaque=y): every path, "/"
// first, with its metadata.
func layerTree(dirs []string) (map[string]fileMeta, error) {
	tree := map[string]fileMeta{}
	removeUnder := func(p string) {
		prefix := p + "/"
		for k := range tree {
			if strings.HasPrefix(k, prefix) {
				delete(tree, k)
			}
		}
	}
	for _, dir := range dirs {
		err := walkTree(dir, func(dfd int, name, rel string, st *unix.Stat_t) (bool, error) {
			p := "/" + rel
			if st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0 {
				delete(tree, p)
				removeUnder(p)
				return false, nil
			}
			m := fileMeta{mode: st.Mode, uid: st.Uid, gid: st.Gid, mtime: st.Mtim.Nano(), rdev: st.Rdev}
			switch st.Mode & unix.S_IFMT {
			case unix.S_IFDIR:
				var buf [1]byte
				if n, err := unix.Lgetxattr(dir+p, rootless.OpaqueXattr(), buf[:]); err == nil && n == 1 && buf[0] == 'y' {
					removeUnder(p)
				}
			case unix.S_IFLNK:
				b := make([]byte, 4096)
				if n, err := unix.Readlinkat(dfd, name, b); err == nil {
					m.target = string(b[:n])
				}
			default:
				m.size = st.Size
			}
			if prev, ok := tree[p]; ok && prev.mode&unix.S_IFMT != m.mode&unix.S_IFMT {
				removeUnder(p) // a directory replaced by a file
			}
			tree[p] = m
			return true, nil
		})
		if err != nil && !(errors.Is(err, errWalkRoot) && errors.Is(err, unix.ENOENT)) {
			return nil, err
		}
	}
	return tree, nil
}

// treeChanges lists how tree a differs from tree b, sorted by path: A in a only, D in b only
// (a deleted directory's contents are not listed below it), C in both but different.
func treeChanges(a, b map[string]fileMeta) []Change {
	var out []Change
	for p, am := range a {
		if p == "/" {
			continue
		}
		bm, ok := b[p]
		switch {
		case !ok:
			out = append(out, Change{"A", p})
		case am.mode&unix.S_IFMT == unix.S_IFDIR && bm.mode&unix.S_IFMT == unix.S_IFDIR:
			if am.mode != bm.mode || am.uid != bm.uid || am.gid != bm.gid || am.mtime != bm.mtime {
				out = append(out, Change{"C", p})
			}
		case am != bm:
			out = append(out, Change{"C", p})
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok && p != "/" {
			if _, parentThere := a[path.Dir(p)]; parentThere || path.Dir(p) == "/" {
				out = append(out, Change{"D", p})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// ImageChanges lists what image nameA changed relative to image nameB, or with nameB "" to
// its parent layers (the image without its top layer), as podman's image diff.
func (r *Runtime) ImageChanges(nameA, nameB string) ([]Change, error) {
	is, err := r.imageStore()
	if err != nil {
		return nil, err
	}
	imgA, err := is.Lookup(nameA)
	if err != nil {
		return nil, err
	}
	dirsA, err := is.LayerDirs(imgA)
	if err != nil {
		return nil, err
	}
	var dirsB []string
	if nameB == "" {
		if len(dirsA) > 0 {
			dirsB = dirsA[:len(dirsA)-1]
		}
	} else {
		imgB, err := is.Lookup(nameB)
		if err != nil {
			return nil, err
		}
		if dirsB, err = is.LayerDirs(imgB); err != nil {
			return nil, err
		}
	}
	treeA, err := layerTree(dirsA)
	if err != nil {
		return nil, err
	}
	treeB, err := layerTree(dirsB)
	if err != nil {
		return nil, err
	}
	return treeChanges(treeA, treeB), nil
}

// ImageLayer is one layer of an image's tree.
type ImageLayer struct {
	ID      string   // the chain ID (the layer with all below it), as containers/storage names a pulled one
	Size    int64    // uncompressed
	TopOf   []string // the names of the images whose top layer it is
	ChildOf string   // the chain ID of the layer below ("" at the bottom)
}

// chainIDs are the chain IDs of an image's layers, bottom first: the first is its diff ID,
// each next the digest of "<below> <diff ID>".
func chainIDs(diffIDs []string) []string {
	out := make([]string, len(diffIDs))
	for i, d := range diffIDs {
		if i == 0 {
			out[i] = d
			continue
		}
		sum := sha256.Sum256([]byte(out[i-1] + " " + d))
		out[i] = "sha256:" + hex.EncodeToString(sum[:])
	}
	return out
}

// ImageTree is image nameOrID with its layers (bottom first); with whatRequires, the layers
// from its top one up through every image built on it (each once, in the order of the images).
func (r *Runtime) ImageTree(nameOrID string, whatRequires bool) (*image.Image, []ImageLayer, error) {
	is, err := r.imageStore()
	if err != nil {
		return nil, nil, err
	}
	img, err := is.Lookup(nameOrID)
	if err != nil {
		return nil, nil, err
	}
	all, err := is.List()
	if err != nil {
		return nil, nil, err
	}
	topOf := map[string][]string{}
	for _, other := range all {
		if ids := chainIDs(other.Layers); len(ids) > 0 {
			top := ids[len(ids)-1]
			topOf[top] = append(topOf[top], other.Names...)
		}
	}
	layersOf := func(im *image.Image) []ImageLayer {
		ids := chainIDs(im.Layers)
		out := make([]ImageLayer, len(ids))
		for i, id := range ids {
			out[i] = ImageLayer{ID: id, TopOf: topOf[id]}
			if i < len(im.LayerSizes) {
				out[i].Size = im.LayerSizes[i]
			}
			if i > 0 {
				out[i].ChildOf = ids[i-1]
			}
		}
		return out
	}
	if !whatRequires {
		return img, layersOf(img), nil
	}
	own := chainIDs(img.Layers)
	if len(own) == 0 {
		return img, nil, nil
	}
	top := own[len(own)-1]
	var out []ImageLayer
	seen := map[string]bool{}
	for _, other := range append([]*image.Image{img}, all...) {
		ls := layersOf(other)
		start := -1
		for i, l := range ls {
			if l.ID == top {
				start = i
			}
		}
		if start < 0 {
			continue
		}
		for _, l := range ls[start:] {
			if !seen[l.ID] {
				seen[l.ID] = true
				out = append(out, l)
			}
		}
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("image %s has no layers: %w", nameOrID, errdefs.ErrInvalid)
	}
	return img, out, nil
}
