package api

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"pea/internal/engine"
	"pea/internal/model"
	"pea/internal/view"
)

// What `pea generate spec` prints for a container must make the same container when POSTed to
// the libpod create endpoint: each stored config goes through view.NewContainerSpec, JSON, and
// the endpoint's reading of a SpecGenerator, and must come back the same, save what the engine
// fills in at creation (image, ID, defaults) and the forms the endpoint gives the same setting.
func TestGenerateSpecRoundTrip(t *testing.T) {
	swappiness := int64(30)
	base := func() model.ContainerConfig {
		return model.ContainerConfig{Name: "web-clone", Cmd: []string{"sleep", "300"}, StopSignal: 15, StopTimeout: 10,
			SdNotify: engine.SdNotifyContainer, Namespaces: map[string]model.Namespace{model.NSNet: {Mode: model.NSModeBridge}}}
	}
	cases := []struct {
		name string
		edit func(c *model.ContainerConfig)
		src  func(s *engine.SpecSource)
	}{
		{"plain", func(c *model.ContainerConfig) {}, nil},
		{"process", func(c *model.ContainerConfig) {
			c.Entrypoint, c.Env, c.WorkingDir, c.User, c.Hostname = []string{"/bin/sh", "-c"}, []string{"A=1", "B=x=y"}, "/data", "1000:1000", "hh"
			c.Labels, c.Annotations = map[string]string{"app": "web"}, map[string]string{"an": "1"}
			c.Terminal, c.Stdin, c.StopSignal, c.StopTimeout, c.Timeout = true, true, 2, 20, 100
			c.RestartPolicy, c.Umask, c.Timezone, c.Init, c.Personality = "on-failure:3", "0077", "UTC", true, "LINUX"
			c.Sysctls, c.GroupAdd, c.CapAdd, c.CapDrop = map[string]string{"net.ipv4.ip_forward": "1"}, []string{"10"}, []string{"NET_ADMIN"}, []string{"CHOWN"}
			c.NoNewPrivileges, c.OOMScoreAdj, c.Systemd, c.SdNotify, c.Cgroups = true, 10, "always", engine.SdNotifyConmon, "no-conmon"
			c.LogDriver, c.LogSizeMax, c.LogTag, c.LogPath = "k8s-file", 10000000, "tt", "/var/log/x.log"
			c.UnsetEnv, c.NoPasswd, c.ChrootDirs, c.HostUsers = []string{"FOO"}, true, []string{"/cr"}, []string{"root"}
			c.Requires, c.CreateCommand, c.ConmonPidFile = []string{"0123456789ab"}, []string{"pea", "run", "bb"}, "/run/c.pid"
			c.Healthcheck = &model.HealthConfig{Test: []string{"CMD-SHELL", "true"}, Interval: 30 * time.Second, Timeout: 5 * time.Second, StartPeriod: time.Second, Retries: 3}
			c.HealthOnFailure = "kill"
			c.Secrets = []model.SecretRef{{Name: "s1", Type: "mount", Target: "/s", UID: 1, GID: 2, Mode: 0o400}, {Name: "s2", Type: "env", Target: "PW"}, {Name: "s3", Type: "env"}}
			c.AutoRemove, c.RestartPolicy = true, ""
		}, nil},
		{"restart and privileges", func(c *model.ContainerConfig) {
			c.RestartPolicy, c.Privileged, c.ReadOnly, c.Seccomp = "always", true, true, "unconfined"
		}, nil},
		{"storage", func(c *model.ContainerConfig) {
			c.Mounts = []model.Mount{
				{Type: "bind", Source: "/srv", Destination: "/data", ReadOnly: true, Options: []string{"rshared"}},
				{Type: "bind", Source: "/srv2", Destination: "/flat", Options: []string{"bind"}},
				{Type: "volume", Source: "vol1", Destination: "/vol", NoCopy: true},
				{Type: "volume", Destination: "/anon"},
				{Type: "tmpfs", Destination: "/scratch", Options: []string{"size=1m", "mode=1777"}},
				{Type: "tmpfs", Destination: "/data/t", ChownToUser: true},
			}
			c.Devices, c.ReadOnly, c.ReadOnlyTmpfs = []string{"/dev/null:/dev/mynull:rw"}, true, true
			c.Resources.DeviceCgroupRules = []string{"c 1:3 rwm", "b *:* r"}
		}, func(s *engine.SpecSource) { s.ImageVolumes = []string{"/scratch"} }},
		{"image volumes", func(c *model.ContainerConfig) {
			c.Mounts = []model.Mount{{Type: "volume", Destination: "/iv", CopyUp: true}}
		}, func(s *engine.SpecSource) { s.ImageVolumes = []string{"/iv"} }},
		{"image volumes ignored", func(c *model.ContainerConfig) {}, func(s *engine.SpecSource) { s.ImageVolumes = []string{"/iv"} }},
		{"resources", func(c *model.ContainerConfig) {
			c.Resources = model.Resources{Memory: 64 << 20, MemorySwap: 128 << 20, MemoryReservation: 32 << 20, MemorySwappiness: &swappiness,
				OOMKillDisable: true, CPUShares: 512, CpusetCpus: "0", CpusetMems: "0", PidsLimit: 100, ShmSize: 32 << 20,
				CPUQuota: 30000, CPUPeriod: 50000, BlkioWeight: 300, CPURtPeriod: 1000000, CPURtRuntime: 950000,
				BlkioWeightDevice: []string{"/dev/sda:200"}, DeviceReadBps: []string{"/dev/sda:1048576"}, DeviceWriteIOps: []string{"/dev/sdb:100"}}
			c.Ulimits = []model.Ulimit{{Name: "nofile", Soft: 100, Hard: 200}}
			c.CgroupConf = map[string]string{"memory.high": "1000000"}
		}, nil},
		{"memory without swap accounting", func(c *model.ContainerConfig) {
			c.Resources = model.Resources{Memory: 64 << 20}
		}, nil},
		{"networks", func(c *model.ContainerConfig) {
			c.Network = model.NetworkConfig{Networks: []string{"zeta", "alpha"}, StaticIP: "10.89.0.5", StaticIP6: "fd00::5", StaticMAC: "02:00:00:00:00:05",
				Addrs:      map[string]model.NetworkAddr{"alpha": {IP: "10.90.0.6"}},
				Aliases:    map[string][]string{"zeta": {"z1"}, "alpha": {"a1"}},
				Ports:      []model.PortMapping{{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Protocol: "tcp", Range: 1}, {HostPort: 9000, ContainerPort: 90, Protocol: "udp", Range: 3}},
				DNSServers: []string{"1.1.1.1"}, DNSSearch: []string{"ex.com"}, DNSOptions: []string{"ndots:2"}, AddHosts: []string{"h:1.2.3.4"}}
		}, nil},
		{"default network settings", func(c *model.ContainerConfig) {
			c.Network = model.NetworkConfig{StaticIP: "10.88.0.9", Aliases: map[string][]string{"*": {"web"}}, NoHosts: true}
		}, nil},
		{"namespaces", func(c *model.ContainerConfig) {
			c.Namespaces = map[string]model.Namespace{model.NSNet: {Mode: model.NSModeHost}, model.NSPid: {Mode: model.NSModeHost},
				model.NSIpc: {Mode: model.NSModePrivate}, model.NSUts: {Mode: model.NSModeHost}, model.NSCgroup: {Mode: model.NSModePrivate}}
		}, nil},
		{"container namespaces", func(c *model.ContainerConfig) {
			c.Namespaces = map[string]model.Namespace{model.NSNet: {Mode: model.NSModeContainer, Value: "abc"},
				model.NSPid: {Mode: model.NSModeContainer, Value: "abc"}, model.NSUser: {Mode: model.NSModePath, Value: "/proc/self/ns/user"}}
		}, nil},
		{"user namespace maps", func(c *model.ContainerConfig) {
			c.Namespaces[model.NSUser] = model.Namespace{Mode: model.NSModePrivate}
			c.UIDMap = []model.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
			c.GIDMap = []model.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
		}, nil},
		{"pod member", func(c *model.ContainerConfig) {
			c.Pod, c.Namespaces, c.InitContainerType = "0123456789abcdef", map[string]model.Namespace{}, model.InitOnce
		}, nil},
		{"no health check of the image's", func(c *model.ContainerConfig) {}, func(s *engine.SpecSource) { s.ImageHealthcheck = true }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := base()
			c.edit(&want)
			src := &engine.SpecSource{Container: &want, Image: "localhost/bb:latest"}
			if c.src != nil {
				c.src(src)
			}
			in := deepCopyConfig(t, &want)
			body, err := json.Marshal(view.NewContainerSpec(&engine.SpecSource{Container: in, Image: src.Image,
				ImageVolumes: src.ImageVolumes, ImageHealthcheck: src.ImageHealthcheck}))
			if err != nil {
				t.Fatal(err)
			}
			if err := checkLibpodSpecKeys(body); err != nil {
				t.Fatalf("refused: %v\n%s", err, body)
			}
			var sp libpodSpec
			if err := json.Unmarshal(body, &sp); err != nil {
				t.Fatal(err)
			}
			req, err := sp.toCreateRequest()
			if err != nil {
				t.Fatalf("%v\n%s", err, body)
			}
			got, o, err := toContainerConfig(req, sp.Name)
			if err != nil {
				t.Fatalf("%v\n%s", err, body)
			}
			if err := sp.apply(got, &o); err != nil {
				t.Fatalf("%v\n%s", err, body)
			}
			if got.ImageName != "localhost/bb:latest" || o.Pod != want.Pod {
				t.Errorf("image %q, pod %q", got.ImageName, o.Pod)
			}
			// The image's VOLUMEs: anonymous volumes again (bind) unless none was made.
			if wantMode := map[bool]string{true: "ignore", false: "bind"}[c.name == "image volumes ignored"]; o.ImageVolume != wantMode {
				t.Errorf("image volumes: %q, want %q", o.ImageVolume, wantMode)
			}
			if src.ImageHealthcheck != o.NoHealthcheck {
				t.Errorf("NoHealthcheck %v", o.NoHealthcheck)
			}
			got.Pod = o.Pod // joined at creation
			normalizeRoundTrip(&want, got)
			if !reflect.DeepEqual(&want, got) {
				w, _ := json.MarshalIndent(&want, "", " ")
				g, _ := json.MarshalIndent(got, "", " ")
				t.Errorf("made again differently:\nwant %s\ngot  %s\nspec %s", w, g, body)
			}
		})
	}
}

func deepCopyConfig(t *testing.T, c *model.ContainerConfig) *model.ContainerConfig {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	out := &model.ContainerConfig{}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// normalizeRoundTrip brings the two configs to the forms the endpoint gives the same settings:
// the engine fills the image and defaults in at creation; the spec sets some defaults
// explicitly; --cpus comes back as its quota and period; the tmpfs of --read-only-tmpfs and the
// image's volumes come back as mounts (or from the image); aliases of all networks come back per
// network; the environment is a map (sorted); binds and volumes come apart, ordered parents
// first.
func normalizeRoundTrip(want, got *model.ContainerConfig) {
	got.ImageName = ""
	if want.Namespaces == nil {
		want.Namespaces = map[string]model.Namespace{}
	}
	if _, ok := want.Namespaces[model.NSUts]; !ok && want.Pod == "" && got.Namespaces[model.NSUts].Mode == model.NSModePrivate {
		delete(got.Namespaces, model.NSUts)
	}
	if want.ReadOnlyTmpfs {
		want.ReadOnlyTmpfs = false
		for _, dest := range []string{"/tmp", "/var/tmp", "/run"} {
			want.Mounts = append(want.Mounts, model.Mount{Type: "tmpfs", Destination: dest, Options: []string{"rw", "rprivate", "nosuid", "nodev", "tmpcopyup"}})
		}
	}
	want.Mounts = slices.DeleteFunc(want.Mounts, func(m model.Mount) bool { return m.CopyUp })
	for _, c := range []*model.ContainerConfig{want, got} {
		slices.SortStableFunc(c.Mounts, func(a, b model.Mount) int {
			if d := pathDepth(a.Destination) - pathDepth(b.Destination); d != 0 {
				return d
			}
			return strings.Compare(a.Destination, b.Destination)
		})
		slices.Sort(c.Env)
		if len(c.Mounts) == 0 {
			c.Mounts = nil
		}
		for i := range c.Secrets {
			c.Secrets[i].ID = ""
		}
		if r := &c.Resources; r.CPUs > 0 {
			r.CPUQuota, r.CPUPeriod, r.CPUs = int64(r.CPUs*100000), 100000, 0
		}
	}
	if nc := &want.Network; len(nc.Networks) > 0 && len(nc.Aliases["*"]) > 0 {
		for _, n := range nc.Networks {
			nc.Aliases[n] = append(nc.Aliases[n], nc.Aliases["*"]...)
		}
		delete(nc.Aliases, "*")
	}
	if want.Umask == "0022" {
		want.Umask = ""
	}
	if maps.Equal(want.Sysctls, got.Sysctls) && len(want.Sysctls) == 0 {
		want.Sysctls, got.Sysctls = nil, nil
	}
}

// The same for a pod: view.NewPodSpec, JSON, and the pod create endpoint's reading.
func TestGeneratePodSpecRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		edit func(p *model.PodConfig)
	}{
		{"defaults", func(p *model.PodConfig) {}},
		{"everything", func(p *model.PodConfig) {
			p.Hostname, p.Labels, p.ExitPolicy, p.RestartPolicy = "ph", map[string]string{"a": "b"}, model.ExitPolicyStop, "on-failure:2"
			p.SharePid, p.ShareUts, p.UsePodCgroup, p.CgroupParent = true, false, false, "/mine"
			p.InfraName, p.InfraCommand, p.InfraImage, p.InfraConmonPidFile = "pinfra", []string{"/bin/sleep", "inf"}, "localhost/bb", "/run/i.pid"
			p.CreateCommand = []string{"pea", "pod", "create"}
			p.Resources = model.Resources{Memory: 100 << 20, MemorySwap: 200 << 20, CPUs: 1.5, CpusetCpus: "0", CpusetMems: "0", PidsLimit: 50,
				ShmSize: 10 << 20, BlkioWeight: 300, CPUShares: 100, BlkioWeightDevice: []string{"/dev/sda:200"},
				DeviceReadBps: []string{"/dev/sda:1000"}, DeviceWriteBps: []string{"/dev/sdb:2000"}}
			p.Volumes = []string{"/srv:/hd:ro", "pv:/pv", "/anon", "pv2:/pv/sub:ro,nocopy"}
			p.Devices, p.Sysctls, p.SecurityOpts = []string{"/dev/null"}, map[string]string{"net.ipv4.ip_forward": "1"}, []string{"no-new-privileges"}
			p.VolumesFrom = []string{"other:ro"}
			p.UserNS, p.ShareUser = model.Namespace{Mode: model.NSModePrivate}, true
			p.UIDMap = []model.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
			p.GIDMap = []model.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
			p.PidMode, p.UtsMode = model.NSModeHost, model.NSModePrivate
			p.Infra = model.NetworkConfig{Networks: []string{"n2", "n1"}, StaticIP: "10.89.0.7", StaticMAC: "02:00:00:00:00:07",
				Aliases: map[string][]string{"n1": {"db"}}, Ports: []model.PortMapping{{HostIP: "127.0.0.1", HostPort: 7070, ContainerPort: 70, Protocol: "tcp", Range: 1}},
				DNSServers: []string{"8.8.8.8"}, DNSSearch: []string{"x.com"}, DNSOptions: []string{"ndots:1"}, AddHosts: []string{"h:1.1.1.1"}, NoHosts: true}
		}},
		{"host network", func(p *model.PodConfig) { p.NetworkMode = "host" }},
		{"shares nothing", func(p *model.PodConfig) { p.ShareIpc, p.ShareNet, p.ShareUts = false, false, false }},
		{"no infra", func(p *model.PodConfig) { p.HasInfra, p.ShareIpc, p.ShareNet, p.ShareUts = false, false, false, false }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := model.NewPodConfig("pp-clone")
			c.edit(want)
			in := &model.PodConfig{}
			b, _ := json.Marshal(want)
			if err := json.Unmarshal(b, in); err != nil {
				t.Fatal(err)
			}
			body, err := json.Marshal(view.NewPodSpec(&engine.SpecSource{Pod: in}))
			if err != nil {
				t.Fatal(err)
			}
			var sp libpodPodSpec
			if err := json.Unmarshal(body, &sp); err != nil {
				t.Fatal(err)
			}
			got, err := sp.toPodConfig()
			if err != nil {
				t.Fatalf("%v\n%s", err, body)
			}
			// Volumes come back binds first, parents first; "private" is the default UTS mode.
			slices.Sort(want.Volumes)
			slices.Sort(got.Volumes)
			if want.UtsMode == model.NSModePrivate && got.UtsMode == "" {
				got.UtsMode = model.NSModePrivate
			}
			if want.UserNS.Mode == "" {
				want.UserNS.Mode = model.NSModeHost
			}
			if !reflect.DeepEqual(want, got) {
				w, _ := json.MarshalIndent(want, "", " ")
				g, _ := json.MarshalIndent(got, "", " ")
				t.Errorf("made again differently:\nwant %s\ngot  %s\nspec %s", w, g, body)
			}
		})
	}
}
