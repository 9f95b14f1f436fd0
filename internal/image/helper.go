package image

// The registry client, and everything else of pea's that speaks HTTP, can live in an executable
// of its own, the registry helper. Linking net/http and crypto/tls costs every process that
// links them start-up time on the 2-core VM: their package initialisation, a second probing of
// the CPU's features for the ciphers, 2-3.5 MB more binary to fault in (static "hello"s with and
// without them: 1.18 -> 1.47 ms; pea without them: `version` 1.78 -> 1.31 ms), a quarter of a
// short command, paid by every command although only pulls, pushes and `import URL` use them. scripts/build.sh builds pea with the pea_split tag, which leaves them out, and the
// helper (cmd/pea-registry) beside it as <pea>-registry. Without the tag (go build, go test)
// pea is one self-sufficient binary that does it all in process.
//
// The helper gets one request as JSON on its standard input, writes a pull's or a push's
// progress, or a fetched body, on its standard output, and its result as JSON on fd 3.

import (
	"context"
	"errors"

	"pea/internal/errdefs"
	"pea/internal/image/trust"
)

// helperRequest is what the helper is asked to do.
type helperRequest struct {
	Op        string `json:"op"` // "pull", "push", "login", "fetch", "manifest-fetch", "manifest-push" or "search"
	Dir       string `json:"dir,omitempty"`
	Ref       string `json:"ref,omitempty"`  // pull: the reference; push: the image's name or ID; login: the registry
	Dest      string `json:"dest,omitempty"` // push: the destination
	URL       string `json:"url,omitempty"`  // fetch
	TLSVerify *bool  `json:"tlsVerify,omitempty"`
	Creds     string `json:"creds,omitempty"` // here, not on the command line, where ps would show it
	AuthFile  string `json:"authFile,omitempty"`
	CertDir   string `json:"certDir,omitempty"`
	// pull: the signature policy file ("" : the default).
	SignaturePolicy string `json:"signaturePolicy,omitempty"`
	Arch            string `json:"arch,omitempty"`
	OS              string `json:"os,omitempty"`
	Progress        bool   `json:"progress,omitempty"` // write progress on standard output
	// push, manifest-push: the layers' compression ("" : as stored).
	Compression string `json:"compression,omitempty"`
	// manifest-push: push the list's images too, and the list's format; search: the limit and
	// whether to list tags.
	All      bool   `json:"all,omitempty"`
	Format   string `json:"format,omitempty"`
	Limit    int    `json:"limit,omitempty"`
	ListTags bool   `json:"listTags,omitempty"`
}

// helperResult is the helper's answer.
type helperResult struct {
	ID    string `json:"id,omitempty"`   // pull: the pulled image
	Data  []byte `json:"data,omitempty"` // manifest-fetch: the manifest; push, manifest-push: the digest; search: the results
	Error string `json:"error,omitempty"`
	Kind  string `json:"kind,omitempty"` // the error's class, see errorKinds
}

// errorKinds are the classes of error that cross from the helper to pea intact, for the exit
// code and for the callers that test them.
var errorKinds = []struct {
	name string
	err  error
}{
	{"not found", errdefs.ErrNotFound},
	{"invalid", errdefs.ErrInvalid},
	{"ambiguous", errdefs.ErrAmbiguous},
	{"exists", errdefs.ErrExists},
	{"in use", errdefs.ErrInUse},
	{"rejected", trust.ErrRejected},
	{"canceled", context.Canceled},
	{"deadline", context.DeadlineExceeded},
}

func resultOf(err error) helperResult {
	if err == nil {
		return helperResult{}
	}
	r := helperResult{Error: err.Error()}
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			r.Kind = k.name
			break
		}
	}
	return r
}

// helperError is an error the helper reported: its message, and its class for errors.Is.
type helperError struct {
	msg  string
	kind error
}

func (e *helperError) Error() string { return e.msg }
func (e *helperError) Unwrap() error { return e.kind }

func (r helperResult) err() error {
	if r.Error == "" {
		return nil
	}
	e := &helperError{msg: r.Error}
	for _, k := range errorKinds {
		if k.name == r.Kind {
			e.kind = k.err
		}
	}
	return e
}
