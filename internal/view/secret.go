package view

import (
	"time"

	"pea/internal/engine"
)

// Secret is podman's secret inspect (SecretInfoReport): `pea secret inspect` and the libpod
// API's.
type Secret struct {
	ID        string     `json:"ID"`
	CreatedAt time.Time  `json:"CreatedAt"`
	UpdatedAt time.Time  `json:"UpdatedAt"`
	Spec      SecretSpec `json:"Spec"`
}

// SecretSpec is a secret's name, driver and labels.
type SecretSpec struct {
	Name   string            `json:"Name"`
	Driver SecretDriver      `json:"Driver"`
	Labels map[string]string `json:"Labels"`
}

// SecretDriver is a secret's driver and its options.
type SecretDriver struct {
	Name    string            `json:"Name"`
	Options map[string]string `json:"Options"`
}

// NewSecret is s's view; the file driver shows its directory, the default one too.
func NewSecret(rt *engine.Runtime, s *engine.Secret) *Secret {
	labels := s.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	opts := map[string]string{}
	for k, v := range s.DriverOptions {
		opts[k] = v
	}
	if s.Driver == "file" && opts["path"] == "" {
		opts["path"] = rt.Options().Root + "/secrets"
	}
	return &Secret{ID: s.ID, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
		Spec: SecretSpec{Name: s.Name, Labels: labels, Driver: SecretDriver{Name: s.Driver, Options: opts}}}
}
