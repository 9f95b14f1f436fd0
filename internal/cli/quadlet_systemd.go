package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"

	"pea/internal/cpupin"
)

// quadletUser: the quadlet verbs act for the user's systemd manager, not the system's, when
// pea does not run as root (podman's rootless).
func quadletUser() bool { return os.Geteuid() != 0 }

// systemdRunning is sd_booted(3): systemd manages this machine (the verbs then reload it and
// ask it for the units' states). Without it (a container, a machine booted otherwise, as this
// project's test machines) there is nothing to reload and no unit is loaded.
func systemdRunning() bool {
	fi, err := os.Lstat("/run/systemd/system")
	return err == nil && fi.IsDir()
}

// systemctl runs systemctl for the system's manager or the user's.
func systemctl(args ...string) ([]byte, error) {
	if quadletUser() {
		args = append([]string{"--user"}, args...)
	}
	cmd := cpupin.Command("systemctl", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return out, fmt.Errorf("systemctl %s: %s", strings.Join(args, " "), msg)
		}
		return out, fmt.Errorf("systemctl %s: %w", strings.Join(args, " "), err)
	}
	return out, nil
}

// reloadSystemd is --reload-systemd: `systemctl daemon-reload`, so that the generator runs
// again. podman fails every quadlet verb when it cannot reach systemd; pea installs and removes
// files without it and says that nothing was reloaded.
func reloadSystemd(a *app) error {
	if !systemdRunning() {
		fmt.Fprintln(a.stderr, "WARN[0000] systemd is not running: not reloading it (the files take effect at its next daemon-reload)")
		return nil
	}
	if _, err := systemctl("daemon-reload"); err != nil {
		return fmt.Errorf("reloading systemd: %w", err)
	}
	return nil
}

// unitState is what systemd says of one unit.
type unitState struct {
	load, active, sub string
}

// status is podman's STATUS of a unit: "Not loaded" when systemd has not loaded it (as podman
// says for a unit systemd does not know; without systemd no unit is loaded), else
// ACTIVE/SUB ("inactive/dead", "active/running").
func (s unitState) status() string {
	if s.load != "loaded" {
		return "Not loaded"
	}
	return s.active + "/" + s.sub
}

// unitStates asks systemd for the states of units, by name; without systemd none is loaded.
func unitStates(units []string) (map[string]unitState, error) {
	states := map[string]unitState{}
	if len(units) == 0 || !systemdRunning() {
		return states, nil
	}
	out, err := systemctl(append([]string{"show", "--property=Id,LoadState,ActiveState,SubState", "--"}, units...)...)
	if err != nil {
		return nil, fmt.Errorf("querying systemd for unit status: %w", err)
	}
	// One block of KEY=VALUE lines a unit, in the order asked, separated by blank lines.
	i := 0
	var cur unitState
	flush := func() {
		if i < len(units) {
			states[units[i]] = cur
		}
		i++
		cur = unitState{}
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	seen := false
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			if seen {
				flush()
				seen = false
			}
			continue
		}
		seen = true
		switch k {
		case "LoadState":
			cur.load = v
		case "ActiveState":
			cur.active = v
		case "SubState":
			cur.sub = v
		}
	}
	if seen {
		flush()
	}
	return states, nil
}
