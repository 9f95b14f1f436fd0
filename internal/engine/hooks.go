package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"

	"pea/internal/model"
)

// OCI hooks (oci-hooks(5)): JSON files in hooks directories name a program and the stages of
// a container's life it runs at (the runtime runs it), with the conditions under which a
// container gets it. They are read at every start, as podman reads them, and put into the
// spec the runtime is given; poststop hooks run at the runtime's delete.

// DefaultHooksDirs are read when no --hooks-dir is given; a file of a later directory masks
// one of the same name in an earlier one.
var DefaultHooksDirs = []string{"/usr/share/containers/oci/hooks.d", "/etc/containers/oci/hooks.d"}

// hookConfig is a hook file of schema 1.0.0.
type hookConfig struct {
	Version string     `json:"version"`
	Hook    specs.Hook `json:"hook"`
	When    hookWhen   `json:"when"`
	Stages  []string   `json:"stages"`
}

type hookWhen struct {
	Always        *bool             `json:"always,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
	Commands      []string          `json:"commands,omitempty"`
	HasBindMounts *bool             `json:"hasBindMounts,omitempty"`
	any           bool              // schema 0.1.0: one condition is enough
}

// hookConfig010 is the older schema 0.1.0, still found in the wild.
type hookConfig010 struct {
	Hook          string   `json:"hook"`
	Arguments     []string `json:"arguments"`
	Stages        []string `json:"stages"`
	Stage         []string `json:"stage"`
	Cmds          []string `json:"cmds"`
	Cmd           []string `json:"cmd"`
	Annotations   []string `json:"annotations"`
	Annotation    []string `json:"annotation"`
	HasBindMounts *bool    `json:"hasbindmounts"`
}

var hookStages = []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}

// readHook reads and checks one hook file.
func readHook(path string) (*hookConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var v struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	var h hookConfig
	switch v.Version {
	case "1.0.0":
		if err := json.Unmarshal(data, &h); err != nil {
			return nil, err
		}
	case "", "0.1.0":
		var old hookConfig010
		if err := json.Unmarshal(data, &old); err != nil {
			return nil, err
		}
		h = hookConfig{Version: "1.0.0", Hook: specs.Hook{Path: old.Hook, Args: append([]string{old.Hook}, old.Arguments...)},
			Stages: append(old.Stages, old.Stage...), When: hookWhen{any: true, HasBindMounts: old.HasBindMounts,
				Commands: append(old.Cmds, old.Cmd...)}}
		if anns := append(old.Annotations, old.Annotation...); len(anns) > 0 {
			h.When.Annotations = map[string]string{}
			for _, a := range anns {
				h.When.Annotations[".*"] = a // 0.1.0 matched values only
			}
		}
	default:
		return nil, fmt.Errorf("unknown hook version %q", v.Version)
	}
	if !filepath.IsAbs(h.Hook.Path) {
		return nil, fmt.Errorf("hook.path %q must be an absolute path", h.Hook.Path)
	}
	if _, err := os.Stat(h.Hook.Path); err != nil {
		return nil, fmt.Errorf("hook.path: %w", err)
	}
	if len(h.Stages) == 0 {
		return nil, errors.New("stages must name at least one stage")
	}
	for _, s := range h.Stages {
		if !slices.Contains(hookStages, s) {
			return nil, fmt.Errorf("unknown stage %q (one of %s)", s, strings.Join(hookStages, ", "))
		}
	}
	w := h.When
	if (w.Always == nil || !*w.Always) && w.Annotations == nil && w.Commands == nil && w.HasBindMounts == nil && !w.any {
		return nil, errors.New("when must set at least one condition")
	}
	return &h, nil
}

// matches reports whether the hook is for a container of spec running args (its command,
// without pea's init), with volumes or bind mounts of the user's or not (podman's
// hasBindMounts: /etc/hosts and the like, which every container has, do not count).
func (w *hookWhen) matches(spec *specs.Spec, args []string, hasBindMounts bool) (bool, error) {
	if w.Always != nil && *w.Always {
		return true, nil
	}
	var results []bool
	if w.HasBindMounts != nil {
		results = append(results, hasBindMounts == *w.HasBindMounts)
	}
	if w.Annotations != nil {
		found := false
		for kre, vre := range w.Annotations {
			kr, err := regexp.Compile(kre)
			if err != nil {
				return false, err
			}
			vr, err := regexp.Compile(vre)
			if err != nil {
				return false, err
			}
			for k, v := range spec.Annotations {
				if kr.MatchString(k) && vr.MatchString(v) {
					found = true
				}
			}
		}
		results = append(results, found)
	}
	if w.Commands != nil {
		found := false
		for _, cre := range w.Commands {
			cr, err := regexp.Compile(cre)
			if err != nil {
				return false, err
			}
			if len(args) > 0 && cr.MatchString(args[0]) {
				found = true
			}
		}
		results = append(results, found)
	}
	if len(results) == 0 {
		return false, nil
	}
	if w.any {
		return slices.Contains(results, true), nil
	}
	return !slices.Contains(results, false), nil
}

// addHooks puts into spec the hooks of dirs (DefaultHooksDirs when nil) that are for the
// container of cfg, in the order of their files' names.
func addHooks(spec *specs.Spec, dirs []string, cfg *model.ContainerConfig) error {
	args := cfg.Command()
	userMounts := slices.ContainsFunc(cfg.Mounts, func(m model.Mount) bool { return m.Type == "bind" || m.Type == "volume" })
	if dirs == nil {
		dirs = DefaultHooksDirs
	}
	files := map[string]string{} // name -> path; a later directory masks an earlier one
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return fmt.Errorf("hooks directory: %w", err)
		}
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".json") && !e.IsDir() {
				files[e.Name()] = filepath.Join(d, e.Name())
			}
		}
	}
	if len(files) == 0 {
		return nil
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := strings.Compare(strings.ToLower(a), strings.ToLower(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	for _, n := range names {
		h, err := readHook(files[n])
		if err != nil {
			return fmt.Errorf("OCI hook %s: %w", files[n], err)
		}
		ok, err := h.When.matches(spec, args, userMounts)
		if err != nil {
			return fmt.Errorf("OCI hook %s: %w", files[n], err)
		}
		if !ok {
			continue
		}
		if spec.Hooks == nil {
			spec.Hooks = &specs.Hooks{}
		}
		for _, s := range h.Stages {
			hs := spec.Hooks
			switch s {
			case "prestart":
				//lint:ignore SA1019 the stage hook files still name, which crun still runs
				hs.Prestart = append(hs.Prestart, h.Hook)
			case "createRuntime":
				hs.CreateRuntime = append(hs.CreateRuntime, h.Hook)
			case "createContainer":
				hs.CreateContainer = append(hs.CreateContainer, h.Hook)
			case "startContainer":
				hs.StartContainer = append(hs.StartContainer, h.Hook)
			case "poststart":
				hs.Poststart = append(hs.Poststart, h.Hook)
			case "poststop":
				hs.Poststop = append(hs.Poststop, h.Hook)
			}
		}
	}
	return nil
}
