package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"pea/internal/errdefs"
)

// Exit codes as podman's.
const (
	exitOK           = 0
	exitEngine       = 125
	exitCannotInvoke = 126
	exitNotFound     = 127
)

type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

// exitCode prints err (once, as "Error: ...") and returns the code podman would.
func exitCode(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	var ee *errdefs.ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil && ee.Error() != "" {
			fmt.Fprintf(stderr, "Error: %s\n", ee.Error())
		}
		return ee.Code
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "Error:") {
		msg = "Error: " + msg
	}
	fmt.Fprintln(stderr, msg)
	return exitEngine
}
