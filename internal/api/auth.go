package api

import (
	"errors"
	"net/http"
	"strings"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/image"
)

// postAuth is POST /auth (docker login): the credentials are checked against the registry;
// the client keeps them (the service records nothing). Wrong ones are 401, as Docker answers.
func (s *Server) postAuth(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	var req struct {
		Username      string `json:"username"`
		Password      string `json:"password"`
		ServerAddress string `json:"serveraddress"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	host := image.RegistryHost(req.ServerAddress)
	if host == "" {
		return badRequest("serveraddress is required: the registry to log in to")
	}
	o := image.PullOptions{TLSVerify: image.LoopbackPlainHTTP(host)}
	if err := rt.CheckLogin(r.Context(), host, req.Username, req.Password, o); err != nil {
		if errors.Is(err, errdefs.ErrInvalid) && strings.Contains(err.Error(), "invalid username/password") {
			return &apiError{http.StatusUnauthorized, err.Error()}
		}
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"Status": "Login Succeeded", "IdentityToken": ""})
	return nil
}
