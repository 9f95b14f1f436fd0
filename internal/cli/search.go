package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"pea/internal/image"
)

func init() { register(newSearchCommand, "search") }

type searchOptions struct {
	registryFlags
	filters                       []string
	format                        string
	limit                         int
	listTags, noTrunc, compatible bool
}

// searchFilter is search's --filter: stars=N, is-official[=BOOL], is-automated[=BOOL].
type searchFilter struct {
	stars               int
	official, automated *bool
}

func parseSearchFilters(fs []string) (searchFilter, error) {
	var sf searchFilter
	for _, f := range fs {
		k, v, hasValue := strings.Cut(f, "=")
		switch k {
		case "stars":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return sf, usageError{fmt.Errorf("--filter %q: stars takes a number", f)}
			}
			sf.stars = n
		case "is-official", "is-automated":
			b := true
			if hasValue {
				var err error
				if b, err = strconv.ParseBool(v); err != nil {
					return sf, usageError{fmt.Errorf("--filter %q: %s takes true or false", f, k)}
				}
			}
			if k == "is-official" {
				sf.official = &b
			} else {
				sf.automated = &b
			}
		default:
			return sf, usageError{fmt.Errorf("--filter %q: the filters are stars, is-official and is-automated", f)}
		}
	}
	return sf, nil
}

func (sf searchFilter) keep(r image.SearchResult) bool {
	return r.Stars >= sf.stars && (sf.official == nil || *sf.official == (r.Official != "")) &&
		(sf.automated == nil || *sf.automated == (r.Automated != ""))
}

// newSearchCommand is `search TERM`: the repositories of a registry whose names contain TEXT
// (TERM is REGISTRY/TEXT, or TEXT for every search registry), or with --list-tags the tags of
// the repository TERM names.
func newSearchCommand(a *app) *cobra.Command {
	var o searchOptions
	cmd := &cobra.Command{
		Use:   "search [options] TERM",
		Short: "Search a registry for an image",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sf, err := parseSearchFilters(o.filters)
			if err != nil {
				return err
			}
			if o.listTags && len(o.filters) > 0 {
				return usageError{fmt.Errorf("filters are not applicable to list tags result")}
			}
			if o.limit < 0 {
				return usageError{fmt.Errorf("--limit must be a positive number")}
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			so := image.SearchOptions{PullOptions: o.options(cmd.Flags().Changed, nil), Limit: o.limit, ListTags: o.listTags}
			if so.Limit == 0 {
				so.Limit = 25 // podman's default
			}
			res, err := rt.Search(context.Background(), args[0], so)
			if err != nil {
				return err
			}
			rows := []any{}
			kept := []image.SearchResult{}
			for _, r := range res {
				if !sf.keep(r) {
					continue
				}
				kept = append(kept, r)
				if !o.noTrunc && len(r.Description) > 44 {
					r.Description = r.Description[:41] + "..."
				}
				row := r
				rows = append(rows, &row)
			}
			if len(kept) == 0 && o.format != "json" {
				return nil // podman prints not even a header
			}
			var asJSON any = kept
			if o.listTags {
				asJSON = tagsJSON(kept)
			}
			t := table{format: "{{.Name}}\t{{.Description}}"}
			switch {
			case o.listTags:
				t.format = "{{.Name}}\t{{.Tag}}"
			case o.compatible:
				t.format = "{{.Name}}\t{{.Description}}\t{{.Stars}}\t{{.Official}}\t{{.Automated}}"
			}
			return render(a.stdout, o.format, false, rows, asJSON, t)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.authfile, "authfile", "", "path of the authentication file")
	f.StringVar(&o.creds, "creds", "", "credentials USERNAME:PASSWORD for the registry")
	f.BoolVar(&o.tlsVerify, "tls-verify", true, "require HTTPS and verify certificates when contacting registries")
	f.BoolVar(&o.compatible, "compatible", false, "list stars, official and automated columns (Docker compatibility)")
	f.StringSliceVarP(&o.filters, "filter", "f", nil, "filter output: stars=N, is-official, is-automated")
	f.StringVar(&o.format, "format", "", "format with a Go template or json")
	f.IntVar(&o.limit, "limit", 0, "limit the number of results (default 25)")
	f.BoolVar(&o.listTags, "list-tags", false, "list the tags of the repository")
	f.BoolVar(&o.noTrunc, "no-trunc", false, "do not truncate the output")
	return cmd
}

// searchTags is --list-tags --format json's element: a repository and its tags.
type searchTags struct {
	Name string   `json:"Name"`
	Tags []string `json:"Tags"`
}

func tagsJSON(rs []image.SearchResult) []searchTags {
	out := []searchTags{}
	for _, r := range rs {
		if n := len(out); n > 0 && out[n-1].Name == r.Name {
			out[n-1].Tags = append(out[n-1].Tags, r.Tag)
			continue
		}
		out = append(out, searchTags{Name: r.Name, Tags: []string{r.Tag}})
	}
	return out
}
