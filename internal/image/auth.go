//go:build !pea_split

package image

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"pea/internal/errdefs"
)

// insecure decides whether plain HTTP and unverified TLS are allowed for an endpoint.
func (o PullOptions) insecure(configured bool) bool {
	if o.TLSVerify != nil {
		return !*o.TLSVerify
	}
	return configured
}

type authEntry struct {
	Auth          string `json:"auth"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
}

// credentials returns the credentials for repo (host/path): --creds, else the auth file's
// entry with the longest matching key, else anonymous.
func (o PullOptions) credentials(repo string) (credentials, error) {
	if o.Creds != "" {
		user, pass, ok := strings.Cut(o.Creds, ":")
		if !ok || user == "" {
			return credentials{}, fmt.Errorf("--creds must be USERNAME:PASSWORD: %w", errdefs.ErrInvalid)
		}
		return credentials{Username: user, Password: pass}, nil
	}
	files := []string{}
	p, explicit := o.authFile()
	files = append(files, p)
	if !explicit {
		if home, err := os.UserHomeDir(); err == nil {
			files = append(files, filepath.Join(home, ".docker", "config.json"))
		}
	}
	for i, f := range files {
		data, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) && !(explicit && i == 0) {
			continue
		}
		if err != nil {
			return credentials{}, fmt.Errorf("auth file: %w", err)
		}
		var cfg struct {
			Auths map[string]authEntry `json:"auths"`
		}
		if err := json.Unmarshal(data, &cfg); err != nil {
			return credentials{}, fmt.Errorf("auth file %s: %v: %w", f, err, errdefs.ErrInvalid)
		}
		if e, ok := matchAuth(cfg.Auths, repo); ok {
			return e.credentials(f)
		}
	}
	return credentials{}, nil
}

func (e authEntry) credentials(file string) (credentials, error) {
	if e.IdentityToken != "" {
		return credentials{IdentityToken: e.IdentityToken}, nil
	}
	user, pass := e.Username, e.Password
	if e.Auth != "" {
		dec, err := base64.StdEncoding.DecodeString(e.Auth)
		if err != nil {
			return credentials{}, fmt.Errorf("auth file %s: bad base64 in \"auth\": %w", file, errdefs.ErrInvalid)
		}
		var ok bool
		if user, pass, ok = strings.Cut(string(dec), ":"); !ok {
			return credentials{}, fmt.Errorf("auth file %s: \"auth\" is not user:password: %w", file, errdefs.ErrInvalid)
		}
	}
	return credentials{Username: user, Password: pass}, nil
}

// matchAuth picks the auth.json entry for repo: keys may be hosts or host/namespace prefixes,
// in their legacy URL forms too ("https://index.docker.io/v1/").
func matchAuth(auths map[string]authEntry, repo string) (authEntry, bool) {
	keys := make([]string, 0, len(auths))
	for k := range auths {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the same entry every time
	best, bestLen, bestExact := "", -1, false
	for _, k := range keys {
		key := normalizeAuthKey(k)
		if repo != key && !strings.HasPrefix(repo, key+"/") {
			continue
		}
		// The longest key wins; between keys naming the same registry, the one written as
		// pea writes it (docker's https://index.docker.io/v1/ is an older form).
		exact := k == key
		if len(key) > bestLen || len(key) == bestLen && exact && !bestExact {
			best, bestLen, bestExact = k, len(key), exact
		}
	}
	if bestLen < 0 {
		return authEntry{}, false
	}
	return auths[best], true
}
