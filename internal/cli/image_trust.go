package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"pea/internal/image/trust"
)

// newImageTrustCommand is `image trust show|set`: the signature policy (containers-policy.json)
// shown per scope, and edited one scope at a time, as podman does.
func newImageTrustCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trust",
		Short: "Manage container image trust policy",
		RunE:  groupRunE,
	}
	cmd.AddCommand(newImageTrustShowCommand(a), newImageTrustSetCommand(a))
	return cmd
}

type trustShowOptions struct {
	json, raw, noHeading   bool
	policyPath, registries string
}

func newImageTrustShowCommand(a *app) *cobra.Command {
	var o trustShowOptions
	cmd := &cobra.Command{
		Use:   "show [options] [REGISTRY]",
		Short: "Display trust policy for the system",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := o.policyPath
			if path == "" {
				path = trust.DefaultPath()
			}
			if o.raw {
				data, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				fmt.Fprintln(a.stdout, string(data))
				return nil
			}
			regs, err := trust.LoadRegistriesD(o.registries)
			if err != nil {
				return err
			}
			rows, err := trust.Show(path, regs, func(msg string) { fmt.Fprintf(a.stderr, "Error: %s\n", msg) })
			if err != nil {
				return err
			}
			if o.json {
				if rows == nil {
					rows = []trust.ShowRow{}
				}
				b, err := json.MarshalIndent(rows, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintln(a.stdout, string(b))
				return nil
			}
			var b bytes.Buffer
			if !o.noHeading {
				b.WriteString("TRANSPORT\tNAME\tTYPE\tID\tSTORE\n")
			}
			for _, r := range rows {
				fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%s\n", r.Transport, r.RepoName, r.Type, r.GPGId, r.Sigstore)
			}
			_, err = a.stdout.Write(alignColumns(b.Bytes()))
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.json, "json", "j", false, "Output as json")
	f.BoolVarP(&o.noHeading, "noheading", "n", false, "Do not print column headings")
	f.BoolVar(&o.raw, "raw", false, "Output raw policy file")
	f.StringVar(&o.policyPath, "policypath", "", "the policy file (default $HOME/.config/containers/policy.json, else /etc/containers/policy.json)")
	f.StringVar(&o.registries, "registrypath", "", "the registries.d directory (default $PEA_REGISTRIES_D, $HOME/.config/containers/registries.d, else /etc/containers/registries.d)")
	f.MarkHidden("policypath")
	f.MarkHidden("registrypath")
	return cmd
}

func newImageTrustSetCommand(a *app) *cobra.Command {
	var keys []string
	var typ, policyPath string
	cmd := &cobra.Command{
		Use:   "set [options] REGISTRY",
		Short: "Set default trust policy or a new trust policy for a registry",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := policyPath
			if path == "" {
				path = trust.DefaultPath()
			}
			return trust.Set(path, args[0], typ, keys)
		},
	}
	f := cmd.Flags()
	f.StringSliceVarP(&keys, "pubkeysfile", "f", nil, "Path of installed public key(s) to trust for TARGET.\nAbsolute path to keys is added to policy.json. May\nused multiple times to define multiple public keys.\nFile(s) must exist before using this command")
	f.StringVarP(&typ, "type", "t", "signedBy", "Trust type, accept values: signedBy(default), accept, reject")
	f.StringVar(&policyPath, "policypath", "", "the policy file to edit (default $HOME/.config/containers/policy.json, else /etc/containers/policy.json)")
	f.MarkHidden("policypath")
	return cmd
}
