//go:build !pea_split

package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"pea/internal/errdefs"
)

// ServeHelper is the registry helper's whole program (cmd/pea-registry): it reads one request on
// standard input, does it, and writes the result on fd 3. It returns the exit code: 0 once a
// result is written, whatever the result.
func ServeHelper() int {
	res := os.NewFile(3, "result")
	if _, err := res.Stat(); err != nil {
		fmt.Fprintln(os.Stderr, "pea-registry: pea's registry helper; pea runs it, with a request on its standard input and fd 3 for the result")
		return 2
	}
	defer res.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var req helperRequest
	var out helperResult
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		out = resultOf(fmt.Errorf("registry helper: request: %v: %w", err, errdefs.ErrInvalid))
	} else {
		out = serve(ctx, req)
	}
	if err := json.NewEncoder(res).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "pea-registry: writing the result:", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, req helperRequest) helperResult {
	if req.Op == "fetch" {
		body, err := FetchURL(ctx, req.URL)
		if err == nil {
			_, err = io.Copy(os.Stdout, body)
			body.Close()
		}
		return resultOf(err)
	}
	s, err := Open(req.Dir)
	if err != nil {
		return resultOf(err)
	}
	o := PullOptions{TLSVerify: req.TLSVerify, Creds: req.Creds, AuthFile: req.AuthFile, CertDir: req.CertDir, Arch: req.Arch, OS: req.OS,
		Compression: req.Compression, SignaturePolicy: req.SignaturePolicy}
	if req.Progress {
		o.Progress = os.Stdout
	}
	switch req.Op {
	case "pull":
		img, err := s.Pull(ctx, req.Ref, o)
		r := resultOf(err)
		if img != nil {
			r.ID = img.ID
		}
		return r
	case "push":
		digest, err := s.Push(ctx, req.Ref, req.Dest, o)
		r := resultOf(err)
		r.Data = []byte(digest)
		return r
	case "login":
		return resultOf(s.Login(ctx, req.Ref, o))
	case "manifest-fetch":
		raw, err := s.FetchManifest(ctx, req.Ref, o)
		r := resultOf(err)
		r.Data = raw
		return r
	case "manifest-push":
		digest, err := s.PushList(ctx, req.Ref, req.Dest, ListPushOptions{PushOptions: o, All: req.All, Format: req.Format})
		r := resultOf(err)
		r.Data = []byte(digest)
		return r
	case "search":
		res, err := s.Search(ctx, req.Ref, SearchOptions{PullOptions: o, Limit: req.Limit, ListTags: req.ListTags})
		r := resultOf(err)
		if err == nil {
			r.Data, _ = json.Marshal(res)
		}
		return r
	}
	return resultOf(fmt.Errorf("registry helper: unknown request %q: %w", req.Op, errdefs.ErrInvalid))
}

// FetchURL opens the body of an http(s) URL (import's source).
func FetchURL(ctx context.Context, url string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %w", url, err, errdefs.ErrInvalid)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %s: %w", url, resp.Status, errdefs.ErrNotFound)
	}
	return resp.Body, nil
}
