package api

import (
	"archive/tar"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"

	"pea/internal/engine"
	"pea/internal/errdefs"
)

// podman cp through the libpod API. The client does the path work itself: it stats the
// destination (HEAD), and for a copy into a container sends a tar whose entries are already
// named as they are to be in the directory it PUTs them into (a file copied to a new name is
// renamed in the tar); only a copy from one container to another sends a rename map, since the
// tar comes from the other container unchanged. The stat it reads is podman's FileInfo, with
// isDir, base64 in the URL alphabet.

// libpodPathStat is podman's FileInfo, the stat header's JSON.
type libpodPathStat struct {
	engine.PathStat
	IsDir bool `json:"isDir"`
}

// headLibpodArchive is HEAD /libpod/containers/{id}/archive?path=: the stat header of path in
// the container, with the path the copy is to use as linkTarget (podman's client copies from
// and to linkTarget, not path) and isDir that of what a link leads to.
func (s *Server) headLibpodArchive(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	st, err := libpodStat(r, rt, c.Config.ID, p)
	if err != nil {
		if strings.Contains(err.Error(), "no such file or directory") || errdefs.Is(err, errdefs.ErrNotFound) {
			return fmt.Errorf("%q could not be found on container %s: %w", p, r.PathValue("id"), errdefs.ErrNotFound)
		}
		return err
	}
	js, err := json.Marshal(st)
	if err != nil {
		return err
	}
	w.Header().Set(pathStatHeader, base64.URLEncoding.EncodeToString(js))
	w.WriteHeader(http.StatusOK)
	return nil
}

// libpodStat stats p in container id as podman's client wants it: linkTarget the absolute path
// p resolves to (p itself when it is no link), isDir whether that is a directory.
func libpodStat(r *http.Request, rt *engine.Runtime, id, p string) (*libpodPathStat, error) {
	st, err := rt.StatPath(r.Context(), id, p)
	if err != nil {
		return nil, err
	}
	out := &libpodPathStat{PathStat: *st, IsDir: fs.FileMode(st.Mode).IsDir()}
	switch {
	case st.LinkTarget == "":
		out.LinkTarget = path.Clean("/" + p)
	case !path.IsAbs(st.LinkTarget):
		out.LinkTarget = path.Join(path.Dir(path.Clean("/"+p)), st.LinkTarget)
	}
	if fs.FileMode(st.Mode)&fs.ModeSymlink != 0 {
		if target, err := rt.StatPath(r.Context(), id, out.LinkTarget); err == nil {
			out.IsDir = fs.FileMode(target.Mode).IsDir()
		}
	}
	return out, nil
}

// putLibpodArchive is PUT /libpod/containers/{id}/archive?path=&rename=&copyUIDGID=&
// noOverwriteDirNonDir=: the tar in the body is unpacked into the directory path of the
// container, its entries first renamed by rename (a JSON object: an entry named by a key, or
// below one, takes the value in its place). copyUIDGID (the default) gives what is copied the
// container's user; noOverwriteDirNonDir refuses to replace a directory by a file or a file by
// a directory. Older clients' pause is not needed: pea copies without pausing the container.
func (s *Server) putLibpodArchive(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := rt.LookupContainer(r.PathValue("id"))
	if err != nil {
		return err
	}
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	var rename map[string]string
	if v := queryFold(r, "rename"); v != "" {
		if err := json.Unmarshal([]byte(v), &rename); err != nil {
			return badRequest("invalid rename %q: a JSON object of names: %v", v, err)
		}
	}
	o := engine.CopyOptions{Overwrite: !boolFold(r, "noOverwriteDirNonDir", false), KeepOwners: !boolFold(r, "copyUIDGID", true)}
	st, err := libpodStat(r, rt, c.Config.ID, p)
	if err != nil {
		if strings.Contains(err.Error(), "no such file or directory") || errdefs.Is(err, errdefs.ErrNotFound) {
			return fmt.Errorf("%q could not be found on container %s: %w", p, r.PathValue("id"), errdefs.ErrNotFound)
		}
		return err
	}
	if !st.IsDir {
		return fmt.Errorf("%q on container %s is not a directory to copy into: %w", p, r.PathValue("id"), errdefs.ErrInvalid)
	}
	tmp, err := os.MkdirTemp("", "pea-api-cp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	body := renameTar(r.Body, rename)
	defer body.Close()
	if err := engine.Untar(body, tmp); err != nil {
		return badRequest("reading the archive: %v", err)
	}
	if err := rt.CopyPathWith(r.Context(), tmp+"/.", c.Config.ID+":"+strings.TrimSuffix(st.LinkTarget, "/")+"/", o); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// queryFold is the query parameter name, its name's case ignored (podman's client sends
// nooverwritedirnondir, its server reads any case).
func queryFold(r *http.Request, name string) string {
	for k, vs := range r.URL.Query() {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}

// boolFold is boolParam of a parameter named in any case.
func boolFold(r *http.Request, name string, def bool) bool {
	switch strings.ToLower(queryFold(r, name)) {
	case "":
		return def
	case "1", "t", "true", "yes":
		return true
	}
	return false
}

// renameTar is the tar src with its entries (and hard links' targets) renamed by rename; the
// reader must be closed, which stops the copying.
func renameTar(src io.Reader, rename map[string]string) io.ReadCloser {
	if len(rename) == 0 {
		return io.NopCloser(src)
	}
	pr, pw := io.Pipe()
	go func() {
		tr, tw := tar.NewReader(src), tar.NewWriter(pw)
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				pw.CloseWithError(tw.Close())
				return
			}
			if err == nil {
				hdr.Name = renamedEntry(hdr.Name, rename)
				if hdr.Typeflag == tar.TypeLink {
					hdr.Linkname = renamedEntry(hdr.Linkname, rename)
				}
				if err = tw.WriteHeader(hdr); err == nil {
					_, err = io.Copy(tw, tr)
				}
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
	}()
	return pr
}

// renamedEntry is a tar entry's name after rename: the longest of the name and its leading
// directories that rename has is replaced by its new name.
func renamedEntry(name string, rename map[string]string) string {
	clean := strings.TrimPrefix(path.Clean(strings.TrimPrefix(name, "/")), "./")
	for prefix := clean; prefix != "." && prefix != ""; prefix = path.Dir(prefix) {
		if to, ok := rename[prefix]; ok {
			out := path.Join(to, clean[len(prefix):])
			if strings.HasSuffix(name, "/") {
				out += "/"
			}
			return out
		}
	}
	return name
}
