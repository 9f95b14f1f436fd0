package engine

import (
	"strconv"
	"strings"

	"pea/internal/model"
)

// Events of exec sessions and attaches. An exec with a session ID (ExecOptions.SessionID) is
// logged as podman logs it: exec when its process starts, exec_died with its exit code when it
// ends. The API service adds exec_create when a client creates an exec instance (Docker's
// exec_create; podman has no such event, and the libpod events endpoint leaves it out), and
// attach when a client attaches to a container. The session's ID and command are attributes
// (ExecIDAttr, ExecCommandAttr): Docker's events name the command in their action and carry
// the ID; podman's views show neither.

// Attributes of exec events.
const (
	ExecIDAttr      = "execID"
	ExecCommandAttr = "execCommand"
)

// execEvent logs an exec session's event (status exec or exec_create) with its command; a
// session without an ID is not logged.
func (r *Runtime) execEvent(cfg *model.ContainerConfig, status, sessionID string, cmd []string) {
	if sessionID == "" || len(cmd) == 0 {
		return
	}
	// As Docker's daemon writes it: the executable, a space, the arguments.
	r.containerEvent(cfg, status, ExecIDAttr, sessionID, ExecCommandAttr, cmd[0]+" "+strings.Join(cmd[1:], " "))
}

// execDiedEvent logs the end of an exec session's process.
func (r *Runtime) execDiedEvent(cfg *model.ContainerConfig, sessionID string, code int) {
	if sessionID == "" {
		return
	}
	r.containerEvent(cfg, "exec_died", ExecIDAttr, sessionID, "exitCode", strconv.Itoa(code))
}

// LogExecCreate logs the creation of an exec instance (the API's exec_create).
func (r *Runtime) LogExecCreate(c *model.Container, sessionID string, cmd []string) {
	r.execEvent(c.Config, "exec_create", sessionID, cmd)
}

// LogAttach logs a client's attach to a container.
func (r *Runtime) LogAttach(c *model.Container) {
	r.containerEvent(c.Config, "attach")
}

// IsExecEvent reports whether status is one of an exec session's.
func IsExecEvent(status string) bool {
	return status == "exec" || status == "exec_create" || status == "exec_died"
}
