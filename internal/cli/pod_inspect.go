package cli

import (
	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/view"
)

// The pod inspect view is podman's, shared with the API (internal/view).
type podInspect = view.Pod

func podInspectView(rt *engine.Runtime, p *engine.PodInfo) *podInspect { return view.PodInspect(rt, p) }

func newPodInspectCommand(a *app) *cobra.Command {
	var format string
	var latest bool
	cmd := &cobra.Command{
		Use:   "inspect [options] POD [POD...]",
		Short: "Display the configuration of pods",
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			if args, err = targets(rt, latest, args, "pod", "pod inspect"); err != nil {
				return err
			}
			if format != "" && format != "json" {
				format = inspectNormalize(format, false)
			}
			var values []any
			var errs []error
			for _, name := range args {
				p, err := rt.InspectPod(name)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				values = append(values, podInspectView(rt, p))
			}
			if len(values) == 1 && (format == "" || format == "json") {
				// podman 4.3 prints a single pod as an object.
				if err := printJSONStyle(a.stdout, values[0], jsonFive); err != nil {
					return err
				}
			} else if len(values) > 0 {
				if err := renderEach(a.stdout, format, values, jsonFive); err != nil {
					return err
				}
			} else if format == "" || format == "json" {
				a.stdout.Write([]byte("[]\n"))
			}
			return joinErrors(a, errs)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "format with a Go template or json")
	cmd.Flags().BoolVarP(&latest, "latest", "l", false, "inspect the latest pod")
	return cmd
}
