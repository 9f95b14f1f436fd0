package engine

// Secrets (podman's `secret` verbs and `run --secret`): small blobs kept apart from images and
// container configs, given to a container at each start as a file (default
// /run/secrets/NAME, read-only) or an environment variable, never written into its config or
// its image.
//
// The store is the file driver's: <root>/secrets/<id>.json (the metadata) and <id>.data (the
// bytes, mode 0600), changed under the store-wide "secrets" leaf lock. A container names the
// secret by ID in its config; at its start the data is copied to a file of its own in the
// runroot (a tmpfs) and bound from there, so a secret's file never touches the store's disk twice.

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
	"pea/internal/fsx"
	"pea/internal/lock"
	"pea/internal/model"
)

// Secret is one secret's metadata, as podman's secret inspect shows it.
type Secret struct {
	ID     string `json:"ID"`
	Name   string `json:"Name"`
	Driver string `json:"Driver"`
	// DriverOptions are the driver's: file's path (the directory of the data), shell's
	// store, lookup, delete and list commands.
	DriverOptions map[string]string `json:"DriverOptions,omitempty"`
	Labels        map[string]string `json:"Labels,omitempty"`
	CreatedAt     time.Time         `json:"CreatedAt"`
	UpdatedAt     time.Time         `json:"UpdatedAt"`
}

// secretMax is the largest secret podman takes (512 KiB).
const secretMax = 512 << 10

func (r *Runtime) secretsDir() string { return filepath.Join(r.opts.Root, "secrets") }

// lockSecrets takes the store-wide secrets lock.
func (r *Runtime) lockSecrets() (*lock.Lock, error) {
	if _, err := r.state(); err != nil {
		return nil, err
	}
	return r.locks.Lock("secrets")
}

// CreateSecret stores a secret under a name not in use, with the file driver.
func (r *Runtime) CreateSecret(name string, data []byte, labels map[string]string) (*Secret, error) {
	return r.CreateSecretWith(name, data, labels, "file", nil)
}

// CreateSecretWith stores a secret under a name not in use with driver (file, or shell: the
// data goes to the driver's store command) and its options.
func (r *Runtime) CreateSecretWith(name string, data []byte, labels map[string]string, driver string, opts map[string]string) (*Secret, error) {
	if err := checkSecretDriver(driver, opts); err != nil {
		return nil, err
	}
	if !validName(name) || len(name) > 253 {
		return nil, fmt.Errorf("secret name %q: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]* (at most 253 characters): %w", name, errdefs.ErrInvalid)
	}
	if len(data) == 0 || len(data) > secretMax {
		return nil, fmt.Errorf("secret %s: the data must be 1 byte to 512 KiB, not %d bytes: %w", name, len(data), errdefs.ErrInvalid)
	}
	l, err := r.lockSecrets()
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	if _, err := r.lookupSecretLocked(name); err == nil {
		return nil, fmt.Errorf("secret name %s: %w", name, errdefs.ErrExists)
	}
	if err := os.MkdirAll(r.secretsDir(), 0o700); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	s := &Secret{ID: newID()[:25], Name: name, Driver: driver, DriverOptions: opts, Labels: labels, CreatedAt: now, UpdatedAt: now}
	meta, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	if err := r.storeSecretData(s, data); err != nil {
		return nil, err
	}
	// The metadata last: a secret is there once its metadata is.
	if err := fsx.WriteFileAtomic(filepath.Join(r.secretsDir(), s.ID+".json"), meta, 0o600); err != nil {
		r.deleteSecretData(s)
		return nil, err
	}
	return s, nil
}

// checkSecretDriver refuses a driver pea lacks, and options the shell driver does not take (the
// file driver keeps any option, as podman's does).
func checkSecretDriver(driver string, opts map[string]string) error {
	var known []string
	switch driver {
	case "file":
	case "shell":
		known = []string{"store", "lookup", "delete", "list"}
		for _, k := range known[:3] {
			if opts[k] == "" {
				return fmt.Errorf("secret driver shell needs --driver-opts %s=COMMAND (store, lookup and delete): %w", k, errdefs.ErrInvalid)
			}
		}
	default:
		return fmt.Errorf("secret driver %q: pea has the file and shell drivers: %w", driver, errdefs.ErrInvalid)
	}
	for k := range opts {
		if driver == "shell" && !slices.Contains(known, k) { // the file driver keeps others, as podman's
			return fmt.Errorf("secret driver %s takes no option %q (%s): %w", driver, k, strings.Join(known, ", "), errdefs.ErrInvalid)
		}
	}
	if p := opts["path"]; p != "" && !filepath.IsAbs(p) {
		return fmt.Errorf("secret driver file: path %q must be absolute: %w", p, errdefs.ErrInvalid)
	}
	return nil
}

// secretDataPath is where the file driver keeps a secret's bytes.
func (r *Runtime) secretDataPath(s *Secret) string {
	dir := r.secretsDir()
	if p := s.DriverOptions["path"]; p != "" {
		dir = p
	}
	return filepath.Join(dir, s.ID+".data")
}

// shellSecret runs one of a shell driver secret's commands (sh -c, SECRET_ID in its
// environment, in on its standard input) and returns its standard output.
func shellSecret(s *Secret, op string, in []byte) ([]byte, error) {
	cmd := cpupin.Command("/bin/sh", "-c", s.DriverOptions[op])
	cmd.Env = append(os.Environ(), "SECRET_ID="+s.ID)
	cmd.Stdin = bytes.NewReader(in)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("the secret driver's %s command: %s", op, msg)
	}
	return out.Bytes(), nil
}

func (r *Runtime) storeSecretData(s *Secret, data []byte) error {
	if s.Driver == "shell" {
		_, err := shellSecret(s, "store", data)
		return err
	}
	p := r.secretDataPath(s)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	return fsx.WriteFileAtomic(p, data, 0o600)
}

func (r *Runtime) deleteSecretData(s *Secret) error {
	if s.Driver == "shell" {
		_, err := shellSecret(s, "delete", nil)
		return err
	}
	if err := os.Remove(r.secretDataPath(s)); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// ListSecrets returns every secret, oldest first.
func (r *Runtime) ListSecrets() ([]*Secret, error) {
	ents, err := os.ReadDir(r.secretsDir())
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*Secret
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(r.secretsDir(), e.Name()))
		if err != nil {
			continue // removed meanwhile
		}
		var s Secret
		if json.Unmarshal(b, &s) == nil && s.ID != "" {
			out = append(out, &s)
		}
	}
	slices.SortFunc(out, func(a, b *Secret) int { return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID)) })
	return out, nil
}

// LookupSecret finds a secret by name, ID or unique ID prefix.
func (r *Runtime) LookupSecret(nameOrID string) (*Secret, error) {
	return r.lookupSecretLocked(nameOrID)
}

func (r *Runtime) lookupSecretLocked(nameOrID string) (*Secret, error) {
	all, err := r.ListSecrets()
	if err != nil {
		return nil, err
	}
	var byPrefix []*Secret
	for _, s := range all {
		if s.Name == nameOrID || s.ID == nameOrID {
			return s, nil
		}
		if nameOrID != "" && strings.HasPrefix(s.ID, nameOrID) {
			byPrefix = append(byPrefix, s)
		}
	}
	switch len(byPrefix) {
	case 1:
		return byPrefix[0], nil
	case 0:
		return nil, fmt.Errorf("%s: no such secret: %w", nameOrID, errdefs.ErrNotFound)
	}
	return nil, fmt.Errorf("secret %s: %w", nameOrID, errdefs.ErrAmbiguous)
}

// RemoveSecret removes a secret no container uses.
func (r *Runtime) RemoveSecret(nameOrID string) (*Secret, error) {
	l, err := r.lockSecrets()
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	s, err := r.lookupSecretLocked(nameOrID)
	if err != nil {
		return nil, err
	}
	cs, err := r.ListContainers()
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		for _, ref := range c.Config.Secrets {
			if ref.ID == s.ID {
				return nil, fmt.Errorf("secret %s is used by container %s (remove the container first): %w", s.Name, c.Config.Name, errdefs.ErrInUse)
			}
		}
	}
	// The driver's data first: a delete the driver refuses keeps the secret.
	if err := r.deleteSecretData(s); err != nil {
		return nil, fmt.Errorf("secret %s: %w", s.Name, err)
	}
	if err := os.Remove(filepath.Join(r.secretsDir(), s.ID+".json")); err != nil {
		return nil, err
	}
	return s, nil
}

// secretData reads a secret's bytes, from its driver.
func (r *Runtime) secretData(id string) ([]byte, error) {
	s, err := r.LookupSecret(id)
	if err != nil {
		return nil, fmt.Errorf("secret %s is gone: %w", id, errdefs.ErrNotFound)
	}
	if s.Driver == "shell" {
		return shellSecret(s, "lookup", nil)
	}
	b, err := os.ReadFile(r.secretDataPath(s))
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("secret %s is gone: %w", id, errdefs.ErrNotFound)
	}
	return b, err
}

// ParseSecretRef parses run's --secret NAME[,type=mount|env][,target=T][,uid=U][,gid=G][,mode=M].
func ParseSecretRef(v string) (model.SecretRef, error) {
	parts := strings.Split(v, ",")
	ref := model.SecretRef{Name: parts[0], Type: "mount"}
	bad := func(why string) (model.SecretRef, error) {
		return model.SecretRef{}, fmt.Errorf("--secret %s: %s: %w", v, why, errdefs.ErrInvalid)
	}
	if ref.Name == "" {
		return bad("a secret name is needed")
	}
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			return bad("options are KEY=VALUE")
		}
		switch k {
		case "type":
			if val != "mount" && val != "env" {
				return bad("type is mount or env")
			}
			ref.Type = val
		case "target":
			ref.Target = val
		case "uid", "gid":
			n, err := strconv.ParseUint(val, 10, 32)
			if err != nil {
				return bad(k + " must be a number")
			}
			if k == "uid" {
				ref.UID = uint32(n)
			} else {
				ref.GID = uint32(n)
			}
		case "mode":
			n, err := strconv.ParseUint(val, 8, 32)
			if err != nil || n > 0o777 {
				return bad("mode must be octal, at most 777")
			}
			ref.Mode = uint32(n)
		default:
			return bad("unknown option " + k)
		}
	}
	if ref.Type == "env" && (ref.UID != 0 || ref.GID != 0 || ref.Mode != 0) {
		return bad("uid, gid and mode are for type=mount")
	}
	return ref, nil
}

// resolveSecrets checks that a new container's secrets exist and records them by ID.
func (r *Runtime) resolveSecrets(cfg *model.ContainerConfig) error {
	for i, ref := range cfg.Secrets {
		s, err := r.LookupSecret(ref.Name)
		if err != nil {
			return err
		}
		ref.ID, ref.Name = s.ID, s.Name
		if ref.Type == "mount" {
			switch {
			case ref.Target == "":
				ref.Target = "/run/secrets/" + s.Name
			case !path.IsAbs(ref.Target):
				ref.Target = path.Join("/run/secrets", ref.Target)
			}
			if ref.Mode == 0 {
				ref.Mode = 0o444
			}
		} else if ref.Target == "" {
			ref.Target = s.Name
		}
		cfg.Secrets[i] = ref
	}
	return nil
}

// prepareSecrets writes a starting container's mount secrets into its run directory and
// returns them (target -> host file) with its env secrets (NAME=VALUE).
func (r *Runtime) prepareSecrets(cfg *model.ContainerConfig) (files map[string]string, env []string, err error) {
	if len(cfg.Secrets) == 0 {
		return nil, nil, nil
	}
	dir := filepath.Join(r.ctrRunDir(cfg.ID), "secrets")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	files = map[string]string{}
	// In a user namespace of its own, a file for the container's uid 0 is the mapped host uid's.
	uidMap, gidMap := r.IDMappings(cfg)
	for i, ref := range cfg.Secrets {
		data, err := r.secretData(ref.ID)
		if err != nil {
			return nil, nil, fmt.Errorf("secret %s: %w", ref.Name, err)
		}
		if ref.Type == "env" {
			env = append(env, ref.Target+"="+string(data))
			continue
		}
		f := filepath.Join(dir, strconv.Itoa(i))
		os.Remove(f)
		if err := os.WriteFile(f, data, 0o600); err != nil {
			return nil, nil, err
		}
		if err := os.Chown(f, int(hostIDOf(uidMap, ref.UID)), int(hostIDOf(gidMap, ref.GID))); err != nil {
			return nil, nil, err
		}
		if err := os.Chmod(f, os.FileMode(ref.Mode)); err != nil {
			return nil, nil, err
		}
		files[ref.Target] = f
	}
	return files, env, nil
}
