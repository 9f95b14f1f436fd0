package network

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"pea/internal/fsx"
)

// Every attachment to a bridge network checks that the network's NAT and forwarding chains are
// still there (a host firewall reload may have flushed them): one `iptables -C` per subnet, a
// process of 2 ms on an idle host and 5-15 ms on a busy one, on the way of every container and
// pod start. With iptables on nftables, the kernel numbers every change of the ruleset (its
// generation); a check that passed is recorded with the generation read before it, and while
// the generation has not moved the rules cannot have changed, so the check is skipped. Any
// change (another container's published ports, a reload) moves it, and the next attachment
// checks again. With the legacy iptables, whose rules nftables does not see, pea always checks.

const (
	nfnlSubsysNftables = 10
	nftMsgGetGen       = 16
	nftaGenID          = 1
)

// nftGeneration returns the nftables ruleset's generation, when iptables on this host writes
// its rules there.
func nftGeneration() (uint32, bool) {
	if !iptablesIsNft() {
		return 0, false
	}
	var gen uint32
	found := false
	err := nfRequest(nfnlSubsysNftables, nftMsgGetGen, unix.AF_UNSPEC, unix.NLM_F_ACK, nil, func(attrs []byte) {
		walkAttrs(attrs, func(typ uint16, val, _ []byte) {
			if typ == nftaGenID && len(val) == 4 {
				gen, found = binary.BigEndian.Uint32(val), true
			}
		})
	})
	return gen, err == nil && found
}

// iptablesIsNft reports whether the iptables binary is the nftables variant (looked up once a
// process: a pod of several containers attaches each).
var iptablesIsNft = sync.OnceValue(func() bool {
	bin, err := iptablesBin(false, "")
	if err != nil {
		return false
	}
	real, err := filepath.EvalSymlinks(bin)
	return err == nil && strings.Contains(filepath.Base(real), "nft")
})

// masqMarker records the generation at which n's chains were last found in place.
func (m *Manager) masqMarker(n *Network) string {
	return filepath.Join(m.runDir, "masq-checked", m.chainHash(n, ""))
}

// masqChecks counts the iptables checks masqPresentCached made (for tests).
var masqChecks atomic.Int64

// masqPresentCached is masqPresent, skipped while the ruleset has not changed since it last
// passed for n.
func (m *Manager) masqPresentCached(n *Network) bool {
	marker := m.masqMarker(n)
	gen, ok := nftGeneration()
	genText := strconv.FormatUint(uint64(gen), 10)
	if ok {
		if b, err := fsx.ReadFile(marker); err == nil && string(b) == genText {
			return true
		}
	}
	masqChecks.Add(1)
	if !m.masqPresent(n) {
		return false
	}
	if ok {
		os.MkdirAll(filepath.Dir(marker), 0o700)
		os.WriteFile(marker, []byte(genText), 0o600)
	}
	return true
}
