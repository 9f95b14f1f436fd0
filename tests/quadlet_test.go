package tests

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// quadletFiles writes Quadlet files (name -> text) into a directory of their own.
func quadletFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		path := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// quadletEnv is the environment without the variables that choose Quadlet's directories.
func quadletEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PEA_QUADLET_UNIT_DIRS=") && !strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// runQuadlet runs `pea quadlet ARGS` on the files of src.
func runQuadlet(src string, args ...string) Result {
	cmd := exec.Command(peaBin, append([]string{"quadlet"}, args...)...)
	cmd.Env = quadletEnv("PEA_QUADLET_UNIT_DIRS=" + src)
	return runCmd(cmd)
}

// dryrunUnits splits -dryrun's output (---NAME.service--- then the unit) into its units.
func dryrunUnits(t *testing.T, out string) map[string]string {
	t.Helper()
	units := map[string]string{}
	name := ""
	for _, l := range strings.SplitAfter(out, "\n") {
		if n, ok := strings.CutPrefix(strings.TrimSuffix(l, "\n"), "---"); ok && strings.HasSuffix(n, ".service---") {
			name = strings.TrimSuffix(n, "---")
			units[name] = ""
			continue
		}
		if name == "" {
			t.Fatalf("-dryrun printed %q before a unit's name", l)
		}
		units[name] += l
	}
	return units
}

// unitValues are the values of every key= line of a unit, but those of the X- sections
// (Quadlet's own, kept for reference), which systemd does not read.
func unitValues(unit, key string) []string {
	var out []string
	ignored := false
	for _, l := range strings.Split(unit, "\n") {
		if strings.HasPrefix(l, "[") {
			ignored = strings.HasPrefix(l, "[X-")
		}
		if v, ok := strings.CutPrefix(l, key+"="); ok && !ignored {
			out = append(out, v)
		}
	}
	return out
}

// Quadlet's -dryrun prints podman-shaped services for .container, .volume and .network files,
// with pea's absolute path in every command, dependencies on the volume's and network's
// services and their names in the container's command; a bad file is reported and left out
// (exit 1) while the others are printed. The directory mode writes the same units into the
// first of systemd's three directories and enables them as [Install] asks.
func TestQuadletGenerate(t *testing.T) {
	src := quadletFiles(t, map[string]string{
		"web.container": `[Unit]
Description=web

[Container]
Image=localhost/bb
Exec=sh -c "echo hi; sleep 1000"
Volume=data.volume:/data
Network=net.network
Environment="A=b c"

[Service]
Restart=always

[Install]
WantedBy=multi-user.target
`,
		"data.volume":     "[Volume]\nVolumeName=qdata\n",
		"net.network":     "[Network]\nLabel=app=q\n",
		"bad.container":   "[Container]\nImage=x\nNoSuchKey=1\n",
		"noimg.container": "[Container]\nExec=true\n",
		"other.txt":       "not read",
	})
	r := runQuadlet(src, "-dryrun")
	if r.Code != 1 {
		t.Fatalf("-dryrun with bad files: %s", r)
	}
	for _, want := range []string{"unsupported key 'NoSuchKey' in group 'Container'", "converting \"noimg.container\": no Image or Rootfs key specified"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q: %s", want, r.Stderr)
		}
	}
	units := dryrunUnits(t, r.Stdout)
	if len(units) != 3 || units["web.service"] == "" || units["data-volume.service"] == "" || units["net-network.service"] == "" {
		t.Fatalf("units %v:\n%s", len(units), r.Stdout)
	}
	web := units["web.service"]
	start := unitValues(web, "ExecStart")
	if len(start) != 1 || !strings.HasPrefix(start[0], peaBin+" run --name=systemd-%N --cidfile=%t/%N.cid --replace --rm --sdnotify=conmon -d ") ||
		!strings.Contains(start[0], " --network systemd-net ") || !strings.Contains(start[0], " --volume qdata:/data ") ||
		!strings.Contains(start[0], ` --env "A=b c" `) || !strings.HasSuffix(start[0], ` localhost/bb sh -c "echo hi; sleep 1000"`) {
		t.Errorf("ExecStart: %q", start)
	}
	for key, want := range map[string]string{"Type": "notify", "NotifyAccess": "all", "KillMode": "mixed", "Delegate": "yes",
		"SyslogIdentifier": "%N", "Restart": "always", "WantedBy": "multi-user.target", "Description": "web",
		"ExecStop": peaBin + " rm -f -i --cidfile=%t/%N.cid", "ExecStopPost": "-" + peaBin + " rm -f -i --cidfile=%t/%N.cid",
		"SourcePath": filepath.Join(src, "web.container"), "Environment": "PODMAN_SYSTEMD_UNIT=%n"} {
		if got := unitValues(web, key); len(got) != 1 || got[0] != want {
			t.Errorf("%s=%q, want %q", key, got, want)
		}
	}
	if got := strings.Join(unitValues(web, "Requires"), " "); got != "net-network.service data-volume.service" {
		t.Errorf("Requires=%q", got)
	}
	if !strings.Contains(web, "\n[X-Container]\nImage=localhost/bb\n") {
		t.Errorf("the [Container] section is not kept as X-Container:\n%s", web)
	}
	vol := units["data-volume.service"]
	if got := unitValues(vol, "ExecStart"); len(got) != 1 || got[0] != peaBin+" volume create --ignore qdata" ||
		unitValues(vol, "Type")[0] != "oneshot" || unitValues(vol, "RemainAfterExit")[0] != "yes" {
		t.Errorf("volume unit:\n%s", vol)
	}
	if got := unitValues(units["net-network.service"], "ExecStart"); len(got) != 1 || got[0] != peaBin+" network create --ignore --label app=q systemd-net" {
		t.Errorf("network ExecStart=%q", got)
	}

	// Directory mode: the units go into the first directory, the others are left alone.
	out := t.TempDir()
	normal, early, late := filepath.Join(out, "normal"), filepath.Join(out, "early"), filepath.Join(out, "late")
	os.Remove(filepath.Join(src, "bad.container"))
	os.Remove(filepath.Join(src, "noimg.container"))
	if r := runQuadlet(src, "-no-kmsg-log", normal, early, late); r.Code != 0 || r.Stdout != "" || r.Stderr != "" {
		t.Fatalf("directory mode: %s", r)
	}
	written, _ := os.ReadFile(filepath.Join(normal, "web.service"))
	if string(written)+"\n" != web {
		t.Errorf("written unit differs from -dryrun's:\n%s\n---\n%s", written, web)
	}
	if target, err := os.Readlink(filepath.Join(normal, "multi-user.target.wants", "web.service")); err != nil || target != "../web.service" {
		t.Errorf("[Install] WantedBy=: %q %v", target, err)
	}
	for _, d := range []string{early, late} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s was written: %v", d, err)
		}
	}
	if r := runQuadlet(src, "-no-kmsg-log"); r.Code != 1 || !strings.Contains(r.Stderr, "missing output directory argument") {
		t.Errorf("no directory: %s", r)
	}
	verifyUnits(t, filepath.Join(normal, "web.service"))
}

// -user reads the user's directories ($XDG_CONFIG_HOME/pea/systemd); errors go to /dev/kmsg
// (as podman's generator logs at boot) unless -no-kmsg-log; -dryrun logs to stderr.
func TestQuadletUserDirsAndKmsg(t *testing.T) {
	cfg := t.TempDir()
	os.MkdirAll(filepath.Join(cfg, "pea", "systemd"), 0o755)
	os.WriteFile(filepath.Join(cfg, "pea", "systemd", "mine.container"), []byte("[Container]\nImage=localhost/bb\n"), 0o644)
	cmd := exec.Command(peaBin, "quadlet", "-user", "-dryrun")
	cmd.Env = quadletEnv("XDG_CONFIG_HOME=" + cfg)
	r := runCmd(cmd)
	if r.Code != 0 || !strings.Contains(r.Stdout, "---mine.service---\n") {
		t.Fatalf("-user: %s", r)
	}
	if _, err := os.Stat("/etc/pea/systemd/mine.container"); os.IsNotExist(err) {
		cmd = exec.Command(peaBin, "quadlet", "-dryrun") // the system's directories: not the user's
		cmd.Env = quadletEnv("XDG_CONFIG_HOME=" + cfg)
		if r := runCmd(cmd); strings.Contains(r.Stdout, "mine.service") {
			t.Fatalf("the system generator read the user's files: %s", r)
		}
	}

	if _, err := exec.LookPath("dmesg"); err != nil {
		t.Skip("no dmesg")
	}
	marker := fmt.Sprintf("KmsgMarker%d", rand.Int63())
	src := quadletFiles(t, map[string]string{"k.container": "[Container]\nImage=x\n" + marker + "=1\n"})
	out := t.TempDir()
	r = runQuadlet(src, out)
	if r.Code != 1 || strings.Contains(r.Stderr, marker) {
		t.Fatalf("with kmsg: %s", r)
	}
	dmesg, err := exec.Command("dmesg").Output()
	if err != nil {
		t.Skipf("dmesg: %v", err)
	}
	if !strings.Contains(string(dmesg), "unsupported key '"+marker+"'") || !strings.Contains(string(dmesg), "pea-quadlet[") {
		lines := strings.Split(strings.TrimSpace(string(dmesg)), "\n")
		t.Fatalf("the error is not in the kernel log: %q", lines[max(0, len(lines)-3):])
	}
	if r := runQuadlet(src, "-no-kmsg-log", out); r.Code != 1 || !strings.Contains(r.Stderr, "pea-quadlet[") || !strings.Contains(r.Stderr, marker) {
		t.Fatalf("-no-kmsg-log: %s", r)
	}
}

// scripts/install-generators.sh (setup.sh's) installs the system and user generators, which
// run pea quadlet (-user for the user's); run again, it leaves the same files.
func TestQuadletInstallGenerators(t *testing.T) {
	dest := t.TempDir()
	for i := 0; i < 2; i++ {
		cmd := exec.Command("../scripts/install-generators.sh", peaBin)
		cmd.Env = append(os.Environ(), "DESTDIR="+dest)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("install-generators.sh: %v %s", err, out)
		}
	}
	src := quadletFiles(t, map[string]string{"g.container": "[Container]\nImage=localhost/bb\n"})
	for _, gen := range []string{"system-generators/pea-system-generator", "user-generators/pea-user-generator"} {
		path := filepath.Join(dest, "usr/lib/systemd", gen)
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o755 {
			t.Fatalf("%s: %v", path, err)
		}
		out := t.TempDir()
		cmd := exec.Command(path, "-no-kmsg-log", out, out, out)
		cmd.Env = quadletEnv("PEA_QUADLET_UNIT_DIRS=" + src)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v %s", gen, err, b)
		}
		if b, _ := os.ReadFile(filepath.Join(out, "g.service")); !strings.Contains(string(b), "ExecStart="+peaBin+" run ") {
			t.Fatalf("%s wrote:\n%s", gen, b)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "usr/lib/systemd/user-generators/pea-user-generator")); !strings.Contains(string(b), " quadlet -user \"$@\"") {
		t.Fatalf("user generator:\n%s", b)
	}
	left, _ := filepath.Glob(filepath.Join(dest, "usr/lib/systemd/*/*.*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}
