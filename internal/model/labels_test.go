package model

import "testing"

func TestLabelsMatch(t *testing.T) {
	l := map[string]string{"app": "web", "empty": ""}
	for f, want := range map[string]bool{"app": true, "app=web": true, "app=db": false, "nope": false, "empty": true, "empty=": true, "app=": false} {
		if got := LabelsMatch(l, f); got != want {
			t.Errorf("LabelsMatch(%q) = %v, want %v", f, got, want)
		}
	}
}
