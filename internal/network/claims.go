package network

// Host-wide claims on bridge names and subnets.
//
// Every store keeps its networks under its own --root, and a bridge network's bridge appears only
// when its first container attaches. Two stores choosing a new network's bridge name and subnet
// from the host's links and routes and their own networks alone can therefore choose the same
// ones, and their containers later meet on one bridge or behind two routes to one subnet. The
// claim registry closes that gap: a bridge network claims its bridge name and each of its subnets
// in one file that every store on the host reads, under one lock, before it chooses.
//
// On disk (claimDir: hostClaimDir unless a test of this package sets another):
//
//	/var/lib/pea-host/          flock(2) on the directory itself is the registry's lock
//	    network-claims          one claim a line, rewritten in place
//
// A line is: kind (bridge or subnet), what is claimed, the inode and modification time (ns) the
// claiming network's conflist had when last checked, and that conflist's absolute path, quoted:
//
//	# pea network claims: kind name-or-subnet conflist-inode conflist-mtime conflist
//	bridge pea3 1837 1733040000123456789 "/var/lib/pea/networks/web.conflist"
//	subnet 10.90.3.0/24 1837 1733040000123456789 "/var/lib/pea/networks/web.conflist"
//
// A claim holds while that conflist exists, is a bridge network, and uses the bridge name or
// subnet: the conflist is the network, so a store deleted without `system reset`, a network
// removed by an older pea, or a create that died half-way leave only stale claims, which the
// next allocation on the host drops and may take over. The inode and time make the check a
// stat(2) while the conflist is unchanged (pea never rewrites one); only a changed one is read.
// One file rather than a file per claim: an allocation reads every claim (subnets conflict by
// overlap, not by name), and one read costs what one claim file's would. The file and then the
// directory are removed when the last claim goes, so a host without pea networks keeps nothing.
//
// Why /var/lib/pea-host: the registry must outlive a reboot as the conflists do (after a reboot
// no bridge exists, and nothing else tells which store chose which name), it must not depend on
// --root (it is what the stores share), and it must not lie inside the default store, whose
// `system reset` removes /var/lib/pea whole.

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/fsx"
)

// hostClaimDir is the production registry.
const hostClaimDir = "/var/lib/pea-host"

const (
	claimFile   = "network-claims"
	claimHeader = "# pea network claims: kind name-or-subnet conflist-inode conflist-mtime conflist\n"
)

// claim is one line of the registry.
type claim struct {
	kind   string       // "bridge" or "subnet"
	key    string       // the bridge name, or the subnet in canonical (masked) form
	prefix netip.Prefix // the subnet, parsed
	ino    uint64       // the conflist's inode and mtime when last found to hold the claim
	mtime  int64
	config string // absolute path of the claiming network's conflist
}

// owner describes the claim's network for a message.
func (c *claim) owner() string {
	return fmt.Sprintf("network %s of another store (%s)", strings.TrimSuffix(filepath.Base(c.config), ".conflist"), c.config)
}

// subnet is a subnet claim's subnet (invalid for a bridge claim).
func (c *claim) subnet() netip.Prefix { return c.prefix }

// parseClaims reads the registry's lines; a line it cannot read is dropped (it claims nothing).
func parseClaims(data []byte) []claim {
	var out []claim
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.SplitN(line, " ", 5)
		if len(f) != 5 || f[0] != "bridge" && f[0] != "subnet" {
			continue
		}
		c := claim{kind: f[0], key: f[1]}
		var err1, err2, err3 error
		c.ino, err1 = strconv.ParseUint(f[2], 10, 64)
		c.mtime, err2 = strconv.ParseInt(f[3], 10, 64)
		c.config, err3 = strconv.Unquote(f[4])
		if c.kind == "subnet" {
			c.prefix, _ = netip.ParsePrefix(c.key)
		}
		if err1 == nil && err2 == nil && err3 == nil && filepath.IsAbs(c.config) && (c.kind == "bridge" || c.prefix.IsValid()) {
			out = append(out, c)
		}
	}
	return out
}

func formatClaims(claims []claim) []byte {
	var b bytes.Buffer
	b.WriteString(claimHeader)
	for _, c := range claims {
		fmt.Fprintf(&b, "%s %s %d %d %s\n", c.kind, c.key, c.ino, c.mtime, strconv.Quote(c.config))
	}
	return b.Bytes()
}

// networkClaims are the claims a bridge network makes: its bridge name and its subnets.
func networkClaims(n *Network, config string) []claim {
	if n.Driver != "bridge" {
		return nil
	}
	out := []claim{{kind: "bridge", key: n.NetworkInterface, config: config}}
	for _, s := range n.Subnets {
		if p, err := netip.ParsePrefix(s.Subnet); err == nil {
			out = append(out, claim{kind: "subnet", key: p.Masked().String(), prefix: p.Masked(), config: config})
		}
	}
	return out
}

// registry is the claim registry, locked, with its claims read.
type registry struct {
	dir    string
	fd     int
	claims []claim
	dirty  bool // claims differ from the file
	size   int  // the file's length
	// confs caches the conflists read to check claims whose conflist changed, by path (nil:
	// gone, or not a network).
	confs map[string]*Network
	// statPath, stat and statErr are the last conflist looked at.
	statPath string
	stat     unix.Stat_t
	statErr  error
	// gone are the claims sweep dropped because their conflist no longer exists, by conflist:
	// networks of a store deleted by hand, whose bridge and chains removeOrphans takes down.
	gone map[string][]claim
}

// lockRegistry locks the registry, creating its directory, and reads its claims. The directory
// is the lock, so a process that waited for it checks that the directory it locked is still the
// one at the path: the holder before it may have removed it as empty.
func lockRegistry(dir string) (*registry, error) {
	for try := 0; ; try++ {
		if try == 1000 { // each try follows a removal by another process: not endless
			return nil, fmt.Errorf("network claims: %s keeps being removed while locked", dir)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("network claims: %w", err)
		}
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) {
			continue // removed between the two calls
		}
		if err != nil {
			return nil, fmt.Errorf("network claims: %w", err)
		}
		for {
			err = unix.Flock(fd, unix.LOCK_EX)
			if !errors.Is(err, unix.EINTR) {
				break
			}
		}
		if err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("network claims: lock %s: %w", dir, err)
		}
		var locked, atPath unix.Stat_t
		if unix.Fstat(fd, &locked) != nil || locked.Nlink == 0 || unix.Stat(dir, &atPath) != nil ||
			locked.Ino != atPath.Ino || locked.Dev != atPath.Dev {
			unix.Close(fd)
			continue
		}
		r := &registry{dir: dir, fd: fd}
		data, err := fsx.ReadFile(filepath.Join(dir, claimFile))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			r.unlock()
			return nil, fmt.Errorf("network claims: %w", err)
		}
		r.claims, r.size = parseClaims(data), len(data)
		return r, nil
	}
}

// save writes the claims when they changed: the file replaced whole, or removed with the
// directory when no claim is left.
func (r *registry) save() error {
	if !r.dirty {
		return nil
	}
	path := filepath.Join(r.dir, claimFile)
	if len(r.claims) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("network claims: %w", err)
		}
		unix.Rmdir(r.dir) // fails, harmlessly, while anything else is in it
		r.dirty, r.size = false, 0
		return nil
	}
	// Rewritten in place, not written aside and renamed: ext4 flushes a file renamed over
	// another (or truncated to nothing) at once, which cost 0.2-0.6 ms on every create. A write
	// torn by a power loss leaves lines that read as no claim, or claims that are checked.
	f, err := fsx.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("network claims: %w", err)
	}
	data := formatClaims(r.claims)
	_, err = f.WriteAt(data, 0)
	if err == nil && len(data) < r.size {
		err = f.Truncate(int64(len(data))) // only when shrinking: it is a journal transaction more
	}
	r.size = len(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("network claims: %w", err)
	}
	r.dirty = false
	return nil
}

// unlock releases the lock; a directory this process made and left empty (nothing was
// claimed) is removed first.
func (r *registry) unlock() {
	if len(r.claims) == 0 {
		unix.Rmdir(r.dir)
	}
	unix.Close(r.fd)
}

// holds reports whether c's network still exists and uses what c claims. An unchanged conflist
// costs a stat; a changed one is read, and c takes its new inode and time when it still holds.
func (r *registry) holds(c *claim) bool {
	// A network's claims are on adjacent lines: its conflist is looked at once.
	if c.config != r.statPath {
		r.statPath, r.statErr = c.config, unix.Stat(c.config, &r.stat)
	}
	st, err := r.stat, r.statErr
	switch {
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOTDIR):
		return false
	case err != nil:
		return true // unreadable for now, not shown gone: keep the claim
	case st.Ino == c.ino && st.Mtim.Nano() == c.mtime:
		return true
	}
	n, seen := r.confs[c.config]
	if !seen {
		if data, err := fsx.ReadFile(c.config); err == nil {
			n, err = parseConflist(data, time.Time{})
			if err != nil || n.Name+".conflist" != filepath.Base(c.config) || n.Driver != "bridge" {
				n = nil
			}
		}
		if r.confs == nil {
			r.confs = map[string]*Network{}
		}
		r.confs[c.config] = n
	}
	if n == nil {
		return false
	}
	for _, want := range networkClaims(n, c.config) {
		if want.kind == c.kind && want.key == c.key {
			c.ino, c.mtime, r.dirty = st.Ino, st.Mtim.Nano(), true
			return true
		}
	}
	return false
}

// sweep drops the claims that no longer hold, keeping in r.gone those whose conflist is gone.
func (r *registry) sweep() {
	kept := r.claims[:0]
	for i := range r.claims {
		if r.holds(&r.claims[i]) {
			kept = append(kept, r.claims[i])
			continue
		}
		r.dirty = true
		if errors.Is(r.statErr, unix.ENOENT) || errors.Is(r.statErr, unix.ENOTDIR) {
			if r.gone == nil {
				r.gone = map[string][]claim{}
			}
			r.gone[r.claims[i].config] = append(r.gone[r.claims[i].config], r.claims[i])
		}
	}
	r.claims = kept
}

// add claims what n uses for the conflist at config, replacing any claim on the same names.
func (r *registry) add(n *Network, config string) error {
	for _, c := range networkClaims(n, config) {
		r.drop(func(o *claim) bool { return o.kind == c.kind && o.key == c.key })
		if err := r.addOne(c); err != nil {
			return err
		}
	}
	return nil
}

// addOne adds c, recording its conflist's inode and time (the conflist is written already).
func (r *registry) addOne(c claim) error {
	var st unix.Stat_t
	if err := unix.Stat(c.config, &st); err != nil {
		return fmt.Errorf("network claims: %s: %w", c.config, err)
	}
	c.ino, c.mtime = st.Ino, st.Mtim.Nano()
	r.claims = append(r.claims, c)
	r.dirty = true
	return nil
}

// claimed reports whether anything claims kind and key.
func (r *registry) claimed(kind, key string) bool {
	for i := range r.claims {
		if r.claims[i].kind == kind && r.claims[i].key == key {
			return true
		}
	}
	return false
}

// drop deletes the claims f selects.
func (r *registry) drop(f func(*claim) bool) {
	kept := r.claims[:0]
	for i := range r.claims {
		if f(&r.claims[i]) {
			r.dirty = true
		} else {
			kept = append(kept, r.claims[i])
		}
	}
	r.claims = kept
}

// claimedElsewhere returns the claim on a bridge name that holds for a network other than the
// one at config.
func (r *registry) claimedElsewhere(ifname, config string) *claim {
	for i := range r.claims {
		c := &r.claims[i]
		if c.kind == "bridge" && c.key == ifname && c.config != config && r.holds(c) {
			return c
		}
	}
	return nil
}

// claimRegistry locks the manager's registry.
func (m *Manager) claimRegistry() (*registry, error) {
	dir := m.claimDir
	if dir == "" {
		dir = hostClaimDir
	}
	return lockRegistry(dir)
}

// absConfPath is confPath made absolute: the path a claim records.
func (m *Manager) absConfPath(name string) string {
	p, err := filepath.Abs(m.confPath(name))
	if err != nil {
		return m.confPath(name)
	}
	return p
}

// releaseClaims drops the claims of this store's network n.
func (m *Manager) releaseClaims(n *Network) error {
	if n.Driver != "bridge" {
		return nil
	}
	r, err := m.claimRegistry()
	if err != nil {
		return err
	}
	defer r.unlock()
	config := m.absConfPath(n.Name)
	r.drop(func(c *claim) bool { return c.config == config })
	return r.save()
}

// ReleaseClaims drops every claim on the host that names a network of this store, whether or
// not the network is still there: `system reset` calls it after removing the store's networks,
// so that nothing of the store outlives it.
func (m *Manager) ReleaseClaims() error {
	unlock, err := m.lock()
	if err != nil {
		return err
	}
	defer unlock()
	r, err := m.claimRegistry()
	if err != nil {
		return err
	}
	defer r.unlock()
	dir := filepath.Dir(m.absConfPath("x"))
	r.drop(func(c *claim) bool { return filepath.Dir(c.config) == dir })
	return r.save()
}
