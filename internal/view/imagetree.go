package view

import (
	"fmt"
	"strings"

	"pea/internal/engine"
	"pea/internal/image"
)

// ImageTree is `image tree`'s text (podman's layout): the image's ID, names and size, then its
// layers (engine.ImageTree) drawn as a tree, each with the images it is the top layer of; size
// is the image's as podman counts it (engine.ImageStorageSize).
func ImageTree(img *image.Image, size int64, layers []engine.ImageLayer) string {
	var b strings.Builder
	id := img.ID
	if len(id) > 12 {
		id = id[:12]
	}
	fmt.Fprintf(&b, "Image ID: %s\n", id)
	fmt.Fprintf(&b, "Tags:     %v\n", img.Names)
	fmt.Fprintf(&b, "Size:     %s\n", siSize(size))
	b.WriteString("Image Layers\n")
	writeLayerTree(&b, layers)
	return b.String()
}

// siSize is bytes in SI units with four significant digits, as podman's tree writes them.
func siSize(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	f := float64(n)
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.4g%s", f, units[i])
}

// writeLayerTree draws layers (each after the one it is a child of) as a tree: a layer with
// one child continues the column; several children branch.
func writeLayerTree(b *strings.Builder, layers []engine.ImageLayer) {
	children := map[string][]engine.ImageLayer{}
	var roots []engine.ImageLayer
	ids := map[string]bool{}
	for _, l := range layers {
		ids[l.ID] = true
	}
	for _, l := range layers {
		if l.ChildOf == "" || !ids[l.ChildOf] {
			roots = append(roots, l)
		} else {
			children[l.ChildOf] = append(children[l.ChildOf], l)
		}
	}
	var walk func(ls []engine.ImageLayer, indent string)
	walk = func(ls []engine.ImageLayer, indent string) {
		for i := 0; i < len(ls); i++ {
			l := ls[i]
			// A line of single children stays in this column.
			last := i == len(ls)-1 && len(children[l.ID]) != 1
			branch, next := "├── ", indent+"│   "
			if last {
				branch, next = "└── ", indent+"    "
			}
			fmt.Fprintf(b, "%s%sID: %s Size: %7s", indent, branch, shortLayerID(l.ID), siSize(l.Size))
			if len(l.TopOf) > 0 {
				fmt.Fprintf(b, " Top Layer of: %v", l.TopOf)
			}
			b.WriteString("\n")
			switch kids := children[l.ID]; {
			case len(kids) == 1 && i == len(ls)-1:
				ls = append(ls, kids[0]) // the column goes on
			case len(kids) > 0:
				walk(kids, next)
			}
		}
	}
	walk(roots, "")
	b.WriteString("\n")
}

func shortLayerID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}
