package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"pea/internal/engine"
)

// newImageTreeCommand is `image tree [--whatrequires] IMAGE`: the image's layers, bottom first,
// each with the images it is the top layer of, in podman's layout.
func newImageTreeCommand(a *app) *cobra.Command {
	var whatRequires bool
	cmd := &cobra.Command{
		Use:   "tree [options] IMAGE",
		Short: "Print the layers of an image as a tree",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			img, layers, err := rt.ImageTree(args[0], whatRequires)
			if err != nil {
				return err
			}
			var b strings.Builder
			fmt.Fprintf(&b, "Image ID: %s\n", truncID(img.ID, false))
			fmt.Fprintf(&b, "Tags:     %v\n", img.Names)
			fmt.Fprintf(&b, "Size:     %s\n", siSize(img.Size, 4, ""))
			b.WriteString("Image Layers\n")
			writeLayerTree(&b, layers)
			_, err = a.stdout.Write([]byte(b.String()))
			return err
		},
	}
	cmd.Flags().BoolVar(&whatRequires, "whatrequires", false, "show the layers of the images built on this one")
	return cmd
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
			fmt.Fprintf(b, "%s%sID: %s Size: %7s", indent, branch, truncID(strings.TrimPrefix(l.ID, "sha256:"), false), siSize(l.Size, 4, ""))
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
