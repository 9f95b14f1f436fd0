//go:build !pea_split

package image

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"pea/internal/errdefs"
)

// Login checks that o's credentials (Creds, USERNAME:PASSWORD) open the registry at host: it
// asks GET /v2/ and answers the registry's challenge with them (Basic, or a Bearer token from
// the realm the challenge names, with no scope). A registry that asks for no authentication
// accepts any credentials, as docker's and podman's login do. Wrong credentials are
// errdefs.ErrInvalid.
func (s *Store) Login(ctx context.Context, registry string, o PullOptions) error {
	host := RegistryHost(registry)
	reg, err := s.Registries()
	if err != nil {
		return err
	}
	creds, err := o.credentials(host + "/")
	if err != nil {
		return err
	}
	insecure := o.insecure(reg.Insecure(host + "/x"))
	c := &regClient{ctx: ctx, host: registryHost(host), repo: host, insecure: insecure, creds: creds,
		hc: &http.Client{Transport: httpTransport(insecure)}}
	if err := c.ping(); err != nil {
		return classify(err)
	}
	denied := fmt.Errorf("logging into %q: invalid username/password: %w", host, errdefs.ErrInvalid)
	switch c.authScheme {
	case "":
		return nil
	case "bearer":
		if err := c.fetchToken(c.challenge, nil); err != nil {
			if re, ok := err.(*registryError); ok && (re.Status == http.StatusUnauthorized || re.Status == http.StatusForbidden) {
				return denied
			}
			return err
		}
	}
	// Basic, or the token just fetched: /v2/ must now answer 200.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v2/", nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "pea")
	if c.authHeader != "" {
		req.Header.Set("Authorization", c.authHeader)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	switch resp.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusUnauthorized, http.StatusForbidden:
		return denied
	}
	return fmt.Errorf("logging into %q: %s", host, resp.Status)
}
