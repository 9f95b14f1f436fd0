package network

import (
	"encoding/json"
	"testing"
)

// TestWithoutIdlePortmap: the DEL of an attachment that published no ports skips portmap;
// one that published ports, or a list it cannot read, is left as it was.
func TestWithoutIdlePortmap(t *testing.T) {
	conf := []byte(`{"cniVersion":"1.0.0","name":"pea","plugins":[{"type":"bridge","bridge":"pea0"},{"type":"portmap","capabilities":{"portMappings":true}}]}`)
	types := func(b []byte) []string {
		t.Helper()
		var l struct {
			Name    string `json:"name"`
			Plugins []struct {
				Type string `json:"type"`
			} `json:"plugins"`
		}
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if l.Name != "pea" {
			t.Fatalf("list lost its name: %s", b)
		}
		var out []string
		for _, p := range l.Plugins {
			out = append(out, p.Type)
		}
		return out
	}
	if got := types(withoutIdlePortmap(conf, nil)); len(got) != 1 || got[0] != "bridge" {
		t.Fatalf("no ports: plugins %v, want [bridge]", got)
	}
	if got := types(withoutIdlePortmap(conf, map[string]any{"portMappings": []any{}})); len(got) != 1 {
		t.Fatalf("empty port list: plugins %v, want [bridge]", got)
	}
	ports := map[string]any{"portMappings": []any{map[string]any{"hostPort": 8080.0, "containerPort": 80.0, "protocol": "tcp"}}}
	if got := types(withoutIdlePortmap(conf, ports)); len(got) != 2 {
		t.Fatalf("published ports: plugins %v, want [bridge portmap]", got)
	}
	if got := withoutIdlePortmap([]byte("{"), nil); string(got) != "{" {
		t.Fatalf("unreadable list changed: %s", got)
	}
}
