package state

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"pea/internal/model"
)

// randomValue fills v (a pointer) with random contents: strings with quotes, escapes, HTML
// characters, control characters, invalid UTF-8 and non-ASCII text; integers at their limits;
// times in several zones; nil, empty and full slices and maps.
func randomValue(r *rand.Rand, v reflect.Value) {
	strs := []string{"", "a", "web-1", "日本語", `q"uote`, `back\slash`, "<b>&amp;", "tab\there", "\x01", "\xff\xfe",
		"\u2028", "é", "ID", "/catatonit", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
	switch v.Kind() {
	case reflect.String:
		v.SetString(strs[r.IntN(len(strs))])
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := v.Type().Bits()
		switch r.IntN(4) {
		case 0:
			v.SetInt(0)
		case 1:
			v.SetInt(-1 << (bits - 1))
		case 2:
			v.SetInt(1<<(bits-1) - 1)
		default:
			v.SetInt(int64(r.Uint64()) >> (64 - bits))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if r.IntN(3) == 0 {
			v.SetUint(math.MaxUint64 >> (64 - v.Type().Bits()))
		} else {
			v.SetUint(r.Uint64() >> (64 - v.Type().Bits()))
		}
	case reflect.Float64:
		v.SetFloat(r.Float64() * 4)
	case reflect.Slice:
		if r.IntN(4) == 0 {
			return // nil
		}
		n := r.IntN(3)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			randomValue(r, s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		if r.IntN(4) == 0 {
			return
		}
		m := reflect.MakeMap(v.Type())
		for range r.IntN(3) {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			randomValue(r, k)
			randomValue(r, e)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			zones := []*time.Location{time.UTC, time.FixedZone("", 3600), time.FixedZone("", -5*3600-1800)}
			t := time.Unix(r.Int64N(4e9), r.Int64N(1e9)).In(zones[r.IntN(len(zones))])
			if r.IntN(4) == 0 {
				t = time.Time{}
			}
			v.Set(reflect.ValueOf(t))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				randomValue(r, v.Field(i))
			}
		}
	}
}

// The fast decoders must give what encoding/json gives, for every document json.Marshal writes.
func TestFastJSONMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	fast := 0
	for i := range 20000 {
		var cfg model.ContainerConfig
		randomValue(r, reflect.ValueOf(&cfg).Elem())
		b, err := json.Marshal(&cfg)
		if err != nil {
			t.Fatal(err)
		}
		sameAsEncodingJSON(t, i, b, decodeListedConfig)

		var st model.ContainerState
		randomValue(r, reflect.ValueOf(&st).Elem())
		if b, err = json.Marshal(&st); err != nil {
			t.Fatal(err)
		}
		sameAsEncodingJSON(t, i, b, decodeState)
		if fastState(b, &model.ContainerState{}) == nil {
			fast++
		}
	}
	if fast == 0 {
		t.Fatal("the fast path never decoded a state")
	}
}

// sameAsEncodingJSON fails the test unless decode reads b as json.Unmarshal does.
func sameAsEncodingJSON[T any](t *testing.T, i int, b []byte, decode func([]byte, *T) error) {
	t.Helper()
	var want, got T
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if err := decode(b, &got); err != nil {
		t.Fatalf("%d: %v\n%s", i, err, b)
	}
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("%d: %T\n%s\nencoding/json: %#v\nfast:          %#v", i, want, b, want, got)
	}
}

// What pea writes for an ordinary container goes through the fast path, not the fallback.
func TestFastJSONTakesOrdinaryDocuments(t *testing.T) {
	c := ctr(id('c', 1), "web", "", id('p', 1))
	c.Config.ImageName, c.Config.Image, c.Config.Cmd = "localhost/bb:latest", id('i', 1), []string{"sleep", "100"}
	c.Config.Labels = map[string]string{"app": "web"}
	c.Config.Mounts = []model.Mount{{Type: "bind", Source: "/srv", Destination: "/data", Options: []string{"rbind"}}}
	c.Config.Network.Ports = []model.PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}}
	c.Config.Env = []string{"PATH=/bin"}
	c.Config.Namespaces = map[string]model.Namespace{"net": {Mode: "bridge"}}
	c.State = &model.ContainerState{Status: model.StatusRunning, Pid: 42, ConmonPid: 41, StartedAt: time.Now(),
		Networks: map[string]model.NetworkStatus{"pea": {Interface: "eth0", IPAddress: "10.88.0.2", PrefixLen: 16}}}
	var l listedConfig
	if err := fastListedConfig([]byte(mustJSON(c.Config)), &l); err != nil {
		t.Fatalf("config: %v", err)
	}
	var st model.ContainerState
	if err := fastState([]byte(mustJSON(c.State)), &st); err != nil {
		t.Fatalf("state: %v", err)
	}
	if l.Network.Ports[0].HostPort != 8080 || st.Networks["pea"].PrefixLen != 16 || st.Pid != 42 {
		t.Fatalf("decoded %+v %+v", l, st)
	}
}

// A command with shell characters goes through the fast path too: encoding/json writes '&', '<'
// and '>' as \u escapes, and every such container used to fall back to encoding/json (the bench's
// pod members, `sh -c "trap 'exit 0' TERM; sleep 1000 & wait"`, made `ps -a` of 10 pods 0.4 ms
// slower).
func TestFastJSONTakesEscapedStrings(t *testing.T) {
	c := ctr(id('c', 1), "web", "", id('p', 1))
	c.Config.Cmd = []string{"sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait", `echo "a\b" > /tmp/x < /dev/null`,
		"line\nbreak\ttab", "é 日本 😀", "\u2028\u2029", "\x01\x1f"}
	c.Config.Labels = map[string]string{"a&b": `"quoted"`, "emoji😀": "/path/with/slash"}
	b := []byte(mustJSON(c.Config))
	var l listedConfig
	if err := fastListedConfig(b, &l); err != nil {
		t.Fatalf("fast path refused %s: %v", b, err)
	}
	sameAsEncodingJSON(t, 0, b, decodeListedConfig)
	if l.Cmd[2] != c.Config.Cmd[2] || l.Labels["emoji😀"] != "/path/with/slash" {
		t.Fatalf("decoded %q %q", l.Cmd, l.Labels)
	}
	// Escapes encoding/json decodes to U+FFFD, and broken ones, are left to it.
	for _, doc := range []string{`{"cmd":["\ud800"]}`, `{"cmd":["\udc00x"]}`, `{"cmd":["\ud83d\u0041"]}`,
		`{"cmd":["\ud83d \ude00"]}`, `{"cmd":["\u12"]}`, `{"cmd":["\q"]}`, `{"cmd":["a\`} {
		if fastListedConfig([]byte(doc), &listedConfig{}) == nil {
			t.Errorf("fast path took %s", doc)
		}
		var want, got listedConfig
		if json.Unmarshal([]byte(doc), &want) == nil {
			sameAsEncodingJSON(t, 1, []byte(doc), decodeListedConfig)
		} else if decodeListedConfig([]byte(doc), &got) == nil {
			t.Errorf("%s decoded, encoding/json refuses it", doc)
		}
	}
	// A surrogate pair is one character.
	var l2 listedConfig
	if err := fastListedConfig([]byte(`{"cmd":["\ud83d\ude00\u0026"]}`), &l2); err != nil || l2.Cmd[0] != "😀&" {
		t.Fatalf("pair: %q %v", l2.Cmd, err)
	}
}

// decodePodConfigOnly and decodePodStateOnly are decodePodDocs for one document, the other empty.
func decodePodConfigOnly(b []byte, c *model.PodConfig) error {
	return decodePodDocs(b, []byte(`{}`), &model.Pod{Config: c, State: &model.PodState{}})
}

func decodePodStateOnly(b []byte, st *model.PodState) error {
	return decodePodDocs([]byte(`{}`), b, &model.Pod{Config: &model.PodConfig{}, State: st})
}

func TestFastJSONPodsMatchEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	fast := 0
	for i := range 20000 {
		var cfg model.PodConfig
		randomValue(r, reflect.ValueOf(&cfg).Elem())
		b, err := json.Marshal(&cfg)
		if err != nil {
			t.Fatal(err)
		}
		sameAsEncodingJSON(t, i, b, decodePodConfigOnly)
		var st model.PodState
		randomValue(r, reflect.ValueOf(&st).Elem())
		if b, err = json.Marshal(&st); err != nil {
			t.Fatal(err)
		}
		sameAsEncodingJSON(t, i, b, decodePodStateOnly)
		if fastPodState(b, &model.PodState{}) == nil {
			fast++
		}
	}
	// A random config (thirty strings, a float) nearly always holds something that sends it to
	// encoding/json; TestFastJSONTakesOrdinaryPods checks that an ordinary one does not.
	if fast == 0 {
		t.Fatal("the fast path never decoded a pod state")
	}
}

func TestFastJSONTakesOrdinaryPods(t *testing.T) {
	c := model.NewPodConfig("web")
	c.ID, c.Created, c.Labels = id('p', 1), time.Now(), map[string]string{"app": "web"}
	c.Infra.Ports = []model.PortMapping{{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}}
	c.Resources.Memory, c.Resources.CPUs = 64<<20, 2
	st := model.PodState{CgroupPath: "/pea/pod-x", InfraContainerID: id('c', 1)}
	var got model.PodConfig
	if err := fastPodConfig([]byte(mustJSON(c)), &got); err != nil {
		t.Fatalf("config: %v", err)
	}
	var gotSt model.PodState
	if err := fastPodState([]byte(mustJSON(&st)), &gotSt); err != nil {
		t.Fatalf("state: %v", err)
	}
	if got.Infra.Ports[0].HostPort != 8080 || got.Resources.CPUs != 2 || !got.ShareNet || gotSt != st || !got.Created.Equal(c.Created) {
		t.Fatalf("decoded %+v %+v", got, gotSt)
	}
	// Half a CPU is not an integer: encoding/json reads it.
	c.Resources.CPUs = 0.5
	p, err := decodePod([]byte(mustJSON(c)), []byte(mustJSON(&st)))
	if err != nil || p.Config.Resources.CPUs != 0.5 {
		t.Fatalf("cpus 0.5: %v, %+v", err, p)
	}
}

// On any input that encoding/json accepts, the decoders (fast path or fallback) must agree
// with it; on the rest they must not panic.
func FuzzFastJSON(f *testing.F) {
	f.Add([]byte(`{"status":"running","pid":5,"startedAt":"2026-11-29T21:03:36.4729Z","networks":{"pea":{"ipAddress":"10.0.0.2"}}}`))
	f.Add([]byte(`{"id":"x","created":"2026-11-29T21:03:36Z","cmd":["a"],"labels":{"k":"v"},"network":{"ports":[{"hostPort":80}]},"env":["A=\u00e9"]}`))
	f.Add([]byte(`{"ID":"x","Pid":1}`))
	f.Add([]byte(`{"cmd":["a \u0026 b","\ud83d\ude00","q\"\\\/\n"],"labels":{"k\u003c":"\u003e"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var wantSt, gotSt model.ContainerState
		if json.Unmarshal(b, &wantSt) == nil {
			if err := decodeState(b, &gotSt); err != nil || !reflect.DeepEqual(wantSt, gotSt) {
				t.Fatalf("state %q: %v\n%#v\n%#v", b, err, wantSt, gotSt)
			}
		} else {
			decodeState(b, &gotSt)
		}
		var wantPod, gotPod model.PodConfig
		if json.Unmarshal(b, &wantPod) == nil {
			if err := decodePodConfigOnly(b, &gotPod); err != nil || !reflect.DeepEqual(wantPod, gotPod) {
				t.Fatalf("pod config %q: %v\n%#v\n%#v", b, err, wantPod, gotPod)
			}
		} else {
			decodePodConfigOnly(b, &gotPod)
		}
		var want, got listedConfig
		if json.Unmarshal(b, &want) == nil {
			if err := decodeListedConfig(b, &got); err != nil || !reflect.DeepEqual(want, got) {
				t.Fatalf("config %q: %v\n%#v\n%#v", b, err, want, got)
			}
		} else {
			decodeListedConfig(b, &got)
		}
	})
}

func BenchmarkDecodeListed(b *testing.B) {
	c := ctr(id('c', 1), "web", "", id('p', 1))
	c.Config.ImageName, c.Config.Cmd = "localhost/bb:latest", []string{"sleep", "100"}
	c.Config.CreateCommand = []string{"pea", "create", "--pod", "p1", "localhost/bb", "sleep", "100"}
	c.Config.Namespaces = map[string]model.Namespace{"net": {Mode: "container", Value: id('c', 2)}, "ipc": {Mode: "container", Value: id('c', 2)}}
	cfg := []byte(mustJSON(c.Config))
	st := []byte(mustJSON(&model.ContainerState{Status: model.StatusRunning, Pid: 42, StartedAt: time.Now()}))
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			var l listedConfig
			var s model.ContainerState
			decodeListedConfig(cfg, &l)
			decodeState(st, &s)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			var l listedConfig
			var s model.ContainerState
			json.Unmarshal(cfg, &l)
			json.Unmarshal(st, &s)
		}
	})
}

// A known key in another case is matched as encoding/json matches it (the fast path hands such
// a document over), and an unknown one is skipped, in containers and pods alike.
func TestFastJSONKeysInAnotherCase(t *testing.T) {
	for i, doc := range []string{
		`{"ID":"x","NAME":"n","Mounts":[{"SOURCE":"/a","readonly":true}],"bogus":[1,{"a":2}]}`,
		`{"id":"x","labels":{"A":"b"},"AUTOREMOVE":true}`,
		`{"id":"x","mounts":[{"Destination":"/d","Bogus":"1"}]}`,
	} {
		sameAsEncodingJSON(t, i, []byte(doc), decodeListedConfig)
	}
	for i, doc := range []string{
		`{"Status":"running","PID":7,"networks":{"n":{"IPAddress":"10.0.0.2"}}}`,
		`{"status":"exited","ExitCODE":3,"bogus":null}`,
		`{"ſtatus":"running"}`, // encoding/json folds U+017F to 's': the fast path must give up
	} {
		sameAsEncodingJSON(t, i, []byte(doc), decodeState)
	}
}
