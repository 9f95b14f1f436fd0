package state

import (
	"reflect"
	"testing"

	"pea/internal/model"
)

// listedConfig must read the same JSON members into the same types as ContainerConfig.
func TestListedConfigMatchesContainerConfig(t *testing.T) {
	full := reflect.TypeOf(model.ContainerConfig{})
	l := reflect.TypeOf(listedConfig{})
	for i := range l.NumField() {
		f := l.Field(i)
		g, ok := full.FieldByName(f.Name)
		if !ok {
			t.Errorf("%s: not a ContainerConfig field", f.Name)
			continue
		}
		if f.Tag.Get("json") != g.Tag.Get("json") || f.Type != g.Type {
			t.Errorf("%s: %s %q, ContainerConfig has %s %q", f.Name, f.Type, f.Tag.Get("json"), g.Type, g.Tag.Get("json"))
		}
	}
}

// A listed container has what ps needs, the same as a fully read one.
func TestListContainersListed(t *testing.T) {
	s := open(t)
	if err := s.AddPod(pod(id('p', 1), "p1", "")); err != nil {
		t.Fatal(err)
	}
	c := ctr(id('c', 1), "web", "", id('p', 1))
	c.Config.ImageName, c.Config.Image = "localhost/bb:latest", id('i', 1)
	c.Config.Cmd, c.Config.Env = []string{"sleep", "9"}, []string{"A=1"}
	c.Config.Labels = map[string]string{"tier": "front"}
	c.Config.Mounts = []model.Mount{{Destination: "/data", Source: "/srv"}}
	c.Config.Network.Ports = []model.PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}}
	c.Config.AutoRemove = true
	if err := s.AddContainer(c); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListContainersListed("")
	if err != nil || len(got) != 1 {
		t.Fatalf("%d, %v", len(got), err)
	}
	g := got[0].Config
	if g.ID != c.Config.ID || g.Name != "web" || g.Pod != id('p', 1) || g.ImageName != "localhost/bb:latest" ||
		g.Image != id('i', 1) || !reflect.DeepEqual(g.Cmd, c.Config.Cmd) || g.Labels["tier"] != "front" ||
		len(g.Mounts) != 1 || g.Mounts[0].Destination != "/data" || len(g.Network.Ports) != 1 || !g.AutoRemove ||
		!g.Created.Equal(c.Config.Created) || got[0].State.Status != model.StatusCreated {
		t.Fatalf("listed: %+v", g)
	}
	if g.Env != nil {
		t.Fatalf("the environment is not part of a listing: %v", g.Env)
	}
}
