package api

import (
	"net/http"
	"path/filepath"

	"pea/internal/engine"
	"pea/internal/remote"
)

// postRemoteCLI runs a remote client's pea command line (internal/remote): the connection is
// upgraded and handed to the remote package, which runs this service's pea on its store.
func (s *Server) postRemoteCLI(w http.ResponseWriter, r *http.Request) {
	var req remote.Request
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	if len(req.Args) == 0 {
		writeError(w, badRequest("no command line"))
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		writeError(w, badRequest("this connection cannot carry a stream"))
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	buf.WriteString("HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: " + remote.Protocol + "\r\n\r\n")
	if err := buf.Flush(); err != nil {
		conn.Close()
		return
	}
	var store []string
	for _, f := range []struct{ name, v string }{{"--root", s.opts.Root}, {"--runroot", s.opts.RunRoot},
		{"--runtime", s.opts.Runtime}, {"--namespace", s.opts.Namespace}} {
		if f.v != "" {
			store = append(store, f.name, f.v)
		}
	}
	runRoot := s.opts.RunRoot
	if runRoot == "" {
		runRoot = engine.DefaultRunRoot
	}
	svc := remote.Service{Pea: engine.Executable(), StoreArgs: store, TempDir: filepath.Join(runRoot, "remote")}
	svc.Serve(conn, buf.Reader, req)
}
