package image

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"pea/internal/errdefs"
	"pea/internal/rootless"
)

// authFile is the location auth.json is read from and `login` writes to: --authfile, else
// $REGISTRY_AUTH_FILE, else ${XDG_RUNTIME_DIR}/containers/auth.json, else
// /run/containers/UID/auth.json (podman's). explicit says whether the caller named it.
func (o PullOptions) authFile() (string, bool) {
	if o.AuthFile != "" {
		return o.AuthFile, true
	}
	if p := os.Getenv("REGISTRY_AUTH_FILE"); p != "" {
		return p, true
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "containers", "auth.json"), false
	}
	if rootless.Active() {
		return filepath.Join(rootless.RuntimeDir(), "containers", "auth.json"), false
	}
	return fmt.Sprintf("/run/containers/%d/auth.json", os.Getuid()), false
}

// AuthFilePath is where o's credentials are kept (see authFile).
func (o PullOptions) AuthFilePath() string {
	p, _ := o.authFile()
	return p
}

// normalizeAuthKey is the registry (host, or host/namespace) an auth file key names: docker's
// forms (a scheme, a trailing /v1/ or /v2/, index.docker.io) are reduced to it.
func normalizeAuthKey(k string) string {
	k = strings.TrimPrefix(strings.TrimPrefix(k, "https://"), "http://")
	k = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(k, "/"), "/v1"), "/v2")
	host, rest, _ := strings.Cut(k, "/")
	if host == "index.docker.io" || host == "registry-1.docker.io" {
		host = defaultDomain
	}
	if rest != "" {
		return host + "/" + rest
	}
	return host
}

// authKey is the auth file's key for a registry as the user names it (host or host/namespace).
func authKey(registry string) (string, error) {
	k := normalizeAuthKey(registry)
	if k == "" || strings.ContainsAny(k, " \t\n") {
		return "", fmt.Errorf("invalid registry %q: %w", registry, errdefs.ErrInvalid)
	}
	return k, nil
}

// RegistryHost is the host[:port] of a registry as the user names it (a scheme and a
// namespace dropped): where a login is checked.
func RegistryHost(registry string) string {
	host, _, _ := strings.Cut(normalizeAuthKey(registry), "/")
	return host
}

// dropKeys deletes every key of auths that names registry key (in any of its forms) and
// reports whether there was one.
func dropKeys(auths map[string]json.RawMessage, key string) bool {
	found := false
	for k := range auths {
		if normalizeAuthKey(k) == key {
			delete(auths, k)
			found = true
		}
	}
	return found
}

// editAuths reads the auth file at path (missing: empty), lets edit change its "auths", and
// writes it back (0600, its directory 0700), keeping every other key of the file.
func editAuths(path string, edit func(auths map[string]json.RawMessage) error) error {
	doc := map[string]json.RawMessage{}
	if b, err := os.ReadFile(path); err == nil {
		if len(strings.TrimSpace(string(b))) > 0 {
			if err := json.Unmarshal(b, &doc); err != nil {
				return fmt.Errorf("%s: %v: %w", path, err, errdefs.ErrInvalid)
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	auths := map[string]json.RawMessage{}
	if raw, ok := doc["auths"]; ok {
		if err := json.Unmarshal(raw, &auths); err != nil {
			return fmt.Errorf("%s: auths: %v: %w", path, err, errdefs.ErrInvalid)
		}
	}
	if err := edit(auths); err != nil {
		return err
	}
	raw, err := json.Marshal(auths)
	if err != nil {
		return err
	}
	doc["auths"] = raw
	out, err := json.MarshalIndent(doc, "", "\t")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	// A new file renamed over the old: a reader never sees half of it.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".auth-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(out, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// SaveAuth records username and password for registry in o's auth file.
func SaveAuth(o PullOptions, registry, username, password string) error {
	key, err := authKey(registry)
	if err != nil {
		return err
	}
	return editAuths(o.AuthFilePath(), func(auths map[string]json.RawMessage) error {
		entry, _ := json.Marshal(map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(username + ":" + password))})
		dropKeys(auths, key) // one entry per registry: no older form left to compete with it
		auths[key] = entry
		return nil
	})
}

// RemoveAuth forgets registry's credentials in o's auth file (all of them with an empty
// registry); errdefs.ErrNotFound when there were none.
func RemoveAuth(o PullOptions, registry string) error {
	key := ""
	if registry != "" {
		var err error
		if key, err = authKey(registry); err != nil {
			return err
		}
	}
	return editAuths(o.AuthFilePath(), func(auths map[string]json.RawMessage) error {
		if key == "" {
			for k := range auths {
				delete(auths, k)
			}
			return nil
		}
		if !dropKeys(auths, key) {
			return fmt.Errorf("not logged into %s: %w", key, errdefs.ErrNotFound)
		}
		return nil
	})
}

// SavedUsername is the user name recorded for registry in o's auth file.
func SavedUsername(o PullOptions, registry string) (string, error) {
	key, err := authKey(registry)
	if err != nil {
		return "", err
	}
	var name string
	err = editAuths(o.AuthFilePath(), func(auths map[string]json.RawMessage) error {
		raw, ok := auths[key]
		for k, v := range auths {
			if !ok && normalizeAuthKey(k) == key {
				raw, ok = v, true
			}
		}
		if !ok {
			return fmt.Errorf("not logged into %s: %w", key, errdefs.ErrNotFound)
		}
		var e struct{ Auth string }
		json.Unmarshal(raw, &e)
		dec, _ := base64.StdEncoding.DecodeString(e.Auth)
		name, _, _ = strings.Cut(string(dec), ":")
		return errReadOnly
	})
	if errors.Is(err, errReadOnly) {
		err = nil
	}
	return name, err
}

// errReadOnly stops editAuths before it writes.
var errReadOnly = errors.New("read only")
