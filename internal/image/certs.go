//go:build !pea_split

package image

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"pea/internal/errdefs"
)

// The certificate directories podman and Docker read for a registry host[:port].
const (
	containersCertsDir = "/etc/containers/certs.d"
	dockerCertsDir     = "/etc/docker/certs.d"
)

// registryTLS is the TLS configuration for a registry host[:port] from its certificate
// directory (certDir, or the containers and docker certs.d directories of the host): the
// system's certificate authorities and the *.crt files; a client certificate from each *.cert
// and the *.key of the same name. nil when there is no such directory.
func registryTLS(host, certDir string) (*tls.Config, error) {
	dirs := []string{certDir}
	if certDir == "" {
		dirs = []string{filepath.Join(containersCertsDir, host), filepath.Join(dockerCertsDir, host)}
	}
	var conf *tls.Config
	for _, dir := range dirs {
		ents, err := os.ReadDir(dir)
		if os.IsNotExist(err) && certDir == "" {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("certificate directory %s: %v: %w", dir, err, errdefs.ErrInvalid)
		}
		if conf == nil {
			pool, err := x509.SystemCertPool()
			if err != nil {
				pool = x509.NewCertPool()
			}
			conf = &tls.Config{RootCAs: pool}
		}
		for _, e := range ents {
			name := e.Name()
			path := filepath.Join(dir, name)
			switch {
			case strings.HasSuffix(name, ".crt"):
				pem, err := os.ReadFile(path)
				if err != nil {
					return nil, err
				}
				if !conf.RootCAs.AppendCertsFromPEM(pem) {
					return nil, fmt.Errorf("%s holds no PEM certificate: %w", path, errdefs.ErrInvalid)
				}
			case strings.HasSuffix(name, ".cert"):
				key := strings.TrimSuffix(path, ".cert") + ".key"
				pair, err := tls.LoadX509KeyPair(path, key)
				if err != nil {
					return nil, fmt.Errorf("client certificate %s (with %s): %v: %w", path, key, err, errdefs.ErrInvalid)
				}
				conf.Certificates = append(conf.Certificates, pair)
			}
		}
	}
	return conf, nil
}
