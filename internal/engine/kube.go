package engine

import (
	"context"
	"fmt"

	"pea/internal/errdefs"
	"pea/internal/model"
)

// SetPodExitPolicy changes a pod's exit policy and applies it at once: with "stop", a pod whose
// application containers have all exited has its infra container stopped. kube play creates a
// pod with init containers under "continue" (an init container that exits must not stop the
// pod before the application containers start) and switches to "stop" once they run.
func (r *Runtime) SetPodExitPolicy(ctx context.Context, nameOrID, policy string) error {
	if policy != model.ExitPolicyContinue && policy != model.ExitPolicyStop {
		return fmt.Errorf("invalid exit policy %q (continue, stop): %w", policy, errdefs.ErrInvalid)
	}
	pod, err := r.LookupPod(nameOrID)
	if err != nil {
		return err
	}
	st, err := r.state()
	if err != nil {
		return err
	}
	l, pod, err := r.lockPod(pod.Config.ID)
	if err != nil {
		return err
	}
	pod.Config.ExitPolicy = policy
	err = st.SavePodConfig(pod.Config)
	l.Unlock()
	if err != nil {
		return err
	}
	return r.applyExitPolicy(ctx, pod.Config.ID)
}
