package image

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"pea/internal/errdefs"
)

// ImportOptions are the optional parts of an import.
type ImportOptions struct {
	Changes []string // Dockerfile-like instructions, as podman import --change
	Message string   // the history comment
	// Arch, OS and Variant are the platform the config names (default this machine's).
	Arch, OS, Variant string
	// SignaturePolicy is the policy file the import must satisfy ("" : the default), Source
	// the tarball's path or URL ("-" or "" : standard input).
	SignaturePolicy, Source string
	// Created is the image's creation time (zero: now); podman's import of a file takes the
	// file's modification time, so that importing one file twice gives one image.
	Created time.Time
}

// Import makes a one-layer image from a root filesystem tarball (plain, gzip, bzip2, or zstd
// when the zstd program is installed).
// ref names it; an empty ref leaves it untagged. changes are as podman import --change.
func (s *Store) Import(r io.Reader, ref string, changes []string) (*Image, error) {
	return s.ImportWith(r, ref, ImportOptions{Changes: changes})
}

// ImportWith is Import with a history message.
func (s *Store) ImportWith(r io.Reader, ref string, o ImportOptions) (*Image, error) {
	if err := CheckImport(o.SignaturePolicy, o.Source); err != nil {
		return nil, err
	}
	var cfg ConfigFile
	cfg.Architecture = runtime.GOARCH
	cfg.OS = "linux"
	if o.Arch != "" {
		cfg.Architecture = o.Arch
	}
	if o.OS != "" {
		cfg.OS = o.OS
	}
	cfg.Variant = o.Variant
	if err := ApplyChanges(&cfg.Config, o.Changes); err != nil {
		return nil, err
	}
	comment := o.Message
	if comment == "" {
		comment = "imported from tarball"
	}
	return s.addLayerImage(ref, nil, "", r, "importing tarball", func(layer layerResult, blob string) (*ConfigFile, []layerResult, []string) {
		now := time.Now().UTC()
		if !o.Created.IsZero() {
			now = o.Created.UTC()
		}
		cfg.Created = Time{Time: now}
		cfg.RootFS = RootFS{Type: "layers", DiffIDs: []Hash{mustHash(layer.DiffID)}}
		cfg.History = []History{{
			Created:   Time{Time: now},
			CreatedBy: "/bin/sh -c #(nop) ADD file:" + strings.TrimPrefix(layer.DiffID, "sha256:") + " in /",
			Comment:   comment,
		}}
		return &cfg, []layerResult{layer}, []string{blob}
	})
}

// addLayerImage stores an image whose last layer is the tar stream r (unpacked and its blob
// stored in one pass), named ref ("" leaves it untagged): build gives the config and every
// layer and blob of the image once that layer is stored. what names r in an error.
func (s *Store) addLayerImage(ref string, annotations map[string]string, buildKey string, r io.Reader, what string, build func(layer layerResult, blob string) (*ConfigFile, []layerResult, []string)) (*Image, error) {
	names, err := localNames(ref)
	if err != nil {
		return nil, err
	}
	in, err := s.newIngest()
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() { in.close(ok) }()
	in.annotations, in.buildKey = annotations, buildKey
	blob, layer, err := in.storeLayer(r, "", "", true)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	cfg, layers, blobs := build(layer, blob)
	img, err := in.storeImage(cfg, names, layers, blobs)
	ok = err == nil
	return img, err
}

// localNames is a name given for a new local image, normalized, as its list of names ("" :
// none).
func localNames(ref string) ([]string, error) {
	if ref == "" {
		return nil, nil
	}
	n, err := NormalizeLocalName(ref)
	if err != nil {
		return nil, err
	}
	return []string{n}, nil
}

// storeImage stores the config and manifest of an image whose layers' blobs are stored, and
// commits it to the index.
func (in *ingest) storeImage(cfg *ConfigFile, names []string, layers []layerResult, blobs []string) (*Image, error) {
	img, err := in.finishImage(cfg, names, layers, blobs)
	if err != nil {
		return nil, err
	}
	imgs, err := in.commit([]*Image{img})
	if err != nil {
		return nil, err
	}
	return imgs[0], nil
}

// finishImage stores the config and a generated OCI manifest for layers whose blobs are stored.
func (in *ingest) finishImage(cfg *ConfigFile, names []string, layers []layerResult, blobs []string) (*Image, error) {
	rawConfig, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	return in.finishImageRaw(rawConfig, names, layers, blobs)
}

func mustHash(d string) Hash {
	h, err := NewHash(d)
	if err != nil {
		panic(fmt.Sprintf("bad digest %q: %v", d, err))
	}
	return h
}

// ApplyChanges applies Dockerfile-like instructions to an image config: CMD, ENTRYPOINT, ENV,
// WORKDIR, USER, LABEL, EXPOSE, STOPSIGNAL, VOLUME, ONBUILD. CMD and ENTRYPOINT take a JSON
// array or a shell form (run by /bin/sh -c).
func ApplyChanges(c *Config, changes []string) error {
	for _, ch := range changes {
		ch = strings.TrimSpace(ch)
		i := strings.IndexAny(ch, " \t=")
		if i < 0 {
			return badChange(ch, "an instruction needs a value")
		}
		instr, val := strings.ToUpper(ch[:i]), strings.TrimSpace(ch[i+1:])
		switch instr {
		case "CMD", "ENTRYPOINT":
			args, err := parseCommand(val)
			if err != nil {
				return badChange(ch, err.Error())
			}
			if instr == "CMD" {
				c.Cmd = args
			} else {
				c.Entrypoint = args
			}
		case "ENV":
			kvs, err := parseKeyValues(val, true)
			if err != nil {
				return badChange(ch, err.Error())
			}
			for _, kv := range kvs {
				c.Env = setEnv(c.Env, kv[0], kv[1])
			}
		case "LABEL":
			kvs, err := parseKeyValues(val, false)
			if err != nil {
				return badChange(ch, err.Error())
			}
			if c.Labels == nil {
				c.Labels = map[string]string{}
			}
			for _, kv := range kvs {
				c.Labels[kv[0]] = kv[1]
			}
		case "WORKDIR":
			c.WorkingDir = unquote(val)
		case "USER":
			c.User = unquote(val)
		case "STOPSIGNAL":
			c.StopSignal = unquote(val)
		case "EXPOSE":
			if c.ExposedPorts == nil {
				c.ExposedPorts = map[string]struct{}{}
			}
			for _, p := range strings.Fields(val) {
				if !strings.Contains(p, "/") {
					p += "/tcp"
				}
				c.ExposedPorts[p] = struct{}{}
			}
		case "VOLUME":
			vols, err := parseList(val)
			if err != nil {
				return badChange(ch, err.Error())
			}
			if c.Volumes == nil {
				c.Volumes = map[string]struct{}{}
			}
			for _, v := range vols {
				c.Volumes[v] = struct{}{}
			}
		case "ONBUILD":
			c.OnBuild = append(c.OnBuild, val)
		default:
			return badChange(ch, "supported instructions are CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR")
		}
	}
	return nil
}

func badChange(ch, why string) error {
	return fmt.Errorf("invalid change %q: %s: %w", ch, why, errdefs.ErrInvalid)
}

// parseCommand parses a JSON array or, failing that, a shell form.
func parseCommand(v string) ([]string, error) {
	if strings.HasPrefix(v, "[") {
		var args []string
		if err := json.Unmarshal([]byte(v), &args); err == nil {
			return args, nil
		}
	}
	if v == "" {
		return nil, fmt.Errorf("empty command")
	}
	return []string{"/bin/sh", "-c", v}, nil
}

// parseList parses a JSON array or space-separated words.
func parseList(v string) ([]string, error) {
	if strings.HasPrefix(v, "[") {
		var l []string
		if err := json.Unmarshal([]byte(v), &l); err != nil {
			return nil, fmt.Errorf("not a JSON array of strings: %v", err)
		}
		return l, nil
	}
	return strings.Fields(v), nil
}

// parseKeyValues parses "k=v k2="v 2"" or, with legacy, the old "KEY value with spaces" form.
func parseKeyValues(v string, legacy bool) ([][2]string, error) {
	words, err := ShellWords(v)
	if err != nil {
		return nil, err
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("needs KEY=VALUE")
	}
	if !strings.Contains(words[0], "=") {
		if legacy || len(words) > 1 {
			k, rest, _ := strings.Cut(v, " ")
			return [][2]string{{k, strings.TrimSpace(unquote(strings.TrimSpace(rest)))}}, nil
		}
		return [][2]string{{words[0], ""}}, nil
	}
	var out [][2]string
	for _, w := range words {
		k, val, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not KEY=VALUE", w)
		}
		out = append(out, [2]string{k, val})
	}
	return out, nil
}

// ShellWords splits on blanks, honouring single and double quotes and backslashes.
func ShellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	esc := false
	for _, r := range s {
		switch {
		case esc:
			cur.WriteRune(r)
			esc = false
		case r == '\\' && quote != '\'':
			esc, inWord = true, true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote")
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		return s[1 : len(s)-1]
	}
	return s
}

func setEnv(env []string, k, v string) []string {
	for i, kv := range env {
		if strings.HasPrefix(kv, k+"=") {
			env[i] = k + "=" + v
			return env
		}
	}
	return append(env, k+"="+v)
}
