// Package errdefs defines the few error classes pea uses everywhere. Lower layers wrap them with
// context (fmt.Errorf("pod %q: %w", name, errdefs.ErrNotFound)); the CLI maps them to exit codes
// at the edge, and later the REST and CRI servers map them to HTTP and gRPC codes.
package errdefs

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound: no object of that name or ID.
	ErrNotFound = errors.New("not found")
	// ErrExists: an object of that name already exists.
	ErrExists = errors.New("already exists")
	// ErrInvalid: the request itself is malformed.
	ErrInvalid = errors.New("invalid argument")
	// ErrWrongState: the object is not in a state that allows the operation.
	ErrWrongState = errors.New("wrong state")
	// ErrInUse: the object is used by another one and cannot be removed.
	ErrInUse = errors.New("in use")
	// ErrAmbiguous: an ID prefix matches more than one object.
	ErrAmbiguous = errors.New("ambiguous")
	// ErrPodRemoved: a handle refers to a pod that no longer exists.
	ErrPodRemoved = errors.New("pod removed")
	// ErrCtrRemoved: a handle refers to a container that no longer exists.
	ErrCtrRemoved = errors.New("container removed")
)

// Is reports whether err is of class target; a shorthand for errors.Is.
func Is(err, target error) bool { return errors.Is(err, target) }

// ExitError carries an exit code that the CLI must return as is (a container's own exit code,
// 126 for a command that cannot be invoked, 127 for one that is not found).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}
func (e *ExitError) Unwrap() error { return e.Err }

// classError is an error with its own text that belongs to a class (errors.Is sees the class).
type classError struct {
	msg   string
	class error
}

func (e *classError) Error() string { return e.msg }
func (e *classError) Unwrap() error { return e.class }

// Errorf is an error of class class whose text is the message alone: podman's wording, where
// the class's own words would be one word too many.
func Errorf(class error, format string, args ...any) error {
	return &classError{fmt.Sprintf(format, args...), class}
}

// Errors with podman's wording, in their classes.
var (
	ErrNoSuchContainer = &classError{"no such container", ErrNotFound}
	ErrNoSuchPod       = &classError{"no such pod", ErrNotFound}
	ErrNoSuchVolume    = &classError{"no such volume", ErrNotFound}
	ErrCtrStateInvalid = &classError{"container state improper", ErrWrongState}
	ErrPodStateInvalid = &classError{"pod state improper", ErrWrongState}
)
