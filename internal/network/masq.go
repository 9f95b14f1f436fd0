package network

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"pea/internal/cpupin"
)

// sweepMasquerade removes the bridge plugin's masquerade rules of one attachment, found by the
// comment the plugin puts on them (name: "<network>" id: "<container>"). The plugin itself finds
// them through the addresses on the container's interface, so when the namespace is already
// gone its DEL succeeds and leaves them behind.
func sweepMasquerade(network, containerID string) error {
	comment := fmt.Sprintf("name: %q id: %q", network, containerID)
	// iptables -S prints the comment as a quoted string; names hold no characters that
	// iptables and Go would quote differently.
	needle := "--comment " + strconv.Quote(comment)
	var errs []string
	for _, bin := range []string{"iptables", "ip6tables"} {
		bin, err := lookSbin(bin)
		if err != nil {
			continue
		}
		out, err := cpupin.Command(bin, "-w", "-t", "nat", "-S", "POSTROUTING").Output()
		if err != nil {
			continue // no such table or binary: nothing of ours can be there
		}
		for _, line := range strings.Split(string(out), "\n") {
			if !strings.Contains(line, needle) {
				continue
			}
			f := strings.Fields(line)
			src, chain := fieldAfter(f, "-s"), fieldAfter(f, "-j")
			if src == "" || !strings.HasPrefix(chain, "CNI-") {
				continue
			}
			for _, args := range [][]string{
				{"-D", "POSTROUTING", "-s", src, "-m", "comment", "--comment", comment, "-j", chain},
				{"-F", chain},
				{"-X", chain},
			} {
				cmd := append([]string{"-w", "-t", "nat"}, args...)
				if out, err := cpupin.Command(bin, cmd...).CombinedOutput(); err != nil {
					errs = append(errs, fmt.Sprintf("%s %s: %v: %s", bin, strings.Join(cmd, " "), err, strings.TrimSpace(string(out))))
				}
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("remove masquerade rules: %s", strings.Join(errs, "; "))
	}
	return nil
}

func fieldAfter(fields []string, flag string) string {
	for i := 0; i+1 < len(fields); i++ {
		if fields[i] == flag {
			return fields[i+1]
		}
	}
	return ""
}

// lookSbin finds an administration binary even when PATH lacks the sbin directories.
func lookSbin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		if p, err := exec.LookPath(dir + "/" + name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}
