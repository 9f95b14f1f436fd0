package kube

// kube play's systemd side (podman's --service-container, and its io.containers.sdnotify
// annotations): a service container stands for the play's pods (see engine/service.go), and
// containers that notify get a socket of the play's, which waits for their READY=1 before the
// play says READY for the whole (the caller sends it, with the service container's conmon as
// the main PID).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"pea/internal/engine"
	"pea/internal/errdefs"
)

// SdNotifyAnnotation sets the sd_notify mode of a workload's containers (container, conmon or
// ignore); SdNotifyAnnotation+"/"+NAME that of container NAME.
const SdNotifyAnnotation = "io.containers.sdnotify"

// ServiceName is the name of the service container of a play of these YAML files (in order):
// the first 12 hex digits of the SHA-256 of their contents, joined as one YAML stream, and
// "-service", as podman names it (for one file, the hash of the file).
func ServiceName(contents [][]byte) string {
	sum := sha256.Sum256(bytes.Join(contents, []byte("\n---\n")))
	return hex.EncodeToString(sum[:])[:12] + "-service"
}

// sdNotifyMode is the sd_notify mode of container name of workload w: its own annotation's,
// else the workload's, else ignore; extra (--annotation) wins over the YAML's.
func sdNotifyMode(w *Workload, name string, extra map[string]string) (string, error) {
	ann := addAll(copyMap(w.Meta.Annotations), extra)
	mode := ann[SdNotifyAnnotation]
	if v := ann[SdNotifyAnnotation+"/"+name]; v != "" {
		mode = v
	}
	switch mode {
	case "":
		return engine.SdNotifyIgnore, nil
	case engine.SdNotifyContainer, engine.SdNotifyConmon, engine.SdNotifyIgnore:
		return mode, nil
	}
	return "", fmt.Errorf("annotation %s of container %s: invalid sd-notify mode %q (container, conmon, ignore)", SdNotifyAnnotation, name, mode)
}

// notifyProxy is the sd_notify socket of one container that notifies: the play reads it until
// the container says READY=1.
type notifyProxy struct {
	path  string
	fd    int
	ctrID string
	name  string
}

// notifyProxies are a play's proxies, in a directory of the run root removed at the end.
type notifyProxies struct {
	dir  string
	list []*notifyProxy
}

// add makes the socket for container name; its ID is filled in once it is made.
func (ps *notifyProxies) add(runRoot, name string) (*notifyProxy, error) {
	if ps.dir == "" {
		if err := os.MkdirAll(runRoot, 0o700); err != nil {
			return nil, err
		}
		d, err := os.MkdirTemp(runRoot, "kube-notify-")
		if err != nil {
			return nil, err
		}
		ps.dir = d
	}
	p := &notifyProxy{path: filepath.Join(ps.dir, strconv.Itoa(len(ps.list))+".sock"), name: name}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: p.path}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("sd-notify socket for container %s: %w", name, err)
	}
	p.fd = fd
	ps.list = append(ps.list, p)
	return p, nil
}

// close closes every socket and removes their directory.
func (ps *notifyProxies) close() {
	for _, p := range ps.list {
		unix.Close(p.fd)
	}
	ps.list = nil
	if ps.dir != "" {
		os.RemoveAll(ps.dir)
	}
}

// waitReady waits until every proxy of list got READY=1; a container that stops before it
// said so fails the play (podman's words).
func waitReady(ctx context.Context, rt *engine.Runtime, list []*notifyProxy) error {
	for _, p := range list {
		if err := p.wait(ctx, rt); err != nil {
			return err
		}
	}
	return nil
}

func (p *notifyProxy) wait(ctx context.Context, rt *engine.Runtime) error {
	buf := make([]byte, 4096)
	for {
		for {
			n, _, err := unix.Recvfrom(p.fd, buf, 0)
			if err != nil {
				break // EAGAIN: nothing more queued
			}
			for _, line := range bytes.Split(buf[:n], []byte("\n")) {
				if string(bytes.TrimSpace(line)) == "READY=1" {
					return nil
				}
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		c, err := rt.LookupContainer(p.ctrID)
		if err != nil {
			return err
		}
		if !c.State.Active() {
			return errdefs.Errorf(errdefs.ErrWrongState, "waiting for sd-notify proxy: container %s stopped running before READY message was received", p.name)
		}
		unix.Poll([]unix.PollFd{{Fd: int32(p.fd), Events: unix.POLLIN}}, 100)
	}
}
