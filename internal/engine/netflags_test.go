package engine

import (
	"reflect"
	"strings"
	"testing"

	"pea/internal/errdefs"
	"pea/internal/model"
)

// The cases are podman 4.3.1's kube play, run with the same --network values.
func TestParseNetworkFlags(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []string
		want   model.NetworkConfig
		mode   string
		err    string
	}{
		{name: "none given", mode: model.NSModePrivate},
		{name: "two names", values: []string{"na", "nb"}, mode: model.NSModeBridge,
			want: model.NetworkConfig{Networks: []string{"na", "nb"}}},
		{name: "comma list then one", values: []string{"na,nb", "nc"}, mode: model.NSModeBridge,
			want: model.NetworkConfig{Networks: []string{"na", "nb", "nc"}}},
		{name: "repeated name", values: []string{"na", "na"}, mode: model.NSModeBridge,
			want: model.NetworkConfig{Networks: []string{"na"}}},
		{name: "options of the second", values: []string{"na", "nb:ip=10.89.3.60,mac=aa:bb:cc:dd:ee:01,alias=web"}, mode: model.NSModeBridge,
			want: model.NetworkConfig{Networks: []string{"na", "nb"},
				Addrs:   map[string]model.NetworkAddr{"nb": {IP: "10.89.3.60", MAC: "aa:bb:cc:dd:ee:01"}},
				Aliases: map[string][]string{"nb": {"web"}}}},
		{name: "options of the first", values: []string{"na:ip=10.89.0.5,ip=fd00::5,interface_name=eth0", "nb"}, mode: model.NSModeBridge,
			want: model.NetworkConfig{Networks: []string{"na", "nb"}, StaticIP: "10.89.0.5", StaticIP6: "fd00::5"}},
		{name: "empty options", values: []string{"na:"}, mode: model.NSModeBridge,
			want: model.NetworkConfig{Networks: []string{"na"}}},
		{name: "bridge alone with options", values: []string{"bridge:ip=10.88.0.50,alias=x"}, mode: model.NSModeBridge,
			want: model.NetworkConfig{StaticIP: "10.88.0.50", Aliases: map[string][]string{"*": {"x"}}}},
		{name: "bridge then a name", values: []string{"bridge:alias=x", "na"}, mode: model.NSModeBridge,
			want: model.NetworkConfig{Networks: []string{"pea", "na"}, Aliases: map[string][]string{"pea": {"x"}}}},
		{name: "host", values: []string{"host"}, mode: model.NSModeHost},
		{name: "slirp", values: []string{"slirp4netns:port_handler=slirp4netns"}, mode: model.NSModeSlirp},
		{name: "host then a name", values: []string{"host", "na"},
			err: "cannot set multiple networks without bridge network mode, selected mode host"},
		{name: "default then a name", values: []string{"default", "na"},
			err: "cannot set multiple networks without bridge network mode, selected mode private"},
		{name: "a name then none", values: []string{"na", "none"},
			err: "can only set extra network names, selected mode none conflicts with bridge"},
		{name: "a name then bridge", values: []string{"na", "bridge"},
			err: "can only set extra network names, selected mode bridge conflicts with bridge"},
		{name: "empty second", values: []string{"na", ""}, err: "network name cannot be empty"},
		{name: "empty name with options", values: []string{":ip=1.2.3.4"}, err: "network name cannot be empty"},
		{name: "unknown option", values: []string{"na:bogus=1"}, err: "invalid option for network na: unknown bridge network option: bogus"},
		{name: "bad address", values: []string{"na:ip=bad"}, err: `invalid ip address "bad"`},
		{name: "option without value", values: []string{"na:ip"}, err: "want KEY=VALUE"}, // podman 4.3 panics
		{name: "bad MAC", values: []string{"na", "nb:mac=zz"}, err: "invalid MAC address"},
		{name: "two IPv4 on one network", values: []string{"na:ip=10.89.0.5,ip=10.89.0.6"}, err: "one static address of each IP version at most"},
		{name: "interface out of order", values: []string{"na", "nb:interface_name=eth0"}, err: "pea names the interfaces eth0, eth1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseNetworkFlags(tc.values)
			var nc model.NetworkConfig
			if err == nil {
				err = c.Apply(&nc, "pea")
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errdefs.Is(err, errdefs.ErrInvalid) {
					t.Fatalf("err = %v, want one of class invalid saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Mode.Mode != tc.mode {
				t.Errorf("mode %q, want %q", c.Mode.Mode, tc.mode)
			}
			if !reflect.DeepEqual(nc, tc.want) {
				t.Errorf("network config\n%+v, want\n%+v", nc, tc.want)
			}
		})
	}
}
