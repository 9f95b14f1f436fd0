package main

import "testing"

func TestRatioText(t *testing.T) {
	for _, c := range []struct {
		q, bar float64
		want   string
	}{
		{0.104, 0.1, "0.104"},  // fails the bar: two decimals would read 0.10
		{0.0996, 0.1, "0.100"}, // meets it: three decimals say how close
		{0.1, 0.1, "0.10"},     // exactly the bar
		{0.12, 0.1, "0.12"},
		{0.094, 0.1, "0.09"},
		{0.104, 0, "0.10"}, // no bar
		{0.2049, 0.2, "0.205"},
	} {
		if got := ratioText(c.q, c.bar); got != c.want {
			t.Errorf("ratioText(%v, %v) = %q, want %q", c.q, c.bar, got, c.want)
		}
	}
}
