//go:build !pea_split

package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"pea/internal/errdefs"
)

// A client of the registry HTTP API (the OCI distribution spec, which Docker registries speak):
// it finds whether an endpoint serves HTTPS or, where allowed, plain HTTP, authenticates (anonymous,
// Basic, or Bearer tokens from the realm a 401 names), and gets and puts manifests and blobs.

// manifestAccept is the Accept header for manifest requests: the image manifests and indexes pea
// reads, OCI and Docker.
var manifestAccept = strings.Join([]string{
	string(OCIManifestSchema1), string(DockerManifestSchema2), string(OCIImageIndex), string(DockerManifestList),
}, ", ")

const (
	maxManifestSize = 8 << 20  // larger manifests are refused
	maxConfigSize   = 64 << 20 // and configs
	maxErrorBody    = 64 << 10
	retryDelay      = time.Second
)

// registryHost is the host the API of a reference's domain is served from.
func registryHost(domain string) string {
	if domain == defaultDomain || domain == "index.docker.io" {
		return "registry-1.docker.io"
	}
	return domain
}

// credentials are what a request authenticates with; the zero value is anonymous.
type credentials struct {
	Username, Password string
	IdentityToken      string // an OAuth2 refresh token, exchanged for access tokens
}

func (c credentials) anonymous() bool {
	return c.Username == "" && c.Password == "" && c.IdentityToken == ""
}

// regClient talks to one repository of one registry.
type regClient struct {
	ctx      context.Context
	host     string // host[:port] the requests go to
	path     string // repository path within the registry
	repo     string // host/path as the user named it (for messages)
	insecure bool
	push     bool
	creds    credentials
	hc       *http.Client

	base string // scheme://host, once pinged
	// Authentication the registry asked for in its ping: "" (none), "basic" or "bearer".
	authScheme string
	challenge  map[string]string // the Bearer challenge's parameters
	authHeader string            // the Authorization header value in use
	// fixedScope, when set, is the token scope instead of the repository's (the catalog's).
	fixedScope string
	// supportsSignatures: the registry said in its ping that it serves signatures itself
	// (X-Registry-Supports-Signatures: 1, OpenShift's extension), which then replaces the
	// lookaside.
	supportsSignatures bool
}

// newRegClient prepares a client for repo (host/path); nothing is sent until the first request.
func newRegClient(ctx context.Context, repo string, insecure, push bool, o PullOptions) (*regClient, error) {
	host, path, ok := strings.Cut(repo, "/")
	if !ok || host == "" || path == "" {
		return nil, fmt.Errorf("%q is not a registry repository (host/path): %w", repo, errdefs.ErrInvalid)
	}
	creds, err := o.credentials(repo)
	if err != nil {
		return nil, err
	}
	tlsConf, err := registryTLS(host, o.CertDir)
	if err != nil {
		return nil, err
	}
	return &regClient{
		ctx: ctx, host: registryHost(host), path: path, repo: repo, insecure: insecure, push: push, creds: creds,
		hc: &http.Client{Transport: httpTransportTLS(insecure, tlsConf)},
	}, nil
}

// httpTransport is the HTTP transport for one registry endpoint. Unless insecure, it refuses plain
// HTTP (a redirect to http:// included) and checks TLS certificates.
func httpTransport(insecure bool) http.RoundTripper { return httpTransportTLS(insecure, nil) }

// httpTransportTLS is httpTransport that verifies with conf (the registry's certificates) when
// not insecure.
func httpTransportTLS(insecure bool, conf *tls.Config) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if insecure {
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	} else if conf != nil {
		t.TLSClientConfig = conf
	}
	return &schemeGuard{rt: t, allowHTTP: insecure}
}

type schemeGuard struct {
	rt        http.RoundTripper
	allowHTTP bool
}

func (g *schemeGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !g.allowHTTP {
		return nil, plainHTTPError(req.URL.Host)
	}
	return g.rt.RoundTrip(req)
}

func plainHTTPError(host string) error {
	return fmt.Errorf("%s does not serve HTTPS; use --tls-verify=false, or insecure = true for it in registries.conf", host)
}

// registryError is an HTTP error response of a registry, with the error list of its body.
type registryError struct {
	Method, URL string
	Status      int
	Errors      []registryDiag
	Body        string // the body, when it is not an error list
}

type registryDiag struct {
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
	Detail  any    `json:"detail,omitempty"`
}

func (e *registryError) Error() string {
	var what string
	switch {
	case len(e.Errors) > 0:
		parts := make([]string, len(e.Errors))
		for i, d := range e.Errors {
			parts[i] = d.Code + ": " + d.Message
			if d.Detail != nil {
				if b, err := json.Marshal(d.Detail); err == nil && string(b) != "null" && string(b) != "{}" {
					parts[i] += "; " + string(b)
				}
			}
		}
		what = strings.Join(parts, "; ")
	case e.Body != "":
		what = fmt.Sprintf("unexpected status %d %s: %s", e.Status, http.StatusText(e.Status), e.Body)
	default:
		what = fmt.Sprintf("unexpected status %d %s", e.Status, http.StatusText(e.Status))
	}
	return e.Method + " " + e.URL + ": " + what
}

// temporary reports whether the request may succeed if sent again.
func (e *registryError) temporary() bool {
	switch e.Status {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// responseError reads a failed response into a registryError and closes its body.
func responseError(resp *http.Response) error {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	u := *resp.Request.URL
	u.RawQuery, u.User = "", nil // upload URLs and redirects carry state and signatures
	e := &registryError{Method: resp.Request.Method, URL: u.String(), Status: resp.StatusCode}
	var list struct {
		Errors []registryDiag `json:"errors"`
	}
	if json.Unmarshal(body, &list) == nil && len(list.Errors) > 0 {
		e.Errors = list.Errors
	} else {
		e.Body = strings.TrimSpace(string(body))
		if len(e.Body) > 512 {
			e.Body = e.Body[:512] + "..."
		}
	}
	return e
}

// classify maps registry errors to pea's classes: unknown manifests are "not found", refused
// credentials "invalid".
func classify(err error) error {
	var re *registryError
	if errors.As(err, &re) {
		switch re.Status {
		case http.StatusNotFound:
			return fmt.Errorf("%w: %w", err, errdefs.ErrNotFound)
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%w (check --creds or the auth file): %w", err, errdefs.ErrInvalid)
		}
	}
	return err
}

// ping finds the endpoint's scheme (HTTPS, or plain HTTP where allowed) and the authentication
// it asks for, with GET /v2/.
func (c *regClient) ping() error {
	if c.base != "" {
		return nil
	}
	schemes := []string{"https"}
	if c.insecure {
		schemes = append(schemes, "http")
	}
	var errs []error
	for _, scheme := range schemes {
		err := c.pingScheme(scheme)
		if err == nil {
			return nil
		}
		if scheme == "https" && !c.insecure && speaksHTTP(err) {
			// The server answered the TLS handshake in plain text: it serves HTTP only.
			return fmt.Errorf("%w (%v)", plainHTTPError(c.host), err)
		}
		errs = append(errs, err)
		if c.ctx.Err() != nil {
			break
		}
	}
	if len(errs) == 2 {
		return fmt.Errorf("%w; %w", errs[0], errs[1])
	}
	return errs[0]
}

func (c *regClient) pingScheme(scheme string) error {
	base := scheme + "://" + c.host
	req, err := http.NewRequestWithContext(c.ctx, http.MethodGet, base+"/v2/", nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "pea")
	resp, err := c.hc.Do(req)
	if err == nil && resp.StatusCode >= 500 || err != nil && transient(err) {
		// Once more, after a pause: a registry that is starting, or a passing network failure.
		if err == nil {
			resp.Body.Close()
		}
		if !c.sleep() {
			return c.ctx.Err()
		}
		resp, err = c.hc.Do(req)
	}
	if err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
	case http.StatusUnauthorized:
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		c.authScheme, c.challenge = pickChallenge(resp.Header.Values("WWW-Authenticate"))
		if c.authScheme == "" {
			return fmt.Errorf("%s asks for authentication of a kind pea does not support (%q)", c.host, resp.Header.Get("WWW-Authenticate"))
		}
	default:
		return responseError(resp)
	}
	// A redirect may have moved us to the other scheme (a redirect to http:// is allowed only
	// when insecure, by the transport).
	c.base = resp.Request.URL.Scheme + "://" + c.host
	c.supportsSignatures = resp.Header.Get("X-Registry-Supports-Signatures") == "1"
	if c.authScheme == "basic" && !c.creds.anonymous() {
		c.authHeader = "Basic " + base64.StdEncoding.EncodeToString([]byte(c.creds.Username+":"+c.creds.Password))
	}
	return nil
}

// sleep waits before a retry; false if the context ended.
func (c *regClient) sleep() bool {
	t := time.NewTimer(retryDelay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// pickChallenge chooses a Basic or Bearer challenge among WWW-Authenticate headers.
func pickChallenge(headers []string) (string, map[string]string) {
	for _, h := range headers {
		for _, ch := range parseChallenges(h) {
			if s := strings.ToLower(ch.scheme); s == "basic" || s == "bearer" {
				return s, ch.params
			}
		}
	}
	return "", nil
}

type challenge struct {
	scheme string
	params map[string]string
}

// parseChallenges parses a WWW-Authenticate value: scheme k=v, k="quoted, with \"escapes\"", ...
// possibly with several challenges.
func parseChallenges(h string) []challenge {
	var out []challenge
	s := h
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return out
		}
		i := strings.IndexAny(s, " \t")
		var scheme string
		if i < 0 {
			scheme, s = s, ""
		} else {
			scheme, s = s[:i], s[i:]
		}
		ch := challenge{scheme: scheme, params: map[string]string{}}
		for {
			s = strings.TrimLeft(s, " \t")
			eq := strings.IndexByte(s, '=')
			if eq <= 0 || strings.ContainsAny(s[:eq], " \t,") {
				break // the next challenge's scheme, or the end
			}
			key := strings.ToLower(strings.TrimSpace(s[:eq]))
			s = strings.TrimLeft(s[eq+1:], " \t")
			var val string
			if strings.HasPrefix(s, `"`) {
				var b strings.Builder
				j := 1
				for ; j < len(s) && s[j] != '"'; j++ {
					if s[j] == '\\' && j+1 < len(s) {
						j++
					}
					b.WriteByte(s[j])
				}
				val = b.String()
				if j < len(s) {
					j++
				}
				s = s[j:]
			} else {
				j := strings.IndexAny(s, ", \t")
				if j < 0 {
					j = len(s)
				}
				val, s = s[:j], s[j:]
			}
			ch.params[key] = val
			s = strings.TrimLeft(s, " \t")
			if !strings.HasPrefix(s, ",") {
				break
			}
			s = s[1:]
		}
		out = append(out, ch)
	}
}

// scope is the Bearer token scope the client needs for its repository.
func (c *regClient) scope() string {
	if c.fixedScope != "" {
		return c.fixedScope
	}
	if c.push {
		return "repository:" + c.path + ":pull,push"
	}
	return "repository:" + c.path + ":pull"
}

// fetchToken gets a Bearer token from the challenge's realm for the given scopes.
func (c *regClient) fetchToken(params map[string]string, scopes []string) error {
	realm := params["realm"]
	if realm == "" {
		return fmt.Errorf("%s asks for a Bearer token without naming a realm", c.host)
	}
	ru, err := url.Parse(realm)
	if err != nil || ru.Host == "" {
		return fmt.Errorf("%s names a bad token realm %q", c.host, realm)
	}
	var req *http.Request
	if c.creds.IdentityToken != "" {
		form := url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {c.creds.IdentityToken},
			"client_id": {"pea"}, "service": {params["service"]}, "scope": {strings.Join(scopes, " ")},
		}
		req, err = http.NewRequestWithContext(c.ctx, http.MethodPost, realm, strings.NewReader(form.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		q := ru.Query()
		if svc := params["service"]; svc != "" {
			q.Set("service", svc)
		}
		for _, s := range scopes {
			q.Add("scope", s)
		}
		ru.RawQuery = q.Encode()
		req, err = http.NewRequestWithContext(c.ctx, http.MethodGet, ru.String(), nil)
		if err != nil {
			return err
		}
		if !c.creds.anonymous() {
			req.SetBasicAuth(c.creds.Username, c.creds.Password)
		}
	}
	req.Header.Set("User-Agent", "pea")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("getting a registry token: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return responseError(resp)
	}
	defer resp.Body.Close()
	var tok struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tok); err != nil {
		return fmt.Errorf("token from %s: %v: %w", realm, err, errdefs.ErrInvalid)
	}
	t := tok.Token
	if t == "" {
		t = tok.AccessToken
	}
	if t == "" {
		return fmt.Errorf("token server %s returned no token", realm)
	}
	c.authHeader = "Bearer " + t
	return nil
}

// request is one API request. body, when set, opens the request body afresh for each attempt.
type request struct {
	method string
	url    string // absolute, or a path under the endpoint (starting with "/")
	header http.Header
	body   func() (io.ReadCloser, error)
	size   int64
	ok     []int // the statuses that mean success
}

// do sends r, authenticating and retrying once on temporary failures. A failure status becomes a
// *registryError. The caller closes the response body.
func (c *regClient) do(r request) (*http.Response, error) {
	if err := c.ping(); err != nil {
		return nil, err
	}
	if c.authScheme == "bearer" && c.authHeader == "" {
		if err := c.fetchToken(c.challenge, []string{c.scope()}); err != nil {
			return nil, err
		}
	}
	reauthed := false
	for attempt := 0; ; attempt++ {
		resp, err := c.send(r)
		if err == nil {
			for _, s := range r.ok {
				if resp.StatusCode == s {
					return resp, nil
				}
			}
			if resp.StatusCode == http.StatusUnauthorized && !reauthed {
				reauthed = true
				if ok, err := c.reauth(resp); err != nil {
					return nil, err
				} else if ok {
					attempt--
					continue
				}
			}
			err = responseError(resp)
		}
		var re *registryError
		retry := attempt == 0 && c.ctx.Err() == nil && (errors.As(err, &re) && re.temporary() || !errors.As(err, &re) && transient(err))
		if !retry || !c.sleep() {
			return nil, err
		}
	}
}

// reauth handles a 401 to a request: with a Bearer challenge (a token for another scope, or one
// that expired) it asks for a token again with what the challenge names; with a Basic one it
// sends the credentials if it has some and did not yet. It reports whether to send the request
// again; otherwise the response is left for the caller to read.
func (c *regClient) reauth(resp *http.Response) (bool, error) {
	scheme, params := pickChallenge(resp.Header.Values("WWW-Authenticate"))
	switch {
	case scheme == "bearer":
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		scopes := []string{c.scope()}
		if sc := params["scope"]; sc != "" && sc != scopes[0] {
			scopes = append(scopes, strings.Fields(sc)...)
		}
		return true, c.fetchToken(params, scopes)
	case scheme == "basic" && !c.creds.anonymous() && !strings.HasPrefix(c.authHeader, "Basic "):
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		c.authHeader = "Basic " + base64.StdEncoding.EncodeToString([]byte(c.creds.Username+":"+c.creds.Password))
		return true, nil
	}
	return false, nil
}

// transient reports whether a transport error may go away when the request is sent again: a
// connection reset or closed early, or a timeout. A refused connection, a failed name lookup or a
// TLS failure will not.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.As(err, &ne) && ne.Timeout()
}

// speaksHTTP reports whether err is net/http's for a server that answered a TLS handshake with
// plain HTTP.
func speaksHTTP(err error) bool {
	var rhe tls.RecordHeaderError
	return errors.As(err, &rhe) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}

func (c *regClient) send(r request) (*http.Response, error) {
	u := r.url
	if strings.HasPrefix(u, "/") {
		u = c.base + u
	}
	var body io.ReadCloser
	if r.body != nil {
		var err error
		if body, err = r.body(); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(c.ctx, r.method, u, body)
	if err != nil {
		if body != nil {
			body.Close()
		}
		return nil, err
	}
	if r.body != nil {
		req.ContentLength = r.size
		if r.size == 0 {
			req.Body = http.NoBody
		}
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", "pea")
	if c.authHeader != "" {
		req.Header.Set("Authorization", c.authHeader)
	}
	return c.hc.Do(req)
}

// getManifest fetches the manifest or index ref (a tag or a digest) names, checking a digest, and
// returns its bytes and media type.
func (c *regClient) getManifest(ref string) ([]byte, MediaType, error) {
	resp, err := c.do(request{
		method: http.MethodGet, url: "/v2/" + c.path + "/manifests/" + ref,
		header: http.Header{"Accept": {manifestAccept}}, ok: []int{http.StatusOK},
	})
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxManifestSize+1))
	if err != nil {
		return nil, "", fmt.Errorf("reading manifest %s: %w", ref, err)
	}
	if len(raw) > maxManifestSize {
		return nil, "", fmt.Errorf("manifest %s is larger than %d bytes: %w", ref, maxManifestSize, errdefs.ErrInvalid)
	}
	if strings.Contains(ref, ":") {
		if err := verifyDigest(raw, ref); err != nil {
			return nil, "", fmt.Errorf("manifest %s: %w", ref, err)
		}
	}
	mt := sniffMediaType(raw)
	if ct := MediaType(strings.TrimSpace(strings.Split(resp.Header.Get("Content-Type"), ";")[0])); !hasMediaTypeField(raw) && (isIndex(ct) || isImageManifest(ct)) {
		mt = ct
	}
	return raw, mt, nil
}

func hasMediaTypeField(raw []byte) bool {
	var probe struct {
		MediaType MediaType `json:"mediaType"`
	}
	return json.Unmarshal(raw, &probe) == nil && probe.MediaType != ""
}

// verifyDigest checks that b hashes to digest.
func verifyDigest(b []byte, digest string) error {
	h, err := NewHash(digest)
	if err != nil {
		return fmt.Errorf("%v: %w", err, errdefs.ErrInvalid)
	}
	var hh hash.Hash
	if h.Algorithm == "sha512" {
		hh = sha512.New()
	} else {
		hh = sha256.New()
	}
	hh.Write(b)
	if got := hex.EncodeToString(hh.Sum(nil)); got != h.Hex {
		return fmt.Errorf("digest mismatch: expected %s, got %s:%s: %w", digest, h.Algorithm, got, errdefs.ErrInvalid)
	}
	return nil
}

// getBlob opens the blob digest (redirects to storage elsewhere are followed).
func (c *regClient) getBlob(digest string) (io.ReadCloser, error) {
	resp, err := c.do(request{method: http.MethodGet, url: "/v2/" + c.path + "/blobs/" + digest, ok: []int{http.StatusOK}})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// getSmallBlob reads a blob of at most limit bytes, checking its digest.
func (c *regClient) getSmallBlob(digest string, limit int64) ([]byte, error) {
	rc, err := c.getBlob(digest)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading blob %s: %w", digest, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("blob %s is larger than %d bytes: %w", digest, limit, errdefs.ErrInvalid)
	}
	return b, nil
}

// hasBlob reports whether the repository has the blob digest.
func (c *regClient) hasBlob(digest string) (bool, error) {
	resp, err := c.do(request{method: http.MethodHead, url: "/v2/" + c.path + "/blobs/" + digest, ok: []int{http.StatusOK, http.StatusNotFound}})
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK, nil
}

// putBlob uploads a blob in one piece: POST to start an upload, PUT its content with the digest.
func (c *regClient) putBlob(digest string, size int64, open func() (io.ReadCloser, error)) error {
	var lastErr error
	for attempt := 0; attempt < 2; attempt++ {
		if attempt > 0 && !c.sleep() {
			break
		}
		resp, err := c.do(request{
			method: http.MethodPost, url: "/v2/" + c.path + "/blobs/uploads/",
			body: func() (io.ReadCloser, error) { return http.NoBody, nil }, ok: []int{http.StatusAccepted},
		})
		if err != nil {
			return err
		}
		resp.Body.Close()
		loc, err := uploadURL(resp, digest)
		if err != nil {
			return err
		}
		resp, err = c.do(request{
			method: http.MethodPut, url: loc, body: open, size: size,
			header: http.Header{"Content-Type": {"application/octet-stream"}},
			ok:     []int{http.StatusCreated, http.StatusAccepted, http.StatusNoContent, http.StatusOK},
		})
		if err == nil {
			resp.Body.Close()
			return nil
		}
		lastErr = err
		// An upload session that went wrong (a 5xx after the body was sent) is started over.
		var re *registryError
		if !errors.As(err, &re) || !re.temporary() && re.Status != http.StatusNotFound {
			return err
		}
	}
	return lastErr
}

// uploadURL is the absolute URL to PUT an upload's content to, from the Location of the response
// that started it (which may be relative), with the digest added to its query.
func uploadURL(resp *http.Response, digest string) (string, error) {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "", fmt.Errorf("%s %s: the registry gave no upload location", resp.Request.Method, resp.Request.URL.Redacted())
	}
	u, err := resp.Request.URL.Parse(loc)
	if err != nil {
		return "", fmt.Errorf("registry upload location %q: %w", loc, err)
	}
	q := u.Query()
	q.Set("digest", digest)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// putManifest stores a manifest under ref (a tag or its digest).
func (c *regClient) putManifest(ref string, raw []byte, mt MediaType) error {
	resp, err := c.do(request{
		method: http.MethodPut, url: "/v2/" + c.path + "/manifests/" + ref,
		body:   func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil },
		size:   int64(len(raw)),
		header: http.Header{"Content-Type": {string(mt)}},
		ok:     []int{http.StatusCreated, http.StatusAccepted, http.StatusOK, http.StatusNoContent},
	})
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}
