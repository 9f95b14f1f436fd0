package engine

import (
	"runtime"
	"testing"
)

func TestHeredocMarkers(t *testing.T) {
	cases := []struct {
		in    string
		words []string
	}{
		{"<<EOF", []string{"<<EOF"}},
		{"cat <<-END > /x", []string{"<<-END"}},
		{`python3 <<"PY"`, []string{`<<"PY"`}},
		{"cat <<A <<'B2'", []string{"<<A", "<<'B2'"}},
		{"echo $((1<<2))", nil},
		{"cat <<< word", nil},
		{`cat <<"broken`, nil},
		{`echo "a <<b" 'c <<d' \"<<E`, []string{"<<E"}},
		{`["sh", "-c", "cat <<EOF"]`, nil},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got := heredocMarkers(c.in)
			if len(got) != len(c.words) {
				t.Fatalf("markers %+v, want %v", got, c.words)
			}
			for i, d := range got {
				if d.word != c.words[i] {
					t.Fatalf("marker %d: %q, want %q", i, d.word, c.words[i])
				}
			}
		})
	}
}

func TestParseContainerfileHeredoc(t *testing.T) {
	ins, err := parseContainerfile([]byte("FROM x\nRUN --mount=type=cache,target=/c --mount=type=tmpfs,target=/t <<EOF\n  keep spaces\n$X\nEOF\nCOPY <<-A /a\n\tstripped\n\tA\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 3 || len(ins[1].mounts) != 2 || ins[1].docs[0].body != "  keep spaces\n$X\n" || ins[2].docs[0].body != "stripped\n" {
		t.Fatalf("parsed: %+v", ins)
	}
}

func TestParseRunMount(t *testing.T) {
	m, err := parseRunMount("type=secret,id=tok")
	if err != nil || m.target != "/run/secrets/tok" {
		t.Fatalf("secret: %+v %v", m, err)
	}
	m, err = parseRunMount("type=cache,target=/c,id=x,sharing=locked,mode=0700,uid=5")
	if err != nil || m.mode != 0o700 || m.uid != 5 || m.gid != -1 {
		t.Fatalf("cache: %+v %v", m, err)
	}
	for _, bad := range []string{"type=cache", "type=nfs,target=/x", "type=cache,target=/x,mode=9z", "type=bind,target=/x,bogus=1", "type=secret"} {
		if _, err := parseRunMount(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestTargetEnd(t *testing.T) {
	ins, _ := parseContainerfile([]byte("FROM a AS one\nRUN x\nFROM b AS Two\nRUN y\nFROM c\n"))
	for target, want := range map[string]int{"one": 2, "two": 4, "three": -1} {
		if got := targetEnd(ins, target); got != want {
			t.Errorf("%s: %d, want %d", target, got, want)
		}
	}
}

// unusedStages: the stages the last one needs, followed back through FROM, COPY --from and
// RUN --mount=from= (by name or number, through ARGs); a reference left unknown builds all.
func TestUnusedStages(t *testing.T) {
	cases := []struct {
		name, file string
		args       map[string]string
		want       string // one letter per instruction: s skipped, b built
	}{
		{"chain", "FROM a AS one\nRUN x\nFROM one AS two\nFROM b\nCOPY --from=two /x /x\n", nil, "bbbbb"},
		{"unused", "FROM a AS one\nRUN x\nFROM a AS two\nFROM b\nCOPY --from=1 /x /x\n", nil, "ssbbb"},
		{"mount", "FROM a AS one\nFROM a AS two\nFROM b\nRUN --mount=type=bind,from=one,target=/m x\n", nil, "bsbb"},
		{"arg", "ARG SRC=two\nFROM a AS one\nFROM a AS two\nFROM b\nCOPY --from=$SRC /x /x\n", nil, "bsbbb"},
		{"build-arg", "ARG SRC=two\nFROM a AS one\nFROM a AS two\nFROM b\nCOPY --from=${SRC} /x /x\n", map[string]string{"SRC": "one"}, "bbsbb"},
		{"unknown arg", "ARG SRC\nFROM a AS one\nFROM a AS two\nFROM b\nCOPY --from=$SRC /x /x\n", nil, "bbbbb"},
		{"two defaults", "FROM a AS one\nARG S=one\nFROM a AS two\nARG S=two\nFROM b\nCOPY --from=$S /x /x\n", nil, "bbbbbb"},
		{"one stage", "FROM a\nRUN x\n", nil, "bb"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ins, err := parseContainerfile([]byte(c.file))
			if err != nil {
				t.Fatal(err)
			}
			b := &builder{o: BuildOptions{Args: c.args}}
			got := ""
			for _, s := range b.unusedStages(ins) {
				got += map[bool]string{true: "s", false: "b"}[s]
			}
			if got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
			b.o.AllStages = true
			for _, s := range b.unusedStages(ins) {
				if s {
					t.Fatal("AllStages skipped a stage")
				}
			}
		})
	}
}

func TestCheckBuildPlatform(t *testing.T) {
	host := HostPlatform()
	for p, ok := range map[string]bool{host: true, host + "/": true, "linux/s390x": runtime.GOARCH == "s390x",
		"windows/" + runtime.GOARCH: false, "linux": false, host + "/v9": false, host + "/x/y": false} {
		if err := checkBuildPlatform(p); (err == nil) != ok {
			t.Errorf("%s: %v, want ok=%v", p, err, ok)
		}
	}
}
