package cli

import (
	"testing"
	"time"

	"pea/internal/model"
)

// Regression: ps sorted creation times as RFC 3339 strings, whose fractions drop trailing
// zeros, so 12:00:00.1 sorted after 12:00:00.12.
func TestSortContainersByTime(t *testing.T) {
	base := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	mk := func(name string, created, started time.Duration) *model.Container {
		return &model.Container{
			Config: &model.ContainerConfig{Name: name, Created: base.Add(created)},
			State:  &model.ContainerState{StartedAt: base.Add(started)},
		}
	}
	cs := []*model.Container{mk("b", 120*time.Millisecond, 0), mk("a", 100*time.Millisecond, time.Second), mk("c", 2*time.Second, 500*time.Millisecond)}
	names := func() string {
		s := ""
		for _, c := range cs {
			s += c.Config.Name
		}
		return s
	}
	sortContainers(cs, "created")
	if names() != "abc" {
		t.Fatalf("by created: %s", names())
	}
	sortContainers(cs, "runningfor")
	if names() != "bca" {
		t.Fatalf("by runningfor: %s", names())
	}
	sortContainers(cs, "names")
	if names() != "abc" {
		t.Fatalf("by names: %s", names())
	}
}
