// Package cri is pea's Kubernetes Container Runtime Interface (CRI v1) service: the gRPC
// RuntimeService and ImageService a kubelet (or crictl) calls, served on a unix socket by
// `pea system cri`. It runs in its own executable (cmd/pea-cri), because pea itself links no
// gRPC or HTTP; like the REST API (internal/api), each call opens the engine as a pea command
// would, so calls run side by side under the engine's own locks, and pea commands see what the
// service made (a sandbox is a pea pod, a CRI container a member of it).
//
// The mapping:
//
//   - A pod sandbox is a pod with an infra container (catatonit), a pod cgroup, and the network,
//     IPC and UTS namespaces shared; the PID namespace is shared when the sandbox's namespace
//     options say POD. Network NODE runs the pod in the host's network namespace, otherwise it
//     is on pea's default network (CNI bridge), with the sandbox's port mappings and DNS.
//   - The sandbox's and containers' CRI metadata (name, uid, namespace, attempt) are kept as
//     annotations under the io.pea.cri. prefix, which the service never shows back; a pod
//     without them was not made through the CRI and is not listed.
//   - A container's log is written by conmon, in the CRI's own format (conmon's k8s-file),
//     straight to <sandbox log directory>/<container log path>, where kubelet and `crictl
//     logs` read it.
//
// Exec, Attach and PortForward answer with URLs of a streaming server the service runs on a
// loopback port (stream.go); ExecSync runs the command and answers with its output.
package cri

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/cri-streaming/pkg/streaming"

	"pea/internal/cpupin"
	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/service"
)

// Names the service answers Version and Status with.
const (
	RuntimeName       = "pea"
	RuntimeAPIVersion = "v1"
)

// Server serves the CRI for one pea store.
type Server struct {
	runtimeapi.UnimplementedRuntimeServiceServer
	runtimeapi.UnimplementedImageServiceServer
	opts    engine.Options
	version string
	streams streaming.Server // serves Exec, Attach and PortForward sessions
}

// New makes a server for the store opts names; version is pea's.
func New(opts engine.Options, version string) *Server {
	return &Server{opts: opts, version: version}
}

// Serve answers calls on ln until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	sctx, stopStreams := context.WithCancel(ctx)
	defer stopStreams()
	if err := s.startStreaming(sctx); err != nil {
		return err
	}
	gs := grpc.NewServer(grpc.MaxRecvMsgSize(16<<20), grpc.MaxSendMsgSize(16<<20))
	runtimeapi.RegisterRuntimeServiceServer(gs, s)
	runtimeapi.RegisterImageServiceServer(gs, s)
	done := make(chan error, 1)
	go func() { done <- gs.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		stopped := make(chan struct{})
		go func() { gs.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-cpupin.After(5 * time.Second):
			gs.Stop()
		}
		<-done
		return nil
	}
}

// Listen opens the unix socket a URI names (unix:///PATH or PATH; see service.ListenUnix).
func Listen(uri string) (net.Listener, error) {
	path, ok := strings.CutPrefix(uri, "unix://")
	if !ok && strings.Contains(uri, "://") || path == "" {
		return nil, fmt.Errorf("invalid URI %q: the CRI is served on unix:///PATH: %w", uri, errdefs.ErrInvalid)
	}
	return service.ListenUnix(path)
}

// withRuntime opens the engine for one call.
func (s *Server) withRuntime(fn func(rt *engine.Runtime) error) error {
	rt, err := engine.New(s.opts)
	if err != nil {
		return grpcError(err)
	}
	defer rt.Close()
	return grpcError(fn(rt))
}

// grpcError gives an engine error its gRPC code: NotFound, AlreadyExists, InvalidArgument,
// FailedPrecondition (a wrong state or an object in use), Unknown for the rest.
func grpcError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	code := codes.Unknown
	switch {
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errdefs.Is(err, errdefs.ErrNotFound):
		code = codes.NotFound
	case errdefs.Is(err, errdefs.ErrExists):
		code = codes.AlreadyExists
	case errdefs.Is(err, errdefs.ErrInvalid), errdefs.Is(err, errdefs.ErrAmbiguous):
		code = codes.InvalidArgument
	case errdefs.Is(err, errdefs.ErrWrongState), errdefs.Is(err, errdefs.ErrInUse):
		code = codes.FailedPrecondition
	}
	return status.Error(code, err.Error())
}

// invalid is an InvalidArgument error.
func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}
