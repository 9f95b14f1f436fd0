package engine

// A named volume's life at its containers' starts, as podman's local driver has it:
//
//   - A volume made with mount options (type, device, o: `volume create -o type=tmpfs
//     -o device=tmpfs -o o=size=64m`, or compose's bind of a host directory `type=none,o=bind,
//     device=/srv/data`) is mounted on its directory by mount(8) when the first container that
//     uses it starts (or `pea volume mount`), and unmounted when the last lets go. Who holds it
//     is kept in the runroot (volume-mounts/NAME, one line per holder: a container ID, or
//     "user" per `volume mount`), so a reboot forgets the holders with the mounts.
//   - A new volume is given, at its first use, the owner and mode of the image's directory it
//     is mounted on (the container's user when the image has none), and is filled with that
//     directory's content when it is empty (not with the nocopy option). Both happen once:
//     NeedsChown and NeedsCopyUp in the volume's record say what is still to do.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
	"pea/internal/fsx"
	"pea/internal/model"
)

// userHolder is the holder line of one `pea volume mount`.
const userHolder = "user"

func (r *Runtime) volumeMountsDir() string { return filepath.Join(r.opts.RunRoot, "volume-mounts") }

func volumeLockName(name string) string { return "volume-" + name }

// parseVolumeOptions checks a local volume's driver options and sets what they say on v: type,
// device and o are mount(8)'s -t, device and -o; uid=/gid= (in o or on their own) set the
// owner of the volume's root; nocopy (in o or on its own) and copy choose whether the first
// container fills it. size and inodes on their own ask for a project quota, which pea does not
// set up: refused (inside o they are the file system's own options, tmpfs's size).
func parseVolumeOptions(v *model.Volume) error {
	v.NeedsCopyUp, v.NeedsChown = true, true
	for key, val := range v.Options {
		switch strings.ToLower(key) {
		case "type", "device":
		case "o":
			var rest []string
			for _, o := range strings.Split(val, ",") {
				k, n, _ := strings.Cut(o, "=")
				switch k {
				case "uid", "gid":
					if err := setVolumeOwner(v, k, n); err != nil {
						return err
					}
				case "nocopy":
					v.NeedsCopyUp = false
				case "copy":
				case "":
				default:
					rest = append(rest, o)
				}
			}
			v.MountOptions = strings.Join(rest, ",")
		case "uid", "gid":
			if err := setVolumeOwner(v, strings.ToLower(key), val); err != nil {
				return err
			}
		case "nocopy":
			v.NeedsCopyUp = false
		case "copy":
		case "size", "inodes", "noquota":
			return fmt.Errorf("volume option %s needs a project quota on the volumes' file system, which pea does not set up (a tmpfs takes -o o=size=N): %w", key, errdefs.ErrInvalid)
		default:
			return fmt.Errorf("invalid mount option %s for driver 'local' (type, device, o, uid, gid, copy, nocopy): %w", key, errdefs.ErrInvalid)
		}
	}
	if v.Options["device"] != "" || v.Options["type"] != "" || v.MountOptions != "" {
		v.NeedsMount = true
		if v.Options["type"] == "" && v.Options["device"] == "" {
			return fmt.Errorf("volume mount options %q need a type or a device to mount: %w", v.MountOptions, errdefs.ErrInvalid)
		}
	}
	if v.UID != nil || v.GID != nil {
		v.NeedsChown = false
	}
	return nil
}

func setVolumeOwner(v *model.Volume, key, val string) error {
	n, err := strconv.ParseUint(val, 10, 32)
	if err != nil {
		return fmt.Errorf("volume option %s=%s: not a numeric ID: %w", key, val, errdefs.ErrInvalid)
	}
	id := int(n)
	if key == "uid" {
		v.UID = &id
	} else {
		v.GID = &id
	}
	return nil
}

// VolumeMountCount is how many holders (running containers, `volume mount`s) keep a volume
// with mount options mounted.
func (r *Runtime) VolumeMountCount(name string) int {
	return len(r.volumeHolders(name))
}

func (r *Runtime) volumeHolders(name string) []string {
	b, err := fsx.ReadFile(filepath.Join(r.volumeMountsDir(), name))
	if err != nil {
		return nil
	}
	return strings.Fields(string(b))
}

func (r *Runtime) writeVolumeHolders(name string, holders []string) error {
	p := filepath.Join(r.volumeMountsDir(), name)
	if len(holders) == 0 {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return err
		}
		return nil
	}
	if err := os.MkdirAll(r.volumeMountsDir(), 0o700); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(strings.Join(holders, "\n")+"\n"), 0o600)
}

// holdVolume mounts v for holder (the first holder mounts it); the volume's lock is taken here.
func (r *Runtime) holdVolume(v *model.Volume, holder string) error {
	l, err := r.locks.Lock(volumeLockName(v.Name))
	if err != nil {
		return err
	}
	defer l.Unlock()
	holders := r.volumeHolders(v.Name)
	// Mounted already unless nothing is there: a pea killed between its mount and the record
	// of its hold left a mount that the next holder takes over rather than stacking another.
	if !isMountPoint(v.Mountpoint) {
		if err := mountVolume(v); err != nil {
			return err
		}
	}
	return r.writeVolumeHolders(v.Name, append(holders, holder))
}

// releaseVolume lets go of holder's hold on volume name (nothing when it holds none); the last
// holder's release unmounts it.
func (r *Runtime) releaseVolume(name, holder string) error {
	if _, err := os.Stat(filepath.Join(r.volumeMountsDir(), name)); err != nil {
		return nil // nobody holds it: the common case, without a lock
	}
	l, err := r.locks.Lock(volumeLockName(name))
	if err != nil {
		return err
	}
	defer l.Unlock()
	holders := r.volumeHolders(name)
	i := slices.Index(holders, holder)
	if i < 0 {
		return nil
	}
	holders = slices.Delete(holders, i, i+1)
	if len(holders) == 0 {
		if err := unmountAll(r.volumePath(name)); err != nil {
			return fmt.Errorf("unmounting volume %s: %w", name, err)
		}
	}
	return r.writeVolumeHolders(name, holders)
}

// mountVolume mounts v's file system on its directory with mount(8), which knows every type's
// helper (nfs, cifs ...) and option.
func mountVolume(v *model.Volume) error {
	args := []string{}
	if t := v.Options["type"]; t != "" {
		args = append(args, "-t", t)
	}
	if v.MountOptions != "" {
		args = append(args, "-o", v.MountOptions)
	}
	dev := v.Options["device"]
	if dev == "" {
		dev = v.Options["type"] // tmpfs, proc ...: the type names the source
	}
	args = append(args, "--", dev, v.Mountpoint)
	out, err := cpupin.Command("mount", args...).CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if msg == "" {
			msg = err.Error()
		}
		msg, _, _ = strings.Cut(msg, "\n")
		return &errdefs.ExitError{Code: 126, Err: fmt.Errorf("mounting volume %s: %s", v.Name, msg)}
	}
	return nil
}

// unmountAll unmounts whatever is mounted on dir, also mounts stacked there.
func unmountAll(dir string) error {
	for isMountPoint(dir) {
		if err := unix.Unmount(dir, 0); err != nil {
			if err == unix.EBUSY {
				err = unix.Unmount(dir, unix.MNT_DETACH)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// isMountPoint says whether something is mounted on dir: its device differs from its parent's,
// or (a bind of the same file system) mountinfo lists it.
func isMountPoint(dir string) bool {
	var st, parent unix.Stat_t
	if unix.Lstat(dir, &st) != nil || unix.Lstat(filepath.Dir(dir), &parent) != nil {
		return false
	}
	if st.Dev != parent.Dev {
		return true
	}
	b, err := fsx.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && fsx.UnescapeMountPath(f[4]) == dir {
			return true
		}
	}
	return false
}

// MountVolume is `pea volume mount`: the volume mounted (when it has mount options) and held
// until `volume unmount`; it returns the directory.
func (r *Runtime) MountVolume(name string) (string, error) {
	v, err := r.LookupVolume(name)
	if err != nil {
		return "", err
	}
	if v.NeedsMount {
		if err := r.holdVolume(v, userHolder); err != nil {
			return "", err
		}
	}
	return v.Mountpoint, nil
}

// UnmountVolume is `pea volume unmount`: one `volume mount` undone.
func (r *Runtime) UnmountVolume(name string) error {
	v, err := r.LookupVolume(name)
	if err != nil {
		return err
	}
	if !v.NeedsMount {
		return nil
	}
	if !slices.Contains(r.volumeHolders(v.Name), userHolder) {
		return fmt.Errorf("volume %s is not mounted by volume mount: %w", v.Name, errdefs.ErrWrongState)
	}
	return r.releaseVolume(v.Name, userHolder)
}

// prepareVolumeMounts readies the named volumes container c mounts, at its start: mounts those
// with mount options (u lets go of them again if the start fails), and gives a volume at its
// first use the owner and mode of the image's directory under it and that directory's content
// (see the file's comment). uid and gid are the container's user, ns its user namespace.
func (r *Runtime) prepareVolumeMounts(c *model.Container, rootfs string, ns *userNS, uid, gid uint32, u *undo) error {
	for _, m := range c.Config.Mounts {
		if m.Type != "volume" || m.Source == "" {
			continue
		}
		st, err := r.state() // opened once per process: no cost for a container without volumes
		if err != nil {
			return err
		}
		v, err := st.Volume(m.Source)
		if err != nil {
			return err
		}
		if v.NeedsMount {
			if err := r.holdVolume(v, c.Config.ID); err != nil {
				return err
			}
			name, id := v.Name, c.Config.ID
			u.add(func() { r.releaseVolume(name, id) })
		}
		if v.NeedsChown || v.NeedsCopyUp && !m.NoCopy || m.CopyUp {
			if err := r.firstUseOfVolume(v.Name, m, rootfs, ns, uid, gid); err != nil {
				return err
			}
		}
	}
	return nil
}

// firstUseOfVolume does, under the volume's lock, what is still to do at a volume's first use.
func (r *Runtime) firstUseOfVolume(name string, m model.Mount, rootfs string, ns *userNS, uid, gid uint32) error {
	l, err := r.locks.Lock(volumeLockName(name))
	if err != nil {
		return err
	}
	defer l.Unlock()
	st, err := r.state()
	if err != nil {
		return err
	}
	v, err := st.Volume(name) // again, under the lock: another start may have done it
	if err != nil {
		return err
	}
	src, srcSt := imageDirUnder(rootfs, m.Destination)
	changed := false
	if v.NeedsChown {
		v.NeedsChown, changed = false, true
		var idErr error
		if ns != nil {
			uid, gid, idErr = ns.hostIDs(uid, gid)
		}
		switch {
		case idErr == nil:
			v.ChownedUID, v.ChownedGID = int(uid), int(gid)
		case srcSt == nil: // the user's IDs are the owner's: no image directory gives one
			return fmt.Errorf("volume %s: %w", v.Name, idErr)
		}
		if err := giveVolumeRoot(v.Mountpoint, srcSt, uid, gid); err != nil {
			return fmt.Errorf("volume %s: %w", v.Name, err)
		}
	}
	if (v.NeedsCopyUp && !m.NoCopy || m.CopyUp) && src != "" {
		if v.NeedsCopyUp {
			v.NeedsCopyUp, changed = false, true
		}
		if err := copyImageDir(src, v.Mountpoint, m.Destination); err != nil {
			return err
		}
	}
	if changed {
		return st.SaveVolume(v)
	}
	return nil
}

// imageDirUnder is the directory the image has at dest under rootfs, and its status, reached
// without following a link (a link or a file there is no directory: "", nil).
func imageDirUnder(rootfs, dest string) (string, *unix.Stat_t) {
	src := rootfs
	var st unix.Stat_t
	for _, part := range strings.Split(strings.Trim(filepath.Clean(dest), "/"), "/") {
		if part == "" {
			continue
		}
		src = filepath.Join(src, part)
		if unix.Lstat(src, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return "", nil
		}
	}
	if src == rootfs {
		return "", nil
	}
	return src, &st
}

// giveVolumeRoot gives a volume's root the owner, mode and times of the image's directory
// under it, or, when the image has none there, the container's user (uid and gid, host IDs).
func giveVolumeRoot(dir string, src *unix.Stat_t, uid, gid uint32) error {
	if src != nil {
		if err := os.Lchown(dir, int(src.Uid), int(src.Gid)); err != nil {
			return err
		}
		if err := unix.Chmod(dir, src.Mode&07777); err != nil {
			return err
		}
		return os.Chtimes(dir, time.Unix(src.Atim.Unix()), time.Unix(src.Mtim.Unix()))
	}
	return os.Lchown(dir, int(uid), int(gid))
}

// copyImageDir fills an empty volume directory with the image's directory src (cp -a: owners,
// modes and links kept); a volume with content is left as it is.
func copyImageDir(src, vol, dest string) error {
	f, err := os.Open(vol)
	if err != nil {
		return err
	}
	names, _ := f.Readdirnames(1)
	f.Close()
	if len(names) > 0 {
		return nil
	}
	var root unix.Stat_t
	if err := unix.Lstat(vol, &root); err != nil {
		return err
	}
	out, err := cpupin.Command("cp", "-a", "--", src+"/.", vol+"/").CombinedOutput()
	if err != nil {
		return fmt.Errorf("copying the image's %s into its volume: %v: %s", dest, err, strings.TrimSpace(string(out)))
	}
	// cp -a gave the volume's root the directory's owner and mode too: the root keeps its own
	// (given at the first use, or by the uid=/gid= options).
	if err := os.Lchown(vol, int(root.Uid), int(root.Gid)); err != nil {
		return err
	}
	return unix.Chmod(vol, root.Mode&07777)
}

// releaseVolumeMounts lets go of the volumes with mount options container c holds (its
// cleanup; idempotent).
func (r *Runtime) releaseVolumeMounts(c *model.Container) {
	for _, m := range c.Config.Mounts {
		if m.Type == "volume" && m.Source != "" {
			r.releaseVolume(m.Source, c.Config.ID)
		}
	}
}
