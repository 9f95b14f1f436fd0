package state

import (
	"fmt"

	"pea/internal/jsonfast"
	"pea/internal/model"
)

// decodePodDocs decodes a pod's config and state, each through its generated decoder when it
// can (see fastjson.go).
func decodePodDocs(cfg, st []byte, p *model.Pod) error {
	if err := jsonfast.Unmarshal(cfg, p.Config); err != nil {
		return fmt.Errorf("decode pod config: %w", err)
	}
	if err := jsonfast.Unmarshal(st, p.State); err != nil {
		return fmt.Errorf("decode pod state: %w", err)
	}
	return nil
}

// fastPodConfig and fastPodState are decodePodDocs' fast paths alone.
func fastPodConfig(b []byte, c *model.PodConfig) error { return jsonfast.Fast(b, c) }
func fastPodState(b []byte, st *model.PodState) error  { return jsonfast.Fast(b, st) }
