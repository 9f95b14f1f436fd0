package engine

import (
	"slices"
	"testing"
)

func TestLowerDirs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		layers []string // bottom first
		want   []string // top first
	}{
		{"one", []string{"a"}, []string{"a"}},
		{"order", []string{"a", "b", "c"}, []string{"c", "b", "a"}},
		{"repeated layer keeps its top place", []string{"e", "a", "e", "b"}, []string{"b", "e", "a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := lowerDirs(tc.layers); !slices.Equal(got, tc.want) {
				t.Fatalf("lowerDirs(%v) = %v, want %v", tc.layers, got, tc.want)
			}
		})
	}
}
