package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// asInstalled drops a binary's pages from the page cache, so that the next exec reads it back as
// it reads an installed binary (after a reboot, or once the kernel reclaimed it): in small folios.
// A file that the linker has just written is held in large folios, and a fault on one maps all
// of it: on the test VM a freshly built pea took 12 faults for its text where the same bytes read
// back took 60, and an empty `ps -a` ran 0.6 ms faster (RESULTS.md, twelfth session). podman's
// binary, installed long ago, is always in the read-back state, so measuring a fresh pea against
// it flattered pea. Both engines' binaries go through this before the warm-up.
func asInstalled(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil { // dirty pages stay in the cache
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("drop %s from the page cache: %w", path, err)
	}
	return nil
}
