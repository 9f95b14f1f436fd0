package api

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestCheckLibpodSpecKeys(t *testing.T) {
	for _, c := range []struct {
		name, body, refused string
	}{
		{"what the 4.3 client always sends", `{"name":"c","image":"bb","httpproxy":true,"systemd":"true","umask":"0022",
			"idmappings":{"HostUIDMapping":true,"HostGIDMapping":true,"UIDMap":null,"AutoUserNs":false,
			"AutoUserNsOpts":{"Size":0,"InitialSize":0,"PasswdFile":"","AdditionalUIDMappings":null}},
			"netns":{},"Networks":null,"raw_image_name":"bb","volatile":true}`, ""},
		{"an unknown field at its zero value", `{"image":"bb","overlay_volumes":[],"storage_opts":{},"startupHealthConfig":null}`, ""},
		{"an unknown field", `{"image":"bb","overlay_volumes":[{"destination":"/o"}]}`, `overlay volumes, -v SRC:DST:O (SpecGenerator field "overlay_volumes")`},
		{"an unknown field in a known object", `{"resource_limits":{"memory":{"limit":100000000,"kernel":1000}}}`, `--kernel-memory (SpecGenerator field "resource_limits.memory.kernel")`},
		{"an unknown object in a known one", `{"resource_limits":{"hugepageLimits":[{"pageSize":"2MB","limit":1}]}}`, `"resource_limits.hugepageLimits"`},
		{"an auto user namespace option", `{"idmappings":{"AutoUserNsOpts":{"InitialSize":5}}}`, "--userns auto options other than size"},
		{"a network's unknown option", `{"Networks":{"n":{"static_ips":["10.0.0.2"],"options":{"x":"y"}}}}`, `"Networks.*.options"`},
		{"a network's known options", `{"Networks":{"n":{"static_ips":["10.0.0.2"],"aliases":["a"],"static_mac":"02:00:00:00:00:01"}}}`, ""},
	} {
		err := checkLibpodSpecKeys([]byte(c.body))
		switch {
		case c.refused == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.refused != "" && (err == nil || !strings.Contains(err.Error(), c.refused)):
			t.Errorf("%s: got %v, want an error with %q", c.name, err, c.refused)
		}
	}
}

// Every field of the SpecGenerator type (shared with generate spec) is one the endpoint reads,
// save the automatic user namespace's options other than its size, which podman and generate
// spec write at zero and the endpoint refuses when set: a field added to the type for generate
// spec must be added to libpodFieldKind too, or the endpoint would refuse generate spec's output.
func TestLibpodSpecTypeKeysRead(t *testing.T) {
	refusedWhenSet := []string{"idmappings.AutoUserNsOpts.InitialSize", "idmappings.AutoUserNsOpts.PasswdFile",
		"idmappings.AutoUserNsOpts.GroupFile", "idmappings.AutoUserNsOpts.AdditionalUIDMappings",
		"idmappings.AutoUserNsOpts.AdditionalGIDMappings"}
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			path := prefix + name
			switch libpodFieldKind(path) {
			case fieldRead:
			case fieldObject:
				walk(path+".", f.Type)
			case fieldMapOfObjects:
				walk(path+".*.", f.Type.Elem())
			default:
				if !slices.Contains(refusedWhenSet, path) {
					t.Errorf("%s (%s): a field of the type that the endpoint refuses", path, f.Name)
				}
			}
		}
	}
	walk("", reflect.TypeFor[libpodSpec]())
}
