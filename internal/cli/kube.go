package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"pea/internal/kube"
)

// kube play, generate and down; "play kube" and "generate kube" are podman's older spellings.
func init() {
	register(newKubeCommand, "kube")
	register(newPlayCommand, "play")
	register(newGenerateCommand, "generate")
}

func newKubeCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kube",
		Short: "Play, generate and tear down Kubernetes YAML",
		RunE:  groupRunE,
	}
	cmd.AddCommand(newKubePlayCommand(a, "play"), newKubeGenerateCommand(a, "generate"), newKubeDownCommand(a))
	return cmd
}

func newPlayCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "play",
		Short: "Play a structured file (alias of kube play)",
		RunE:  groupRunE,
	}
	cmd.AddCommand(newKubePlayCommand(a, "kube"))
	return cmd
}

func newGenerateCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Generate Kubernetes YAML (kube), systemd units (systemd) or a SpecGenerator (spec)",
		RunE:  groupRunE,
	}
	cmd.AddCommand(newKubeGenerateCommand(a, "kube"), newGenerateSpecCommand(a), newGenerateSystemdCommand(a))
	return cmd
}

// readManifests reads the YAML files (or "-" for stdin) and the --configmap files.
func readManifests(a *app, files, configMaps []string) (*kube.Manifest, error) {
	m, _, err := readManifestsRaw(a, files, configMaps)
	return m, err
}

// readManifestsRaw is readManifests that also returns what each YAML file held.
func readManifestsRaw(a *app, files, configMaps []string) (*kube.Manifest, [][]byte, error) {
	m := kube.NewManifest()
	var raw [][]byte
	stdinUsed := false
	for _, f := range files {
		var data []byte
		var err error
		name := f
		if f == "-" {
			if stdinUsed {
				return nil, nil, invalid("stdin (-) can be given only once")
			}
			stdinUsed, name = true, "stdin"
			data, err = io.ReadAll(a.stdin)
		} else {
			data, err = os.ReadFile(f)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reading %s: %w", name, err)
		}
		if err := m.Add(name, data); err != nil {
			return nil, nil, err
		}
		raw = append(raw, data)
	}
	for _, f := range configMaps {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("--configmap: %w", err)
		}
		cm := kube.NewManifest()
		if err := cm.Add(f, data); err != nil {
			return nil, nil, err
		}
		if len(cm.ConfigMaps) == 0 || len(cm.Workloads)+len(cm.Secrets)+len(cm.Claims) > 0 {
			return nil, nil, invalid("--configmap %s: the file must hold ConfigMaps only", f)
		}
		for k, v := range cm.ConfigMaps {
			if _, dup := m.ConfigMaps[k]; !dup { // the YAML's own wins
				m.ConfigMaps[k] = v
			}
		}
		m.Warnings = append(m.Warnings, cm.Warnings...)
	}
	return m, raw, nil
}

func warn(a *app, msgs []string) {
	for _, w := range msgs {
		fmt.Fprintf(a.stderr, "Warning: %s\n", w)
	}
}
