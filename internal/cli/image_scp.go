package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
	"pea/internal/rootless"
)

// newImageScpCommand is `pea image scp [-q] SRC [DST]`: podman's copy of an image between
// stores. On one machine, between users' stores (`[USER@]localhost::[IMAGE]`, the current
// store when an argument has no `::`), which is how an image built as root reaches a rootless
// user and back: the source user's pea saves it to an archive that the destination user's pea
// loads, each pea run as its user, with that user's default store (the current one for the
// current user). Other users' stores need root. Another machine is a connection of `pea system
// connection` (NAME::), or USER@HOST:: over ssh: its side is a `pea --url` (remote mode), which
// sends and receives the archive.
func newImageScpCommand(a *app) *cobra.Command {
	var quiet bool
	cmd := &cobra.Command{
		Use:   "scp [options] IMAGE [HOST::]",
		Short: "Copy an image between users' stores or to and from another machine's service",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := parseScpEnd(args[0], true)
			if err != nil {
				return err
			}
			var dst scpEnd
			if len(args) == 2 {
				if dst, err = parseScpEnd(args[1], false); err != nil {
					return err
				}
			} else if !src.other {
				return invalid("must specify a destination")
			}
			return a.imageScp(src, dst, quiet)
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "do not print what was loaded")
	return cmd
}

// scpEnd is one side of a copy: a user of this machine (other: not the current store) and,
// for the source, the image.
type scpEnd struct {
	other  bool
	user   *user.User
	image  string
	remote *remoteTarget // another machine's service
}

// parseScpEnd parses IMAGE or [USER@]HOST::[IMAGE].
func parseScpEnd(arg string, source bool) (scpEnd, error) {
	host, img, ok := strings.Cut(arg, "::")
	if !ok {
		if !source {
			return scpEnd{}, invalid("destination %q: HOST:: expected (USER@localhost::)", arg)
		}
		return scpEnd{image: arg}, nil
	}
	if source && img == "" {
		return scpEnd{}, invalid("source %q names no image", arg)
	}
	if !source && img != "" {
		return scpEnd{}, invalid("destination %q: the image is named by the source", arg)
	}
	name, h, hasUser := strings.Cut(host, "@")
	if !hasUser {
		h, name = name, ""
	}
	if h != "localhost" {
		c, found, err := lookupConnection(host)
		switch {
		case err != nil:
			return scpEnd{}, err
		case found:
			return scpEnd{image: img, other: true, remote: &remoteTarget{uri: c.URI, identity: c.Identity}}, nil
		case hasUser:
			return scpEnd{image: img, other: true, remote: &remoteTarget{uri: "ssh://" + host}}, nil
		}
		return scpEnd{}, invalid("%q is neither localhost nor a connection (pea system connection add NAME ssh://USER@HOST/PATH)", host)
	}
	e := scpEnd{image: img}
	var u *user.User
	var err error
	if name == "" {
		u, err = user.LookupId(strconv.Itoa(hostUID()))
	} else if u, err = user.Lookup(name); err != nil {
		u, err = user.LookupId(name)
	}
	if err != nil {
		return scpEnd{}, fmt.Errorf("user %q: %w", name, errdefs.ErrNotFound)
	}
	e.user = u
	e.other = u.Uid != strconv.Itoa(hostUID())
	return e, nil
}

// imageScp saves src's image as its user and loads it as dst's.
func (a *app) imageScp(src, dst scpEnd, quiet bool) error {
	if (src.other && src.remote == nil || dst.other && dst.remote == nil) && hostUID() != 0 {
		return invalid("copying to or from another user's store needs root (run pea image scp as root)")
	}
	if !src.other && !dst.other {
		return invalid("source and destination are the same store")
	}
	dir, err := os.MkdirTemp("", "pea-scp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o711)
	archive := filepath.Join(dir, "image.tar")
	f, err := os.OpenFile(archive, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	f.Close()
	if src.other && src.remote == nil {
		uid, gid := ids(src.user)
		os.Chown(archive, uid, gid) // the source user's pea writes it
	}
	if _, err := a.peaAs(src, "save", "--format", "docker-archive", "-o", archive, src.image); err != nil {
		return err
	}
	out, err := a.peaAs(dst, "load", "-q", "-i", archive)
	if err != nil {
		return err
	}
	if !quiet {
		a.stdout.Write(out)
	}
	return nil
}

// hostUID is the user running pea, as the host knows it (a rootless pea is root of its own
// user namespace).
func hostUID() int {
	if rootless.Active() {
		return rootless.HostUID()
	}
	return os.Geteuid()
}

func ids(u *user.User) (int, int) {
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return uid, gid
}

// peaAs runs this pea's verb for end e: on the current store, or as e's user on that user's
// default store (with the user's home and runtime directory in the environment, as a login
// gives them). It returns the command's standard output.
func (a *app) peaAs(e scpEnd, args ...string) ([]byte, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var argv []string
	env := os.Environ()
	switch {
	case e.remote != nil: // the archive goes to or comes from the service (remote.go)
		argv = []string{"--url", e.remote.uri}
		if e.remote.identity != "" {
			argv = append(argv, "--identity", e.remote.identity)
		}
		argv = append(argv, args...)
	case !e.other:
		argv = append(a.storeArgs(false), args...)
	default:
		argv = args
		uid, _ := ids(e.user)
		env = []string{"HOME=" + e.user.HomeDir, "USER=" + e.user.Username, "LOGNAME=" + e.user.Username,
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
		if d := fmt.Sprintf("/run/user/%d", uid); dirOwnedBy(d, uid) {
			env = append(env, "XDG_RUNTIME_DIR="+d)
		}
	}
	cmd := cpupin.Command(exe, argv...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Dir = "/"
	if e.other && e.remote == nil {
		uid, gid := ids(e.user)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}}
	}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(stderr.String()), "Error: "))
		if msg == "" {
			msg = err.Error()
		}
		who := "this store"
		switch {
		case e.remote != nil:
			who = e.remote.uri
		case e.other:
			who = "user " + e.user.Username
		}
		return nil, fmt.Errorf("%s as %s: %s", args[0], who, msg)
	}
	return stdout.Bytes(), nil
}

func dirOwnedBy(path string, uid int) bool {
	var st syscall.Stat_t
	return syscall.Stat(path, &st) == nil && int(st.Uid) == uid
}
