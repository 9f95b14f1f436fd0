package image

import (
	"io"
	"net"
	"runtime"
	"strings"

	"pea/internal/image/trust"
)

// PullOptions control how a registry is reached.
type PullOptions struct {
	// TLSVerify nil follows registries.conf (insecure = true allows plain HTTP and unverified TLS);
	// false allows them for this pull; true requires verified TLS even where the config allows less.
	TLSVerify *bool
	Creds     string // "user:password"
	AuthFile  string // docker config.json format; default $REGISTRY_AUTH_FILE or ${XDG_RUNTIME_DIR}/containers/auth.json
	// CertDir holds the registry's certificates (*.crt: certificate authorities; *.cert with
	// its *.key: a client certificate); default /etc/containers/certs.d/HOST[:PORT], and
	// /etc/docker/certs.d/HOST[:PORT].
	CertDir string
	// Progress receives progress lines (a live per-layer line on a terminal); nil is quiet.
	Progress io.Writer
	// Arch and OS choose the image from a multi-platform index; default this machine.
	Arch, OS string
	// Compression is a push's layer compression, gzip or zstd ("" : the layers as stored).
	Compression string
	// SignaturePolicy is the policy file (containers-policy.json) a pull must satisfy; ""
	// reads the default one (see trust.Load).
	SignaturePolicy string

	policy *trust.Policy // loaded once per pull
}

// PushOptions control a push; they are the same as a pull's.
type PushOptions = PullOptions

// LoopbackPlainHTTP is the TLS setting of a registry host[:port] for clients that cannot say
// (the docker client, a CRI client): plain HTTP allowed (false) on a loopback address, as
// Docker does; nil elsewhere (registries.conf decides).
func LoopbackPlainHTTP(domain string) *bool {
	host := domain
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
		f := false
		return &f
	}
	return nil
}

// targetPlatform is the platform to pick from an index: this machine's, or the one asked for
// ("arm/v7" as an architecture names a variant too).
func (o PullOptions) targetPlatform() Platform {
	p := Platform{OS: "linux", Architecture: runtime.GOARCH}
	if o.OS != "" {
		p.OS = o.OS
	}
	if o.Arch != "" {
		p.Architecture, p.Variant, _ = strings.Cut(o.Arch, "/")
	}
	return p
}
