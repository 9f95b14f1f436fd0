package cli

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"pea/internal/view"
)

// specOptions are generate spec's flags.
type specOptions struct {
	compact, rename bool
	filename        string
}

// newGenerateSpecCommand is `generate spec CTR|POD`, as podman 4.3's: the SpecGenerator of a
// container (or the PodSpecGenerator of a pod) that makes it again when POSTed to the libpod
// create endpoint (`pea system service`), under a name of its own unless --name=false.
func newGenerateSpecCommand(a *app) *cobra.Command {
	var o specOptions
	cmd := &cobra.Command{
		Use:   "spec [options] {CONTAINER|POD}",
		Short: "Generate Specgen JSON based on containers or pods",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGenerateSpec(a, args[0], &o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.compact, "compact", "c", false, "Print the json in a compact format for consumption")
	f.StringVarP(&o.filename, "filename", "f", "", "Write output to the specified path")
	f.BoolVarP(&o.rename, "name", "n", true, "Specify a new name for the generated spec")
	return cmd
}

func runGenerateSpec(a *app, nameOrID string, o *specOptions) error {
	rt, err := a.engine()
	if err != nil {
		return err
	}
	src, err := rt.GenerateSpecSource(nameOrID, o.rename)
	if err != nil {
		return err
	}
	var spec any
	if src.Container != nil {
		spec = view.NewContainerSpec(src)
	} else {
		spec = view.NewPodSpec(src)
	}
	// podman indents by one space (or compacts), and writes a file without a final newline.
	var data []byte
	if o.compact {
		data, err = json.Marshal(spec)
	} else {
		data, err = json.MarshalIndent(spec, "", " ")
	}
	if err != nil {
		return err
	}
	if o.filename != "" {
		if err := os.WriteFile(o.filename, data, 0o644); err != nil {
			return err
		}
		_, err = fmt.Fprintln(a.stdout, o.filename)
		return err
	}
	_, err = fmt.Fprintln(a.stdout, string(data))
	return err
}
