package collector

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestShortArgs(t *testing.T) {
	g := []string{"pea", "--root", "/r", "--runroot", "/rr"}
	for _, c := range []struct {
		args  []string
		short bool
	}{
		{[]string{"ps", "-a"}, true},
		{[]string{"pod", "ps"}, true},
		{[]string{"pod", "ls"}, true},
		{[]string{"version"}, true},
		{[]string{}, true},
		{[]string{"pod"}, true}, // the group's usage
		{[]string{"logs", "--help"}, true},
		{[]string{"images"}, true},
		{[]string{"inspect", "c"}, true},
		{[]string{"create", "--name", "c", "bb", "true"}, true},
		{[]string{"create", "-a", "stdout", "bb", "true"}, true}, // -a is --attach here
		{[]string{"rm", "-f", "c"}, true},
		{[]string{"rm", "-fa"}, false},
		{[]string{"rm", "--all"}, false},
		{[]string{"pod", "rm", "-a", "-f"}, false},
		{[]string{"pod", "create", "--name", "p"}, true},
		{[]string{"pod", "create", "--infra-image", "x"}, false},
		{[]string{"pod", "create", "--infra-image=x"}, false},
		{[]string{"pod", "start", "p"}, true},
		{[]string{"pod", "stats", "--no-stream"}, true},
		{[]string{"pod", "stats"}, false},
		{[]string{"stats", "--no-stream", "c"}, true},
		{[]string{"container", "cleanup", "id"}, true},
		{[]string{"cleanup", "id"}, false},
		{[]string{"image", "ls"}, true},
		{[]string{"image", "rm", "x"}, false},
		{[]string{"volume", "rm", "v"}, false},
		{[]string{"volume", "ls"}, true},
		{[]string{"network", "create", "n"}, true},
		{[]string{"run", "--rm", "bb", "true"}, false},
		{[]string{"start", "c"}, false},
		{[]string{"exec", "c", "true"}, false},
		{[]string{"logs", "c"}, false},
		{[]string{"pull", "x"}, false},
		{[]string{"kube", "play", "f.yaml"}, false},
		{[]string{"system", "empty-trash"}, false},
		{[]string{"nosuchverb"}, false},
		{[]string{"--log-level", "debug", "ps"}, true},
		{[]string{"--log-level=debug", "ps"}, true},
		{[]string{"pod", "--root", "/x", "ps"}, false}, // not read as pod ps: the long way, to be safe
	} {
		args := append(slices.Clone(g), c.args...)
		if got := ShortArgs(args); got != c.short {
			t.Errorf("ShortArgs(%q) = %v, want %v", c.args, got, c.short)
		}
	}
	many := append(slices.Clone(g), "rm")
	for i := range 40 {
		many = append(many, "c"+strings.Repeat("x", i))
	}
	if ShortArgs(many) {
		t.Error("rm of 40 containers named one by one counted as short")
	}
}

func TestWithCollector(t *testing.T) {
	for _, c := range []struct {
		env  []string
		want []string
	}{
		{[]string{"A=1"}, []string{"A=1", "GODEBUG=sbrk=0", "PEA_GODEBUG_WAS="}},
		{[]string{"GODEBUG=netdns=go", "B=2"}, []string{"B=2", "GODEBUG=netdns=go,sbrk=0", "PEA_GODEBUG_WAS=netdns=go"}},
		{[]string{"PEA_GODEBUG_WAS=old", "GODEBUG="}, []string{"GODEBUG=sbrk=0", "PEA_GODEBUG_WAS="}},
	} {
		if got := withCollector(c.env); !slices.Equal(got, c.want) {
			t.Errorf("withCollector(%q) = %q, want %q", c.env, got, c.want)
		}
	}
}

func TestRestoreEnv(t *testing.T) {
	t.Setenv("GODEBUG", "netdns=go,sbrk=0")
	t.Setenv(wasVar, "netdns=go")
	RestoreEnv()
	if v := os.Getenv("GODEBUG"); v != "netdns=go" {
		t.Errorf("GODEBUG after RestoreEnv: %q", v)
	}
	if _, ok := os.LookupEnv(wasVar); ok {
		t.Errorf("%s still set", wasVar)
	}
	t.Setenv("GODEBUG", "sbrk=0")
	t.Setenv(wasVar, "")
	RestoreEnv()
	if v, ok := os.LookupEnv("GODEBUG"); ok {
		t.Errorf("GODEBUG after RestoreEnv of an unset one: %q", v)
	}
	// Without the marker, GODEBUG is the user's own and stays.
	t.Setenv("GODEBUG", "sbrk=0")
	RestoreEnv()
	if v := os.Getenv("GODEBUG"); v != "sbrk=0" {
		t.Errorf("a GODEBUG of the user's own changed: %q", v)
	}
}

// A test binary runs with Go's usual allocator.
func TestOn(t *testing.T) {
	if !On() {
		t.Error("On() = false in a test binary")
	}
	if d := Describe(); d != "collector: on" {
		t.Errorf("Describe() = %q", d)
	}
}
