package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"pea/internal/remote"
)

// The remote client finds flags, their values and the positional arguments as pflag does, so
// that it maps exactly the client's paths.
func TestRemoteCallMapsClientPaths(t *testing.T) {
	dir := t.TempDir()
	envFile := filepath.Join(dir, "e.env")
	os.WriteFile(envFile, nil, 0o644)
	t.Setenv("REMOTE_T1", "v1")
	os.Unsetenv("REMOTE_UNSET")
	a := &app{}
	cases := []struct {
		args    []string
		want    []string // Args after mapping, with IN0/OUT0 for the markers
		inputs  []string
		outputs []remote.Output
	}{
		// run's command is not parsed: its "-o x" and "--env-file" are the container's.
		{[]string{"run", "--env-file=" + envFile, "-it", "bb", "sh", "--env-file", envFile},
			[]string{"run", "--env-file=IN0", "-it", "bb", "sh", "--env-file", envFile}, []string{envFile}, nil},
		{[]string{"container", "run", "--cidfile", "/c/id", "bb", "true"},
			[]string{"container", "run", "--cidfile", "OUT0", "bb", "true"}, nil, []remote.Output{{Path: "/c/id"}}},
		{[]string{"save", "-o/tmp/x.tar", "img"}, []string{"save", "-oOUT0", "img"}, nil, []remote.Output{{Path: "/tmp/x.tar"}}},
		{[]string{"image", "save", "--format", "oci-archive", "--output", "o.tar", "img"},
			[]string{"image", "save", "--format", "oci-archive", "--output", "OUT0", "img"}, nil, []remote.Output{{Path: "o.tar"}}},
		{[]string{"cp", "ctr:/etc/hosts", dir}, []string{"cp", "ctr:/etc/hosts", "OUT0"}, nil, []remote.Output{{Path: dir, Into: true}}},
		{[]string{"cp", envFile, "ctr:/tmp"}, []string{"cp", "IN0", "ctr:/tmp"}, []string{envFile}, nil},
		{[]string{"load", "-q", "-i", envFile}, []string{"load", "-q", "-i", "IN0"}, []string{envFile}, nil},
		{[]string{"pod", "create", "--pod-id-file", "p.id", "--name", "x"}, []string{"pod", "create", "--pod-id-file", "OUT0", "--name", "x"}, nil, []remote.Output{{Path: "p.id"}}},
		{[]string{"pod", "rm", "--pod-id-file", envFile}, []string{"pod", "rm", "--pod-id-file", "IN0"}, []string{envFile}, nil},
		{[]string{"ps", "-a", "--format", "{{.ID}}"}, []string{"ps", "-a", "--format", "{{.ID}}"}, nil, nil},
		{[]string{"generate", "systemd", "--files", "--name", "web"}, []string{"generate", "systemd", "--files", "--name", "web"}, nil, []remote.Output{{Path: ".", Into: true}}},
		// -e NAME carries the client's value; NAME=V and an unset NAME are left as they are.
		{[]string{"run", "-e", "REMOTE_T1", "--env=REMOTE_T1", "-eREMOTE_T1", "-e", "A=b", "-e", "REMOTE_UNSET", "bb"},
			[]string{"run", "-e", "REMOTE_T1=v1", "--env=REMOTE_T1=v1", "-eREMOTE_T1=v1", "-e", "A=b", "-e", "REMOTE_UNSET", "bb"}, nil, nil},
	}
	for _, c := range cases {
		a.args = append([]string{"pea"}, c.args...)
		call, err := remoteCall(a, c.args)
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		got := slices.Clone(call.Req.Args)
		for i := range got {
			got[i] = strings.ReplaceAll(got[i], remote.InputMarker(0), "IN0")
			got[i] = strings.ReplaceAll(got[i], remote.OutputMarker(0), "OUT0")
		}
		if !slices.Equal(got, c.want) || !slices.Equal(call.Inputs, c.inputs) || !slices.Equal(call.Outputs, c.outputs) {
			t.Errorf("%v: args %q inputs %v outputs %v", c.args, got, call.Inputs, call.Outputs)
		}
	}
	a.args = []string{"pea", "load", "-i", filepath.Join(dir, "missing")}
	if _, err := remoteCall(a, a.args[1:]); err == nil {
		t.Error("a missing input is an error")
	}
}

// Remote mode is asked for by leading flags or the environment; the rest of the command line
// is kept as it was.
func TestRemoteFlags(t *testing.T) {
	t.Setenv("CONTAINER_HOST", "")
	t.Setenv("CONTAINER_CONNECTION", "")
	rest, tg, ok, err := remoteFlags([]string{"--log-level", "debug", "--url=unix:///s.sock", "--identity", "/k", "run", "-r", "x"})
	if err != nil || !ok || tg.uri != "unix:///s.sock" || tg.identity != "/k" || !slices.Equal(rest, []string{"--log-level", "debug", "run", "-r", "x"}) {
		t.Fatalf("%v %v %v %v", rest, tg, ok, err)
	}
	if _, _, ok, _ := remoteFlags([]string{"ps", "--remote"}); ok {
		t.Fatal("a flag after the verb is not remote mode's")
	}
	t.Setenv("CONTAINER_HOST", "tcp://127.0.0.1:9")
	if _, tg, ok, _ := remoteFlags([]string{"ps"}); !ok || tg.uri != "tcp://127.0.0.1:9" {
		t.Fatalf("CONTAINER_HOST: %v %v", tg, ok)
	}
	if _, _, ok, _ := remoteFlags([]string{"system", "connection", "ls"}); ok {
		t.Fatal("system connection is the client's own")
	}
	t.Setenv(remote.EnvServed, "--root\x1f/r")
	if _, _, ok, _ := remoteFlags([]string{"ps"}); ok {
		t.Fatal("a pea the service runs is never a client")
	}
}
