// Package image is pea's image store: content-addressed blobs, layers unpacked once for use as
// overlayfs lower directories, and an index of image records. It imports images from rootfs
// tarballs, loads and saves docker-archive and oci-archive tarballs, and pulls from and pushes to
// registries (its own client of the registry API), honouring containers-registries.conf.
//
// On disk, under the directory given to Open (the engine passes <root>/images):
//
//	index.json                  the image records ([]Image as JSON), replaced atomically
//	index.lock                  flock held while index.json is read-modified-written
//	content.lock                flock: shared while an ingest writes blobs/layers, exclusive to sweep
//	blobs/sha256/<hex>          manifests, configs and layer blobs as received, stored once
//	layers/<diffid hex>/diff/   an unpacked layer, whiteouts in overlayfs form
//	layers/<diffid hex>/size    the layer's uncompressed tar size in bytes
//	tmp/<pid>-<rand>            work files and directories; renamed into place when complete
//
// Every blob and layer is written under tmp/ and renamed into place only once its digest is
// verified, so a crash or a corrupt input never leaves a partial blob or layer. A record is added
// to index.json only after all its blobs and layers are in place; a failed ingest removes the
// blobs and layers it created. Removing an image sweeps the blobs and layers no record references,
// unless another process is ingesting at that moment (the next removal sweeps them then).
package image

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/errdefs"
	"pea/internal/fsx"
	"pea/internal/jsonfast"
)

// Image is one image record.
type Image struct {
	// ID is the config digest's hex (64 characters, no "sha256:").
	ID string `json:"id"`
	// Names are full references: "localhost/bb:latest", "docker.io/library/busybox:latest".
	Names []string `json:"names,omitempty"`
	// NamesHistory lists every name the image has had, newest first.
	NamesHistory []string `json:"namesHistory,omitempty"`
	// Tagged is when the image was last given a name (a tag, pull, build, load or commit):
	// Docker's LastTagTime. Zero for records of an older pea.
	Tagged time.Time `json:"tagged"`
	// Digest is the manifest digest, "sha256:...".
	Digest string `json:"digest"`
	// Digests are all manifest digests the image is known by (an index's and its own).
	Digests      []string  `json:"digests,omitempty"`
	ManifestType string    `json:"manifestType"`
	Created      time.Time `json:"created"`
	// Size is the sum of the layers' uncompressed sizes.
	Size   int64      `json:"size"`
	Config ConfigFile `json:"config"`
	// Layers are the diffIDs, "sha256:...", bottom layer first.
	Layers []string `json:"layers"`
	// LayerBlobs are the layer blob digests, in the same order.
	LayerBlobs []string `json:"layerBlobs"`
	// LayerSizes are the layers' uncompressed sizes, in the same order.
	LayerSizes []int64 `json:"layerSizes,omitempty"`
	// ConfigDigest is "sha256:" + ID.
	ConfigDigest string `json:"configDigest"`
	// Annotations are the manifest's (podman's image inspect shows them).
	Annotations map[string]string `json:"annotations,omitempty"`
	// BuildKey is the cache key of the build step that made the image ("" : not a build's):
	// a later build's same step on the same image uses this image instead of running again.
	BuildKey string `json:"buildKey,omitempty"`
}

// Dangling reports whether the image has no name.
func (i *Image) Dangling() bool { return len(i.Names) == 0 }

// ParentOf reports whether c was made on top of i (a build's later step, a commit of a
// container of i): c's layers and history begin with all of i's, and its history goes on.
func (i *Image) ParentOf(c *Image) bool {
	ih, ch := i.Config.History, c.Config.History
	if i.ID == c.ID || i.IsList() || c.IsList() || len(ch) <= len(ih) || len(c.Layers) < len(i.Layers) {
		return false
	}
	for k := range i.Layers {
		if c.Layers[k] != i.Layers[k] {
			return false
		}
	}
	for k := range ih {
		if !ih[k].Created.Equal(ch[k].Created.Time) || ih[k].CreatedBy != ch[k].CreatedBy || ih[k].Comment != ch[k].Comment {
			return false
		}
	}
	return true
}

// DirectParent is the image c was made on top of by one step, as podman's "parent" (among
// imgs): its history is c's without the last entry and c has its layers and at most one more.
// nil when there is none (a base image, or a build that kept no image of the previous step).
func DirectParent(imgs []*Image, c *Image) *Image {
	for _, p := range imgs {
		extra := len(c.Layers) - len(p.Layers)
		if len(p.Config.History)+1 == len(c.Config.History) && (extra == 0 || extra == 1) && p.ParentOf(c) {
			return p
		}
	}
	return nil
}

// Intermediates are the images without a name that another image was made on top of (a
// build's earlier steps): `images` lists them only with --all, as podman's does.
func Intermediates(imgs []*Image) map[string]bool {
	out := map[string]bool{}
	for _, p := range imgs {
		if !p.Dangling() {
			continue
		}
		for _, c := range imgs {
			if p.ParentOf(c) {
				out[p.ID] = true
				break
			}
		}
	}
	return out
}

// RepoDigests are repo@digest for each repository the image is named in.
func (i *Image) RepoDigests() []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range i.Names {
		repo, _, _ := splitName(n)
		for _, d := range append([]string{i.Digest}, i.Digests...) {
			rd := repo + "@" + d
			if d != "" && !seen[rd] {
				seen[rd] = true
				out = append(out, rd)
			}
		}
	}
	return out
}

// blobs lists every blob the record references.
func (i *Image) blobs() []string {
	b := []string{i.Digest, i.ConfigDigest}
	b = append(b, i.Digests...)
	return append(b, i.LayerBlobs...)
}

// Store is an image store rooted at one directory. It is safe for use by several processes.
type Store struct {
	dir string

	regOnce sync.Once
	reg     *Registries
	regErr  error
}

type index struct {
	Images []*Image `json:"images"`
}

// Index names the index's type for tools/jsongen, which generates its decoder (json.gen.go).
type Index = index

// Open returns the store in dir. It only records the path: directories are made on first write.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, fmt.Errorf("image store: empty directory: %w", errdefs.ErrInvalid)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return &Store{dir: abs}, nil
}

// Dir is the store's root directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) indexPath() string { return filepath.Join(s.dir, "index.json") }

// StoredAt is when img was last stored here: the time its manifest was written (a build's
// --cache-ttl; the config's creation time may be fixed by --timestamp).
func (s *Store) StoredAt(img *Image) (time.Time, error) {
	fi, err := os.Stat(s.blobPath(img.Digest))
	if err != nil {
		return time.Time{}, err
	}
	return fi.ModTime(), nil
}

// StorageSize is what img takes in the store as podman counts an image's size: its layers, its
// config, and its manifest twice (c/storage keeps it under two keys); size alone would show a
// built image a few kB smaller than podman does.
func (s *Store) StorageSize(img *Image) int64 {
	n := img.Size
	var st unix.Stat_t
	if img.ConfigDigest != "" && unix.Stat(s.blobPath(img.ConfigDigest), &st) == nil {
		n += st.Size
	}
	if img.Digest != "" && unix.Stat(s.blobPath(img.Digest), &st) == nil {
		n += 2 * st.Size
	}
	return n
}

func (s *Store) blobPath(d string) string {
	return filepath.Join(s.dir, "blobs", "sha256", strings.TrimPrefix(d, "sha256:"))
}
func (s *Store) layerPath(diffID string) string {
	return filepath.Join(s.dir, "layers", strings.TrimPrefix(diffID, "sha256:"))
}
func (s *Store) tmpDir() string { return filepath.Join(s.dir, "tmp") }

// Registries returns the registries configuration, read once.
func (s *Store) Registries() (*Registries, error) {
	s.regOnce.Do(func() { s.reg, s.regErr = LoadRegistries(RegistriesConfPath()) })
	return s.reg, s.regErr
}

// registriesOrDefault is for lookups, which must work even with a broken registries.conf.
func (s *Store) registriesOrDefault() *Registries {
	if r, err := s.Registries(); err == nil {
		return r
	}
	return &Registries{Search: []string{defaultDomain}}
}

func (s *Store) readIndex() (*index, error) {
	data, err := fsx.ReadFile(s.indexPath())
	if errors.Is(err, fs.ErrNotExist) {
		return &index{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("image index: %w", err)
	}
	idx, err := decodeIndex(data)
	if err != nil {
		return nil, fmt.Errorf("image index %s is corrupt: %w", s.indexPath(), err)
	}
	return idx, nil
}

// decodeIndex is json.Unmarshal of an index, done by the generated decoder (json.gen.go) when it
// is sure to read data as encoding/json would: encoding/json builds its decoders for the index's
// types by reflection on first use, 0.34 ms of every `run` and `create`.
func decodeIndex(data []byte) (*index, error) {
	var idx index
	if err := jsonfast.UnmarshalWith(data, &idx, decIndex); err != nil {
		return nil, err
	}
	return &idx, nil
}

func (s *Store) writeIndex(idx *index) error {
	data, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	return fsx.WriteFileAtomic(s.indexPath(), data, 0o600)
}

// flock takes a lock on one of the store's lock files; release with the returned func.
func (s *Store) flock(name string, how int) (func(), error) {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, err
	}
	f, err := fsx.OpenFile(filepath.Join(s.dir, name), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		if err == syscall.EWOULDBLOCK {
			return nil, errBusy
		}
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	return func() { f.Close() }, nil
}

var errBusy = errors.New("busy")

// update runs f on the index under the index lock and writes the result back.
func (s *Store) update(f func(*index) error) error {
	unlock, err := s.flock("index.lock", unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer unlock()
	idx, err := s.readIndex()
	if err != nil {
		return err
	}
	if err := f(idx); err != nil {
		return err
	}
	return s.writeIndex(idx)
}

// List returns every image, newest first.
func (s *Store) List() ([]*Image, error) {
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	imgs := idx.Images
	sort.SliceStable(imgs, func(a, b int) bool { return imgs[a].Created.After(imgs[b].Created) })
	return imgs, nil
}

// Remove deletes the record of image id (a full ID) and sweeps what no record references.
func (s *Store) Remove(id string) error {
	err := s.update(func(idx *index) error {
		for i, img := range idx.Images {
			if img.ID == id {
				idx.Images = append(idx.Images[:i], idx.Images[i+1:]...)
				return nil
			}
		}
		return ErrImageNotKnown(id)
	})
	if err != nil {
		return err
	}
	return s.sweep()
}

// referenced returns the hex digests of the blobs and layers the records reference.
func (idx *index) referenced() (blobs, layers map[string]bool) {
	blobs, layers = map[string]bool{}, map[string]bool{}
	for _, img := range idx.Images {
		for _, b := range img.blobs() {
			blobs[strings.TrimPrefix(b, "sha256:")] = true
		}
		for _, l := range img.Layers {
			layers[strings.TrimPrefix(l, "sha256:")] = true
		}
	}
	return blobs, layers
}

// sweep removes blobs and layers no record references. It runs only when no ingest is in
// progress in any process (their blobs are not referenced yet); otherwise it leaves them for later.
func (s *Store) sweep() error {
	unlock, err := s.flock("content.lock", unix.LOCK_EX|unix.LOCK_NB)
	if err == errBusy {
		return nil
	}
	if err != nil {
		return err
	}
	defer unlock()
	idx, err := s.readIndex()
	if err != nil {
		return err
	}
	blobs, layers := idx.referenced()
	var errs []error
	sweepDir := func(dir string, keep map[string]bool) {
		ents, err := fsx.ReadDir(dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
		for _, e := range ents {
			if !keep[e.Name()] {
				// Renamed out of the way first: a sweep killed midway must not leave a
				// partial layer that a pull would take for a whole one (ingest.place).
				if err := s.discard(filepath.Join(dir, e.Name())); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	sweepDir(filepath.Join(s.dir, "blobs", "sha256"), blobs)
	sweepDir(filepath.Join(s.dir, "layers"), layers)
	s.cleanTmp()
	return errors.Join(errs...)
}

// LayerDirs returns the unpacked layer directories of img, bottom layer first, as overlayfs
// lower directories (overlayfs wants them top first: reverse them for lowerdir=).
func (s *Store) LayerDirs(img *Image) ([]string, error) {
	dirs := make([]string, 0, len(img.Layers))
	for _, l := range img.Layers {
		d := filepath.Join(s.layerPath(l), "diff")
		if _, err := os.Stat(d); err != nil {
			return nil, fmt.Errorf("image %.12s: layer %s is missing from the store (%v): %w", img.ID, l, err, errdefs.ErrNotFound)
		}
		dirs = append(dirs, d)
	}
	return dirs, nil
}

// tmpName is a fresh name under tmp/, tagged with our pid so stale ones can be cleaned.
func (s *Store) tmpName(kind string) (string, error) {
	if err := os.MkdirAll(s.tmpDir(), 0o700); err != nil {
		return "", err
	}
	var b [6]byte
	rand.Read(b[:])
	return filepath.Join(s.tmpDir(), fmt.Sprintf("%d-%s-%s", os.Getpid(), kind, hex.EncodeToString(b[:]))), nil
}

// cleanTmp removes work files left by processes that no longer exist.
func (s *Store) cleanTmp() {
	ents, _ := fsx.ReadDir(s.tmpDir())
	for _, e := range ents {
		pidStr, _, _ := strings.Cut(e.Name(), "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid <= 0 {
			continue
		}
		if pid != os.Getpid() && unix.Kill(pid, 0) == unix.ESRCH {
			os.RemoveAll(filepath.Join(s.tmpDir(), e.Name()))
		}
	}
}

// Comment is the image's comment: that of its newest history entry that has one.
func (img *Image) Comment() string {
	for i := len(img.Config.History) - 1; i >= 0; i-- {
		if cm := img.Config.History[i].Comment; cm != "" {
			return cm
		}
	}
	return ""
}
