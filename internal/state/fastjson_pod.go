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
