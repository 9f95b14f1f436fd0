package engine

// build --squash: the layers the last stage added on top of its FROM image, merged into one
// (the FROM image's layers stay as they are). Each new layer is read as the tar commit would
// write it (its whiteouts as .wh. entries); the merge keeps, for each path, what the last layer
// says: a whiteout drops what earlier new layers put below it (and stays, for the base's
// files), an opaque directory drops their entries below it, and a path written again after a
// whiteout of it replaces the whiteout (a directory then made opaque, so the base's old
// contents stay hidden). File contents wait in a spool file until the merged tar is written.

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"

	"pea/internal/image"
)

// squashEntry is one path of the merged layer: its header, and where its content is spooled.
type squashEntry struct {
	hdr       tar.Header
	off, size int64
}

// layerMerge merges layer tars, bottom first.
type layerMerge struct {
	entries map[string]*squashEntry // by clean path without a leading slash
	spool   *os.File
	end     int64
}

// dropBelow removes the entries under dir (not dir itself).
func (m *layerMerge) dropBelow(dir string) {
	for p := range m.entries {
		if dir == "" || strings.HasPrefix(p, dir+"/") {
			delete(m.entries, p)
		}
	}
}

// add merges one layer's tar.
func (m *layerMerge) add(r io.Reader) error {
	tr := tar.NewReader(r)
	// Hard links of this layer, resolved to their target's content (a later layer may replace
	// the target, so the merged layer writes each as a file of its own).
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		p := strings.Trim(path.Clean("/"+h.Name), "/")
		dir, base := path.Dir(p), path.Base(p)
		if dir == "." {
			dir = ""
		}
		switch {
		case base == ".wh..wh..opq":
			m.dropBelow(dir)
			m.entries[p] = &squashEntry{hdr: *h}
			continue
		case strings.HasPrefix(base, ".wh."):
			gone := path.Join(dir, strings.TrimPrefix(base, ".wh."))
			delete(m.entries, gone)
			m.dropBelow(gone)
			m.entries[p] = &squashEntry{hdr: *h}
			continue
		}
		e := &squashEntry{hdr: *h}
		wh := path.Join(dir, ".wh."+base)
		_, hadWhiteout := m.entries[wh]
		delete(m.entries, wh)
		if old, ok := m.entries[p]; ok && old.hdr.Typeflag == tar.TypeDir && h.Typeflag != tar.TypeDir {
			m.dropBelow(p)
		}
		switch h.Typeflag {
		case tar.TypeReg:
			e.off = m.end
			n, err := io.Copy(m.spool, tr)
			if err != nil {
				return err
			}
			e.size, m.end = n, m.end+n
		case tar.TypeLink:
			target := strings.Trim(path.Clean("/"+h.Linkname), "/")
			t, ok := m.entries[target]
			if !ok || t.hdr.Typeflag != tar.TypeReg {
				return fmt.Errorf("squash: %s links to %s, which is not a file of the new layers", p, target)
			}
			e.hdr.Typeflag, e.hdr.Linkname = tar.TypeReg, ""
			e.off, e.size = t.off, t.size
		case tar.TypeDir:
			if hadWhiteout { // a new directory where the base had one: its old contents stay hidden
				m.entries[path.Join(p, ".wh..wh..opq")] = &squashEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: path.Join(p, ".wh..wh..opq"), Mode: 0o644}}
			}
		}
		m.entries[p] = e
	}
}

// write writes the merged layer, parents before their entries.
func (m *layerMerge) write(w io.Writer) error {
	tw := tar.NewWriter(w)
	paths := make([]string, 0, len(m.entries))
	for p := range m.entries {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		e := m.entries[p]
		h := e.hdr
		h.Name = p
		if h.Typeflag == tar.TypeDir {
			h.Name += "/"
		}
		h.Size = e.size
		if err := tw.WriteHeader(&h); err != nil {
			return err
		}
		if h.Typeflag == tar.TypeReg && e.size > 0 {
			if _, err := io.Copy(tw, io.NewSectionReader(m.spool, e.off, e.size)); err != nil {
				return err
			}
		}
	}
	return tw.Close()
}

// squashNew replaces the image built by one of base's layers and one more: the merge of the
// layers the build added on top of base (nil: FROM scratch, every layer).
func (b *builder) squashNew(ctx context.Context, base *image.Image) error {
	if b.cur == nil {
		return nil
	}
	nbase := 0
	if base != nil {
		nbase = len(base.Layers)
	}
	dirs, err := b.r.ImageLayerDirs(b.cur)
	if err != nil {
		return err
	}
	spool, err := os.CreateTemp("", "pea-squash-")
	if err != nil {
		return err
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	m := &layerMerge{entries: map[string]*squashEntry{}, spool: spool}
	for _, d := range dirs[nbase:] {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(writeChanges(pw, d, nil, nil)) }()
		err := m.add(pr)
		pr.CloseWithError(io.ErrClosedPipe)
		if err != nil {
			return fmt.Errorf("squash: %w", err)
		}
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(m.write(pw)) }()
	prev := b.cur
	b.cur = base
	err = b.commit(pr, "/bin/sh -c #(nop) squashed", "")
	pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		b.cur = prev
		return err
	}
	b.made = append(b.made, prev.ID)
	return nil
}
