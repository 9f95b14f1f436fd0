package cli

import (
	"slices"
	"testing"

	"github.com/spf13/pflag"
)

func TestCommaListFlag(t *testing.T) {
	var caps, aliases, dns []string
	f := pflag.NewFlagSet("t", pflag.ContinueOnError)
	listVar(f, &caps, "cap-add", nil, "")
	listVar(f, &aliases, "alias", nil, "")
	listVarP(f, &dns, "dns", "d", []string{"default"}, "")
	if !slices.Equal(dns, []string{"default"}) {
		t.Fatalf("default: %q", dns)
	}
	err := f.Parse([]string{"--cap-add", "NET_ADMIN,SYS_TIME", "--cap-add", "CHOWN", "--alias", "evil\n6.6.6.6 x", "--alias", `a"b,c`, "-d", "1.1.1.1,8.8.8.8"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		got, want []string
	}{
		{caps, []string{"NET_ADMIN", "SYS_TIME", "CHOWN"}},
		// pflag's StringSlice (a CSV record) drops what follows a newline and refuses the quote.
		{aliases, []string{"evil\n6.6.6.6 x", `a"b`, "c"}},
		{dns, []string{"1.1.1.1", "8.8.8.8"}}, // the given values replace the default
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
