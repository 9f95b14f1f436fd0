package engine

import (
	"maps"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"pea/internal/conf"
	"pea/internal/model"
)

// Default sysctls go only into namespaces of the container's own, and never over its own.
func TestDefaultSysctls(t *testing.T) {
	defaults := []string{"net.ipv4.ping_group_range=0 0", "kernel.shmmax=1000", "fs.mqueue.msg_max=20",
		"kernel.domainname=conf.example", "vm.other=1"}
	ns := func(kinds ...string) map[string]model.Namespace {
		m := map[string]model.Namespace{}
		for i := 0; i+1 < len(kinds); i += 2 {
			m[kinds[i]] = model.Namespace{Mode: kinds[i+1]}
		}
		return m
	}
	cases := []struct {
		name     string
		cfg      model.ContainerConfig
		defaults []string
		want     []string
	}{
		{"pea's default", model.ContainerConfig{}, nil, []string{"net.ipv4.ping_group_range"}},
		{"none configured", model.ContainerConfig{}, []string{}, nil},
		{"all", model.ContainerConfig{}, defaults, []string{"fs.mqueue.msg_max", "kernel.domainname", "kernel.shmmax", "net.ipv4.ping_group_range", "vm.other"}},
		{"host network", model.ContainerConfig{Namespaces: ns(model.NSNet, model.NSModeHost)}, defaults, []string{"fs.mqueue.msg_max", "kernel.domainname", "kernel.shmmax", "vm.other"}},
		{"user namespace", model.ContainerConfig{Namespaces: ns(model.NSUser, model.NSModePrivate)}, defaults, []string{"fs.mqueue.msg_max", "kernel.domainname", "kernel.shmmax", "vm.other"}},
		{"host ipc and uts", model.ContainerConfig{Namespaces: ns(model.NSIpc, model.NSModeHost, model.NSUts, model.NSModeHost)}, defaults, []string{"net.ipv4.ping_group_range", "vm.other"}},
		{"another's ipc", model.ContainerConfig{Namespaces: ns(model.NSIpc, model.NSModeContainer)}, defaults, []string{"kernel.domainname", "net.ipv4.ping_group_range", "vm.other"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := &specs.Linux{}
			if err := addDefaultSysctls(l, &tc.cfg, tc.defaults); err != nil {
				t.Fatal(err)
			}
			if got := slices.Sorted(maps.Keys(l.Sysctl)); !slices.Equal(got, tc.want) {
				t.Errorf("sysctls %v, want %v", got, tc.want)
			}
		})
	}
	// The container's own value wins, and its map is not changed.
	own := map[string]string{"net.ipv4.ping_group_range": "1 1", "kernel.msgmax": "5"}
	l := &specs.Linux{Sysctl: own}
	cfg := model.ContainerConfig{Sysctls: own}
	if err := addDefaultSysctls(l, &cfg, defaults); err != nil {
		t.Fatal(err)
	}
	if l.Sysctl["net.ipv4.ping_group_range"] != "1 1" || l.Sysctl["kernel.shmmax"] != "1000" || len(own) != 2 {
		t.Errorf("sysctls %v (the container's %v)", l.Sysctl, own)
	}
	if err := addDefaultSysctls(&specs.Linux{}, &model.ContainerConfig{}, []string{"novalue"}); err == nil {
		t.Error("a sysctl without = was taken")
	}
}

// What containers.conf gives a new container at creation: the request's values win; an infra
// container takes nothing.
func TestApplyConfDefaults(t *testing.T) {
	c, err := conf.Parse(`[containers]
annotations = ["a=conf", "b=conf"]
default_capabilities = ["chown", "CAP_KILL"]
cgroupns = "private"
pids_limit = 50
log_size_max = 10000
log_tag = "conf-tag"
`)
	if err != nil {
		t.Fatal(err)
	}
	r := &Runtime{opts: Options{Conf: c}}
	cfg := &model.ContainerConfig{Annotations: map[string]string{"b": "mine"}, Namespaces: map[string]model.Namespace{}}
	if err := r.applyConfDefaults(cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Annotations["a"] != "conf" || cfg.Annotations["b"] != "mine" || !slices.Equal(cfg.DefaultCaps, []string{"CAP_CHOWN", "CAP_KILL"}) ||
		cfg.NS(model.NSCgroup).Mode != "private" || cfg.Resources.PidsLimit != 50 || cfg.LogSizeMax != 10000 || cfg.LogTag != "" {
		t.Errorf("applied: %+v", cfg)
	}
	mine := &model.ContainerConfig{Resources: model.Resources{PidsLimit: -1}, LogDriver: LogDriverJournald, LogSizeMax: 1,
		DefaultCaps: []string{"CAP_NET_RAW"}, Namespaces: map[string]model.Namespace{model.NSCgroup: {Mode: "host"}}}
	r.applyConfDefaults(mine)
	if mine.Resources.PidsLimit != -1 || mine.LogSizeMax != 1 || mine.LogTag != "conf-tag" || !slices.Equal(mine.DefaultCaps, []string{"CAP_NET_RAW"}) || mine.NS(model.NSCgroup).Mode != "host" {
		t.Errorf("the request's values lost: %+v", mine)
	}
	infra := &model.ContainerConfig{IsInfra: true}
	r.applyConfDefaults(infra)
	if infra.Annotations != nil || infra.DefaultCaps != nil || infra.Resources.PidsLimit != 0 {
		t.Errorf("infra container got the defaults: %+v", infra)
	}
	bad, _ := conf.Parse("[containers]\ndefault_capabilities = [\"NOT_A_CAP\"]\n")
	if err := (&Runtime{opts: Options{Conf: bad}}).applyConfDefaults(&model.ContainerConfig{}); err == nil {
		t.Error("an unknown capability was taken")
	}
}
