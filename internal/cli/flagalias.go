package cli

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// podmanFlagAlias gives the flag an old spelling stands for: podman's create, run, pod create,
// ps, pull and build accept these (its flag-name normalizer) without listing them, and scripts
// written for older podmans still use them. (--net is a flag of its own here.)
func podmanFlagAlias(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	switch name {
	case "dns-opt":
		name = "dns-option"
	case "healthcheck-command":
		name = "health-cmd"
	case "healthcheck-interval":
		name = "health-interval"
	case "healthcheck-retries":
		name = "health-retries"
	case "healthcheck-start-period":
		name = "health-start-period"
	case "healthcheck-timeout":
		name = "health-timeout"
	case "override-arch":
		name = "arch"
	case "override-os":
		name = "os"
	case "override-variant":
		name = "variant"
	case "storage":
		name = "external"
	}
	return pflag.NormalizedName(name)
}

// timeoutFlagAlias is stop's: --timeout for --time.
func timeoutFlagAlias(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	if name == "timeout" {
		name = "time"
	}
	return pflag.NormalizedName(name)
}

// withFlagAliases sets a command's flag-name normalizer; the aliases stay out of its help.
func withFlagAliases(cmd *cobra.Command, alias func(*pflag.FlagSet, string) pflag.NormalizedName) *cobra.Command {
	cmd.Flags().SetNormalizeFunc(alias)
	return cmd
}
