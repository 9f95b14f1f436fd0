// Package rootless lets an unprivileged user run pea. Such a pea cannot mount, make network
// namespaces or own files of other IDs on the host; inside a user namespace of its own, where
// the user is root, it can. So every pea an unprivileged user runs works inside one user and
// mount namespace per user and run root, held open by a pause process (catatonit -P) that
// lives as long as the namespaces are needed:
//
//   - The first pea makes the pause process in a new user and mount namespace, maps its IDs
//     (the user's subordinate range from /etc/subuid and /etc/subgid through newuidmap and
//     newgidmap; without one, the user's own ID alone as root, as podman does), records its
//     PID, and
//   - every pea joins the pause process's namespaces before its Go runtime starts (cmd/pea's
//     constructor, in C: Go cannot join a user namespace once its runtime runs threads); the
//     first one, which made the pause process, re-executes itself to be joined (Enter), with
//     nsenter(1) as the fallback. The joined pea is root of the namespace (uid and gid 0).
//
// Mounts made in the namespace (root filesystems, volumes, network namespace pins) are seen by
// every later pea of the user, and by nothing on the host. The pause process goes when the
// run root does (a reboot) or when `system migrate`/`system reset` stop it.
//
// A pea inside the namespace knows it is rootless from its user namespace's ID map (Active),
// not from a variable a child might lose: conmon's exit command, for instance, runs there too.
package rootless

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"pea/internal/cpupin"
	"pea/internal/fsx"
	"pea/internal/model"
)

// joinedAtStart: cmd/pea's constructor joined the namespaces before the Go runtime started.
var joinedAtStart bool

// MarkJoined records that the process joined its rootless namespaces before Go started (it is
// called by main, before anything else).
func MarkJoined() { joinedAtStart = true }

// JoinedAtStart reports whether MarkJoined was called.
func JoinedAtStart() bool { return joinedAtStart }

// envTried is set for the pea Enter re-executes to be joined by cmd/pea's constructor: should
// that one still not be joined, it goes through nsenter instead of trying again.
const envTried = "_PEA_ROOTLESS_TRIED"

// EnvJoined is set in the environment of the pea that Enter re-executes in the namespace: its
// default store locations are the user's.
const EnvJoined = "_PEA_ROOTLESS"

// idMap is one line of a user namespace's uid_map or gid_map.
type idMap struct{ inside, outside, count uint32 }

// readMap parses /proc/self/uid_map (or gid_map), without Go's poller (a short command that
// asks whether it is rootless starts no process, and need not make one).
func readMap(path string) ([]idMap, error) {
	b, err := fsx.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []idMap
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		var v [3]uint64
		for i := range f {
			if v[i], err = strconv.ParseUint(f[i], 10, 32); err != nil {
				return nil, fmt.Errorf("%s: %q: %w", path, line, err)
			}
		}
		out = append(out, idMap{uint32(v[0]), uint32(v[1]), uint32(v[2])})
	}
	return out, nil
}

type status struct {
	active   bool
	uid, gid int // the user's IDs on the host
	// idCount and gidCount are how many user and group IDs the namespace maps (1 without a
	// subordinate range).
	idCount, gidCount uint32
}

var current = sync.OnceValue(func() status {
	if os.Geteuid() != 0 {
		return status{active: true, uid: os.Geteuid(), gid: os.Getegid()}
	}
	m, err := readMap("/proc/self/uid_map")
	if err != nil || len(m) == 0 || (len(m) == 1 && m[0] == idMap{0, 0, 4294967295}) {
		return status{}
	}
	s := status{active: true, uid: -1, gid: -1}
	for _, e := range m {
		s.idCount += e.count
		if e.inside == 0 {
			s.uid = int(e.outside)
		}
	}
	if g, err := readMap("/proc/self/gid_map"); err == nil {
		for _, e := range g {
			s.gidCount += e.count
			if e.inside == 0 {
				s.gid = int(e.outside)
			}
		}
	}
	return s
})

// IDMaps are the namespace's ID maps as `info` shows them (container ID, host ID, size).
func IDMaps() (uids, gids []model.IDMap) {
	conv := func(path string) []model.IDMap {
		m, _ := readMap(path)
		var out []model.IDMap
		for _, e := range m {
			out = append(out, model.IDMap{ContainerID: e.inside, HostID: e.outside, Size: e.count})
		}
		return out
	}
	return conv("/proc/self/uid_map"), conv("/proc/self/gid_map")
}

// Active reports whether this pea is rootless: run by an unprivileged user, or running inside
// a user namespace that does not map the host's whole ID range.
func Active() bool { return current().active }

// HostUID is the user's ID on the host (-1 when unknown).
func HostUID() int { return current().uid }

// HostGID is the user's group ID on the host.
func HostGID() int { return current().gid }

// IDCounts are how many user and group IDs the namespace of a joined pea maps: its own 0 (the
// user) and 1... (the user's subordinate IDs); 0 outside it.
func IDCounts() (uids, gids uint32) { return current().idCount, current().gidCount }

// SingleID reports whether the namespace maps only the user's own ID (no subordinate range):
// files of other owners cannot be made, so layers' owners are not kept.
func SingleID() bool { return current().active && current().idCount <= 1 }

// OpaqueXattr is the extended attribute that marks an opaque directory for overlayfs: trusted.*
// needs root of the host; inside a user namespace overlayfs reads user.* when mounted with
// "userxattr" (Linux 5.11+).
func OpaqueXattr() string {
	if Active() {
		return "user.overlay.opaque"
	}
	return "trusted.overlay.opaque"
}

// OverlayOptions are the extra overlay mount options of this pea ("" or ",userxattr").
func OverlayOptions() string {
	if Active() {
		return ",userxattr"
	}
	return ""
}

// DefaultRoot and DefaultRunRoot are a rootless pea's default store locations, as podman's:
// $XDG_DATA_HOME (~/.local/share) and $XDG_RUNTIME_DIR (/run/user/UID) when it is set, else a
// directory of the user's in /tmp.
func DefaultRoot() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "pea", "storage")
	}
	home := os.Getenv("HOME")
	if home == "" {
		if u, err := user.LookupId(strconv.Itoa(HostUID())); err == nil {
			home = u.HomeDir
		}
	}
	return filepath.Join(home, ".local", "share", "pea", "storage")
}

func DefaultRunRoot() string { return filepath.Join(RuntimeDir(), "pea") }

// RuntimeDir is the user's runtime directory: $XDG_RUNTIME_DIR, else /run/user/UID when it is
// the user's, else /tmp/pea-run-UID.
func RuntimeDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return d
	}
	d := fmt.Sprintf("/run/user/%d", HostUID())
	var st unix.Stat_t
	if err := unix.Stat(d, &st); err == nil && int(st.Uid) == HostUID() {
		return d
	}
	return fmt.Sprintf("/tmp/pea-run-%d", HostUID())
}

// pauseFile is where the pause process's PID and user namespace are recorded.
func pauseFile(runRoot string) string { return filepath.Join(runRoot, "pause.pid") }

// nsID is the identity of a process's user namespace ("user:[4026531837]").
func nsID(pid int) string {
	s, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", pid))
	return s
}

// pausePID returns the recorded pause process when it still holds its namespace, else 0.
func pausePID(runRoot string) int {
	b, err := os.ReadFile(pauseFile(runRoot))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid <= 0 {
		return 0
	}
	if nsID(pid) != f[1] {
		return 0
	}
	// A process that has exited but is not reaped yet keeps its user namespace link, not its
	// mount namespace.
	if _, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid)); err != nil {
		return 0
	}
	return pid
}

// StopPause ends the pause process of the run root: its namespaces go once nothing else is in
// them (`system migrate`, `system reset`).
func StopPause(runRoot string) {
	if pid := pausePID(runRoot); pid > 0 {
		unix.Kill(pid, unix.SIGKILL)
	}
	os.Remove(pauseFile(runRoot))
}

// Enter re-executes this pea (exe, with args) inside the user's rootless namespaces, making
// them first if need be; it returns only on failure.
func Enter(runRoot string, args []string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("rootless: %w", err)
	}
	if err := os.MkdirAll(runRoot, 0o700); err != nil {
		return fmt.Errorf("rootless: run root: %w", err)
	}
	pid := pausePID(runRoot)
	if pid == 0 {
		if pid, err = makePause(runRoot); err != nil {
			return err
		}
	}
	env := append(os.Environ(), EnvJoined+"=1")
	if os.Getenv(envTried) == "" {
		// cmd/pea's constructor joins the pause process's namespaces before Go starts.
		return fmt.Errorf("rootless: re-execute pea: %w", syscall.Exec(exe, append([]string{os.Args[0]}, args...), append(env, envTried+"=1")))
	}
	nsenter, err := exec.LookPath("nsenter")
	if err != nil {
		return fmt.Errorf("rootless: nsenter (util-linux) is needed to run pea as an unprivileged user: %w", err)
	}
	cwd, err := os.Getwd()
	if err != nil {
		cwd = "/"
	}
	argv := append([]string{"nsenter", "--preserve-credentials", "-U", "-m", "-t", strconv.Itoa(pid), "--wd=" + cwd, "--", exe}, args...)
	return fmt.Errorf("rootless: exec nsenter: %w", syscall.Exec(nsenter, argv, env))
}

// makePause starts the pause process in new user and mount namespaces and maps its IDs, under
// a lock so that two peas started at once make one.
func makePause(runRoot string) (int, error) {
	lf, err := os.OpenFile(filepath.Join(runRoot, "pause.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return 0, fmt.Errorf("rootless: %w", err)
	}
	defer lf.Close()
	if err := unix.Flock(int(lf.Fd()), unix.LOCK_EX); err != nil {
		return 0, fmt.Errorf("rootless: %w", err)
	}
	if pid := pausePID(runRoot); pid > 0 {
		return pid, nil // another pea made it meanwhile
	}
	if pid := adoptConmon(runRoot); pid > 0 {
		// The pause process went while containers still run: their namespaces are the
		// user's, with their mounts; a new pause process would make empty ones. A running
		// conmon stands for the pause process until the joined pea starts a new one in
		// there (EnsurePause).
		if err := recordPause(runRoot, pid); err != nil {
			return 0, err
		}
		return pid, nil
	}
	cmd, err := startPause(unix.CLONE_NEWUSER | unix.CLONE_NEWNS)
	if err != nil {
		return 0, err
	}
	pid := cmd.Process.Pid
	if err := mapIDs(pid); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return 0, err
	}
	if err := recordPause(runRoot, pid); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return 0, err
	}
	cmd.Process.Release()
	return pid, nil
}

// recordPause writes the pause process's record: its PID and user namespace.
func recordPause(runRoot string, pid int) error {
	rec := fmt.Sprintf("%d %s\n", pid, nsID(pid))
	err := os.WriteFile(pauseFile(runRoot)+".tmp", []byte(rec), 0o600)
	if err == nil {
		err = os.Rename(pauseFile(runRoot)+".tmp", pauseFile(runRoot))
	}
	if err != nil {
		return fmt.Errorf("rootless: %w", err)
	}
	return nil
}

// adoptConmon finds a running conmon of the run root's containers that lives in a user
// namespace of the user's other than this process's: 0 when there is none.
func adoptConmon(runRoot string) int {
	files, _ := filepath.Glob(filepath.Join(runRoot, "containers", "*", "conmon.pid"))
	own := nsID(os.Getpid())
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			continue
		}
		var st unix.Stat_t
		if unix.Stat(fmt.Sprintf("/proc/%d", pid), &st) != nil || int(st.Uid) != os.Geteuid() {
			continue
		}
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) != "conmon" {
			continue
		}
		if ns := nsID(pid); ns != "" && ns != own {
			return pid
		}
	}
	return 0
}

// EnsurePause, in a joined pea, starts a new pause process in this namespace when the record
// names an adopted conmon (makePause), so that the namespace outlives the containers again.
func EnsurePause(runRoot string) {
	b, err := os.ReadFile(pauseFile(runRoot))
	if err != nil {
		return
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return
	}
	if comm, err := os.ReadFile("/proc/" + f[0] + "/comm"); err != nil || strings.TrimSpace(string(comm)) == "catatonit" {
		return
	}
	cmd, err := startPause(0)
	if err != nil {
		return
	}
	// Its user namespace is this one; the record names it as a host process sees it.
	if recordPause(runRoot, cmd.Process.Pid) == nil {
		cmd.Process.Release()
		return
	}
	cmd.Process.Kill()
	cmd.Wait()
}

// startPause starts `catatonit -P` on its own session, in new namespaces of the kinds
// cloneflags names (none: this process's).
func startPause(cloneflags uintptr) (*exec.Cmd, error) {
	pause, err := exec.LookPath("catatonit")
	if err != nil {
		return nil, fmt.Errorf("rootless: catatonit is needed to hold the user namespace: %w", err)
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer devnull.Close()
	cmd := cpupin.Command(pause, "-P")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, devnull
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: cloneflags, Setsid: true}
	if err := cpupin.Start(cmd); err != nil {
		return nil, fmt.Errorf("rootless: start the pause process: %w", err)
	}
	return cmd, nil
}

// subRange is a user's subordinate ID range from /etc/subuid or /etc/subgid.
type subRange struct{ start, count uint64 }

// subordinate finds the first range of the user (by name or by number) in file.
func subordinate(file, name string, id int) (subRange, bool) {
	b, err := os.ReadFile(file)
	if err != nil {
		return subRange{}, false
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		f := strings.Split(strings.TrimSpace(string(line)), ":")
		if len(f) != 3 || (f[0] != name && f[0] != strconv.Itoa(id)) {
			continue
		}
		start, err1 := strconv.ParseUint(f[1], 10, 32)
		count, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 == nil && err2 == nil && count > 0 {
			return subRange{start, count}, true
		}
	}
	return subRange{}, false
}

// mapIDs writes the pause process's ID maps: root is the user, and 1... the user's subordinate
// IDs through the setuid newuidmap/newgidmap; without subordinate IDs (or those tools), root
// alone, written directly (which needs setgroups denied first).
func mapIDs(pid int) error {
	uid, gid := os.Geteuid(), os.Getegid()
	name := ""
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		name = u.Username
	}
	su, okU := subordinate("/etc/subuid", name, uid)
	sg, okG := subordinate("/etc/subgid", name, uid)
	newuidmap, errU := exec.LookPath("newuidmap")
	newgidmap, errG := exec.LookPath("newgidmap")
	if name != "" && okU && okG && errU == nil && errG == nil { // newuidmap needs the user in passwd
		p := strconv.Itoa(pid)
		if out, err := cpupin.Command(newuidmap, p, "0", strconv.Itoa(uid), "1", "1", strconv.FormatUint(su.start, 10), strconv.FormatUint(su.count, 10)).CombinedOutput(); err != nil {
			return fmt.Errorf("rootless: newuidmap: %s: %w", strings.TrimSpace(string(out)), err)
		}
		if out, err := cpupin.Command(newgidmap, p, "0", strconv.Itoa(gid), "1", "1", strconv.FormatUint(sg.start, 10), strconv.FormatUint(sg.count, 10)).CombinedOutput(); err != nil {
			return fmt.Errorf("rootless: newgidmap: %s: %w", strings.TrimSpace(string(out)), err)
		}
		return nil
	}
	dir := fmt.Sprintf("/proc/%d/", pid)
	if err := os.WriteFile(dir+"uid_map", []byte(fmt.Sprintf("0 %d 1\n", uid)), 0); err != nil {
		return fmt.Errorf("rootless: write uid_map: %w", err)
	}
	if err := os.WriteFile(dir+"setgroups", []byte("deny"), 0); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("rootless: deny setgroups: %w", err)
	}
	if err := os.WriteFile(dir+"gid_map", []byte(fmt.Sprintf("0 %d 1\n", gid)), 0); err != nil {
		return fmt.Errorf("rootless: write gid_map: %w", err)
	}
	return nil
}
