package cli

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/image"
	"pea/internal/model"
)

func init() { register(newImagesCommand, "images") }

type imagesOptions struct {
	all, quiet, noTrunc, noHeading, digests, history bool
	format                                           string
	filters                                          []string
	sort                                             string
}

// imageRow is one line of `images`: one per name of each image, with podman's template fields.
type imageRow struct {
	ID, Repository, Tag, Digest      string
	Created, CreatedSince, CreatedAt string
	CreatedTime                      time.Time
	Size                             string
	VirtualSize                      int64 // bytes, as podman's template shows it
	SharedSize                       int
	Names, RepoTags, RepoDigests     []string
	History                          string // names the image has had, newest first, as "a, b"
	Labels                           map[string]string
	Dangling, ReadOnly, IsReadOnly   bool
	Containers                       int
	ParentId                         string //nolint:revive // podman's name
	Arch, Os                         string
	img                              *image.Image
}

// imageJSON is an element of `images --format json`, with podman's keys.
type imageJSON struct {
	ID          string            `json:"Id"`
	ParentID    string            `json:"ParentId"`
	RepoTags    []string          `json:"RepoTags"`
	RepoDigests []string          `json:"RepoDigests"`
	Size        int64             `json:"Size"`
	SharedSize  int64             `json:"SharedSize"`
	VirtualSize int64             `json:"VirtualSize"`
	Labels      map[string]string `json:"Labels"`
	Containers  int               `json:"Containers"`
	ReadOnly    bool              `json:"ReadOnly,omitempty"`
	Dangling    bool              `json:"Dangling,omitempty"`
	Names       []string          `json:"Names,omitempty"` // podman leaves these out when empty
	Digest      string            `json:"Digest,omitempty"`
	History     []string          `json:"History,omitempty"`
	Created     int64             `json:"Created"`
	CreatedAt   string            `json:"CreatedAt"`
}

func newImagesCommand(a *app) *cobra.Command {
	var o imagesOptions
	cmd := &cobra.Command{
		Use:   "images [options] [IMAGE]",
		Short: "List images in local storage",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.filters = append(o.filters, "reference="+args[0])
			}
			return runImages(a, &o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.all, "all", "a", false, "show all images (intermediate ones too)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "display only image IDs")
	f.BoolVar(&o.noTrunc, "no-trunc", false, "do not truncate output")
	f.BoolVarP(&o.noHeading, "noheading", "n", false, "do not print column headings")
	f.BoolVar(&o.digests, "digests", false, "show digests")
	f.BoolVar(&o.history, "history", false, "show the names each image has had, newest first")
	f.StringVar(&o.format, "format", "", "format with a Go template or json")
	listVarP(f, &o.filters, "filter", "f", nil, "filter output: reference=, dangling=, label=, before=, since=, id=, readonly=")
	f.StringVar(&o.sort, "sort", "created", "sort by created, id, repository, size or tag")
	return cmd
}

func runImages(a *app, o *imagesOptions) error {
	if !slices.Contains([]string{"created", "id", "repository", "size", "tag"}, o.sort) {
		return invalid("%q is not a valid field for sorting. Choose from: id, repository, size, tag, created", o.sort)
	}
	rt, err := a.engine()
	if err != nil {
		return err
	}
	imgs, err := rt.ImageList()
	if err != nil {
		return err
	}
	users, err := rt.ImageContainers()
	if err != nil {
		return err
	}
	flt, err := parseImageFilters(rt, o.filters)
	if err != nil {
		return err
	}
	parents := image.Intermediates(imgs)
	flt.users, flt.parents = users, parents
	var rows []*imageRow
	var jsonOut []imageJSON
	now := time.Now()
	// Listed oldest first (the store's order, which podman's sorts keep among equal rows), then
	// sorted.
	slices.Reverse(imgs)
	for _, img := range imgs {
		if !flt.matchImage(img) || !o.all && parents[img.ID] {
			continue
		}
		size := rt.ImageStorageSize(img)
		parent := ""
		if p := image.DirectParent(imgs, img); p != nil {
			parent = p.ID
		}
		imgRows := imageRows(img, len(users[img.ID]), size, parent, o.noTrunc, now)
		var kept []*imageRow
		for _, r := range imgRows {
			if flt.matchRow(r) {
				kept = append(kept, r)
			}
		}
		if len(kept) == 0 {
			continue
		}
		rows = append(rows, kept...)
		j := toImageJSON(img, len(users[img.ID]))
		j.Size, j.VirtualSize, j.ParentID = size, size, parent
		jsonOut = append(jsonOut, j)
	}
	sortImageRows(rows, o.sort)
	if o.format == "json" { // podman's json wins over -q
		if jsonOut == nil {
			jsonOut = []imageJSON{}
		}
		sortImageJSON(jsonOut, rows)
		return printJSON(a.stdout, jsonOut)
	}
	if o.quiet {
		seen := map[string]bool{}
		for _, r := range rows {
			if !seen[r.ID] {
				seen[r.ID] = true
				fmt.Fprintln(a.stdout, r.ID)
			}
		}
		return nil
	}
	items := make([]any, len(rows))
	for i, r := range rows {
		items[i] = r
	}
	def := "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Created}}\t{{.Size}}"
	if o.digests {
		def = "{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.Created}}\t{{.Size}}"
	}
	if o.history {
		def += "\t{{.History}}"
	}
	return render(a.stdout, o.format, o.noHeading, items, jsonOut, table{
		format:  def,
		headers: map[string]string{"ID": "IMAGE ID", "History": "HISTORY", "Created": "CREATED", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT"},
	})
}

// sortImageJSON puts the images in the order of their first rows.
func sortImageJSON(out []imageJSON, rows []*imageRow) {
	first := map[string]int{}
	for i, r := range rows {
		if _, ok := first[r.img.ID]; !ok {
			first[r.img.ID] = i
		}
	}
	slices.SortStableFunc(out, func(a, b imageJSON) int { return first[a.ID] - first[b.ID] })
}

// imageRows makes one row per name (repository and tag) of img, or one <none> row; size is
// what the image takes in the store, parent the image it was made on top of ("" : none).
func imageRows(img *image.Image, containers int, size int64, parent string, noTrunc bool, now time.Time) []*imageRow {
	base := imageRow{
		ID:          truncID(img.ID, noTrunc),
		Digest:      img.Digest,
		Created:     agoFrom(now, img.Created),
		CreatedAt:   img.Created.Local().Format("2006-01-02 15:04:05 -0700 MST"),
		CreatedTime: img.Created.Truncate(time.Second).Local(), // podman keeps Unix seconds
		Size:        humanSize(size),
		VirtualSize: size,
		Names:       nonNil(img.Names),
		RepoTags:    nonNil(img.Names),
		RepoDigests: nonNil(img.RepoDigests()),
		History:     strings.Join(img.NamesHistory, ", "),
		Labels:      img.Config.Config.Labels,
		Dangling:    img.Dangling(),
		Containers:  containers,
		ParentId:    parent,
		Arch:        img.Config.Architecture,
		Os:          img.Config.OS,
		img:         img,
	}
	base.CreatedSince = base.Created
	if noTrunc {
		base.ID = "sha256:" + img.ID
	}
	if len(img.Names) == 0 {
		r := base
		r.Repository, r.Tag = "<none>", "<none>"
		return []*imageRow{&r}
	}
	var rows []*imageRow
	for _, n := range img.Names {
		r := base
		r.Repository, r.Tag = image.SplitName(n)
		if r.Tag == "" {
			r.Tag = "<none>"
		}
		rows = append(rows, &r)
	}
	return rows
}

func toImageJSON(img *image.Image, containers int) imageJSON {
	return imageJSON{
		ID: img.ID, RepoTags: nonNil(img.Names), RepoDigests: nonNil(img.RepoDigests()),
		Size: img.Size, VirtualSize: img.Size, Labels: img.Config.Config.Labels, Containers: containers,
		Dangling: img.Dangling(), Names: nonNil(img.Names), Digest: img.Digest, History: nonNil(img.NamesHistory),
		Created: img.Created.Unix(), CreatedAt: img.Created.UTC().Format(time.RFC3339),
	}
}

func sortImageRows(rows []*imageRow, by string) {
	less := func(a, b *imageRow) bool { return a.img.Created.After(b.img.Created) }
	switch by {
	case "id":
		less = func(a, b *imageRow) bool { return a.ID < b.ID }
	case "repository":
		less = func(a, b *imageRow) bool { return a.Repository < b.Repository }
	case "tag":
		less = func(a, b *imageRow) bool { return a.Tag < b.Tag }
	case "size":
		less = func(a, b *imageRow) bool { return a.VirtualSize < b.VirtualSize }
	}
	// insertion sort keeps equal rows (an image's names) in their order
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && less(rows[j], rows[j-1]); j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}

// imageFilter is the parsed --filter list: different keys must all match; several reference=
// values match when any does.
type imageFilter struct {
	refs          []string
	dangling      *bool
	labels        []string
	notLabels     []string // label!=: none may match
	before, since *time.Time
	until         *time.Time
	ids           []string
	readonly      *bool
	intermediate  *bool
	manifest      *bool
	containers    *bool
	// users counts each image's containers (for containers=).
	users map[string][]string
	// parents are the images another one was made on top of (for intermediate=).
	parents map[string]bool
}

func parseImageFilters(rt *engine.Runtime, filters []string) (*imageFilter, error) {
	f := &imageFilter{}
	bools := map[string]**bool{"dangling": &f.dangling, "readonly": &f.readonly, "intermediate": &f.intermediate,
		"manifest": &f.manifest, "containers": &f.containers}
	for _, s := range filters {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return nil, invalid("invalid image filter %q: must be in the format \"filter=value or filter!=value\"", s)
		}
		switch k {
		case "reference":
			f.refs = append(f.refs, v)
		case "dangling", "readonly", "intermediate", "manifest", "containers":
			b, err := strconv.ParseBool(v)
			if err != nil {
				if k == "containers" {
					return nil, invalid("unsupported value %q for containers filter", v)
				}
				return nil, invalid("non-boolean value %q for %s filter: %v", v, k, err)
			}
			p := bools[k]
			if *p != nil && **p != b {
				return nil, invalid("specifying %q filter more than once with different values is not supported", k)
			}
			*p = &b
		case "label":
			f.labels = append(f.labels, v)
		case "label!":
			f.notLabels = append(f.notLabels, v)
		case "before", "since", "after":
			img, err := rt.ImageLookup(v)
			if err != nil {
				return nil, fmt.Errorf("could not find local image for filter %q=%q: %w", k, v, err)
			}
			t := img.Created
			if k == "before" {
				f.before = &t
			} else {
				f.since = &t
			}
		case "until":
			t, err := engine.ParseTimeArg(v)
			if err != nil {
				return nil, invalid("failed to parse value as time or duration: %q", v)
			}
			f.until = &t
		case "id":
			f.ids = append(f.ids, strings.TrimPrefix(v, "sha256:"))
		default:
			return nil, invalid("unsupported image filter %q", k)
		}
	}
	return f, nil
}

func (f *imageFilter) matchImage(img *image.Image) bool {
	if f.dangling != nil && img.Dangling() != *f.dangling {
		return false
	}
	if f.readonly != nil && *f.readonly { // pea has no read-only (additional) image stores
		return false
	}
	if f.manifest != nil && img.IsList() != *f.manifest {
		return false
	}
	if f.containers != nil && (len(f.users[img.ID]) > 0) != *f.containers {
		return false
	}
	if f.intermediate != nil && (img.Dangling() && f.parents[img.ID]) != *f.intermediate {
		return false
	}
	if f.before != nil && !img.Created.Before(*f.before) || f.since != nil && !img.Created.After(*f.since) {
		return false
	}
	if f.until != nil && !img.Created.Before(*f.until) {
		return false
	}
	if len(f.ids) > 0 {
		ok := false
		for _, id := range f.ids {
			ok = ok || strings.HasPrefix(img.ID, id)
		}
		if !ok {
			return false
		}
	}
	for _, l := range f.labels {
		if !model.LabelsMatch(img.Config.Config.Labels, l) {
			return false
		}
	}
	for _, l := range f.notLabels {
		if model.LabelsMatch(img.Config.Config.Labels, l) {
			return false
		}
	}
	return true
}

func (f *imageFilter) matchRow(r *imageRow) bool {
	if len(f.refs) == 0 {
		return true
	}
	if r.Repository == "<none>" {
		return false
	}
	for _, p := range f.refs {
		if referenceMatches(p, r.Repository, r.Tag) {
			return true
		}
	}
	return false
}

// referenceMatches applies a reference= glob to a name, in its full and familiar forms
// ("docker.io/library/x" is also "library/x" and "x"; "localhost/x" is also "x").
func referenceMatches(pattern, repo, tag string) bool {
	pRepo, pTag, hasTag := pattern, "", false
	if i := strings.LastIndex(pattern, ":"); i >= 0 && !strings.Contains(pattern[i:], "/") {
		pRepo, pTag, hasTag = pattern[:i], pattern[i+1:], true
	}
	if hasTag {
		if ok, _ := path.Match(pTag, tag); !ok {
			return false
		}
	}
	forms := []string{repo}
	for _, pre := range []string{"docker.io/library/", "docker.io/", "localhost/"} {
		if s, ok := strings.CutPrefix(repo, pre); ok {
			forms = append(forms, s)
		}
	}
	if i := strings.LastIndex(repo, "/"); i >= 0 {
		forms = append(forms, repo[i+1:])
	}
	for _, f := range forms {
		if ok, _ := path.Match(pRepo, f); ok {
			return true
		}
	}
	return false
}
