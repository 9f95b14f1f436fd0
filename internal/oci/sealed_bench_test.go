package oci

import (
	"os/exec"
	"testing"
)

func BenchmarkSealedCopy(b *testing.B) {
	crun, err := exec.LookPath("crun")
	if err != nil {
		b.Skip("crun not installed")
	}
	for b.Loop() {
		f, err := sealedCopy(crun)
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
