package state

import (
	"pea/internal/jsonfast"
	"pea/internal/model"
)

// The decoders' fast paths alone, for the tests that check a document takes them.

func fastListedConfig(b []byte, l *listedConfig) error {
	return jsonfast.Decode(b, l, decListedConfig)
}

func fastState(b []byte, st *model.ContainerState) error { return jsonfast.Fast(b, st) }
func fastPodConfig(b []byte, c *model.PodConfig) error   { return jsonfast.Fast(b, c) }
func fastPodState(b []byte, st *model.PodState) error    { return jsonfast.Fast(b, st) }
