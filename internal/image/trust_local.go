package image

import (
	"encoding/json"
	"path/filepath"
	"strings"

	"pea/internal/image/trust"
)

// The signature policy applies to images brought in from archives too (load, import), and to a
// save, whose source is the store, as for podman. None of these transports carries signatures,
// so a signedBy requirement refuses them; their scopes are the transport's "" one, and for an
// oci-archive its path and the path's parent directories.

// LoadOptions control a load.
type LoadOptions struct {
	SignaturePolicy string // the policy file ("" : the default, see trust.Load)
	Source          string // the archive's path ("" : standard input), for the policy
}

// sourcePath is an archive's path as the policy sees it: absolute; standard input as such.
func sourcePath(p string) string {
	if p == "" || p == "-" {
		return "/dev/stdin"
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// pathScopes are a file's policy namespaces: its parent directories, nearest first.
func pathScopes(p string) []string {
	var out []string
	for d := filepath.Dir(p); d != "/" && d != "."; d = filepath.Dir(d) {
		out = append(out, d)
	}
	return out
}

// checkLoad applies the policy to the archive a (staged) before any of its images is stored.
func checkLoad(o LoadOptions, a *archive) error {
	pol, err := trust.Load(o.SignaturePolicy)
	if err != nil {
		return err
	}
	src := sourcePath(o.Source)
	if a.files["oci-layout"] != nil && a.files["index.json"] != nil {
		return pol.Check(&trust.Image{Transport: "oci-archive", Name: src + ":", Identity: src, Namespaces: pathScopes(src)})
	}
	name := src
	if raw, _, err := a.read("manifest.json"); err == nil {
		var entries []dockerEntry
		if json.Unmarshal(raw, &entries) == nil && len(entries) > 0 && len(entries[0].RepoTags) > 0 {
			if n, err := NormalizeLocalName(entries[0].RepoTags[0]); err == nil {
				name += ":" + n
			}
		}
	}
	return pol.Check(&trust.Image{Transport: "docker-archive", Name: name})
}

// CheckImport applies the policy to a root filesystem tarball about to be imported from source
// (a path, "-" for standard input, or a URL).
func CheckImport(policyPath, source string) error {
	pol, err := trust.Load(policyPath)
	if err != nil {
		return err
	}
	if !strings.Contains(source, "://") {
		source = sourcePath(source)
	}
	return pol.Check(&trust.Image{Transport: "tarball", Name: source})
}

// CheckStored applies the policy to an image of the store about to leave it (save): the
// containers-storage transport, whose scopes are [overlay@ROOT+RUNROOT]@ID, then
// [overlay@ROOT+RUNROOT] and [ROOT].
func CheckStored(policyPath, root, runRoot, id string) error {
	pol, err := trust.Load(policyPath)
	if err != nil {
		return err
	}
	spec := "[overlay@" + root + "+" + runRoot + "]"
	name := spec + "@" + id
	return pol.Check(&trust.Image{Transport: "containers-storage", Name: name, Identity: name, Namespaces: []string{spec, "[" + root + "]"}})
}
