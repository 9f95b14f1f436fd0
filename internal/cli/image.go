package cli

import (
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/image"
)

func init() {
	register(newImageCommand, "image")
	register(newImageHistoryCommand, "history") // podman history, as image history
}

// newImageCommand is `pea image VERB`: the image verbs under one parent, as podman has them.
func newImageCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Manage images",
		RunE:  groupRunE,
	}
	for _, f := range []func(*app) *cobra.Command{
		newImagesCommand, newImageInspectCommand, newRmiCommand, newImagePruneCommand, newImageExistsCommand,
		newTagCommand, newUntagCommand, newSaveCommand, newLoadCommand, newImportCommand, newPullCommand,
		newPushCommand, newImageHistoryCommand, newBuildCommand, newSearchCommand, newImageMountCommand,
		newImageUmountCommand, newImageDiffCommand, newImageTreeCommand, newImageTrustCommand, newImageSignCommand, newImageScpCommand,
	} {
		sub := f(a)
		switch sub.Name() {
		case "images":
			sub.Use = "list [options] [IMAGE]"
			sub.Aliases = []string{"ls"}
		case "rmi":
			sub.Use = "rm [options] IMAGE [IMAGE...]"
		}
		cmd.AddCommand(sub)
	}
	return cmd
}

func newImageExistsCommand(a *app) *cobra.Command {
	return existsCommand(a, "IMAGE", func(name string) (bool, error) {
		rt, err := a.engine()
		if err != nil {
			return false, err
		}
		return rt.ImageExists(name)
	})
}

// newImagePruneCommand is `image prune`: dangling images, or with -a every image no container
// uses. It asks first unless -f.
func newImagePruneCommand(a *app) *cobra.Command {
	var o pruneOptions
	var all bool
	cmd := &cobra.Command{
		Use:   "prune [options]",
		Short: "Remove unused images",
		Args:  takesNoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			what := "all dangling images"
			if all {
				what = "all images without at least one container associated with them"
			}
			return o.run(a, "WARNING! This command removes "+what+".", func(rt *engine.Runtime, f engine.PruneFilter) ([]string, error) {
				return rt.ImagePrune(all, f)
			})
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "remove every image no container uses, not only dangling ones")
	cmd.Flags().BoolVar(new(bool), "external", false, "accepted for compatibility: pea's builds leave no containers behind")
	o.register(cmd)
	return cmd
}

type historyRow struct {
	ID, Created, CreatedAt, CreatedBy, Size, Comment string
	Tags                                             []string
}

// newImageHistoryCommand is `image history IMAGE`: the config's history, newest first.
func newImageHistoryCommand(a *app) *cobra.Command {
	var format string
	var noTrunc, quiet, human, noHeading bool
	cmd := &cobra.Command{
		Use:   "history [options] IMAGE",
		Short: "Show the history of an image",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			img, err := rt.ImageLookup(args[0])
			if err != nil {
				return err
			}
			imgs, err := rt.ImageList()
			if err != nil {
				return err
			}
			ids := historyIDs(imgs, img)
			if format == "json" {
				return printJSONStyle(a.stdout, historyJSON(img, ids), jsonCompact)
			}
			rows := historyRows(img, ids, noTrunc, human)
			if quiet {
				for _, r := range rows {
					fmt.Fprintln(a.stdout, r.ID)
				}
				return nil
			}
			items := make([]any, len(rows))
			for i, r := range rows {
				items[i] = r
			}
			return render(a.stdout, format, noHeading, items, rows, table{
				format:  "{{.ID}}\t{{.Created}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
				headers: map[string]string{"ID": "ID", "CreatedBy": "CREATED BY"},
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", "", "format with a Go template or json")
	f.BoolVar(&noTrunc, "no-trunc", false, "do not truncate output")
	f.BoolVarP(&quiet, "quiet", "q", false, "display only IDs")
	f.BoolVarP(&human, "human", "H", true, "sizes and dates in human readable form")
	f.BoolVarP(&noHeading, "noheading", "n", false, "do not print column headings")
	return cmd
}

// historyIDs gives each history entry of img the ID podman's history shows for it ("" for
// <missing>): walking from the newest entry, an entry gets the first image (oldest first) whose
// layers are those of img up to the layer the walk is at, unless an earlier entry took that
// image; an entry that made a layer moves the walk one layer down (never below the bottom one).
// So a built image's newest entry may show the ID of an earlier step's image of the same layers,
// as podman's does.
func historyIDs(imgs []*image.Image, img *image.Image) []string {
	order := slices.Clone(imgs)
	slices.SortStableFunc(order, func(a, b *image.Image) int { return a.Created.Compare(b.Created) })
	firstOn := func(layers []string) string {
		for _, p := range order {
			if !p.IsList() && slices.Equal(p.Layers, layers) {
				return p.ID
			}
		}
		return ""
	}
	h := img.Config.History
	ids := make([]string, len(h))
	used := map[string]bool{}
	depth := len(img.Layers)
	for x := len(h) - 1; x >= 0 && depth > 0; x-- {
		if id := firstOn(img.Layers[:depth]); id != "" && !used[id] {
			ids[x], used[id] = id, true
		}
		if !h[x].EmptyLayer && depth > 1 {
			depth--
		}
	}
	return ids
}

func historyRows(img *image.Image, ids []string, noTrunc, human bool) []*historyRow {
	var rows []*historyRow
	layer := 0
	for i, h := range img.Config.History {
		r := &historyRow{ID: "<missing>", CreatedBy: h.CreatedBy, Comment: h.Comment, Size: "0 B"}
		if ids[i] != "" {
			r.ID = truncID(ids[i], noTrunc)
		}
		r.Created = h.Created.Time.Format("2006-01-02T15:04:05Z07:00")
		if human {
			r.Created = ago(h.Created.Time)
		}
		r.CreatedAt = h.Created.Time.Truncate(time.Second).Local().Format("2006-01-02 15:04:05 -0700 MST")
		if !h.EmptyLayer && layer < len(img.LayerSizes) {
			r.Size = humanSize(img.LayerSizes[layer])
			layer++
		}
		if !noTrunc && len(r.CreatedBy) > 45 {
			r.CreatedBy = r.CreatedBy[:42] + "..."
		}
		rows = append([]*historyRow{r}, rows...)
	}
	if len(rows) == 0 {
		rows = []*historyRow{{ID: truncID(img.ID, noTrunc), Created: ago(img.Created), Size: humanSize(img.Size)}}
	}
	return rows
}

// historyLayerJSON is one entry of `history --format json`, as podman 4.3 prints it: the full
// ID (of the image, on its newest entry), the time, the whole command, the size in bytes.
type historyLayerJSON struct {
	ID        string    `json:"id"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"CreatedBy,omitempty"`
	Size      int64     `json:"size"`
	Comment   string    `json:"comment,omitempty"`
	CreatedAt string    `json:"Created"`
}

func historyJSON(img *image.Image, ids []string) []historyLayerJSON {
	out := []historyLayerJSON{}
	layer := 0
	for i, h := range img.Config.History {
		e := historyLayerJSON{ID: "<missing>", Created: h.Created.Time.UTC(), CreatedBy: h.CreatedBy, Comment: h.Comment,
			CreatedAt: h.Created.Time.UTC().Format(time.RFC3339)}
		if ids[i] != "" {
			e.ID = ids[i]
		}
		if !h.EmptyLayer && layer < len(img.LayerSizes) {
			e.Size = img.LayerSizes[layer]
			layer++
		}
		out = append([]historyLayerJSON{e}, out...)
	}
	if len(out) == 0 {
		out = append(out, historyLayerJSON{ID: img.ID, Created: img.Created.UTC(), Size: img.Size, CreatedAt: img.Created.UTC().Format(time.RFC3339)})
	}
	return out
}
