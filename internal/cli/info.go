package cli

import (
	"bytes"
	"encoding/json"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/kube/k8s"
)

func init() { register(newInfoCommand, "info") }

func newInfoCommand(a *app) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "info [options]",
		Short: "Display information about the host and the store",
		Args:  takesNoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			in, err := rt.Info()
			if err != nil {
				return err
			}
			in.Version = versionInfo()
			if format == "json" {
				return printJSONStyle(a.stdout, in, jsonTwo)
			}
			if format != "" {
				return renderEach(a.stdout, format, []any{in}, jsonTwo)
			}
			// podman's YAML: the JSON document's keys sorted, at every level.
			raw, err := json.Marshal(in)
			if err != nil {
				return err
			}
			d := json.NewDecoder(bytes.NewReader(raw))
			d.UseNumber()
			var doc any
			if err := d.Decode(&doc); err != nil {
				return err
			}
			_, err = a.stdout.Write(k8s.EncodeYAML(doc))
			return err
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "format with a Go template or json")
	return cmd
}

// versionInfo is info's version block, as podman's.
func versionInfo() engine.VersionInfo {
	return engine.VersionInfo{APIVersion: "4.3.1", Version: Version, GoVersion: runtime.Version(),
		BuiltTime: time.Unix(0, 0).UTC().Format(time.ANSIC), OsArch: runtime.GOOS + "/" + runtime.GOARCH, Os: runtime.GOOS}
}
