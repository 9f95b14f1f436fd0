package k8s

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestQuantity(t *testing.T) {
	for _, tc := range []struct {
		in, canonical string
		value, milli  int64
	}{
		{"128Mi", "128Mi", 128 << 20, 128 << 20 * 1000},
		{"1Gi", "1Gi", 1 << 30, 1 << 30 * 1000},
		{"1.5Gi", "1536Mi", 3 << 29, 3 << 29 * 1000},
		{"0.1Ki", "102400m", 103, 102400},
		{"1536", "1536", 1536, 1536000},
		{"500m", "500m", 1, 500},
		{"1500m", "1500m", 2, 1500},
		{"0.5", "500m", 1, 500},
		{".5", "500m", 1, 500},
		{"2", "2", 2, 2000},
		{"2000", "2k", 2000, 2000000},
		{"1k", "1k", 1000, 1000000},
		{"1M", "1M", 1000000, 1000000000},
		{"5.5G", "5500M", 5500000000, 5500000000000},
		{"1e3", "1e3", 1000, 1000000},
		{"12e2", "1200", 1200, 1200000},
		{"1e-3", "1e-3", 1, 1},
		{"1u", "1u", 1, 1},
		{"0.0000000001", "1n", 1, 1},
		{"-1", "-1", -1, -1000},
		{"-0.5", "-500m", -1, -500},
		{"0", "0", 0, 0},
		{"1023", "1023", 1023, 1023000},
		{"1Ei", "1Ei", 1 << 60, 1<<63 - 1},
	} {
		q, err := ParseQuantity(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if q.String() != tc.canonical || q.Value() != tc.value || q.MilliValue() != tc.milli {
			t.Errorf("%q: %s %d %d, want %s %d %d", tc.in, q.String(), q.Value(), q.MilliValue(), tc.canonical, tc.value, tc.milli)
		}
	}
	for _, bad := range []string{"", "abc", "Mi", "1Kb", "1KiB", "1ki", "1..2", "--1", "1e", "1 Mi", " 1", "0x10", "1/2", "1e1000"} {
		if _, err := ParseQuantity(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	for _, tc := range []struct {
		q    *Quantity
		want string
	}{
		{NewQuantity(512<<20, BinarySI), "512Mi"},
		{NewQuantity(1536, BinarySI), "1536"},
		{NewQuantity(1000, BinarySI), "1k"}, // below 1024: decimal
		{NewQuantity(64<<20+1, BinarySI), "67108865"},
		{NewMilliQuantity(1500, DecimalSI), "1500m"},
		{NewMilliQuantity(2000, DecimalSI), "2"},
		{NewQuantity(0, BinarySI), "0"},
		{&Quantity{}, "0"},
	} {
		if got := tc.q.String(); got != tc.want {
			t.Errorf("%#v: %s, want %s", tc.q, got, tc.want)
		}
	}
	if q := MustParse("1Gi"); q.Value() != 1<<30 {
		t.Errorf("MustParse: %v", q)
	}
}

func TestQuantityJSON(t *testing.T) {
	var v struct {
		A, B, C Quantity
		D       *Quantity
	}
	if err := json.Unmarshal([]byte(`{"A": "64Mi", "B": 0.5, "C": 1e3, "D": null}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A.Value() != 64<<20 || v.B.MilliValue() != 500 || v.C.Value() != 1000 || v.D != nil {
		t.Errorf("decoded %v %v %v %v", v.A, v.B, v.C, v.D)
	}
	b, _ := json.Marshal(map[string]any{"a": v.A, "b": v.B, "c": &v.C})
	if string(b) != `{"a":"64Mi","b":"500m","c":"1e3"}` {
		t.Errorf("encoded %s", b)
	}
	if err := json.Unmarshal([]byte(`{"A": "lots"}`), &v); err == nil || !strings.Contains(err.Error(), `quantity "lots"`) {
		t.Errorf("bad quantity: %v", err)
	}
}

func TestIntOrString(t *testing.T) {
	var ports []IntOrString
	if err := json.Unmarshal([]byte(`[8080, "http", "9090", null]`), &ports); err != nil {
		t.Fatal(err)
	}
	want := []IntOrString{FromInt32(8080), FromString("http"), FromString("9090"), {}}
	if !reflect.DeepEqual(ports, want) {
		t.Fatalf("decoded %+v", ports)
	}
	if ports[0].IntValue() != 8080 || ports[1].IntValue() != 0 || ports[2].IntValue() != 9090 || ports[1].String() != "http" || ports[0].String() != "8080" {
		t.Errorf("values %+v", ports)
	}
	if b, _ := json.Marshal(ports[:3]); string(b) != `[8080,"http","9090"]` {
		t.Errorf("encoded %s", b)
	}
	if err := json.Unmarshal([]byte(`1.5`), &ports[0]); err == nil {
		t.Error("1.5 is a port")
	}
}

func decode(t *testing.T, y string, obj any) []string {
	t.Helper()
	d, err := ParseYAML([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	w, err := d.Decode(obj)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestDecode(t *testing.T) {
	var p Pod
	w := decode(t, `apiVersion: v1
kind: Pod
metadata:
  name: p
  labels: {app: web, 1: one, true: yes}
  creationTimestamp: null
defaults: &ctr
  image: bb
  imagePullPolicy: Never
spec:
  hostNetwork: yes
  nodeSelector: {disk: ssd}
  resources: {limits: {cpu: 1.5, memory: 1Gi}}
  containers:
  - <<: *ctr
    name: a
    tty: on
    args: [12, 1.50, true, N, ~]
    env:
    - {name: N, value: 8080}
    - {name: Y, value: yes}
    - {name: E, value: }
    ports: [{containerPort: 0x50, hostPort: 8_080}]
    livenessProbe: {httpGet: {path: /}}
    imagee: typo
    name: again
  volumes:
  - {name: c, configMap: {name: cfg, defaultMode: 0644, items: [{key: k, path: k, mode: 0o600}]}}
  - {name: m, emptyDir: {medium: Memory, sizeLimit: 64Mi}}
  - {name: n, nfs: {server: x}}
status: {phase: Running}
`, &p)
	wantWarnings := []string{`unknown field "defaults"`, `unknown field "spec.containers[0].imagee"`, `duplicate field "spec.containers[0].name"`}
	if !reflect.DeepEqual(w, wantWarnings) {
		t.Errorf("warnings %q, want %q", w, wantWarnings)
	}
	if p.Name != "p" || p.Labels["1"] != "one" || p.Labels["true"] != "yes" || !p.Spec.HostNetwork {
		t.Errorf("metadata %+v, hostNetwork %v", p.ObjectMeta, p.Spec.HostNetwork)
	}
	c := p.Spec.Containers[0]
	if c.Name != "again" || c.Image != "bb" || c.ImagePullPolicy != PullNever || !c.TTY {
		t.Errorf("container %+v", c)
	}
	if strings.Join(c.Args, ",") != "12,1.50,true,N," {
		t.Errorf("args %q: plain scalars are taken as written", c.Args)
	}
	if c.Env[0].Value != "8080" || c.Env[1].Value != "yes" || c.Env[2].Value != "" {
		t.Errorf("env %+v", c.Env)
	}
	if c.Ports[0].ContainerPort != 80 || c.Ports[0].HostPort != 8080 {
		t.Errorf("ports %+v", c.Ports)
	}
	if q := p.Spec.Resources.Limits[ResourceCPU]; q.MilliValue() != 1500 {
		t.Errorf("cpu %v", q)
	}
	v := p.Spec.Volumes
	if *v[0].ConfigMap.DefaultMode != 0o644 || *v[0].ConfigMap.Items[0].Mode != 0o600 || v[0].ConfigMap.Name != "cfg" {
		t.Errorf("configMap volume %+v", v[0].ConfigMap)
	}
	if v[1].EmptyDir.SizeLimit.Value() != 64<<20 || v[1].EmptyDir.Medium != StorageMediumMemory {
		t.Errorf("emptyDir %+v", v[1].EmptyDir)
	}
	if v[2].Name != "n" || v[2].HostPath != nil || v[2].EmptyDir != nil {
		t.Errorf("an nfs volume is read past: %+v", v[2])
	}

	var s Service
	decode(t, "kind: Service\nspec: {type: NodePort, ports: [{port: 80, targetPort: 8080}, {port: 81, targetPort: http}, {port: 82, targetPort: '83'}]}\n", &s)
	if tp := s.Spec.Ports; tp[0].TargetPort != FromInt32(8080) || tp[1].TargetPort != FromString("http") || tp[2].TargetPort != FromString("83") {
		t.Errorf("target ports %+v", tp)
	}

	var sec Secret
	decode(t, "kind: Secret\ndata: {k: aGVsbG8=}\nstringData: {n: 12}\n", &sec)
	if string(sec.Data["k"]) != "hello" || sec.StringData["n"] != "12" {
		t.Errorf("secret %+v", sec)
	}
}

func TestDecodeErrors(t *testing.T) {
	for y, want := range map[string]string{
		"kind: Pod\nspec: [\n":    "yaml: line 2: did not find expected ']'",
		"a: 1\n\tb: 2\n":          "line 2: found a tab character",
		"spec: {containers: 3}\n": "cannot unmarshal number",
		"spec: {containers: [{ports: [{containerPort: \"80\"}]}]}\n": "cannot unmarshal string",
		"spec: {hostNetwork: maybe}\n":                               "cannot unmarshal string",
		"spec: {resources: {limits: {memory: 1XB}}}\n":               `quantity "1XB"`,
		"? [a]\n: b\n": "line 1: a mapping key must be a scalar",
		"a: &a [*a]\n": "",
	} {
		d, err := ParseYAML([]byte(y))
		if err == nil {
			var p Pod
			_, err = d.Decode(&p)
		}
		if want == "" {
			continue // must not hang or crash
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", y, err, want)
		}
	}
	var tm TypeMeta
	d, _ := ParseYAML([]byte("# only a comment\n"))
	if w, err := d.Decode(&tm); err != nil || w != nil || tm.Kind != "" {
		t.Errorf("empty document: %v %v %+v", w, err, tm)
	}
}

func TestEncodeYAML(t *testing.T) {
	tree := map[string]any{
		"apiVersion": "v1",
		"spec": map[string]any{
			"containers": []any{
				map[string]any{"name": "a", "args": []any{"300", "-q", "daemon off;", "a: b", "", "yes", "1.5", "1e3", "0x1F", "2001-12-14", "1:20", "8080:80", "it's", "- x", "#x", "a #b", "x\ty"}},
				map[string]any{"name": "b", "command": []any{}, "env": []any{map[string]any{"name": "ML", "value": "line 1\nline 2\n"}}},
			},
			"emptyDir":  map[string]any{},
			"nested":    []any{[]any{"a", "b"}, map[string]any{}},
			"replicas":  json.Number("3"),
			"hostPID":   true,
			"script":    "set -e\n  indented\n\nlast",
			"port10":    1,
			"port9":     2,
			"Port":      3,
			"_under":    4,
			"ending\n":  "key",
			"leading":   " space",
			"trailing":  "space ",
			"emoji":     "😀 ok",
			"unicode":   "日本 é",
			"nullValue": nil,
		},
		"kind": "Pod",
	}
	want := `apiVersion: v1
kind: Pod
spec:
  _under: 4
  Port: 3
  containers:
  - args:
    - "300"
    - -q
    - daemon off;
    - 'a: b'
    - ""
    - "yes"
    - "1.5"
    - "1e3"
    - "0x1F"
    - "2001-12-14"
    - "1:20"
    - 8080:80
    - it's
    - '- x'
    - '#x'
    - 'a #b'
    - "x\ty"
    name: a
  - command: []
    env:
    - name: ML
      value: |
        line 1
        line 2
    name: b
  emoji: "\U0001F600 ok"
  emptyDir: {}
  "ending\n": key
  hostPID: true
  leading: ' space'
  nested:
  - - a
    - b
  - {}
  nullValue: null
  port9: 2
  port10: 1
  replicas: 3
  script: |-
    set -e
      indented

    last
  trailing: 'space '
  unicode: 日本 é
`
	if got := string(EncodeYAML(tree)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// It reads back as the same tree.
	type back struct {
		Spec map[string]any `json:"spec"`
	}
	d, err := ParseYAML([]byte(want))
	if err != nil {
		t.Fatal(err)
	}
	var b back
	if _, err := d.Decode(&b); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"script", "leading", "trailing", "emoji", "ending\n"} {
		if b.Spec[k] != tree["spec"].(map[string]any)[k] && k != "ending\n" {
			t.Errorf("%s read back as %q", k, b.Spec[k])
		}
	}
	if _, ok := b.Spec["ending\n"]; !ok {
		t.Error("a key with a line break does not read back")
	}
	if got := string(EncodeYAML(map[string]any{})); got != "{}\n" {
		t.Errorf("empty: %q", got)
	}
}

// TestIgnoredFieldsAreNotDeclared: a field is either declared or ignored, never both.
func TestIgnoredFieldsAreNotDeclared(t *testing.T) {
	for _, v := range []any{Pod{}, PodSpec{}, Container{}, ObjectMeta{}, Volume{}, VolumeMount{}, SecurityContext{}, PodSecurityContext{},
		Deployment{}, DeploymentSpec{}, DaemonSetSpec{}, JobSpec{}, ServiceSpec{}, ServicePort{}, PersistentVolumeClaimSpec{}, Secret{}, ConfigMap{},
		EnvVarSource{}, ResourceRequirements{}, LabelSelector{}, EmptyDirVolumeSource{}, KeyToPath{}, SecretVolumeSource{}, ConfigMapVolumeSource{}} {
		typ := reflect.TypeOf(v)
		fields := fieldsOf(typ)
		names := strings.Fields(ignoredFields(typ))
		if len(names) == 0 {
			t.Errorf("%v: no ignored fields listed", typ)
		}
		for _, n := range names {
			if _, ok := fields[n]; ok {
				t.Errorf("%v: %s is declared and ignored", typ, n)
			}
		}
	}
}
