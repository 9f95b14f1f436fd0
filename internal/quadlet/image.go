package quadlet

import (
	"fmt"
	"path/filepath"
	"strings"
)

// image converts a .image file: NAME-image.service pulls the image once (a oneshot that stays
// active) with `pea image pull`. A file that names NAME.image in Image= runs the image by its
// ImageTag=, else its Image=.
func (g *generator) image(u *unitFile) (*unitFile, error) {
	const sec = "Image"
	if err := checkKeys(u, sec, []string{"AllTags", "Arch", "AuthFile", "CertDir", "Creds", "GlobalArgs", "Image",
		"ImageTag", "OS", "PodmanArgs", "ServiceName", "TLSVerify", "Variant"}); err != nil {
		return nil, err
	}
	image, ok := u.last(sec, "Image")
	if !ok || image == "" {
		return nil, fmt.Errorf("no Image key specified")
	}
	pull, err := g.pea(u, sec, "image", "pull")
	if err != nil {
		return nil, err
	}
	a := &argv{u: u, sec: sec, args: pull}
	a.flagIf("AllTags", "--all-tags")
	a.scalar("Arch", "--arch")
	a.scalar("AuthFile", "--authfile")
	a.scalar("CertDir", "--cert-dir")
	a.scalar("Creds", "--creds")
	a.scalar("OS", "--os")
	a.boolFlag("TLSVerify", "--tls-verify")
	a.scalar("Variant", "--variant")
	a.words("PodmanArgs")
	a.add(image)
	if a.err != nil {
		return nil, a.err
	}
	svc := g.service(u, sec)
	oneshot(svc, a.args)
	g.names[u.filename] = image
	if tag, ok := u.last(sec, "ImageTag"); ok && tag != "" {
		g.names[u.filename] = tag
	}
	return svc, nil
}

// buildKeys are the [Build] keys pea reads.
func buildKeys() []string {
	return []string{
		"Annotation", "Arch", "AuthFile", "BuildArg", "DNS", "DNSOption", "DNSSearch", "Environment", "File",
		"ForceRM", "GlobalArgs", "GroupAdd", "IgnoreFile", "ImageTag", "Label", "Network", "PodmanArgs", "Pull",
		"Secret", "ServiceName", "SetWorkingDirectory", "Target", "TLSVerify", "Variant", "Volume",
	}
}

// build converts a .build file: NAME-build.service builds the image once (a oneshot that stays
// active; a restart is quick, the steps cached) with `pea build`, tagged with every ImageTag=.
// The context is SetWorkingDirectory=: file (File='s directory) or unit (the .build file's),
// which also become the service's WorkingDirectory=, or a directory; without it, File='s
// directory. A file that names NAME.build in Image= runs the first ImageTag=.
func (g *generator) build(u *unitFile) (*unitFile, error) {
	const sec = "Build"
	if err := checkKeys(u, sec, buildKeys()); err != nil {
		return nil, err
	}
	tags := u.all(sec, "ImageTag")
	if len(tags) == 0 {
		return nil, fmt.Errorf("no ImageTag key specified")
	}
	build, err := g.pea(u, sec, "build")
	if err != nil {
		return nil, err
	}
	a := &argv{u: u, sec: sec, args: build}
	for _, t := range tags {
		a.add(flag("--tag", t)...)
	}
	a.env("Annotation", "--annotation")
	a.scalar("Arch", "--arch")
	a.scalar("AuthFile", "--authfile")
	a.env("BuildArg", "--build-arg")
	a.list("DNS", "--dns")
	a.list("DNSOption", "--dns-option")
	a.list("DNSSearch", "--dns-search")
	a.env("Environment", "--env")
	a.boolFlag("ForceRM", "--force-rm")
	a.list("GroupAdd", "--group-add")
	if f, ok := u.last(sec, "IgnoreFile"); ok && f != "" {
		a.add(flag("--ignorefile", resolvePath(u, f))...)
	}
	a.env("Label", "--label")
	switch n, _ := u.last(sec, "Network"); n {
	case "":
	case "bridge", "default", "host", "none":
		a.add("--network", n)
	default:
		return nil, fmt.Errorf("Network=%s: pea's build runs RUN on bridge, host or none only", n)
	}
	a.scalarJoined("Pull", "--pull=") // one word: --pull alone means always
	a.list("Secret", "--secret")
	a.scalar("Target", "--target")
	a.boolFlag("TLSVerify", "--tls-verify")
	a.scalar("Variant", "--variant")
	if err := g.volumes(a); err != nil {
		return nil, err
	}
	a.words("PodmanArgs")
	if a.err != nil {
		return nil, a.err
	}

	svc := g.service(u, sec)
	file, _ := u.last(sec, "File")
	if isURL(file) {
		return nil, fmt.Errorf("File=%s: pea builds from a local Containerfile", file)
	}
	var context string
	switch wd, _ := u.last(sec, "SetWorkingDirectory"); strings.ToLower(wd) {
	case "":
		if file == "" && !u.has("Service", "WorkingDirectory") {
			return nil, fmt.Errorf("neither SetWorkingDirectory nor File key specified")
		}
		file = resolvePath(u, file)
	case "file":
		if file == "" {
			return nil, fmt.Errorf("SetWorkingDirectory=file needs a File key")
		}
		file = resolvePath(u, file)
		context = filepath.Dir(file)
		svc.addDefault("Service", "WorkingDirectory", context)
	case "unit":
		file = resolvePath(u, file)
		context = escapeSpecifiers(filepath.Dir(u.path))
		svc.addDefault("Service", "WorkingDirectory", context)
	default:
		if isURL(wd) {
			return nil, fmt.Errorf("SetWorkingDirectory=%s: pea builds from a local directory", wd)
		}
		context = wd
		if file != "" && !filepath.IsAbs(file) && !strings.HasPrefix(file, "%") {
			file = filepath.Join(context, file) // a Containerfile of the context
		}
	}
	if file != "" {
		a.add(flag("--file", file)...)
	}
	if context != "" {
		a.add(context)
	}
	requireAll(svc, a.deps)
	oneshot(svc, a.args)
	g.names[u.filename] = tags[0]
	return svc, nil
}

// isURL tells a remote Containerfile or context (podman's http(s):// and git) from a path.
func isURL(s string) bool {
	return strings.Contains(s, "://") || strings.HasPrefix(s, "git@")
}
