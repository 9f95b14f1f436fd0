package tests

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pea/internal/image/registrytest"
)

// authRegistry is a registry on loopback that takes alice:s3cret, by Basic authentication or,
// with bearer, by a token from its own realm.
func authRegistry(t *testing.T, bearer bool) string {
	reg := registrytest.New()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if bearer {
			if r.URL.Path == "/token" {
				if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "s3cret" {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"token":"tok-alice"}`))
				return
			}
			if r.Header.Get("Authorization") != "Bearer tok-alice" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="`+srv.URL+`/token",service="test"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
		} else if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// pea login checks the credentials against the registry (Basic and Bearer), keeps them in the
// auth file only when they open it, and pushes and pulls then use them; logout forgets them.
func TestLoginLogout(t *testing.T) {
	e := newEnv(t).withBusybox()
	for _, bearer := range []bool{false, true} {
		host := authRegistry(t, bearer)
		auth := filepath.Join(t.TempDir(), "auth.json")
		base := []string{"--authfile", auth, "--tls-verify=false"}
		r := e.PeaIn("wrong\n", append([]string{"login", "-u", "alice", "--password-stdin"}, append(base, host)...)...)
		if r.Code != 125 || !strings.Contains(r.Stderr, "invalid username/password") {
			t.Fatalf("bearer=%v: login with a wrong password: %s", bearer, r)
		}
		if _, err := os.Stat(auth); err == nil {
			t.Fatalf("bearer=%v: a failed login wrote the auth file", bearer)
		}
		r = e.PeaIn("s3cret\n", append([]string{"login", "-u", "alice", "--password-stdin"}, append(base, host)...)...)
		if r.Code != 0 || strings.TrimSpace(r.Stdout) != "Login Succeeded!" {
			t.Fatalf("bearer=%v: login: %s", bearer, r)
		}
		if fi, err := os.Stat(auth); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("bearer=%v: auth file: %v %v", bearer, fi, err)
		}
		if got := e.Pea(append([]string{"login", "--get-login"}, append(base, host)...)...); got != "alice" {
			t.Fatalf("bearer=%v: --get-login: %q", bearer, got)
		}
		ref := host + "/acc/bb:1"
		e.Pea("tag", "localhost/bb", ref)
		e.Pea(append([]string{"push"}, append(base, ref)...)...)
		e.Pea("rmi", ref)
		e.Pea(append([]string{"pull", "-q"}, append(base, ref)...)...)
		if out := e.Pea("logout", "--authfile", auth, host); out != "Removed login credentials for "+host {
			t.Fatalf("bearer=%v: logout: %q", bearer, out)
		}
		e.Pea("rmi", ref)
		if r := e.Try(append([]string{"pull", "-q"}, append(base, ref)...)...); r.Code == 0 {
			t.Fatalf("bearer=%v: pull after logout: %s", bearer, r)
		}
		if r := e.Fails(125, "logout", "--authfile", auth, host); !strings.Contains(r.Stderr, "not logged into") {
			t.Fatalf("bearer=%v: second logout: %s", bearer, r)
		}
		// A namespace of the registry, named with a scheme: checked at the host, kept for the
		// namespace.
		ns := "http://" + host + "/acc"
		if r := e.PeaIn("s3cret\n", append([]string{"login", "-u", "alice", "--password-stdin"}, append(base, ns)...)...); r.Code != 0 {
			t.Fatalf("bearer=%v: login to a namespace: %s", bearer, r)
		}
		if got := e.Pea("login", "--get-login", "--authfile", auth, host+"/acc"); got != "alice" {
			t.Fatalf("bearer=%v: --get-login of the namespace: %q", bearer, got)
		}
	}
	e.Fails(125, "logout")
	e.Fails(125, "login", "--password-stdin", "localhost:1")
}

// docker login through the API: the service checks the credentials; the client keeps them.
func TestAPILogin(t *testing.T) {
	a := newAPIEnv(t)
	host := authRegistry(t, true)
	if r := a.Docker("login", "-u", "alice", "-p", "wrong", host); r.Code == 0 {
		t.Fatalf("docker login with a wrong password: %s", r)
	}
	r := a.DockerIn("s3cret\n", "login", "-u", "alice", "--password-stdin", host)
	if r.Code != 0 || !strings.Contains(r.Stdout, "Login Succeeded") {
		t.Fatalf("docker login: %s", r)
	}
	b, err := os.ReadFile(filepath.Join(a.config, "config.json"))
	if err != nil || !strings.Contains(string(b), host) {
		t.Fatalf("the client kept no credentials: %s %v", b, err)
	}
	// The client's credentials reach the registry with a push.
	a.MustDocker("tag", "localhost/bb", host+"/acc/bb:1")
	a.MustDocker("push", host+"/acc/bb:1")
}
