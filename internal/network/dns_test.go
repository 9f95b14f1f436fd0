package network

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// aardvark-dns 1.4.0's format: the listen addresses, then ID, IPv4s, IPv6s and names separated
// by single spaces (an empty list leaves two spaces together).
func TestDNSFileFormat(t *testing.T) {
	f := DNSFile{Listen: []string{"10.89.5.1", "fd00::1"}, Records: []DNSRecord{
		{ID: "aaa", IPv4: []string{"10.89.5.2"}, IPv6: []string{"fd00::2"}, Names: []string{"web", "wa", "aaa"}},
		{ID: "bbb", IPv4: []string{"10.89.5.3"}, Names: []string{"k1"}},
	}}
	want := "10.89.5.1,fd00::1\naaa 10.89.5.2 fd00::2 web,wa,aaa\nbbb 10.89.5.3  k1\n"
	if got := f.render(); got != want {
		t.Fatalf("render:\n%q\nwant\n%q", got, want)
	}
}

func TestDNSListen(t *testing.T) {
	dual := []Subnet{{Subnet: "10.89.5.0/24", Gateway: "10.89.5.1"}, {Subnet: "fd00::/64", Gateway: "fd00::1"}}
	for _, tc := range []struct {
		name string
		n    Network
		want []string
	}{
		{"bridge, dual stack", Network{Driver: "bridge", DNSEnabled: true, Subnets: dual}, []string{"10.89.5.1", "fd00::1"}},
		{"--disable-dns", Network{Driver: "bridge", Subnets: dual}, nil},
		{"macvlan", Network{Driver: "macvlan", DNSEnabled: true, Subnets: dual}, nil},
		{"no gateway", Network{Driver: "bridge", DNSEnabled: true, Subnets: []Subnet{{Subnet: "10.1.0.0/24"}}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.n.DNSListen(); !slices.Equal(got, tc.want) {
				t.Fatalf("DNSListen: %q, want %q", got, tc.want)
			}
		})
	}
}

// A PID file outlives a killed aardvark, and its PID may be another process's by now: only an
// aardvark-dns on this store's directory is trusted (and signalled).
func TestAardvarkPIDTrustsOnlyItsOwn(t *testing.T) {
	dir := t.TempDir()
	m := NewManager(filepath.Join(dir, "networks"), filepath.Join(dir, "run"), nil)
	os.MkdirAll(m.DNSDir(), 0o755)
	other := exec.Command("sleep", "30")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer other.Process.Kill()
	pidFile := filepath.Join(m.DNSDir(), aardvarkPidFile)
	for _, pid := range []int{other.Process.Pid, os.Getpid(), 1, 999999999} {
		os.WriteFile(pidFile, []byte(strconv.Itoa(pid)), 0o644)
		if got := m.aardvarkPID(); got != 0 {
			t.Fatalf("PID file naming %d (not aardvark): trusted as %d", pid, got)
		}
	}
	// No file left: stopping kills nothing and removes the stale PID file.
	m.stopAardvark(m.aardvarkPID())
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Fatalf("stale PID file kept: %v", err)
	}
	if err := unix.Kill(other.Process.Pid, 0); err != nil {
		t.Fatalf("the other process was signalled: %v", err)
	}
}

// SyncDNS removes a file given no records and the files of networks that no longer exist
// (a pea died between a network's removal and its file's); with none left it starts nothing.
func TestSyncDNSRemovesStaleFiles(t *testing.T) {
	dir := t.TempDir()
	m := NewManager(filepath.Join(dir, "networks"), filepath.Join(dir, "run"), nil)
	os.MkdirAll(m.DNSDir(), 0o755)
	os.MkdirAll(m.configDir, 0o755)
	os.WriteFile(m.confPath("kept"), []byte("{}"), 0o644)
	os.WriteFile(filepath.Join(m.DNSDir(), "gone"), []byte("10.1.2.1\n"), 0o644)
	os.WriteFile(filepath.Join(m.DNSDir(), "kept"), []byte("10.1.3.1\nx 10.1.3.2  a\n"), 0o644)
	if err := m.SyncDNS(map[string]*DNSFile{"kept": {Listen: []string{"10.1.3.1"}}}); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(m.DNSDir()); len(entries) != 0 {
		t.Fatalf("files left: %v", entries)
	}
}

// The probe after a reload asks for a name the file did not have (an old one was answered by
// the old sockets too), by the record type the container has an address of.
func TestDNSNewName(t *testing.T) {
	old := "10.1.0.1\naaa 10.1.0.2  web,aaa\n"
	for _, tc := range []struct {
		name  string
		recs  []DNSRecord
		want  string
		qtype uint16
	}{
		{"a new container", []DNSRecord{{ID: "aaa", IPv4: []string{"10.1.0.2"}, Names: []string{"web", "aaa"}}, {ID: "bbb", IPv4: []string{"10.1.0.3"}, Names: []string{"K1", "bbb"}}}, "k1", typeA},
		{"IPv6 only", []DNSRecord{{ID: "ccc", IPv6: []string{"fd00::3"}, Names: []string{"six"}}}, "six", typeAAAA},
		{"nothing new", []DNSRecord{{ID: "aaa", IPv4: []string{"10.1.0.2"}, Names: []string{"web"}}}, "", 0},
		{"a label too long", []DNSRecord{{ID: "ddd", IPv4: []string{"10.1.0.4"}, Names: []string{strings.Repeat("x", 64), "ddd"}}}, "ddd", typeA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := DNSFile{Listen: []string{"10.1.0.1"}, Records: tc.recs}
			if name, qtype := f.newName(old); name != tc.want || qtype != tc.qtype {
				t.Fatalf("newName: %q %d, want %q %d", name, qtype, tc.want, tc.qtype)
			}
		})
	}
	if q := dnsQuery("k1.dns.podman", typeAAAA); string(q[12:]) != "\x02k1\x03dns\x06podman\x00\x00\x1c\x00\x01" {
		t.Fatalf("query: %q", q)
	}
}
