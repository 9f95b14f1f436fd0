package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/image"
	"pea/internal/model"
)

// dfRow is one line of `system df`: a kind of object and the space it takes.
type dfRow struct {
	Type        string
	Total       int
	Active      int
	RawSize     int64
	RawReclaim  int64
	Size        string
	Reclaimable string
}

// newDfCommand is `pea system df [-v] [--format]`: the space images, containers and volumes
// take, and what removing the unused ones would give back (podman's columns).
func newDfCommand(a *app) *cobra.Command {
	var verbose bool
	var format string
	cmd := &cobra.Command{
		Use:   "df [options]",
		Short: "Show the disk space used by images, containers and volumes",
		Args:  takesNoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			du, err := rt.DiskUsage()
			if err != nil {
				return err
			}
			if verbose { // podman's -v prints its tables whatever --format says
				return dfVerbose(a, rt, du.Images, du.Containers, du.Volumes)
			}
			img := &dfRow{Type: "Images"}
			for _, u := range du.Images {
				size := rt.ImageStorageSize(u.Image)
				img.Total++
				img.RawSize += size
				if u.Containers > 0 {
					img.Active++
				} else {
					img.RawReclaim += size
				}
			}
			ctr := &dfRow{Type: "Containers"}
			for _, u := range du.Containers {
				ctr.Total++
				ctr.RawSize += u.Size
				if u.Container.State.Active() {
					ctr.Active++
				} else {
					ctr.RawReclaim += u.Size
				}
			}
			vol := &dfRow{Type: "Local Volumes"}
			for _, u := range du.Volumes {
				vol.Total++
				vol.RawSize += u.Size
				if u.Containers > 0 {
					vol.Active++
				} else {
					vol.RawReclaim += u.Size
				}
			}
			rows := []any{}
			for _, r := range []*dfRow{img, ctr, vol} {
				r.Size = dfSize(r.RawSize)
				pct := 0
				if r.RawSize > 0 {
					pct = int(r.RawReclaim * 100 / r.RawSize)
				}
				r.Reclaimable = fmt.Sprintf("%s (%d%%)", dfSize(r.RawReclaim), pct)
				rows = append(rows, r)
			}
			if format == "json" {
				return printJSON(a.stdout, rows)
			}
			return render(a.stdout, format, false, rows, nil, table{format: "{{.Type}}\t{{.Total}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"})
		},
	}
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "show every image, container and volume")
	cmd.Flags().StringVar(&format, "format", "", "format with a Go template or json (not with -v, which ignores it as podman's)")
	return cmd
}

// dfSize is a size as docker's and podman's df print it: four significant digits, no space.
func dfSize(n int64) string { return siSize(n, 4, "") }

// dfVerbose prints podman's three tables of `system df -v`: an image row per name, its size
// shared with the images made on it or under it (podman's rule: an image with children shares
// all of it, one with a parent shares the parent's size), containers and volumes; times
// without "ago", as podman's.
func dfVerbose(a *app, rt *engine.Runtime, imgs []engine.ImageUsage, ctrs []engine.ContainerUsage, vols []engine.VolumeUsage) error {
	now := time.Now()
	since := func(t time.Time) string { return strings.TrimSuffix(agoFrom(now, t), " ago") }
	var b strings.Builder
	b.WriteString("Images space usage:\n\n")
	t := "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tSHARED SIZE\tUNIQUE SIZE\tCONTAINERS\n"
	all := make([]*image.Image, len(imgs))
	for i, u := range imgs {
		all[i] = u.Image
	}
	hasChild := map[string]bool{}
	for _, c := range all {
		if p := image.DirectParent(all, c); p != nil {
			hasChild[p.ID] = true
		}
	}
	for i := len(imgs) - 1; i >= 0; i-- { // oldest first, the store's order
		u := imgs[i]
		size := rt.ImageStorageSize(u.Image)
		unique := size
		if hasChild[u.Image.ID] {
			unique = 0
		} else if p := image.DirectParent(all, u.Image); p != nil {
			unique -= rt.ImageStorageSize(p)
		}
		names := u.Image.Names
		if len(names) == 0 {
			names = []string{""}
		}
		for _, n := range names {
			repo, tag := "<none>", "<none>"
			if n != "" {
				repo, tag = image.SplitName(n)
			}
			t += fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", repo, tag, truncID(u.Image.ID, false), since(u.Image.Created),
				dfSize(size), dfSize(size-unique), dfSize(unique), u.Containers)
		}
	}
	b.Write(alignColumns([]byte(t)))
	b.WriteString("\nContainers space usage:\n\n")
	t = "CONTAINER ID\tIMAGE\tCOMMAND\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES\n"
	for _, u := range ctrs {
		c := u.Container
		vols := 0
		for _, m := range c.Config.Mounts {
			if m.Type == "volume" {
				vols++
			}
		}
		t += fmt.Sprintf("%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", truncID(c.Config.ID, false), truncID(strings.TrimPrefix(c.Config.Image, "sha256:"), false),
			quoteCommand(c.Config.Command()), vols, dfSize(u.Size), since(c.Config.Created), dfStatus(c), c.Config.Name)
	}
	b.Write(alignColumns([]byte(t)))
	b.WriteString("\nLocal Volumes space usage:\n\n")
	t = "VOLUME NAME\tLINKS\tSIZE\n"
	for _, u := range vols {
		t += fmt.Sprintf("%s\t%d\t%s\n", u.Volume.Name, u.Containers, dfSize(u.Size))
	}
	b.Write(alignColumns([]byte(t)))
	_, err := fmt.Fprint(a.stdout, b.String())
	return err
}

// dfStatus is a container's status word in df -v.
func dfStatus(c *model.Container) string {
	if c.State.Active() {
		return "running"
	}
	return c.State.Status
}
