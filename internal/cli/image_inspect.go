package cli

import (
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/image"
	"pea/internal/view"
)

// The image inspect view is podman's, shared with the API (internal/view).
type imageInspect = view.Image

func toImageInspect(img *image.Image, dirs []string) *imageInspect {
	return view.ImageInspect(img, dirs)
}

func newImageInspectCommand(a *app) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "inspect [options] IMAGE [IMAGE...]",
		Short: "Display the configuration of an image",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			return inspectEach(a, args, imageInspectFormat(format), func(name string) (any, error) { return imageInspectValue(rt, name) })
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "format with a Go template or json")
	return cmd
}

// imageInspectValue is the inspect view of one image (also used by the generic `inspect`).
func imageInspectValue(rt *engine.Runtime, name string) (any, error) {
	img, err := rt.ImageLookup(name)
	if err == nil && img.IsList() {
		img, err = rt.ManifestMember(img) // as podman: a list's image for this machine
	}
	if err != nil {
		return nil, err
	}
	dirs, err := rt.ImageLayerDirs(img)
	if err != nil {
		return nil, err
	}
	parent := ""
	if imgs, err := rt.ImageList(); err == nil {
		if p := image.DirectParent(imgs, img); p != nil {
			parent = p.ID
		}
	}
	return toImageInspect(img, dirs).WithStore(rt.ImageStorageSize(img), parent), nil
}

// imageInspectFormat rewrites podman's spellings of the view's fields in an inspect template
// as podman does: {{.Id}} is {{.ID}}, .Config.Healthcheck is the image's .HealthCheck.
func imageInspectFormat(format string) string {
	format = regexp.MustCompile(`{{\s*\.Id\s*}}`).ReplaceAllString(format, "{{.ID}}")
	return strings.ReplaceAll(format, ".Config.Healthcheck", ".HealthCheck")
}
