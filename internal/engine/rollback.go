package engine

// undo is a list of steps that revert a multi-step operation. Add a step after each action that
// succeeded; on failure run them all, newest first. They run even when the context that drove the
// operation was cancelled, and they never stop at an error: each one is best effort.
type undo struct{ steps []func() }

func (u *undo) add(f func()) { u.steps = append(u.steps, f) }

func (u *undo) run() {
	for i := len(u.steps) - 1; i >= 0; i-- {
		u.steps[i]()
	}
	u.steps = nil
}

// done forgets the steps: the operation succeeded.
func (u *undo) done() { u.steps = nil }
