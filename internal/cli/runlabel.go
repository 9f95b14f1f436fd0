package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"strings"

	"github.com/spf13/cobra"

	"pea/internal/cpupin"
	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/image"
)

// newRunlabelCommand is `container runlabel LABEL IMAGE [ARG...]`: the command an image's label
// holds (an INSTALL or RUN label: "podman run -d --name NAME IMAGE ..."), with IMAGE and NAME
// put in, run on the host (podman's). A leading podman or docker is this pea, on this store.
func newRunlabelCommand(a *app) *cobra.Command {
	var reg registryFlags
	var display, replace, pull bool
	var name string
	cmd := &cobra.Command{
		Use:   "runlabel [options] LABEL IMAGE [ARG...]",
		Short: "Run the command an image's label describes",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			label, ref, extra := args[0], args[1], args[2:]
			policy := "missing"
			if !pull {
				policy = "never"
			}
			img, err := rt.ResolveImage(context.Background(), ref, engine.CreateOptions{Pull: policy,
				Registry: reg.options(cmd.Flags().Changed, a.stderr)})
			if err != nil {
				return err
			}
			value := img.Config.Config.Labels[label]
			if value == "" {
				return fmt.Errorf("cannot find the value of label: %s in image: %s", label, ref)
			}
			imageName := ref
			if len(img.Names) > 0 {
				imageName = img.Names[0]
			}
			if name == "" {
				name = defaultLabelName(imageName)
			}
			argv, err := labelCommand(value, label, imageName, name)
			if err != nil {
				return fmt.Errorf("label %s of image %s: %v: %w", label, ref, err, errdefs.ErrInvalid)
			}
			argv = append(argv, extra...)
			if argv[0] == "podman" || argv[0] == "docker" || path.Base(argv[0]) == "podman" {
				self, err := os.Executable()
				if err != nil {
					return err
				}
				argv = append(append([]string{self}, a.storeArgs(false)...), argv[1:]...)
			}
			if display {
				fmt.Fprintf(a.stdout, "command: %s\n", strings.Join(argv, " "))
				return nil
			}
			if replace {
				if _, err := rt.LookupContainer(name); err == nil {
					if err := rt.RemoveContainer(context.Background(), name, engine.RemoveOptions{Force: true}); err != nil {
						return err
					}
				}
			}
			c := cpupin.Command(argv[0], argv[1:]...)
			c.Stdin, c.Stdout, c.Stderr = a.stdin, a.stdout, a.stderr
			c.Env = append(os.Environ(), "IMAGE="+imageName, "NAME="+name, "LABEL="+label)
			if err := c.Run(); err != nil {
				var exit *exec.ExitError
				if errors.As(err, &exit) {
					return fmt.Errorf("`%s` failed: %v", strings.Join(argv, " "), err)
				}
				return fmt.Errorf("`%s`: %v: %w", strings.Join(argv, " "), err, errdefs.ErrInvalid)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	reg.register(f)
	f.BoolVar(&display, "display", false, "print the command instead of running it")
	f.BoolVar(&replace, "replace", false, "remove a container of the name first")
	f.BoolVarP(&pull, "pull", "p", true, "pull the image when it is not here")
	f.StringVarP(&name, "name", "n", "", "the name NAME stands for (default: the image's name)")
	reg.registerCertDir(f)
	registerSignaturePolicy(f, &reg.signaturePolicy)
	return cmd
}

// defaultLabelName is the image's repository's last component, without tag or digest.
func defaultLabelName(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	base := path.Base(ref)
	if i := strings.LastIndexByte(base, ':'); i > 0 {
		base = base[:i]
	}
	return base
}

// labelCommand splits a label's command and puts in its variables: IMAGE, NAME and LABEL as
// $VAR, ${VAR}, the whole word, or after a '=' at a word's end (IMG=IMAGE); SUDO_UID and
// SUDO_GID as $VAR and ${VAR}. Other $ words are left as they are, for the command's own shell.
func labelCommand(value, label, imageName, name string) ([]string, error) {
	words, err := image.ShellWords(value)
	if err != nil {
		return nil, err
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("the label is empty")
	}
	vars := [][2]string{{"IMAGE", imageName}, {"NAME", name}, {"LABEL", label},
		{"SUDO_UID", os.Getenv("SUDO_UID")}, {"SUDO_GID", os.Getenv("SUDO_GID")}}
	for i, w := range words {
		for _, v := range vars {
			w = expandVar(w, v[0], v[1])
		}
		for _, v := range vars[:3] {
			if w == v[0] {
				w = v[1]
			} else if strings.HasSuffix(w, "="+v[0]) {
				w = strings.TrimSuffix(w, v[0]) + v[1]
			}
		}
		words[i] = w
	}
	return words, nil
}

// expandVar replaces ${name} and $name (not followed by a letter, digit or _) in s.
func expandVar(s, name, value string) string {
	s = strings.ReplaceAll(s, "${"+name+"}", value)
	var b strings.Builder
	for {
		i := strings.Index(s, "$"+name)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + 1 + len(name)
		if end < len(s) && (s[end] == '_' || s[end] >= 'a' && s[end] <= 'z' || s[end] >= 'A' && s[end] <= 'Z' || s[end] >= '0' && s[end] <= '9') {
			b.WriteString(s[:end])
		} else {
			b.WriteString(s[:i] + value)
		}
		s = s[end:]
	}
}
