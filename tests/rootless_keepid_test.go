package tests

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The user of the keep-id tests: an ID no account of the host has. The test gives it a passwd
// line, a group and subordinate ranges in copies of /etc/passwd, /etc/group, /etc/subuid and
// /etc/subgid bound over the originals in a mount namespace of its own, in which every pea of
// the user runs (newuidmap, setuid, reads them there): nothing of the host's is changed, and
// two tests never race on its files.
const (
	rangedUID      = 52733
	rangedName     = "peakeep"
	rangedSubStart = 400000 // its subordinate IDs: 400000..465535
)

// newRangedEnv is a RootlessEnv of a user with a subordinate ID range.
func newRangedEnv(t *testing.T) *RootlessEnv {
	t.Helper()
	return newAccountEnv(t, rangedUID, rangedName, "/nonexistent", rangedSubStart)
}

// newAccountEnv is a RootlessEnv of a user with a passwd line (name, home) and, when subStart
// is not 0, subordinate ranges from it, in the test's own mount namespace (see rangedUID).
func newAccountEnv(t *testing.T, uid uint32, name, home string, subStart int) *RootlessEnv {
	t.Helper()
	e := newRootlessEnvAs(t, uid)
	etc := filepath.Join(e.Dir, "etc")
	if err := os.Mkdir(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	if home == "" {
		home = e.home
	}
	extra := map[string]string{
		"passwd": fmt.Sprintf("%s:x:%d:%d:pea keep-id test:%s:/bin/sh", name, uid, uid, home),
		"group":  fmt.Sprintf("%s:x:%d:", name, uid),
	}
	if subStart != 0 {
		extra["subuid"] = fmt.Sprintf("%s:%d:65536", name, subStart)
		extra["subgid"] = fmt.Sprintf("%s:%d:65536", name, subStart)
	}
	var script strings.Builder
	for name, line := range extra {
		b, err := os.ReadFile("/etc/" + name)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if len(b) > 0 && b[len(b)-1] != '\n' {
			b = append(b, '\n')
		}
		p := filepath.Join(etc, name)
		if err := os.WriteFile(p, append(b, line+"\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat("/etc/" + name); err != nil { // a bind mount needs its target
			t.Fatalf("/etc/%s: %v", name, err)
		}
		fmt.Fprintf(&script, "mount --bind %s /etc/%s && ", p, name)
	}
	script.WriteString("echo ready && exec sleep 100000")
	holder := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script.String())
	out, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	holder.Stderr = os.Stderr
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	e.mountNS = holder.Process.Pid // killed by the teardown, after the user's peas
	go holder.Wait()
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- line
	}()
	select {
	case line := <-ready:
		if strings.TrimSpace(line) != "ready" {
			t.Fatalf("the mount namespace of the test: %q", line)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the mount namespace of the test is not ready")
	}
	return e
}

// statIDs returns the owner of path on the host.
func statIDs(t *testing.T, path string) (uint32, uint32) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Uid, st.Gid
}

// --userns keep-id of a rootless pea: the user is itself in the container and its process by
// default, root of the container is one of its subordinate IDs, the image's files keep their
// owners (the root filesystem is fuse-overlayfs's, owners shifted by the container's
// mappings), and what the user makes in a bind mount is the user's on the host.
func TestRootlessKeepID(t *testing.T) {
	e := newRangedEnv(t).withBusybox()
	if got, want := e.U("info", "--format", "{{.Host.IDMappings.UIDMap}}"), fmt.Sprintf("[{0 %d 1} {1 %d 65536}]", rangedUID, rangedSubStart); got != want {
		t.Fatalf("the user's namespace maps %s, want %s", got, want)
	}
	vol := filepath.Join(e.home, "vol")
	os.Mkdir(vol, 0o755)
	os.Chown(vol, rangedUID, rangedUID)
	id := strconv.Itoa(rangedUID)

	out := e.U("run", "--rm", "--userns", "keep-id", "--network", "none", "-v", vol+":/vol", "localhost/bb", "sh", "-c",
		"id -u; id -g; id -un; echo $HOME; stat -c '%u %g' /bin/busybox /etc/passwd; touch /vol/f; grep "+rangedName+" /etc/passwd /etc/group; cat /proc/self/uid_map")
	lines := strings.Split(out, "\n")
	want := []string{id, id, rangedName, "/", "0 0", "0 0", fmt.Sprintf("/etc/passwd:%s:*:%d:%d:pea keep-id test:/:/bin/sh", rangedName, rangedUID, rangedUID),
		fmt.Sprintf("/etc/group:%s:x:%d:%s", rangedName, rangedUID, rangedName)}
	if len(lines) < len(want)+3 || strings.Join(lines[:len(want)], "\n") != strings.Join(want, "\n") {
		t.Fatalf("keep-id container's view:\n%s\nwant it to start with\n%s", out, strings.Join(want, "\n"))
	}
	// podman's mapping: container 0..UID-1 the subordinate IDs 1..UID, UID the user (0), the
	// rest the same subordinate IDs.
	maps := strings.Join(strings.Fields(strings.Join(lines[len(want):], " ")), " ")
	if wantMap := fmt.Sprintf("0 1 %d %d 0 1 %d %d %d", rangedUID, rangedUID, rangedUID+1, rangedUID+1, 65536-rangedUID); maps != wantMap {
		t.Fatalf("uid_map %q, want %q", maps, wantMap)
	}
	if u, g := statIDs(t, filepath.Join(vol, "f")); u != rangedUID || g != rangedUID {
		t.Fatalf("the file made in the bind mount belongs to %d:%d on the host, want the user's", u, g)
	}
	// --user root is the container's root: a subordinate ID of the user's, which owns the
	// image's root files.
	if got := e.U("run", "--rm", "--userns", "keep-id", "--user", "root", "--network", "none", "localhost/bb", "sh", "-c",
		"id -u; touch /made && stat -c '%u %g' /made; echo x > /etc/os && echo root-writes"); got != "0\n0 0\nroot-writes" {
		t.Fatalf("--user root: %q", got)
	}

	// A layer's owners other than root show as they are (build in the user's namespace, run
	// in a keep-id one).
	ctx := filepath.Join(e.home, "ctx")
	os.Mkdir(ctx, 0o755)
	os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte("FROM localhost/bb\nRUN mkdir /srv && chown 33:44 /srv && rm /bin/vi && mkdir /d && touch /d/a\n"), 0o644)
	exec.Command("chown", "-R", id, ctx).Run()
	e.U("build", "-q", "-t", "localhost/owned", ctx)

	// A container that keeps its root filesystem: written as the user and as root, restarted,
	// copied into, diffed, committed, mounted, removed.
	e.U("run", "-d", "--name", "kid", "--userns", "keep-id", "--network", "none", "localhost/owned", "sleep", "300")
	if got := e.U("exec", "kid", "sh", "-c", "stat -c '%u %g' /srv; test -e /bin/vi || echo vi-gone; id -u"); got != "33 44\nvi-gone\n"+id {
		t.Fatalf("the image's owners and deletions in keep-id: %q", got)
	}
	// /d made anew is opaque in the upper directory (fuse-overlayfs's own mark): the
	// committed image has only its new file.
	e.U("exec", "--user", "root", "kid", "sh", "-c", "mkdir /data && chown "+id+" /data && rm -rf /d && mkdir /d && touch /d/b")
	if got := e.U("top", "kid", "user", "huser"); strings.Join(strings.Fields(got), " ") != "USER HUSER "+rangedName+" "+rangedName {
		t.Fatalf("top: %q", got)
	}
	e.U("exec", "kid", "sh", "-c", "echo mine > /data/f")
	hostFile := filepath.Join(e.home, "in.txt")
	os.WriteFile(hostFile, []byte("copied\n"), 0o644)
	os.Chown(hostFile, rangedUID, rangedUID)
	e.U("cp", hostFile, "kid:/data/in.txt")
	e.U("stop", "-t", "0", "kid")
	e.U("start", "kid")
	if got := e.U("exec", "kid", "sh", "-c", "cat /data/f /data/in.txt; stat -c '%u %g' /data/f /data/in.txt"); got != "mine\ncopied\n"+id+" "+id+"\n"+id+" "+id {
		t.Fatalf("after a restart: %q", got)
	}
	if got := e.U("diff", "kid"); !strings.Contains(got, "A /data/f") || !strings.Contains(got, "A /data/in.txt") || !strings.Contains(got, "A /d/b") || strings.Contains(got, ".wh.") {
		t.Fatalf("diff: %q", got)
	}
	e.U("commit", "-q", "kid", "localhost/kidimg")
	// The image keeps the container's own IDs: seen without a user namespace of its own, the
	// file belongs to the user's ID and /srv to 33.
	if got := e.U("run", "--rm", "--network", "none", "localhost/kidimg", "sh", "-c", "cat /data/f; stat -c '%u %g' /data/f /srv; ls /d"); got != "mine\n"+id+" "+id+"\n33 44\nb" {
		t.Fatalf("the committed image: %q", got)
	}
	out = e.U("cp", "kid:/data/f", filepath.Join(e.home, "out.txt"))
	if b, _ := os.ReadFile(filepath.Join(e.home, "out.txt")); string(b) != "mine\n" {
		t.Fatalf("cp out: %q %q", b, out)
	}
	e.U("stop", "-t", "0", "kid")
	mnt := e.U("mount", "kid")
	if got := e.U("unshare", "cat", mnt+"/data/f"); got != "mine" {
		t.Fatalf("pea mount: %q", got)
	}
	e.U("umount", "kid")
	ctrID := e.U("inspect", "--format", "{{.ID}}", "kid")
	e.U("start", "kid")
	e.U("rm", "-f", "-t", "0", "kid")
	if mi := e.U("unshare", "cat", "/proc/self/mountinfo"); strings.Contains(mi, ctrID) || strings.Contains(mi, "fuse-overlayfs") {
		t.Fatalf("the removed container is still mounted in the namespace:\n%s", mi)
	}
	eventually(t, 5*time.Second, func() error {
		for _, p := range userProcs(rangedUID) {
			if strings.HasSuffix(p, " fuse-overlayfs") {
				return fmt.Errorf("fuse-overlayfs outlived its mount: %v", userProcs(rangedUID))
			}
		}
		return nil
	})

	// An exec right after the start finds the container's command, not the runtime's init
	// still finishing (through fuse-overlayfs) as the user, which crun exec could not join:
	// about one in ten failed before pea waited for it.
	for i := range 20 {
		e.U("run", "-d", "--name", "kx", "--userns", "keep-id", "--network", "none", "localhost/bb", "sleep", "300")
		if r := e.user("exec", "kx", "true"); r.Code != 0 {
			t.Fatalf("exec %d right after the start: %s", i, r)
		}
		e.U("rm", "-f", "-t", "0", "kx")
	}

	// A pod's keep-id namespace is its members': they run as the user.
	e.U("pod", "create", "--name", "kpod", "--userns", "keep-id", "--network", "none")
	if got := e.U("run", "--rm", "--pod", "kpod", "localhost/bb", "sh", "-c", "id -u; stat -c %u /bin/busybox"); got != id+"\n0" {
		t.Fatalf("keep-id pod member: %q", got)
	}
	e.U("pod", "rm", "-f", "-t", "0", "kpod")
}

// The other user namespaces of a rootless container's own take their host IDs from the
// user's subordinate ones, as podman's: --uidmap's host IDs are the user namespace's (1 is the
// first subordinate ID), auto picks 1024 free ones, nomap leaves the user out, keep-id:uid=N
// puts the user at N. Each sees the image's files with their owners.
func TestRootlessUserNSMappings(t *testing.T) {
	e := newRangedEnv(t).withBusybox()
	show := "cat /proc/self/uid_map; id -u; stat -c '%u %g' /bin/busybox"
	for _, c := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--uidmap", "0:1:100"}, "0 1 100 0 0 0"},
		{[]string{"--userns", "auto"}, "0 1 1024 0 0 0"},
		{[]string{"--userns", "auto:size=500"}, "0 1 500 0 0 0"},
		{[]string{"--userns", "nomap"}, "0 1 65536 0 0 0"},
		{[]string{"--userns", "keep-id:uid=200,gid=210"}, "0 1 200 200 0 1 201 201 65336 200 0 0"},
	} {
		out := e.U(append(append([]string{"run", "--rm", "--network", "none"}, c.flags...), "localhost/bb", "sh", "-c", show)...)
		if got := strings.Join(strings.Fields(out), " "); got != c.want {
			t.Errorf("%v: %q, want %q", c.flags, got, c.want)
		}
	}
	// Two auto containers get IDs of their own; a map beyond the user's IDs is refused.
	e.U("create", "--name", "a1", "--userns", "auto", "localhost/bb", "true")
	e.U("create", "--name", "a2", "--userns", "auto", "localhost/bb", "true")
	if got := e.U("inspect", "--format", "{{.HostConfig.IDMappings.UidMap}}", "a1", "a2"); got != "[0:1:1024]\n[0:1025:1024]" {
		t.Fatalf("auto mappings: %q", got)
	}
	r := e.user("run", "--rm", "--uidmap", "0:65000:1000", "localhost/bb", "true")
	if r.Code != 125 || !strings.Contains(r.Stderr, "0 (the user) to 65536") {
		t.Fatalf("a map beyond the user's IDs: %s", r)
	}
	if got := e.U("inspect", "--format", "{{.HostConfig.UsernsMode}}", "a1"); got != "auto" {
		t.Fatalf("UsernsMode: %q", got)
	}
	e.U("create", "--name", "k2", "--userns", "keep-id", "localhost/bb", "true")
	if got := e.U("inspect", "--format", "{{.HostConfig.UsernsMode}} {{.Config.User}}", "k2"); got != "private "+strconv.Itoa(rangedUID)+":"+strconv.Itoa(rangedUID) {
		t.Fatalf("keep-id's inspect: %q", got)
	}
}
