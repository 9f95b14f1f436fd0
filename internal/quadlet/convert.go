package quadlet

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// generator converts the files of one run; names maps a .volume or .network file to the name
// of what it makes, for the files that refer to it.
type generator struct {
	o     Options
	names map[string]string
	units map[string]*unitFile
}

// service starts the unit made from u: a copy whose section sec is renamed X-sec (systemd
// ignores X- sections), named name, with [Unit] SourcePath= and RequiresMountsFor= pea's run
// root (%t/pea: /run/pea as root, the user's runtime directory's pea otherwise).
func (g *generator) service(u *unitFile, sec, name string) *unitFile {
	svc := u.clone()
	svc.filename = name
	svc.rename(sec, "X-"+sec)
	svc.add("Unit", "SourcePath", u.path)
	svc.add("Unit", "RequiresMountsFor", "%t/pea")
	return svc
}

// pea is the start of a pea command line: the executable, then the file's GlobalArgs=.
func (g *generator) pea(u *unitFile, sec string, verb ...string) ([]string, error) {
	global, err := words(u, sec, "GlobalArgs")
	if err != nil {
		return nil, err
	}
	return append(append([]string{g.o.Pea}, global...), verb...), nil
}

// checkKeys reports the first key of section sec that pea does not read.
func checkKeys(u *unitFile, sec string, known []string) error {
	for _, k := range u.keys(sec) {
		if !slices.Contains(known, k) {
			return fmt.Errorf("unsupported key '%s' in group '%s' in %s", k, sec, u.path)
		}
	}
	return nil
}

// boolean reads a systemd boolean (1/yes/true/on, 0/no/false/off); def when the key is unset.
func boolean(u *unitFile, sec, key string, def bool) (bool, error) {
	v, ok := u.last(sec, key)
	if !ok {
		return def, nil
	}
	switch strings.ToLower(v) {
	case "1", "yes", "y", "true", "t", "on":
		return true, nil
	case "0", "no", "n", "false", "f", "off":
		return false, nil
	}
	return false, fmt.Errorf("%s=%s: not a boolean", key, v)
}

// words is every word of every value of a list key (AddCapability=, PodmanArgs=, Exec=...).
func words(u *unitFile, sec, key string) ([]string, error) {
	var out []string
	for _, v := range u.all(sec, key) {
		w, err := splitWords(v)
		if err != nil {
			return nil, fmt.Errorf("%s=: %w", key, err)
		}
		out = append(out, w...)
	}
	return out, nil
}

// assignments are the KEY=VALUE words of an Environment=-like key (Environment=, Label=,
// Annotation=, Options=).
func assignments(u *unitFile, sec, key string) ([]string, error) {
	ws, err := words(u, sec, key)
	if err != nil {
		return nil, err
	}
	for _, w := range ws {
		if k, _, ok := strings.Cut(w, "="); !ok || k == "" {
			return nil, fmt.Errorf("%s=: %q is not KEY=VALUE", key, w)
		}
	}
	return ws, nil
}

// flag is a flag with its value, as one word (--flag=value) when the value could pass for a flag.
func flag(name, value string) []string {
	if strings.HasPrefix(value, "-") {
		return []string{name + "=" + value}
	}
	return []string{name, value}
}

// resolvePath makes a relative path of file u absolute, from u's directory. A path that starts
// with % is left to systemd (a specifier: write ./%n... to have it resolved).
func resolvePath(u *unitFile, p string) string {
	if p == "" || filepath.IsAbs(p) || strings.HasPrefix(p, "%") {
		return p
	}
	return filepath.Join(escapeSpecifiers(filepath.Dir(u.path)), p)
}

// resource is the name of what the .volume or .network file ref makes, and the service that
// makes it, which the referring service requires.
func (g *generator) resource(ref string) (name, service string, err error) {
	name, ok := g.names[ref]
	if !ok {
		if _, loaded := g.units[ref]; loaded {
			return "", "", fmt.Errorf("%s could not be converted", ref)
		}
		return "", "", fmt.Errorf("requested Quadlet source %s was not found", ref)
	}
	return name, serviceName(ref), nil
}

// serviceName is the systemd service a Quadlet file becomes.
func serviceName(file string) string {
	ext := filepath.Ext(file)
	stem := strings.TrimSuffix(file, ext)
	switch ext {
	case ".volume", ".network":
		return stem + "-" + ext[1:] + ".service"
	}
	return stem + ".service"
}

// requireAll makes svc require and start after each of services.
func requireAll(svc *unitFile, services []string) {
	var seen []string
	for _, s := range services {
		if slices.Contains(seen, s) {
			continue
		}
		seen = append(seen, s)
		svc.add("Unit", "Requires", s)
		svc.add("Unit", "After", s)
	}
}

// defaultName is the name of what a file makes when it names none: systemd-NAME, after the
// file's name (a template's instance becomes NAME_INSTANCE, as container names cannot hold @).
func defaultName(u *unitFile, specifier bool) string {
	if _, _, ok := templateParts(u.filename); ok {
		return "systemd-%p_%i"
	}
	if specifier {
		return "systemd-%N"
	}
	return "systemd-" + strings.TrimSuffix(u.filename, filepath.Ext(u.filename))
}

// hostPathExists tells AddDevice=-/dev/x (add it only when the host has it) apart.
func hostPathExists(p string) bool { _, err := os.Stat(p); return err == nil }
