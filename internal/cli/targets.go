package cli

import (
	"fmt"

	"pea/internal/engine"
)

// latestID is the ID of the newest container, or pod with kind "pod".
func latestID(rt *engine.Runtime, kind string) (string, error) {
	if kind == "pod" {
		p, err := rt.LatestPod()
		if err != nil {
			return "", err
		}
		return p.Config.ID, nil
	}
	c, err := rt.LatestContainer()
	if err != nil {
		return "", err
	}
	return c.Config.ID, nil
}

// targets returns the names a verb acts on: args, or with --latest the newest object.
func targets(rt *engine.Runtime, latest bool, args []string, kind, verb string) ([]string, error) {
	if latest {
		id, err := latestID(rt, kind)
		if err != nil {
			return nil, err
		}
		return []string{id}, nil
	}
	if len(args) == 0 {
		return nil, usageError{fmt.Errorf("%s needs a %s name or ID (or --latest)", verb, kind)}
	}
	return args, nil
}

// targetAndRest splits the object a verb acts on (the first argument, or the newest object with
// --latest) from the arguments that follow it.
func targetAndRest(rt *engine.Runtime, latest bool, args []string, kind, verb string) (string, []string, error) {
	if latest {
		id, err := latestID(rt, kind)
		return id, args, err
	}
	if len(args) == 0 {
		return "", nil, usageError{fmt.Errorf("%s needs a %s name or ID (or --latest)", verb, kind)}
	}
	return args[0], args[1:], nil
}
