package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"pea/internal/image"
)

func init() {
	register(newLoginCommand, "login")
	register(newLogoutCommand, "logout")
}

// newLoginCommand is `pea login [options] REGISTRY`: the credentials are checked against the
// registry and kept in the auth file that pulls and pushes read (podman's).
func newLoginCommand(a *app) *cobra.Command {
	var user, password, authfile, certDir string
	var passwordStdin, tlsVerify, getLogin, verbose bool
	cmd := &cobra.Command{
		Use:   "login [options] REGISTRY",
		Short: "Log in to a container registry",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			registry := args[0]
			o := image.PullOptions{AuthFile: authfile, CertDir: certDir}
			if cmd.Flags().Changed("tls-verify") {
				o.TLSVerify = &tlsVerify
			}
			if getLogin {
				name, err := image.SavedUsername(o, registry)
				if err != nil {
					return err
				}
				fmt.Fprintln(a.stdout, name)
				return nil
			}
			if passwordStdin && password != "" {
				return invalid("--password and --password-stdin cannot be combined")
			}
			if passwordStdin && user == "" {
				return invalid("--password-stdin needs --username")
			}
			if passwordStdin {
				b, err := io.ReadAll(a.stdin)
				if err != nil {
					return err
				}
				password = strings.TrimRight(string(b), "\r\n")
			}
			tty := false
			if f, ok := a.stdin.(*os.File); ok {
				tty = term.IsTerminal(int(f.Fd()))
			}
			if user == "" {
				if !tty {
					return invalid("logging into %q: no --username, and no terminal to ask for one", registry)
				}
				fmt.Fprint(a.stderr, "Username: ")
				// A byte at a time: what follows the line is the password's, read unbuffered
				// below (a pasted "user\npass" must not lose it to a buffer).
				var line []byte
				var b [1]byte
				for {
					n, err := a.stdin.Read(b[:])
					if n == 1 && b[0] != '\n' {
						line = append(line, b[0])
					}
					if err != nil || n == 1 && b[0] == '\n' {
						break
					}
				}
				user = strings.TrimSpace(string(line))
			}
			if password == "" && !passwordStdin {
				if !tty {
					return invalid("logging into %q: no --password, and no terminal to ask for one (use --password-stdin)", registry)
				}
				fmt.Fprint(a.stderr, "Password: ")
				b, err := term.ReadPassword(int(a.stdin.(*os.File).Fd()))
				fmt.Fprintln(a.stderr)
				if err != nil {
					return err
				}
				password = string(b)
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			if err := rt.Login(context.Background(), registry, user, password, o); err != nil {
				return err
			}
			if verbose {
				fmt.Fprintf(a.stdout, "Used: %s\n", o.AuthFilePath())
			}
			fmt.Fprintln(a.stdout, "Login Succeeded!")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&user, "username", "u", "", "the registry user")
	f.StringVarP(&password, "password", "p", "", "the password (visible to other users in the process list; prefer --password-stdin)")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input")
	f.StringVar(&authfile, "authfile", "", "path of the authentication file (default ${XDG_RUNTIME_DIR}/containers/auth.json)")
	f.BoolVar(&tlsVerify, "tls-verify", true, "require HTTPS and verify certificates (false allows plain HTTP)")
	f.BoolVar(&getLogin, "get-login", false, "print the user name recorded for the registry")
	f.StringVar(&certDir, "cert-dir", "", "the registry's certificates: *.crt (authorities), *.cert and *.key (a client certificate)")
	f.BoolVarP(&verbose, "verbose", "v", false, "print the authentication file used")
	return cmd
}

// newLogoutCommand is `pea logout [--all] [REGISTRY]`.
func newLogoutCommand(a *app) *cobra.Command {
	var authfile string
	var all bool
	cmd := &cobra.Command{
		Use:   "logout [options] REGISTRY",
		Short: "Log out of a container registry",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) == 1) {
				return invalid("name one registry, or give --all")
			}
			o := image.PullOptions{AuthFile: authfile}
			registry := ""
			if !all {
				registry = args[0]
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			if err := rt.Logout(registry, all, o); err != nil {
				return err
			}
			if all {
				fmt.Fprintln(a.stdout, "Removed login credentials for all registries")
			} else {
				fmt.Fprintf(a.stdout, "Removed login credentials for %s\n", registry)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&authfile, "authfile", "", "path of the authentication file (default ${XDG_RUNTIME_DIR}/containers/auth.json)")
	cmd.Flags().BoolVarP(&all, "all", "a", false, "remove the credentials of every registry")
	return cmd
}
