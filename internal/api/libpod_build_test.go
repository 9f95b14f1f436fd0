package api

import (
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// podman's build parameters as the 4.3 client sends them (lower-cased, JSON lists) become
// pea's build options.
func TestLibpodBuildOptions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		query string
		check func(t *testing.T, o optsView)
	}{
		{"defaults the client sends", "dockerfile=%5B%22Containerfile%22%5D&layers=1&networkmode=0&platform=%2F&pullpolicy=missing&shmsize=67108864&t=x&output=x", func(t *testing.T, o optsView) {
			if o.file != "Containerfile" || o.noCache || o.network != "" || o.platform != "" || o.pull != "" || o.run || !reflect.DeepEqual(o.tags, []string{"x"}) {
				t.Errorf("%+v", o)
			}
		}},
		{"no layers is no cache", "t=", func(t *testing.T, o optsView) {
			if !o.noCache || o.tags != nil {
				t.Errorf("%+v", o)
			}
		}},
		{"labels as a list and a map, build args", "labels=%5B%22a%3D1%22%2C%22b%3D%22%5D&buildargs=%7B%22A%22%3A%227%22%7D&layers=1", func(t *testing.T, o optsView) {
			if !reflect.DeepEqual(o.labels, map[string]string{"a": "1", "b": ""}) || o.args["A"] != "7" {
				t.Errorf("%+v", o)
			}
		}},
		{"Docker's label map", "labels=%7B%22a%22%3A%221%22%7D", func(t *testing.T, o optsView) {
			if !reflect.DeepEqual(o.labels, map[string]string{"a": "1"}) {
				t.Errorf("%+v", o)
			}
		}},
		{"network none, RUN settings", "networkmode=1&extrahosts=%5B%22h%3A1.2.3.4%22%5D&memory=100000000&pullpolicy=always", func(t *testing.T, o optsView) {
			if o.network != "none" || !o.run || o.pull != "always" {
				t.Errorf("%+v", o)
			}
		}},
		{"host network", "nsoptions=%5B%7B%22Name%22%3A%22network%22%2C%22Host%22%3Atrue%7D%5D", func(t *testing.T, o optsView) {
			if o.network != "host" {
				t.Errorf("%+v", o)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			anchor := t.TempDir()
			dir := filepath.Join(anchor, "context")
			os.Mkdir(dir, 0o700)
			o, err := libpodBuildOptions(q, anchor, dir)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(dir, o.File)
			if o.File == "" {
				rel = ""
			}
			tc.check(t, optsView{file: rel, noCache: o.NoCache, network: o.Network, platform: o.Platform, pull: o.Pull,
				run: o.RunTemplate != nil, tags: o.Tags, labels: o.Labels, args: o.Args})
		})
	}
	for _, bad := range []string{"labels=%5B%22%3Dv%22%5D", "pullpolicy=sometimes", "dockerfile=%5B%22a%22%2C%22b%22%5D", "extrahosts=%5B%22nocolon%22%5D", "layers=maybe"} {
		q, _ := url.ParseQuery(bad)
		anchor := t.TempDir()
		if _, err := libpodBuildOptions(q, anchor, anchor); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

type optsView struct {
	file, network, platform, pull string
	noCache, run                  bool
	tags                          []string
	labels, args                  map[string]string
}

// A Containerfile from outside the context (shipped under its absolute path) and a secret leave
// the context; the directories the tar made for them go with them.
func TestShippedFile(t *testing.T) {
	anchor := t.TempDir()
	dir := filepath.Join(anchor, "context")
	os.MkdirAll(filepath.Join(dir, "home/u/x"), 0o700)
	os.WriteFile(filepath.Join(dir, "home/u/x/Containerfile"), []byte("FROM a"), 0o600)
	os.WriteFile(filepath.Join(dir, "own"), []byte("own"), 0o600)
	f, err := shippedFile(anchor, dir, "/home/u/x/Containerfile", "Containerfile", false)
	if err != nil || f != filepath.Join(anchor, "Containerfile") {
		t.Fatalf("%q %v", f, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "home")); !os.IsNotExist(err) {
		t.Errorf("the directories above it stayed: %v", err)
	}
	if f, err := shippedFile(anchor, dir, "own", "x", false); err != nil || f != filepath.Join(dir, "own") {
		t.Errorf("the context's own file: %q %v", f, err)
	}
	if _, err := shippedFile(anchor, dir, "/not/there", "y", false); err == nil {
		t.Errorf("a file the client did not send: no error")
	}
}

// pea generate systemd's flags for podman's parameters.
func TestSystemdArgs(t *testing.T) {
	q, _ := url.ParseQuery("containerprefix=container&new=true&noheader=false&podprefix=pod&separator=-&templateunitfile=false&usename=true&stoptimeout=5&wants=a&wants=b&additionalenvvariables=K%3DV")
	got, err := systemdArgs(q)
	want := []string{"--name", "--new", "--time=5", "--container-prefix=container", "--pod-prefix=pod", "--separator=-", "--wants=a", "--wants=b", "--env=K=V"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%q %v, want %q", got, err, want)
	}
}
