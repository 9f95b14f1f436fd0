package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// The api group times the same kinds of operation through each engine's Docker-compatible REST
// API (`pea system service`, `podman system service`, both on a unix socket of the engine's
// own, serving its store), driven by the docker command line client, as a docker or compose
// user would. The client's own start is in every figure, the same for both.

// apiService is one engine's running API service.
type apiService struct {
	cmd    *exec.Cmd
	sock   string
	client string   // the docker client
	env    []string // DOCKER_CONFIG: the client writes nothing under root's home
}

// dockerClient finds the docker client: on PATH, or the one scripts/deps.sh unpacks.
func dockerClient() (string, error) {
	if p, err := exec.LookPath("docker"); err == nil {
		return p, nil
	}
	if p, err := filepath.Abs(".build/docker-client/docker"); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no docker client (not on PATH; scripts/deps.sh unpacks one into .build/docker-client)")
}

// startAPI starts e's service, untimed, and waits until it answers.
func (b *bench) startAPI(e *engine) (*apiService, error) {
	docker, err := dockerClient()
	if err != nil {
		return nil, err
	}
	s := &apiService{sock: filepath.Join(e.dir, "api.sock"), client: docker,
		env: []string{"DOCKER_CONFIG=" + filepath.Join(e.dir, "docker-config")}}
	args := append(append([]string{}, e.global...), "system", "service", "--time", "0", "unix://"+s.sock)
	s.cmd = exec.Command(e.bin, args...)
	s.cmd.Env = append(os.Environ(), e.env...)
	s.cmd.Dir = e.dir
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, _, err := s.docker(b.ctx, e, "version"); err == nil {
			return s, nil
		}
		if time.Now().After(deadline) || b.ctx.Err() != nil {
			s.stop()
			return nil, fmt.Errorf("%s's API service did not answer on %s", e.name, s.sock)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// docker runs the docker client against the service and returns its wall time and output.
func (s *apiService) docker(ctx context.Context, e *engine, args ...string) (time.Duration, string, error) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	return runCmd(ctx, e.dir, s.env, s.client, []string{"-H", "unix://" + s.sock}, args)
}

// remote runs e's own client in remote mode (--url) against the service.
func (s *apiService) remote(ctx context.Context, e *engine, args ...string) (time.Duration, string, error) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	return runCmd(ctx, e.dir, e.env, e.bin, []string{"--url", "unix://" + s.sock}, args)
}

func (s *apiService) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

func (b *bench) apiGroup() group {
	services := map[*engine]*apiService{}
	var oneWith func(row string, prep func(e *engine, s *apiService) error, args func(e *engine) []string, teardown func(e *engine, s *apiService), viaRemote bool) op
	start := func(e *engine) error {
		if services[e] != nil {
			return nil
		}
		s, err := b.startAPI(e)
		if err != nil {
			return err
		}
		services[e] = s
		return nil
	}
	// one is a timed docker command; setup and teardown run around it, untimed.
	one := func(row string, prep func(e *engine, s *apiService) error, args func(e *engine) []string, teardown func(e *engine, s *apiService)) op {
		return oneWith(row, prep, args, teardown, false)
	}
	oneWith = func(row string, prep func(e *engine, s *apiService) error, args func(e *engine) []string, teardown func(e *engine, s *apiService), viaRemote bool) op {
		return op{rows: []string{row},
			prep: func(e *engine) error {
				if err := start(e); err != nil {
					return err
				}
				if prep != nil {
					return prep(e, services[e])
				}
				return nil
			},
			measure: func(e *engine) ([]sample, error) {
				s := services[e]
				if err := startIn(b.ctx, nil); err != nil {
					return nil, err
				}
				run := s.docker
				if viaRemote { // the engine's own client: pea --remote, podman --remote
					run = s.remote
				}
				d, _, err := run(b.ctx, e, args(e)...)
				if teardown != nil {
					teardown(e, s)
				}
				if err != nil {
					return nil, err
				}
				return []sample{{row, secs(d)}}, nil
			}}
	}
	sleeper := func(e *engine, s *apiService) error {
		n := e.newName("apisleeper")
		b.set(e, "apisleeper", n)
		_, _, err := s.docker(b.ctx, e, withArgs([]string{"run", "-d", "--network", "none", "--name", n, imageRef}, termSleep...)...)
		return err
	}
	rmLast := func(e *engine, s *apiService) { s.docker(b.ctx, e, "rm", "-f", b.get(e, "apilast")) }
	named := func(e *engine) string {
		n := e.newName("apic")
		b.set(e, "apilast", n)
		return n
	}
	return group{name: "api", ops: []op{
		one("API: docker run --rm --network none bb true", nil, func(*engine) []string {
			return []string{"run", "--rm", "--network", "none", imageRef, "true"}
		}, nil),
		one("API: docker run --rm bb true (default network)", nil, func(*engine) []string {
			return []string{"run", "--rm", imageRef, "true"}
		}, nil),
		one("API: docker create bb true", nil, func(e *engine) []string {
			return []string{"create", "--network", "none", "--name", named(e), imageRef, "true"}
		}, rmLast),
		one("API: docker exec C true (running container)", sleeper, func(e *engine) []string {
			return []string{"exec", b.get(e, "apisleeper"), "true"}
		}, nil),
		one("API: docker inspect C (running container)", nil, func(e *engine) []string {
			return []string{"inspect", b.get(e, "apisleeper")}
		}, nil),
		one("API: docker ps -a", nil, func(*engine) []string { return []string{"ps", "-a"} }, nil),
		one("API: docker images", nil, func(*engine) []string { return []string{"images"} }, nil),
		oneWith("remote: ps -a (the engine's --remote client)", nil, func(*engine) []string { return []string{"ps", "-a"} }, nil, true),
		oneWith("remote: run --rm --network none bb true", nil, func(*engine) []string {
			return []string{"run", "--rm", "--network", "none", imageRef, "true"}
		}, nil, true),
		oneWith("remote: exec C true (running container)", nil, func(e *engine) []string {
			return []string{"exec", b.get(e, "apisleeper"), "true"}
		}, nil, true),
	}, after: func() {
		for e, s := range services {
			s.stop()
			delete(services, e)
		}
	}}
}
