package engine

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"

	"pea/internal/errdefs"
	"pea/internal/fsx"
	"pea/internal/model"
	"pea/internal/state"
)

// newID returns a random 64-hex-character ID.
// NewID is a new random 64-hex-digit ID, as containers', pods' and exec sessions' are.
func NewID() string { return newID() }

func newID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// LookupContainer resolves a name, ID or unique ID prefix to a container.
func (r *Runtime) LookupContainer(nameOrID string) (*model.Container, error) {
	st, err := r.state()
	if err != nil {
		return nil, err
	}
	id, err := st.Lookup(state.KindContainer, r.opts.Namespace, nameOrID)
	if err != nil {
		return nil, err
	}
	c, err := st.Container(id)
	if errdefs.Is(err, errdefs.ErrCtrRemoved) {
		return nil, fmt.Errorf("no container with name or ID %q found: %w", nameOrID, errdefs.ErrNoSuchContainer)
	}
	if err == nil {
		r.freshen(c)
	}
	return c, err
}

// LookupPod resolves a name, ID or unique ID prefix to a pod.
func (r *Runtime) LookupPod(nameOrID string) (*model.Pod, error) {
	st, err := r.state()
	if err != nil {
		return nil, err
	}
	id, err := st.Lookup(state.KindPod, r.opts.Namespace, nameOrID)
	if err != nil {
		return nil, err
	}
	p, err := st.Pod(id)
	if errdefs.Is(err, errdefs.ErrPodRemoved) {
		return nil, fmt.Errorf("no pod with name or ID %q found: %w", nameOrID, errdefs.ErrNoSuchPod)
	}
	return p, err
}

// ContainerExists reports whether a container of that name or ID exists.
func (r *Runtime) ContainerExists(nameOrID string) (bool, error) {
	_, err := r.LookupContainer(nameOrID)
	if errdefs.Is(err, errdefs.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// LatestContainer returns the most recently created container.
func (r *Runtime) LatestContainer() (*model.Container, error) {
	st, err := r.state()
	if err != nil {
		return nil, err
	}
	all, err := st.ListContainers(r.opts.Namespace, "")
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no containers to use as the latest: %w", errdefs.ErrNotFound)
	}
	latest := all[0]
	for _, c := range all[1:] {
		if c.Config.Created.After(latest.Config.Created) {
			latest = c
		}
	}
	return latest, nil
}

// Generated names are an adjective and a scientist, as podman's: 2,400 of them, so a store of a
// few hundred containers and pods meets a taken one now and then, and addWithName draws again.
var adjectives = []string{"admiring", "amazing", "awesome", "blissful", "bold", "brave", "busy",
	"calm", "charming", "clever", "cool", "dazzling", "eager", "ecstatic", "elegant", "epic",
	"fervent", "focused", "friendly", "gallant", "gifted", "happy", "hopeful", "inspiring", "jolly",
	"keen", "kind", "loving", "lucid", "modest", "nifty", "nostalgic", "optimistic", "peaceful",
	"practical", "quirky", "relaxed", "serene", "sharp", "stoic", "tender", "trusting", "upbeat",
	"vibrant", "vigilant", "wizardly", "wonderful", "xenodochial", "youthful", "zen"}
var nouns = []string{"agnesi", "babbage", "banach", "bardeen", "bell", "bohr", "boole", "cantor",
	"carson", "curie", "darwin", "dijkstra", "dirac", "einstein", "euclid", "euler", "faraday",
	"fermat", "fermi", "feynman", "franklin", "galileo", "gauss", "germain", "goldberg", "hamilton",
	"hawking", "heisenberg", "hertz", "hopper", "hypatia", "joliot", "kepler", "knuth", "lamarr",
	"lovelace", "maxwell", "meitner", "mendel", "newton", "nobel", "noether", "pascal", "pasteur",
	"planck", "ramanujan", "riemann", "ritchie", "shannon", "tesla", "thompson", "torvalds", "turing",
	"volta", "wiles", "wozniak", "wright", "yalow", "yonath", "zhukovsky"}

// randomName draws a name (a variable for tests).
var randomName = func() string {
	b := make([]byte, 2)
	rand.Read(b)
	return adjectives[int(b[0])%len(adjectives)] + "_" + nouns[int(b[1])%len(nouns)]
}

// addWithName runs add, which stores an object under its name. A name the user gave is kept
// (taken, add fails); otherwise names are drawn with setName until one is free.
func addWithName(named bool, setName func(string), add func() error) error {
	for attempt := 0; ; attempt++ {
		if !named {
			setName(randomName())
		}
		err := add()
		if err == nil || named || !errdefs.Is(err, errdefs.ErrExists) {
			return err
		}
		if attempt >= 50 {
			return fmt.Errorf("no free generated name after %d draws (%w): give one with --name", attempt+1, err)
		}
	}
}

// ListContainers returns every container of the namespace in creation order, with the status
// of those whose process ended brought up to date (read-only: conmon's callback or the next
// locked operation records it).
func (r *Runtime) ListContainers() ([]*model.Container, error) {
	st, err := r.state()
	if err != nil {
		return nil, err
	}
	cs, err := st.ListContainers(r.opts.Namespace, "")
	if err != nil {
		return nil, err
	}
	r.freshenAll(cs)
	return cs, nil
}

// ListContainersListed is ListContainers for `ps`: of each config, only what ps shows, filters
// and sorts by is filled in (ID, names, pod, image, command, created, labels, mounts, network,
// auto-remove).
func (r *Runtime) ListContainersListed() ([]*model.Container, error) {
	st, err := r.state()
	if err != nil {
		return nil, err
	}
	cs, err := st.ListContainersListed(r.opts.Namespace)
	if err != nil {
		return nil, err
	}
	r.freshenAll(cs)
	return cs, nil
}

// freshenAll is freshen for a listing: the exit directory is read once, so that a container
// that is still running costs no failed open of its exit file (300 containers: 300 syscalls
// fewer).
func (r *Runtime) freshenAll(cs []*model.Container) {
	var exits map[string]bool
	for _, c := range cs {
		if !c.State.Active() {
			continue
		}
		if exits == nil {
			exits = map[string]bool{}
			names, _ := fsx.ReadDirNames(r.exitDir()) // none yet: nothing has exited
			for _, n := range names {
				exits[n] = true
			}
		}
		if exits[c.Config.ID] || (c.State.ConmonPid > 0 && !alive(c.State.ConmonPid)) {
			r.freshen(c)
		}
	}
}

// freshen updates an unlocked copy of a container whose process ended: what a reader sees.
func (r *Runtime) freshen(c *model.Container) {
	if code, done := r.exited(c); done {
		c.State.Status = model.StatusExited
		c.State.ExitCode = int32(code)
		c.State.Pid = 0
		if fi, err := os.Stat(r.exitFile(c.Config.ID)); err == nil {
			c.State.FinishedAt = fi.ModTime()
		}
	}
}
