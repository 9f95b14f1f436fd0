package engine

// The process side of the run flags: /etc/passwd lines, sd_notify, systemd mode, subordinate
// IDs, preserved fds, merged environment.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"pea/internal/errdefs"
	"pea/internal/model"
)

// HostProxyEnv adds to env the proxy variables of this process's environment that env does not
// set (--http-proxy, podman's default): http_proxy, https_proxy, ftp_proxy and no_proxy, in
// either case. The user's own come after them and win.
func HostProxyEnv(env []string) []string {
	for _, k := range []string{"http_proxy", "https_proxy", "ftp_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY"} {
		v, ok := os.LookupEnv(k)
		if !ok || slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, k+"=") }) {
			continue
		}
		env = append([]string{k + "=" + v}, env...)
	}
	return env
}

// mergeEnvExpanded sets each VAR=VALUE of merge in env, ${NAME} and $NAME in VALUE expanded
// with env's values (empty for a variable env does not have).
func mergeEnvExpanded(env, merge []string) []string {
	lookup := func(name string) string {
		for i := len(env) - 1; i >= 0; i-- {
			if k, v, _ := strings.Cut(env[i], "="); k == name {
				return v
			}
		}
		return ""
	}
	var set []string
	for _, kv := range merge {
		k, v, _ := strings.Cut(kv, "=")
		set = append(set, k+"="+os.Expand(v, lookup))
	}
	return mergeEnv(env, set)
}

// passwdFile returns a copy of the image's /etc/passwd, written in the container's etc
// directory, with the host's lines of the --hostuser users it lacks, the line extra (a keep-id
// container's user, or ""), and a line for the container's user when its --user is a number
// the file lacks (podman's --passwd, on by default); "" when none is needed. The line is
// PasswdEntry's template ($USERNAME, $UID, $GID, $NAME, $HOME) or
// "UID:*:UID:GID:container user:WORKDIR:/bin/sh".
func (r *Runtime) passwdFile(cfg *model.ContainerConfig, rootfs, extra string, uid, gid uint32, ns *userNS) (string, error) {
	var lines []string
	have := readColonFile(rootfs, "etc/passwd")
	if extra != "" {
		lines = append(lines, extra)
		have = append(have, strings.Split(extra, ":"))
	}
	for _, u := range cfg.HostUsers { // --hostuser: the host's lines the file lacks
		line := hostPasswdLine(u)
		name, _, _ := strings.Cut(line, ":")
		if line != "" && !slices.ContainsFunc(have, func(f []string) bool { return len(f) > 0 && f[0] == name }) {
			lines = append(lines, line)
		}
	}
	if l := r.passwdEntry(cfg, have, uid, gid); l != "" {
		lines = append(lines, l)
	}
	return r.etcFileWith(cfg, rootfs, "passwd", lines, ns)
}

// etcFileWith writes, in the container's etc directory, a copy of the image's /etc/NAME with
// lines added and returns its path ("" when there are no lines).
func (r *Runtime) etcFileWith(cfg *model.ContainerConfig, rootfs, name string, lines []string, ns *userNS) (string, error) {
	if len(lines) == 0 {
		return "", nil
	}
	old, err := readInRoot(rootfs, "etc/"+name, maxIDFile)
	if err != nil {
		old = nil
	}
	if len(old) > 0 && old[len(old)-1] != '\n' {
		old = append(old, '\n')
	}
	dir := r.etcDir(cfg.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	p := dir + "/" + name
	if err := os.WriteFile(p, append(old, strings.Join(lines, "\n")+"\n"...), 0o644); err != nil {
		return "", err
	}
	return p, chownToRoot(ns, p)
}

// passwdEntry is the line --passwd adds for a numeric --user the image's file (have) lacks, or
// "" (see passwdFile).
func (r *Runtime) passwdEntry(cfg *model.ContainerConfig, have [][]string, uid, gid uint32) string {
	userPart, _, _ := strings.Cut(cfg.User, ":")
	if cfg.NoPasswd || userPart == "" || cfg.IsInfra || cfg.IsService {
		return ""
	}
	if _, err := strconv.ParseUint(userPart, 10, 32); err != nil {
		return "" // a name: lookupUser found it in the file
	}
	for _, f := range have {
		if len(f) >= 3 && f[2] == userPart {
			return ""
		}
	}
	home := cfg.WorkingDir
	if home == "" {
		home = "/"
	}
	tmpl := cfg.PasswdEntry
	if tmpl == "" {
		tmpl = "$UID:*:$UID:$GID:container user:$HOME:/bin/sh"
	}
	return os.Expand(tmpl, func(k string) string {
		switch k {
		case "USERNAME", "UID":
			return strconv.FormatUint(uint64(uid), 10)
		case "GID":
			return strconv.FormatUint(uint64(gid), 10)
		case "NAME":
			return "container user"
		case "HOME":
			return home
		}
		return ""
	})
}

// sdNotifySocket is the host's sd_notify socket container cfg's process gets with --sdnotify
// container: its own (kube play's proxy) or pea's NOTIFY_SOCKET (a socket file, not an
// abstract one); else none.
func sdNotifySocket(cfg *model.ContainerConfig) string {
	p := cfg.SdNotifySocket
	if p == "" {
		p = os.Getenv("NOTIFY_SOCKET")
	}
	if cfg.SdNotify != SdNotifyContainer || !strings.HasPrefix(p, "/") {
		return ""
	}
	if st, err := os.Stat(p); err != nil || st.Mode()&os.ModeSocket == 0 {
		return ""
	}
	return p
}

// containerNotifySocket is where a container finds the sd_notify socket.
const containerNotifySocket = "/run/notify/notify.sock"

// notifyReady tells the sd_notify socket of pea's caller (or the container's own, kube play's
// proxy) that container c started, with conmon's PID as the service's main process
// (--sdnotify conmon).
func notifyReady(c *model.Container) error {
	if c.Config.SdNotify != SdNotifyConmon {
		return nil
	}
	msg := fmt.Sprintf("MAINPID=%d\nREADY=1\n", c.State.ConmonPid)
	if p := c.Config.SdNotifySocket; p != "" {
		// The play that listened there is over when the container starts again: nobody to tell.
		if err := SendNotify(p, msg); err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ECONNREFUSED) {
			return err
		}
		return nil
	}
	return SendNotify(os.Getenv("NOTIFY_SOCKET"), msg)
}

// SendNotify sends msg to the sd_notify socket p (a path, or @NAME for an abstract one); an
// empty p is no socket, and nothing is sent.
func SendNotify(p, msg string) error {
	if p == "" {
		return nil
	}
	if strings.HasPrefix(p, "@") {
		p = "\x00" + p[1:]
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Sendto(fd, []byte(msg), 0, &unix.SockaddrUnix{Name: p})
}

// --sdnotify modes.
const (
	SdNotifyContainer = "container"
	SdNotifyConmon    = "conmon"
	SdNotifyIgnore    = "ignore"
)

// applySystemdMode decides whether the container runs systemd (--systemd): always, or with
// true (the default) when its command is an init (/sbin/init, /usr/sbin/init,
// /usr/local/sbin/init) or a systemd binary; then, unless it has a stop signal of its own (the
// user's or the image's), it stops with SIGRTMIN+3, systemd's signal to shut down.
func applySystemdMode(cfg *model.ContainerConfig) error {
	switch cfg.Systemd {
	case "", "true":
		cmd := cfg.Command()
		if len(cmd) == 0 {
			return nil
		}
		switch cmd[0] {
		case "/sbin/init", "/usr/sbin/init", "/usr/local/sbin/init":
			cfg.SystemdMode = true
		default:
			cfg.SystemdMode = filepath.Base(cmd[0]) == "systemd"
		}
	case "always":
		cfg.SystemdMode = true
	case "false":
		cfg.SystemdMode = false
	default:
		return fmt.Errorf("invalid --systemd %q (true, false, always): %w", cfg.Systemd, errdefs.ErrInvalid)
	}
	if cfg.SystemdMode && cfg.StopSignal == 0 {
		cfg.StopSignal = sigRTMin + 3
	}
	return nil
}

// sigRTMin is Linux's SIGRTMIN as the kernel numbers it (glibc keeps 32 and 33 for itself).
const sigRTMin = 34

// systemdMounts adds to mounts what systemd in a container needs (see applySystemdMode): tmpfs
// where it keeps its runtime state and a writable cgroup file system.
func systemdMounts(cfg *model.ContainerConfig, mounts []specs.Mount) []specs.Mount {
	for _, dest := range []string{"/run", "/run/lock", "/tmp", "/var/log/journal"} {
		if userMounts(cfg, dest) {
			continue
		}
		opts := []string{"rw", "rprivate", "nosuid", "nodev", "tmpcopyup"}
		if dest != "/tmp" && dest != "/var/log/journal" {
			opts = append(opts, "noexec")
		}
		mounts = dropMount(mounts, dest)
		mounts = append(mounts, specs.Mount{Destination: dest, Type: "tmpfs", Source: "tmpfs", Options: opts})
	}
	for i := range mounts {
		if mounts[i].Destination == "/sys/fs/cgroup" {
			mounts[i].Options = append(removeOpt(mounts[i].Options, "ro"), "rw")
		}
	}
	return mounts
}

// SubIDMaps returns the ID mappings, as --uidmap/--gidmap specs (CONTAINER:HOST:SIZE), of
// name's ranges in a subordinate ID file (/etc/subuid or /etc/subgid): container IDs from 0
// on, through the ranges in the file's order (--subuidname, --subgidname).
func SubIDMaps(file, name string) ([]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("no subordinate IDs for %s: %v: %w", name, err, errdefs.ErrInvalid)
	}
	var out []string
	next := uint64(0)
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(strings.TrimSpace(line), ":")
		if len(f) != 3 || f[0] != name {
			continue
		}
		start, err1 := strconv.ParseUint(f[1], 10, 32)
		size, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 != nil || err2 != nil || size == 0 {
			return nil, fmt.Errorf("%s: bad line %q: %w", file, line, errdefs.ErrInvalid)
		}
		out = append(out, fmt.Sprintf("%d:%d:%d", next, start, size))
		next += size
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no subordinate IDs for %s in %s: %w", name, file, errdefs.ErrInvalid)
	}
	return out, nil
}

// checkHostUsers checks that each --hostuser is a user of the host's /etc/passwd.
func checkHostUsers(users []string) error {
	for _, u := range users {
		if hostPasswdLine(u) == "" {
			return fmt.Errorf("--hostuser %s: no such user in the host's /etc/passwd: %w", u, errdefs.ErrNotFound)
		}
	}
	return nil
}

// hostPasswdLine returns the line of the host's /etc/passwd for a user name or UID ("" when
// there is none).
func hostPasswdLine(user string) string {
	data, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 7 && (f[0] == user || f[2] == user) {
			return line
		}
	}
	return ""
}

// takePreserveFDs returns (once) how many fds container id's start passes on (see
// Runtime.preserveFDs).
func (r *Runtime) takePreserveFDs(id string) int {
	if v, ok := r.preserveFDs.LoadAndDelete(id); ok {
		return v.(int)
	}
	return 0
}
