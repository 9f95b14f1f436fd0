package cli

import (
	"fmt"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"pea/internal/engine"
)

func init() { register(newInfoCommand, "info") }

func newInfoCommand(a *app) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "info [options]",
		Short: "Display information about the host and the store",
		Args:  cobra.NoArgs,
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
			h, s := in.Host, in.Store
			fmt.Fprintf(a.stdout, "host:\n  arch: %s\n  hostname: %s\n  kernel: %s\n  os: %s\n  cpus: %d\n  memTotal: %d\n  memFree: %d\n",
				h.Arch, h.Hostname, h.Kernel, h.OS, h.CPUs, h.MemTotal, h.MemFree)
			fmt.Fprintf(a.stdout, "  cgroupVersion: %s\n  cgroupManager: %s\n  networkBackend: %s\n  uptime: %s\n", h.CgroupVersion, h.CgroupManager, h.NetworkBackend, h.Uptime)
			for _, c := range []struct {
				k string
				v engine.ComponentInfo
			}{{"ociRuntime", h.OCIRuntime}, {"conmon", h.Conmon}, {"catatonit", h.Catatonit}} {
				fmt.Fprintf(a.stdout, "  %s:\n    path: %s\n    version: %s\n", c.k, c.v.Path, c.v.Version)
			}
			if h.Slirp4netns.Path != "" {
				fmt.Fprintf(a.stdout, "  slirp4netns:\n    path: %s\n    version: %s\n", h.Slirp4netns.Path, h.Slirp4netns.Version)
			}
			if rootless, _ := h.Security["rootless"].(bool); rootless {
				fmt.Fprintf(a.stdout, "  security:\n    rootless: true\n")
				for _, k := range []string{"uidmap", "gidmap"} {
					fmt.Fprintf(a.stdout, "  %s:\n", k)
					for _, m := range h.IDMappings[k] {
						fmt.Fprintf(a.stdout, "  - container_id: %d\n    host_id: %d\n    size: %d\n", m.ContainerID, m.HostID, m.Size)
					}
				}
			}
			fmt.Fprintf(a.stdout, "store:\n  graphRoot: %s\n  runRoot: %s\n  graphDriverName: %s\n  databasePath: %s\n", s.GraphRoot, s.RunRoot, s.GraphDriverName, s.DatabasePath)
			fmt.Fprintf(a.stdout, "  containerStore:\n    number: %d\n    running: %d\n    paused: %d\n    stopped: %d\n",
				s.ContainerStore["number"], s.ContainerStore["running"], s.ContainerStore["paused"], s.ContainerStore["stopped"])
			fmt.Fprintf(a.stdout, "  podStore:\n    number: %d\n  imageStore:\n    number: %d\n  volumeStore:\n    number: %d\n",
				s.PodStore["number"], s.ImageStore["number"], s.VolumeStore["number"])
			return nil
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
