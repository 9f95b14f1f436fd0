package network

import (
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"pea/internal/cpupin"
)

// sweepMasquerade removes the bridge plugin's masquerade rules of one attachment, found by the
// comment the plugin puts on them (name: "<network>" id: "<container>"), with the chains they
// jump to, in one iptables-restore per family. The plugin itself finds them through the
// addresses on the container's interface, so when the namespace is already gone its DEL
// succeeds and leaves them behind.
func sweepMasquerade(network, containerID string) error {
	match := commentMatch(fmt.Sprintf("name: %q id: %q", network, containerID))
	var errs []error
	for _, v6 := range []bool{false, true} {
		var b strings.Builder
		var chains []string // one jump per address of the attachment, all to its one chain
		for _, line := range natRules(v6) {
			rule, ok := strings.CutPrefix(line, "-A POSTROUTING ")
			if !ok || !strings.Contains(rule, match) {
				continue
			}
			if chain := fieldAfter(strings.Fields(rule), "-j"); strings.HasPrefix(chain, "CNI-") {
				b.WriteString("-D POSTROUTING " + rule + "\n")
				if !slices.Contains(chains, chain) {
					chains = append(chains, chain)
				}
			}
		}
		for _, chain := range chains {
			b.WriteString("-F " + chain + "\n-X " + chain + "\n")
		}
		if b.Len() > 0 {
			if err := restore(v6, "*nat\n"+b.String()+"COMMIT\n"); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remove masquerade rules: %w", err)
	}
	return nil
}

// iptablesBin finds iptables (suffix "") or one of its companions ("-restore") for one address
// family.
func iptablesBin(v6 bool, suffix string) (string, error) {
	if v6 {
		return lookSbin("ip6tables" + suffix)
	}
	return lookSbin("iptables" + suffix)
}

// natRules returns one family's nat table as `iptables -S` prints it, or nothing when the family
// has no iptables or no nat table (then no rule of pea's can be there).
func natRules(v6 bool) []string {
	bin, err := iptablesBin(v6, "")
	if err != nil {
		return nil
	}
	out, err := cpupin.Command(bin, "-w", "-t", "nat", "-S").Output()
	if err != nil {
		return nil
	}
	return strings.Split(string(out), "\n")
}

// commentMatch is how `iptables -S` prints a rule's comment: quoted as Go quotes it, for the
// comments pea looks for (they hold no characters the two would quote differently).
func commentMatch(comment string) string { return "--comment " + strconv.Quote(comment) }

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
