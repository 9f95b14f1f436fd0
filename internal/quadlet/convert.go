package quadlet

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// generator converts the files of one run. names maps a .volume, .network, .image, .build or
// .pod file that converted to the name of what it makes (its volume, network, image or pod),
// for the files that refer to it; podMembers maps a .pod file to the services of the
// containers that join it (Pod=), which its service starts.
type generator struct {
	o          Options
	names      map[string]string
	units      map[string]*unitFile
	podMembers map[string][]string
}

// service starts the unit made from u: a copy whose section sec is renamed X-sec (systemd
// ignores X- sections), named as serviceName says, with [Unit] SourcePath= and
// RequiresMountsFor= pea's run root (%t/pea: /run/pea as root, the user's runtime directory's
// pea otherwise).
func (g *generator) service(u *unitFile, sec string) *unitFile {
	svc := u.clone()
	svc.filename = serviceName(u)
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

// checkKeys reports the first key of section sec that pea does not read; for a key podman
// documents that pea cannot honour, the error says why.
func checkKeys(u *unitFile, sec string, known []string) error {
	refused := unsupportedKeys(sec)
	for _, k := range u.keys(sec) {
		if slices.Contains(known, k) {
			continue
		}
		if why, ok := refused[k]; ok {
			return fmt.Errorf("unsupported key '%s' in group '%s' in %s: %s", k, sec, u.path, why)
		}
		return fmt.Errorf("unsupported key '%s' in group '%s' in %s", k, sec, u.path)
	}
	return nil
}

// unsupportedKeys are the keys of section sec that podman 5's Quadlet documents and pea cannot
// honour, with the reason: the file is refused rather than run without them.
func unsupportedKeys(sec string) map[string]string {
	const noRetry = "pea tries a pull once (it has no --retry/--retry-delay)"
	m := map[string]string{"ContainersConfModule": "pea reads no containers.conf modules (podman's --module)"}
	switch sec {
	case "Container":
		m["Retry"], m["RetryDelay"] = noRetry, noRetry
	case "Image":
		m["Retry"], m["RetryDelay"] = noRetry, noRetry
		m["DecryptionKey"] = "pea pulls no encrypted images (no --decryption-key)"
		m["Policy"] = "pea's pull has no --policy: it always pulls"
	case "Build":
		m["Retry"], m["RetryDelay"] = noRetry, noRetry
	case "Volume":
		m["Driver"] = "pea's volumes are local ones (no volume drivers, no image volumes)"
		m["Image"] = m["Driver"]
	}
	return m
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

// resource is the name of what the .volume, .network, .image, .build or .pod file ref makes,
// and the service that makes it, which the referring service depends on.
func (g *generator) resource(ref string) (name, service string, err error) {
	name, ok := g.names[ref]
	if !ok {
		if _, loaded := g.units[ref]; loaded {
			return "", "", fmt.Errorf("%s could not be converted", ref)
		}
		return "", "", fmt.Errorf("requested Quadlet source %s was not found", ref)
	}
	return name, serviceName(g.units[ref]), nil
}

// sectionOf is the section of a Quadlet file pea reads: [Container] of NAME.container...
func sectionOf(file string) string {
	ext := strings.TrimPrefix(filepath.Ext(file), ".")
	if ext == "" {
		return ""
	}
	return strings.ToUpper(ext[:1]) + ext[1:]
}

// serviceName is the systemd service a Quadlet file becomes: its ServiceName= with .service
// (podman 5's), else NAME.service for a .container or .kube, NAME-KIND.service for the others.
func serviceName(u *unitFile) string {
	if v, ok := u.last(sectionOf(u.filename), "ServiceName"); ok && v != "" {
		return v + ".service"
	}
	ext := filepath.Ext(u.filename)
	stem := strings.TrimSuffix(u.filename, ext)
	switch ext {
	case ".container", ".kube":
		return stem + ".service"
	}
	return stem + "-" + ext[1:] + ".service"
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
