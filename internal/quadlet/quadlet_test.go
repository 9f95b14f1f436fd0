package quadlet

import (
	goflag "flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = goflag.Bool("update", false, "rewrite the golden files of testdata/golden")

// copySources copies the Quadlet files of testdata/src into a directory of its own, as generated
// paths are absolute.
func copySources(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := filepath.Walk("testdata/src", func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("testdata/src", p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// The services of testdata/src are testdata/golden's (go test -run TestGolden -update rewrites
// them); the source directory is written SRC there.
func TestGolden(t *testing.T) {
	dir := copySources(t)
	services, errs := Generate([]string{dir}, Options{Pea: "/usr/bin/pea"})
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	want := []string{"data-volume.service", "tmp-volume.service", "net-network.service", "fetch-app.service", "made-build.service",
		"grp-pod.service", "all.service", "lazy-member.service", "member.service", "rootfs@.service", "web.service", "app.service"}
	var got []string
	for _, s := range services {
		got = append(got, s.Name)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("services %v, want %v", got, want)
	}
	for _, s := range services {
		text := strings.ReplaceAll(s.Text, dir, "SRC")
		if len(s.Links) > 0 {
			text += "# links: " + strings.Join(s.Links, " ") + "\n"
		}
		golden := filepath.Join("testdata", "golden", s.Name)
		if *update {
			if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != text {
			t.Errorf("%s differs from %s:\n%s", s.Name, golden, text)
		}
	}
}

// A file with an error is reported and left out; the others are generated.
func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, file, text, want string
	}{
		{"unknown key", "a.container", "[Container]\nImage=x\nImagee=y\n", "unsupported key 'Imagee' in group 'Container'"},
		{"no image", "a.container", "[Container]\nExec=true\n", "no Image or Rootfs key specified"},
		{"image and rootfs", "a.container", "[Container]\nImage=x\nRootfs=/r\n", "the Image and Rootfs keys conflict"},
		{"group without user", "a.container", "[Container]\nImage=x\nGroup=1\n", "invalid Group set without User"},
		{"bad boolean", "a.container", "[Container]\nImage=x\nReadOnly=maybe\n", "ReadOnly=maybe: not a boolean"},
		{"missing volume", "a.container", "[Container]\nImage=x\nVolume=nosuch.volume:/d\n", "requested Quadlet source nosuch.volume was not found"},
		{"missing network", "a.container", "[Container]\nImage=x\nNetwork=nosuch.network\n", "requested Quadlet source nosuch.network was not found"},
		{"unbalanced quote", "a.container", "[Container]\nImage=x\nExec=sh -c \"echo\n", "unbalanced quotes"},
		{"healthy", "a.container", "[Container]\nImage=x\nNotify=healthy\n", "Notify=healthy"},
		{"reload both", "a.container", "[Container]\nImage=x\nReloadCmd=a\nReloadSignal=HUP\n", "mutually exclusive"},
		{"no yaml", "a.kube", "[Kube]\nNetwork=host\n", "no Yaml key specified"},
		{"gateways", "a.network", "[Network]\nGateway=10.0.0.1\n", "cannot set more gateways than subnets"},
		{"volume key", "a.volume", "[Volume]\nDriver=image\n", "unsupported key 'Driver' in group 'Volume' in "},
		{"syntax", "a.container", "[Container]\nImage\n", "is not a Key=Value assignment"},
		{"missing pod", "a.container", "[Container]\nImage=x\nPod=nosuch.pod\n", "requested Quadlet source nosuch.pod was not found"},
		{"pod not quadlet", "a.container", "[Container]\nImage=x\nPod=mypod\n", "Pod=mypod: not a Quadlet .pod file"},
		{"bad start with pod", "a.container", "[Container]\nImage=x\nStartWithPod=later\n", "StartWithPod=later: not a boolean"},
		{"missing image file", "a.container", "[Container]\nImage=nosuch.image\n", "requested Quadlet source nosuch.image was not found"},
		{"missing build file", "a.container", "[Container]\nImage=x\nMount=type=image,source=nosuch.build,destination=/i\n", "requested Quadlet source nosuch.build was not found"},
		{"pod key", "a.pod", "[Pod]\nPodNam=x\n", "unsupported key 'PodNam' in group 'Pod'"},
		{"pod module", "a.pod", "[Pod]\nContainersConfModule=/etc/m.conf\n", "unsupported key 'ContainersConfModule' in group 'Pod' in "},
		{"pod missing network", "a.pod", "[Pod]\nNetwork=nosuch.network\n", "requested Quadlet source nosuch.network was not found"},
		{"no image", "a.image", "[Image]\nAllTags=true\n", "no Image key specified"},
		{"decryption", "a.image", "[Image]\nImage=x\nDecryptionKey=/k\n", "pea pulls no encrypted images"},
		{"image retry", "a.image", "[Image]\nImage=x\nRetry=3\n", "unsupported key 'Retry' in group 'Image'"},
		{"image policy", "a.image", "[Image]\nImage=x\nPolicy=missing\n", "unsupported key 'Policy' in group 'Image'"},
		{"image tls", "a.image", "[Image]\nImage=x\nTLSVerify=sometimes\n", "TLSVerify=sometimes: not a boolean"},
		{"no tag", "a.build", "[Build]\nFile=/c\n", "no ImageTag key specified"},
		{"no context", "a.build", "[Build]\nImageTag=t\n", "neither SetWorkingDirectory nor File key specified"},
		{"file dir without file", "a.build", "[Build]\nImageTag=t\nSetWorkingDirectory=file\n", "SetWorkingDirectory=file needs a File key"},
		{"remote file", "a.build", "[Build]\nImageTag=t\nFile=https://example.com/Containerfile\n", "pea builds from a local Containerfile"},
		{"remote context", "a.build", "[Build]\nImageTag=t\nSetWorkingDirectory=https://example.com/c.git\n", "pea builds from a local directory"},
		{"build network", "a.build", "[Build]\nImageTag=t\nFile=/c\nNetwork=mynet\n", "pea's build runs RUN on bridge, host or none only"},
		{"build retry", "a.build", "[Build]\nImageTag=t\nFile=/c\nRetryDelay=5s\n", "pea tries a pull once"},
		{"outside", "a.container", "Image=x\n", "outside of a section"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, tc.file), []byte(tc.text), 0o644)
			os.WriteFile(filepath.Join(dir, "ok.container"), []byte("[Container]\nImage=x\n"), 0o644)
			services, errs := Generate([]string{dir}, Options{Pea: "/usr/bin/pea"})
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.want) {
				t.Fatalf("errors %v, want one with %q", errs, tc.want)
			}
			if len(services) != 1 || services[0].Name != "ok.service" {
				t.Fatalf("services %v: want ok.service alone", services)
			}
		})
	}
}

// A file that names one that could not be converted is not converted either: a .pod, .image
// or .build with an error takes the files that use it out, and each says why.
func TestDependencyErrors(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"bad.pod":          "[Pod]\nNoSuchKey=1\n",
		"bad.image":        "[Image]\nImageTag=x\n",
		"bad.build":        "[Build]\nFile=/c\n",
		"in-pod.container": "[Container]\nImage=x\nPod=bad.pod\n",
		"pulled.container": "[Container]\nImage=bad.image\n",
		"built.container":  "[Container]\nImage=bad.build\n",
		"ok.pod":           "[Pod]\n",
	} {
		os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644)
	}
	services, errs := Generate([]string{dir}, Options{Pea: "/usr/bin/pea"})
	if len(services) != 1 || services[0].Name != "ok-pod.service" {
		t.Fatalf("services %v: want ok-pod.service alone", services)
	}
	var all []string
	for _, err := range errs {
		all = append(all, err.Error())
	}
	text := strings.Join(all, "\n")
	for _, want := range []string{"bad.pod could not be converted", "bad.image could not be converted", "bad.build could not be converted",
		"unsupported key 'NoSuchKey' in group 'Pod'", "no Image key specified", "no ImageTag key specified"} {
		if !strings.Contains(text, want) {
			t.Errorf("errors lack %q:\n%s", want, text)
		}
	}
	if len(errs) != 6 {
		t.Errorf("%d errors, want 6:\n%s", len(errs), text)
	}
}

// The first directory's file of a name wins; other extensions are not read.
func TestSourceOrder(t *testing.T) {
	first, second := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(first, "a.container"), []byte("[Container]\nImage=first\n"), 0o644)
	os.WriteFile(filepath.Join(second, "a.container"), []byte("[Container]\nImage=second\n"), 0o644)
	os.WriteFile(filepath.Join(second, "b.container"), []byte("[Container]\nImage=b\n"), 0o644)
	os.WriteFile(filepath.Join(second, "c.service"), []byte("[Service]\n"), 0o644)
	services, errs := Generate([]string{first, second}, Options{Pea: "/usr/bin/pea"})
	if len(errs) > 0 || len(services) != 2 {
		t.Fatalf("%v %v", services, errs)
	}
	if !strings.Contains(services[0].Text, " first\n") || services[1].Name != "b.service" {
		t.Fatalf("services:\n%s\n%s", services[0].Text, services[1].Text)
	}
}

func TestSourceDirs(t *testing.T) {
	t.Setenv("PEA_QUADLET_UNIT_DIRS", "")
	t.Setenv("XDG_CONFIG_HOME", "/home/u/.config")
	if d, _ := SourceDirs(false); strings.Join(d, ":") != "/etc/pea/systemd:/usr/share/pea/systemd" {
		t.Errorf("system: %v", d)
	}
	d, _ := SourceDirs(true)
	if want := "/home/u/.config/pea/systemd:/etc/pea/systemd/users/" + strconv.Itoa(os.Getuid()) + ":/etc/pea/systemd/users"; strings.Join(d, ":") != want {
		t.Errorf("user: %v, want %s", d, want)
	}
	t.Setenv("PEA_QUADLET_UNIT_DIRS", "/a:/b")
	if d, _ := SourceDirs(true); strings.Join(d, ":") != "/a:/b" {
		t.Errorf("PEA_QUADLET_UNIT_DIRS: %v", d)
	}
	t.Setenv("PEA_QUADLET_UNIT_DIRS", "/a:b")
	if _, err := SourceDirs(false); err == nil {
		t.Errorf("a relative directory was accepted")
	}
}
