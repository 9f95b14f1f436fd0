// Package quadlet is pea's Quadlet: the systemd generator (`pea quadlet`) that turns podman's
// declarative unit files into systemd services that run pea, so that a user's files work with
// pea by copying them into pea's directories.
//
// The files are podman's (podman-systemd.unit(5)): systemd unit syntax, one section of pea's to
// read and the others ([Unit], [Service], [Install], ...) passed through as written:
//
//	NAME.container  [Container]  ->  NAME.service          pea run -d --replace --rm ... IMAGE [Exec]
//	NAME.volume     [Volume]     ->  NAME-volume.service   oneshot: pea volume create --ignore ...
//	NAME.network    [Network]    ->  NAME-network.service  oneshot: pea network create --ignore ...
//	NAME.image      [Image]      ->  NAME-image.service    oneshot: pea image pull ... IMAGE
//	NAME.build      [Build]      ->  NAME-build.service    oneshot: pea build --tag TAG ... [CONTEXT]
//	NAME.pod        [Pod]        ->  NAME-pod.service      forking: pea pod create --replace; pod start
//	NAME.kube       [Kube]       ->  NAME.service          notify: pea kube play --replace --service-container; kube down
//
// (ServiceName= names any of them otherwise.) pea's section is kept in the service renamed
// X-Container (X-Volume...), which systemd ignores. A value naming another file uses what that
// file makes and makes the service depend on the other one: Volume=/Mount= NAME.volume and
// Network= NAME.network (their VolumeName=/NetworkName=, else systemd-NAME), Image= NAME.image
// or NAME.build (its image), Pod= NAME.pod (the container joins the pod; the pod's service
// starts the container's). Drop-ins (NAME.container.d/*.conf) are merged as systemd merges
// them. A file with an error (an unknown key, no Image=, a key podman documents that pea
// cannot honour) is reported and left out; the others are generated.
//
// Where pea differs from podman's Quadlet, and why, is in docs/ARCHITECTURE.md ("Quadlet").
package quadlet

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Options are how the units are generated.
type Options struct {
	// Pea is the absolute path of the pea executable the services run.
	Pea string
	// User: a user's units (systemd's user manager), not the system's.
	User bool
	// Debugf, when set, is told what the generator reads.
	Debugf func(format string, args ...any)
}

// Service is one generated systemd unit.
type Service struct {
	Name   string   // NAME.service
	Source string   // the file it was made from
	Text   string   // the unit file
	Links  []string // the symlinks its [Install] section asks for, relative to the output directory
}

// SourceDirs are the directories pea reads Quadlet files from, in order (the first file of a
// name wins): $PEA_QUADLET_UNIT_DIRS if set (colon separated), else the system's
// (/etc/pea/systemd, /usr/share/pea/systemd) or, for user, the user's
// ($XDG_CONFIG_HOME/pea/systemd, /etc/pea/systemd/users/UID, /etc/pea/systemd/users).
// They are pea's own, so that pea's and podman's generators never make the same unit.
func SourceDirs(user bool) ([]string, error) {
	if env := os.Getenv("PEA_QUADLET_UNIT_DIRS"); env != "" {
		dirs := strings.Split(env, ":")
		for _, d := range dirs {
			if !filepath.IsAbs(d) {
				return nil, fmt.Errorf("PEA_QUADLET_UNIT_DIRS: %q is not an absolute path", d)
			}
		}
		return dirs, nil
	}
	if !user {
		return []string{"/etc/pea/systemd", "/usr/share/pea/systemd"}, nil
	}
	config, err := os.UserConfigDir()
	if err != nil {
		return nil, err
	}
	uid := fmt.Sprint(os.Getuid())
	return []string{filepath.Join(config, "pea", "systemd"), filepath.Join("/etc/pea/systemd/users", uid), "/etc/pea/systemd/users"}, nil
}

// kinds are the file extensions pea reads, in the order they are converted: what others name
// (volumes, networks, images, builds, then pods, which name volumes and networks) before the
// containers and kube files that name them.
func kinds() []string {
	return []string{".volume", ".network", ".image", ".build", ".pod", ".container", ".kube"}
}

// Generate reads the Quadlet files of dirs and converts them. A file that cannot be read or
// converted is left out and its error is in errs; the others are generated.
func Generate(dirs []string, o Options) (services []Service, errs []error) {
	if o.Debugf == nil {
		o.Debugf = func(string, ...any) {}
	}
	units, errs := load(dirs, o)
	g := &generator{o: o, names: map[string]string{}, units: map[string]*unitFile{}, podMembers: podMembers(units)}
	for _, u := range units {
		g.units[u.filename] = u
	}
	for _, u := range units {
		var svc *unitFile
		var err error
		switch filepath.Ext(u.filename) {
		case ".container":
			svc, err = g.container(u)
		case ".volume":
			svc, err = g.volume(u)
		case ".network":
			svc, err = g.network(u)
		case ".kube":
			svc, err = g.kube(u)
		case ".image":
			svc, err = g.image(u)
		case ".build":
			svc, err = g.build(u)
		case ".pod":
			svc, err = g.pod(u)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("converting %q: %w", u.filename, err))
			continue
		}
		svc.header = append([]string{"#", "# Automatically generated by " + o.Pea + " quadlet", "#"}, svc.header...)
		services = append(services, Service{Name: svc.filename, Source: u.path, Text: svc.String(), Links: installLinks(svc)})
	}
	return services, errs
}

// load reads the files of dirs (the first of each name) with their drop-ins, sorted by kind.
func load(dirs []string, o Options) ([]*unitFile, []error) {
	var units []*unitFile
	var errs []error
	seen := map[string]bool{}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		for _, e := range entries {
			name := e.Name()
			if seen[name] || !slices.Contains(kinds(), filepath.Ext(name)) || e.IsDir() {
				continue
			}
			seen[name] = true
			path := filepath.Join(dir, name)
			o.Debugf("Loading source unit file %s", path)
			u, err := readUnit(name, path)
			if err != nil {
				errs = append(errs, fmt.Errorf("loading %q: %w", path, err))
				continue
			}
			if err := loadDropins(u, dirs, o); err != nil {
				errs = append(errs, err)
				continue
			}
			units = append(units, u)
		}
	}
	order := func(u *unitFile) int { return slices.Index(kinds(), filepath.Ext(u.filename)) }
	sort.SliceStable(units, func(i, j int) bool { return order(units[i]) < order(units[j]) })
	return units, errs
}

func readUnit(name, path string) (*unitFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseUnit(name, path, data)
}

// loadDropins merges the *.conf of NAME.EXT.d (and, for an instance foo@bar.EXT of a template,
// foo@.EXT.d) of every source directory into u, in the order of their names; of two drop-ins of
// one name, the first directory's is used.
func loadDropins(u *unitFile, dirs []string, o Options) error {
	names := []string{u.filename + ".d"}
	if base, inst, ok := templateParts(u.filename); ok && inst != "" {
		names = append(names, base+"@"+filepath.Ext(u.filename)+".d")
	}
	found := map[string]string{}
	for _, dir := range dirs {
		for _, n := range names {
			entries, err := os.ReadDir(filepath.Join(dir, n))
			if err != nil {
				continue
			}
			for _, e := range entries {
				if filepath.Ext(e.Name()) == ".conf" && found[e.Name()] == "" {
					found[e.Name()] = filepath.Join(dir, n, e.Name())
				}
			}
		}
	}
	confs := make([]string, 0, len(found))
	for n := range found {
		confs = append(confs, n)
	}
	sort.Strings(confs)
	for _, n := range confs {
		o.Debugf("Loading source drop-in file %s", found[n])
		d, err := readUnit(n, found[n])
		if err != nil {
			return fmt.Errorf("loading drop-in %q: %w", found[n], err)
		}
		u.merge(d)
	}
	return nil
}

// templateParts splits a template's file name: foo@bar.container is (foo, bar), foo@.container
// (foo, ""); ok is false for a file that is not a template's.
func templateParts(filename string) (base, instance string, ok bool) {
	stem := strings.TrimSuffix(filename, filepath.Ext(filename))
	base, instance, ok = strings.Cut(stem, "@")
	return base, instance, ok
}

// installLinks are the symlinks `systemctl enable` would make for the unit's [Install]
// section (Alias=, WantedBy=, RequiredBy=, UpheldBy=), which the generator makes itself as
// generated units cannot be enabled. A template without DefaultInstance= is not enabled.
func installLinks(svc *unitFile) []string {
	var links []string
	for _, a := range allWords(svc, "Install", "Alias") {
		links = append(links, filepath.Clean(a))
	}
	name := svc.filename
	if base, inst, ok := templateParts(name); ok && inst == "" {
		def, ok := svc.last("Install", "DefaultInstance")
		if !ok || def == "" {
			return links
		}
		name = base + "@" + def + filepath.Ext(name)
	}
	for _, dep := range []struct{ key, suffix string }{{"WantedBy", ".wants"}, {"RequiredBy", ".requires"}, {"UpheldBy", ".upholds"}} {
		for _, target := range allWords(svc, "Install", dep.key) {
			if !strings.Contains(target, "/") {
				links = append(links, target+dep.suffix+"/"+name)
			}
		}
	}
	return links
}

// allWords is every word of the values of a list key.
func allWords(u *unitFile, sec, key string) []string {
	var out []string
	for _, v := range u.all(sec, key) {
		w, err := splitWords(v)
		if err != nil {
			continue
		}
		out = append(out, w...)
	}
	return out
}

// WriteService writes svc into dir (a generator's output directory) and makes its install
// symlinks.
func WriteService(dir string, svc Service) error {
	path := filepath.Join(dir, svc.Name)
	if err := os.WriteFile(path, []byte(svc.Text), 0o644); err != nil {
		return err
	}
	var errs []error
	for _, l := range svc.Links {
		link := filepath.Join(dir, l)
		target, err := filepath.Rel(filepath.Dir(l), svc.Name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
			errs = append(errs, err)
			continue
		}
		os.Remove(link)
		if err := os.Symlink(target, link); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
