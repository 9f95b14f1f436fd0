//go:build pea_split

package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"pea/internal/cpupin"
)

// Pull fetches ref from its registry through the registry helper (see helper.go) and returns
// the stored image.
func (s *Store) Pull(ctx context.Context, ref string, o PullOptions) (*Image, error) {
	// A short name with nowhere to pull it from is refused here, without starting the helper.
	if r, err := ParseReference(strings.TrimPrefix(ref, "docker://")); err == nil && r.Domain == "" {
		if reg, err := s.Registries(); err == nil {
			if _, _, err := reg.pullCandidates(r); err != nil {
				return nil, err
			}
		}
	}
	req := requestFor("pull", s.dir, o)
	req.Ref = ref
	res, err := runHelper(ctx, req, o.Progress)
	if err != nil {
		return nil, err
	}
	return s.Lookup(res.ID)
}

// Push sends the image nameOrID to dest through the registry helper and returns the digest of
// the manifest sent.
func (s *Store) Push(ctx context.Context, nameOrID, dest string, o PushOptions) (string, error) {
	if err := CheckCompression(o.Compression); err != nil {
		return "", err
	}
	req := requestFor("push", s.dir, o)
	req.Ref, req.Dest = nameOrID, dest
	res, err := runHelper(ctx, req, o.Progress)
	if err != nil {
		return "", err
	}
	return string(res.Data), nil
}

// Login checks credentials against a registry through the registry helper.
func (s *Store) Login(ctx context.Context, host string, o PullOptions) error {
	req := requestFor("login", s.dir, o)
	req.Ref = host
	_, err := runHelper(ctx, req, nil)
	return err
}

func requestFor(op, dir string, o PullOptions) helperRequest {
	return helperRequest{Op: op, Dir: dir, TLSVerify: o.TLSVerify, Creds: o.Creds, AuthFile: o.AuthFile, CertDir: o.CertDir,
		Arch: o.Arch, OS: o.OS, Progress: o.Progress != nil, Compression: o.Compression, SignaturePolicy: o.SignaturePolicy}
}

// FetchURL opens the body of an http(s) URL (import's source), which the helper streams.
func FetchURL(ctx context.Context, url string) (io.ReadCloser, error) {
	h, err := startHelper(ctx, helperRequest{Op: "fetch", URL: url})
	if err != nil {
		return nil, err
	}
	body, err := h.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := h.start(); err != nil {
		return nil, err
	}
	return &fetched{h: h, body: body}, nil
}

// fetched is a body the helper streams: its end is an error when the fetch failed, even midway.
type fetched struct {
	h    *helper
	body io.ReadCloser
	done bool
	err  error
}

func (f *fetched) Read(p []byte) (int, error) {
	if f.done {
		return 0, f.err
	}
	n, err := f.body.Read(p)
	if err == io.EOF {
		f.done = true
		if _, f.err = f.h.wait(); f.err == nil {
			f.err = io.EOF
		}
		return n, f.err
	}
	return n, err
}

func (f *fetched) Close() error {
	if !f.done {
		f.done, f.err = true, io.ErrClosedPipe
		f.h.cmd.Process.Kill()
		f.h.wait()
	}
	return nil
}

// helper is one run of the registry helper.
type helper struct {
	cmd    *exec.Cmd
	result *os.File // our end of the helper's fd 3
	out    chan []byte
}

// helperPath is the registry helper: <this executable>-registry, which scripts/build.sh builds
// beside pea.
func helperPath() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	p := exe + "-registry"
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("pea talks to registries through its helper %s, which is missing (scripts/build.sh builds it beside pea): %w", p, err)
	}
	return p, nil
}

func startHelper(ctx context.Context, req helperRequest) (*helper, error) {
	path, err := helperPath()
	if err != nil {
		return nil, err
	}
	in, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	cmd := cpupin.CommandContext(ctx, path) // layers are decompressed on every CPU
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stderr = os.Stderr
	return &helper{cmd: cmd}, nil
}

func (h *helper) start() error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	h.cmd.ExtraFiles = []*os.File{w}
	err = h.cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		return fmt.Errorf("registry helper: %w", err)
	}
	h.result, h.out = r, make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(r)
		h.out <- b
	}()
	return nil
}

// wait waits for the helper to end and returns its result, and the error it reports.
func (h *helper) wait() (helperResult, error) {
	werr := h.cmd.Wait()
	b := <-h.out
	h.result.Close()
	var res helperResult
	if err := json.Unmarshal(b, &res); err != nil {
		if werr == nil {
			werr = errors.New("no result")
		}
		return res, fmt.Errorf("registry helper: %w", werr)
	}
	return res, res.err()
}

// runHelper runs the helper for req, its standard output going to out (nil: nowhere), and
// returns its result, and the error it reports.
func runHelper(ctx context.Context, req helperRequest, out io.Writer) (helperResult, error) {
	h, err := startHelper(ctx, req)
	if err != nil {
		return helperResult{}, err
	}
	if out != nil {
		h.cmd.Stdout = out // an *os.File is handed over as is: the helper sees the terminal
	}
	if err := h.start(); err != nil {
		return helperResult{}, err
	}
	res, err := h.wait()
	if err != nil && ctx.Err() != nil {
		return res, ctx.Err()
	}
	return res, err
}
