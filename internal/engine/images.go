package engine

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"pea/internal/errdefs"
	"pea/internal/image"
)

// The image use cases are thin: the image store does the work; the engine adds what needs the
// containers' state (an image in use cannot be removed; listings count an image's containers).

// ImageList returns every image, newest first.
func (r *Runtime) ImageList() ([]*image.Image, error) {
	is, err := r.imageStore()
	if err != nil {
		return nil, err
	}
	return is.List()
}

// ImageStorageSize is the size podman shows for img (images, image inspect, system df): its
// layers with its config and manifest.
func (r *Runtime) ImageStorageSize(img *image.Image) int64 {
	is, err := r.imageStore()
	if err != nil {
		return img.Size
	}
	return is.StorageSize(img)
}

// ImageLookup finds an image by name, ID or ID prefix.
func (r *Runtime) ImageLookup(nameOrID string) (*image.Image, error) {
	is, err := r.imageStore()
	if err != nil {
		return nil, err
	}
	return is.Lookup(nameOrID)
}

// ImageExists reports whether nameOrID names an image; errors other than "not known" are returned.
func (r *Runtime) ImageExists(nameOrID string) (bool, error) {
	_, err := r.ImageLookup(nameOrID)
	if errdefs.Is(err, errdefs.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// ImageLayerDirs returns an image's unpacked layer directories, bottom layer first.
func (r *Runtime) ImageLayerDirs(img *image.Image) ([]string, error) {
	is, err := r.imageStore()
	if err != nil {
		return nil, err
	}
	return is.LayerDirs(img)
}

// ImageImport makes a one-layer image from a root filesystem tarball.
func (r *Runtime) ImageImport(rd io.Reader, ref string, o image.ImportOptions) (*image.Image, error) {
	is, err := r.imageStore()
	if err != nil {
		return nil, err
	}
	o.Changes = numericStopSignal(o.Changes)
	img, err := is.ImportWith(rd, ref, o)
	if err == nil {
		r.imageEvent("import", img.ID, firstName(img, ref))
	}
	return img, err
}

// numericStopSignal rewrites a STOPSIGNAL change to the signal's number, as podman's import and
// commit store it (a build keeps the name it was given).
func numericStopSignal(changes []string) []string {
	out := slices.Clone(changes)
	for i, ch := range out {
		t := strings.TrimSpace(ch)
		j := strings.IndexAny(t, " \t=")
		if j < 0 || !strings.EqualFold(t[:j], "STOPSIGNAL") {
			continue
		}
		if sig, err := ParseSignal(strings.Trim(strings.TrimSpace(t[j+1:]), `"'`)); err == nil {
			out[i] = fmt.Sprintf("STOPSIGNAL %d", int(sig))
		}
	}
	return out
}

// firstName is the name an event gives an image: the one asked for, normalized; else its first.
func firstName(img *image.Image, asked string) string {
	if asked != "" {
		if n, err := image.NormalizeLocalName(asked); err == nil && slices.Contains(img.Names, n) {
			return n
		}
		if n, err := image.NormalizeName(asked); err == nil && slices.Contains(img.Names, n) {
			return n
		}
	}
	if len(img.Names) > 0 {
		return img.Names[0]
	}
	return asked
}

// ImageLoad stores the images of a docker-archive or oci-archive.
func (r *Runtime) ImageLoad(rd io.Reader, o image.LoadOptions) ([]*image.Image, error) {
	is, err := r.imageStore()
	if err != nil {
		return nil, err
	}
	imgs, err := is.Load(rd, o)
	for _, img := range imgs {
		r.imageEvent("load", img.ID, firstName(img, ""))
	}
	return imgs, err
}

// ImageSave writes images to w as a docker-archive or an oci-archive.
// The signature policy (policyPath, "" : the default) must accept each image as a source.
func (r *Runtime) ImageSave(w io.Writer, refs []string, format, policyPath string) error {
	return r.ImageSaveWith(w, "", refs, image.SaveOptions{Format: format}, policyPath)
}

// ImageSaveWith writes images to w as an archive, or (dir not "") into the directory dir in a
// directory format (oci-dir, docker-dir).
func (r *Runtime) ImageSaveWith(w io.Writer, dir string, refs []string, o image.SaveOptions, policyPath string) error {
	is, err := r.imageStore()
	if err != nil {
		return err
	}
	for _, ref := range refs {
		img, err := is.Lookup(ref)
		if err != nil {
			break // Save says what is missing
		}
		if err := image.CheckStored(policyPath, r.opts.Root, r.opts.RunRoot, img.ID); err != nil {
			return err
		}
	}
	if dir != "" {
		err = is.SaveDir(dir, refs, o)
	} else {
		err = is.SaveWith(w, refs, o)
	}
	if err != nil {
		return err
	}
	for _, ref := range refs {
		if img, err := is.Lookup(ref); err == nil {
			r.imageEvent("save", img.ID, firstName(img, ref))
		}
	}
	return nil
}

// ImagePull fetches an image from a registry.
func (r *Runtime) ImagePull(ctx context.Context, ref string, o image.PullOptions) (*image.Image, error) {
	is, err := r.imageStore()
	if err != nil {
		return nil, err
	}
	img, err := is.Pull(ctx, ref, o)
	if err == nil {
		r.imageEvent("pull", img.ID, firstName(img, ref))
	}
	return img, err
}

// ImagePush sends an image to a registry; an empty dest pushes to the image's name. It returns
// the digest of the manifest sent (the stored one's, unless the layers were recompressed).
func (r *Runtime) ImagePush(ctx context.Context, src, dest string, o image.PushOptions) (string, error) {
	is, err := r.imageStore()
	if err != nil {
		return "", err
	}
	digest, err := is.Push(ctx, src, dest, o)
	if err != nil {
		return "", err
	}
	if img, err := is.Lookup(src); err == nil {
		name := dest
		if name == "" {
			name = firstName(img, src)
		}
		r.imageEvent("push", img.ID, name)
	}
	return digest, nil
}

// ImageTag adds names to an image.
func (r *Runtime) ImageTag(nameOrID string, newRefs ...string) error {
	is, err := r.imageStore()
	if err != nil {
		return err
	}
	img, err := is.Lookup(nameOrID)
	if err != nil {
		return err
	}
	for _, n := range newRefs {
		if err := is.Tag(nameOrID, n); err != nil {
			return err
		}
		r.imageEvent("tag", img.ID, n) // the name as given, as podman's event has it

	}
	return nil
}

// ImageUntag removes names from an image; with no names it removes them all.
func (r *Runtime) ImageUntag(nameOrID string, refs ...string) error {
	is, err := r.imageStore()
	if err != nil {
		return err
	}
	img, err := is.Lookup(nameOrID)
	if err != nil {
		return err
	}
	if len(refs) == 0 {
		if err := is.Untag(img.ID, ""); err != nil {
			return err
		}
		for _, n := range img.Names {
			r.imageEvent("untag", img.ID, n)
		}
		return nil
	}
	for _, ref := range refs {
		name, nerr := is.NameOf(img, ref)
		if err := is.Untag(img.ID, ref); err != nil {
			return err
		}
		if nerr != nil {
			name = ref
		}
		r.imageEvent("untag", img.ID, name)
	}
	return nil
}

// ImageContainers maps image IDs to the IDs of the containers (of every namespace) using them.
func (r *Runtime) ImageContainers() (map[string][]string, error) {
	st, err := r.state()
	if err != nil {
		return nil, err
	}
	return st.ContainerImages()
}

// ImageRemoveOptions control ImageRemoveWith.
type ImageRemoveOptions struct {
	// Force removes an image with several names given by ID, and the containers using it.
	Force bool
	// Whole removes the image even when named by one of several names (rmi -a).
	Whole bool
	// Parents removes, with the image, the images it was made on top of (a build's steps)
	// that are left without a name, another child, a container or a mount, as Docker's and
	// podman's rmi do; a build's steps would otherwise be left behind as <none> images.
	Parents bool
}

// ImageRemove removes an image, podman style: naming one of several names only untags that
// name; an image with several names given by ID needs force; an image used by containers is
// refused, or with force its containers are removed first. It returns the names untagged and the
// IDs deleted.
func (r *Runtime) ImageRemove(nameOrID string, force bool) (untagged, deleted []string, err error) {
	return r.ImageRemoveWith(nameOrID, ImageRemoveOptions{Force: force, Parents: true})
}

// ImageRemoveWith is ImageRemove with options.
func (r *Runtime) ImageRemoveWith(nameOrID string, o ImageRemoveOptions) (untagged, deleted []string, err error) {
	is, err := r.imageStore()
	if err != nil {
		return nil, nil, err
	}
	img, err := is.Lookup(nameOrID)
	if err != nil {
		return nil, nil, err
	}
	name, nerr := is.NameOf(img, nameOrID)
	byName := nerr == nil
	if !o.Whole && byName && len(img.Names) > 1 {
		if err := is.Untag(img.ID, name); err != nil {
			return nil, nil, err
		}
		r.imageEvent("untag", img.ID, name)
		return []string{name}, nil, nil
	}
	if !o.Whole && !byName && len(img.Names) > 1 && !o.Force {
		return nil, nil, fmt.Errorf("unable to delete image %q by ID with more than one tag (%v): please force removal: %w",
			img.ID, img.Names, errdefs.ErrInUse)
	}
	users, err := r.ImageContainers()
	if err != nil {
		return nil, nil, err
	}
	if ids := users[img.ID]; len(ids) > 0 {
		if !o.Force {
			return nil, nil, errdefs.Errorf(errdefs.ErrInUse, "image used by %s: image is in use by a container: consider listing external containers and force-removing image", ids[0])
		}
		for _, id := range ids {
			if err := r.RemoveContainer(context.Background(), id, RemoveOptions{Force: true, Ignore: true}); err != nil {
				return nil, nil, fmt.Errorf("removing container %s that uses image %.12s: %w", shortID(id), img.ID, err)
			}
		}
	}
	if err := r.releaseImageMount(img, o.Force); err != nil {
		return nil, nil, err
	}
	if err := is.Remove(img.ID); err != nil {
		return nil, nil, err
	}
	r.imageRemoved(img)
	deleted = []string{img.ID}
	if o.Parents {
		deleted = append(deleted, r.removeParents(is, img)...)
	}
	return img.Names, deleted, nil
}

// removeParents removes, once img is gone, the image img was made on top of when nothing else
// keeps it (a name, another child, a container, a mount), then that one's, and so on up; it
// returns the IDs removed. A failure stops the walk: what is left is only untidy.
func (r *Runtime) removeParents(is *image.Store, img *image.Image) []string {
	var removed []string
	for {
		imgs, err := is.List()
		if err != nil {
			return removed
		}
		users, err := r.ImageContainers()
		if err != nil {
			return removed
		}
		parent := closestParent(imgs, img)
		if parent == nil || !parent.Dangling() || len(users[parent.ID]) > 0 || r.imageMounts(parent.ID) > 0 || hasChild(imgs, parent) {
			return removed
		}
		if err := is.Remove(parent.ID); err != nil {
			return removed
		}
		r.imageRemoved(parent)
		removed = append(removed, parent.ID)
		img = parent
	}
}

// closestParent is the image of imgs that img was made directly on top of (of those it was made
// on, the one with the longest history), or nil.
func closestParent(imgs []*image.Image, img *image.Image) *image.Image {
	var best *image.Image
	for _, p := range imgs {
		if p.ParentOf(img) && (best == nil || len(p.Config.History) > len(best.Config.History)) {
			best = p
		}
	}
	return best
}

// hasChild tells whether some image of imgs was made on top of p.
func hasChild(imgs []*image.Image, p *image.Image) bool {
	return slices.ContainsFunc(imgs, p.ParentOf)
}

// ImagePrune removes dangling images (those without a child: a build's steps under an image
// stay, its cache, and go with it), or with all every image no container uses. It returns
// the IDs removed.
func (r *Runtime) ImagePrune(all bool, f PruneFilter) ([]string, error) {
	imgs, err := r.ImageList()
	if err != nil {
		return nil, err
	}
	users, err := r.ImageContainers()
	if err != nil {
		return nil, err
	}
	is, err := r.imageStore()
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, img := range imgs {
		if len(users[img.ID]) > 0 || !all && !img.Dangling() || r.imageMounts(img.ID) > 0 || !f.Matches(img.Config.Config.Labels, img.Created) {
			continue // in use, wanted, mounted by hand, or filtered out
		}
		if slices.Contains(removed, img.ID) {
			continue // a parent removed with its child
		}
		if !all && hasChild(imgs, img) {
			// A step of an image's build (its cache), as Docker's and podman's prune keep
			// them; it goes with the last image made on it.
			continue
		}
		if err := is.Remove(img.ID); err != nil {
			if errdefs.Is(err, errdefs.ErrNotFound) {
				continue // removed meanwhile by another process
			}
			return removed, err
		}
		r.imageRemoved(img)
		removed = append(removed, img.ID)
		if !all {
			removed = append(removed, r.removeParents(is, img)...)
		}
	}
	return removed, nil
}

// imageRemoved logs an image's removal: untag for each of its names, then remove.
func (r *Runtime) imageRemoved(img *image.Image) {
	for _, n := range img.Names {
		r.imageEvent("untag", img.ID, n)
	}
	r.imageEvent("remove", img.ID, firstName(img, ""))
}

// Login checks username and password against registry (through the registry helper) and, when
// they open it, records them in o's auth file, where pulls and pushes find them.
func (r *Runtime) Login(ctx context.Context, registry, username, password string, o image.PullOptions) error {
	if err := r.CheckLogin(ctx, registry, username, password, o); err != nil {
		return err
	}
	return image.SaveAuth(o, registry, username, password)
}

// CheckLogin checks username and password against registry, recording nothing.
func (r *Runtime) CheckLogin(ctx context.Context, registry, username, password string, o image.PullOptions) error {
	if username == "" {
		return fmt.Errorf("logging into %q: a user name is required: %w", registry, errdefs.ErrInvalid)
	}
	is, err := r.imageStore()
	if err != nil {
		return err
	}
	o.Creds = username + ":" + password
	return is.Login(ctx, registry, o)
}

// Logout forgets registry's credentials in o's auth file (every registry's with all).
func (r *Runtime) Logout(registry string, all bool, o image.PullOptions) error {
	if all {
		registry = ""
	}
	return image.RemoveAuth(o, registry)
}

// OverlayData is what inspect shows of the overlay driver for an image's layer directories
// (bottom first, as ImageLayerDirs gives them): the top layer as UpperDir, the others (top
// first) as LowerDir.
func OverlayData(dirs []string) map[string]string {
	d := map[string]string{}
	if len(dirs) == 0 {
		return d
	}
	top := dirs[len(dirs)-1]
	d["UpperDir"] = top
	d["WorkDir"] = strings.TrimSuffix(top, "/diff") + "/work"
	var lower []string
	for i := len(dirs) - 2; i >= 0; i-- {
		lower = append(lower, dirs[i])
	}
	if len(lower) > 0 {
		d["LowerDir"] = strings.Join(lower, ":")
	}
	return d
}

// ImageSign writes simple signatures of images in registries (`image sign`).
func (r *Runtime) ImageSign(ctx context.Context, ref string, o image.SignOptions) error {
	is, err := r.imageStore()
	if err != nil {
		return err
	}
	return is.Sign(ctx, ref, o)
}
