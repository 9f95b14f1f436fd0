package cli

import (
	"pea/internal/engine"
	"slices"
	"strconv"
	"strings"
	"time"
)

// filterSpec describes the --filter keys a listing accepts.
type filterSpec struct {
	what     string              // "container", "pod": for error messages
	keys     []string            // accepted keys
	statuses []string            // accepted values of status=, if any
	extra    map[string]struct{} // keys accepted silently (podman compatibility)
}

// parseFilters groups --filter KEY=VALUE by key, checking keys and status values; values of one
// key are ORed, keys are ANDed (see matchFilters).
func parseFilters(filters []string, spec filterSpec) (map[string][]string, error) {
	byKey := map[string][]string{}
	for _, f := range filters {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, invalid("invalid filter %q: want KEY=VALUE", f)
		}
		if _, silent := spec.extra[k]; !slices.Contains(spec.keys, k) && !silent {
			return nil, invalid("invalid %s filter %q (%s)", spec.what, k, strings.Join(spec.keys, ", "))
		}
		if k == "status" && !slices.Contains(spec.statuses, v) {
			return nil, invalid("invalid %s status %q (%s)", spec.what, v, strings.Join(spec.statuses, ", "))
		}
		byKey[k] = append(byKey[k], v)
	}
	return byKey, nil
}

// matchFilters reports whether match holds for at least one value of every key.
func matchFilters(byKey map[string][]string, match func(k, v string) bool) bool {
	for k, vals := range byKey {
		if !slices.ContainsFunc(vals, func(v string) bool { return match(k, v) }) {
			return false
		}
	}
	return true
}

// filterListing applies a listing's --filter to objs (volume ls, network ls): spec's keys, the
// values of one key alternatives, different keys all to match; until= (a time: made before it)
// is checked through created, dangling= must be true or false, every other key by match.
func filterListing[T any](objs []T, filters []string, spec filterSpec, created func(T) time.Time, match func(o T, k, v string) bool) ([]T, error) {
	if len(filters) == 0 {
		return objs, nil
	}
	byKey, err := parseFilters(filters, spec)
	if err != nil {
		return nil, err
	}
	var until time.Time
	for _, v := range byKey["until"] {
		if until, err = engine.ParseTimeArg(v); err != nil {
			return nil, err
		}
	}
	delete(byKey, "until")
	for _, v := range byKey["dangling"] {
		if _, err := strconv.ParseBool(v); err != nil {
			return nil, invalid("invalid dangling filter %q: true or false", v)
		}
	}
	var out []T
	for _, o := range objs {
		if !until.IsZero() && !created(o).Before(until) {
			continue
		}
		if matchFilters(byKey, func(k, v string) bool { return match(o, k, v) }) {
			out = append(out, o)
		}
	}
	return out, nil
}
