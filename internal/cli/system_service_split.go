//go:build pea_split

package cli

// serveInProcess: pea as scripts/build.sh builds it links no HTTP; the service is its own
// executable, which is missing.
func serveInProcess(_ *app, _, _ string, _ uint, _, svc string) error {
	return invalid("the API service %s is missing (scripts/build.sh builds it beside pea)", svc)
}
