package engine

// The event log: what pea did to its containers, pods, images, volumes and networks, for
// `pea events` and the API's GET /events.
//
// There is no daemon to tell, so the process that acts writes the event itself, as one JSON line
// appended to a file of the runroot that every pea process shares:
//
//	<runroot>/events/events.log     {"time":<unix ns>,"type":"container","status":"start","id":...}
//	<runroot>/events/events.log.1   the log before the last rotation
//
// An event is one write(2) on a descriptor opened O_APPEND (fsx.AppendFile): the kernel keeps
// each whole, so lines of concurrent processes never interleave, and nothing else is taken —
// no lock, no database. Writing one costs an open, a write, an lseek and a close (a few
// microseconds on the tmpfs of the runroot; `run --rm` writes four). Failing to write one never
// fails the operation: it is logged at debug level.
//
// The log is bounded: the writer whose append takes it past eventsLogMax (1 MiB) renames it to
// events.log.1, replacing the older one, so the two hold the last 1-2 MiB of events. The rename
// is done under an flock of the file renamed, and only while it is still the one at the path
// and still too large: two writers finding it large rotate it once. A writer that opened the
// file just before its rename appends to events.log.1; readers that follow (ReadEvents) notice
// the rename by the path's inode, and go on reading the renamed file for a second, so such a
// late line is not lost. A follower loses nothing while it looks at least once per two
// rotations (at 1 MiB a file, ~5000 events between looks 100 ms apart); one that sleeps
// through three loses the file in the middle, which the next rotation has replaced.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/cpupin"
	"pea/internal/fsx"
	"pea/internal/image"
	"pea/internal/jsonfast"
	"pea/internal/model"
)

// Event types.
const (
	EventContainer = "container"
	EventPod       = "pod"
	EventImage     = "image"
	EventVolume    = "volume"
	EventNetwork   = "network"
)

// Event is one line of the log. Statuses are podman's: container create, start, died, stop,
// kill, pause, unpause, restart, rename, commit, remove; pod create, start, stop, kill, pause,
// unpause, remove; image pull, push, tag, untag, remove, load, import, save; volume create,
// remove; network create, remove, connect, disconnect.
type Event struct {
	Time   int64  `json:"time"` // unix nanoseconds
	Type   string `json:"type"`
	Status string `json:"status"`
	// ID and Name are the object's: a container's (also of a network connect or disconnect), a
	// pod's, an image's (and the name the event concerns), a network's. A volume has a name alone.
	ID    string `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Image string `json:"image,omitempty"`  // a container's image, by the name it was given
	PodID string `json:"pod_id,omitempty"` // a pod member's pod
	// Network is a network event's network, by name.
	Network string `json:"network,omitempty"`
	// Attributes are the object's labels, and what the event adds: exitCode (died), signal
	// (kill), oldName (rename), imageID (commit), networkID (connect, disconnect).
	Attributes map[string]string `json:"attributes,omitempty"`
}

// TimeOf is the event's time.
func (e *Event) TimeOf() time.Time { return time.Unix(0, e.Time) }

// appendJSON writes the event as its log line (without the newline), by hand: encoding/json's
// first use of a type costs a fresh process far more than the event (see package jsonfast).
// Attributes are in key order, as encoding/json writes a map.
func (e *Event) appendJSON(b []byte) []byte {
	b = append(b, `{"time":`...)
	b = strconv.AppendInt(b, e.Time, 10)
	field := func(name, v string) {
		if v != "" {
			b = append(b, `,"`...)
			b = append(b, name...)
			b = append(b, `":`...)
			b = jsonfast.AppendString(b, v)
		}
	}
	b = append(b, `,"type":`...)
	b = jsonfast.AppendString(b, e.Type)
	b = append(b, `,"status":`...)
	b = jsonfast.AppendString(b, e.Status)
	field("id", e.ID)
	field("name", e.Name)
	field("image", e.Image)
	field("pod_id", e.PodID)
	field("network", e.Network)
	if len(e.Attributes) > 0 {
		b = append(b, `,"attributes":{`...)
		for i, k := range slices.Sorted(maps.Keys(e.Attributes)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonfast.AppendString(b, k)
			b = append(b, ':')
			b = jsonfast.AppendString(b, e.Attributes[k])
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// eventsLog is the log's path.
func (r *Runtime) eventsLog() string { return filepath.Join(r.opts.RunRoot, "events", "events.log") }

// eventsLogMax is the size past which the log is rotated; PEA_EVENTS_LOG_MAX (bytes) sets
// another, for tests of the rotation.
var eventsLogMax = sync.OnceValue(func() int64 {
	if n, err := strconv.ParseInt(os.Getenv("PEA_EVENTS_LOG_MAX"), 10, 64); err == nil && n > 0 {
		return n
	}
	return 1 << 20
})

// emit appends e to the log (its time is now unless set). It never fails: an event that cannot
// be written is logged at debug level and dropped.
func (r *Runtime) emit(e Event) {
	if r.opts.NoEvents {
		return
	}
	if e.Time == 0 {
		e.Time = time.Now().UnixNano()
	}
	line := append(e.appendJSON(make([]byte, 0, 384)), '\n')
	path := r.eventsLog()
	size, err := fsx.AppendFile(path, line, 0o600)
	if errors.Is(err, fs.ErrNotExist) { // the first event of this runroot
		if err = os.MkdirAll(filepath.Dir(path), 0o700); err == nil {
			size, err = fsx.AppendFile(path, line, 0o600)
		}
	}
	if err != nil {
		slog.Debug("event not logged", "type", e.Type, "status", e.Status, "id", e.ID, "err", err)
		return
	}
	if size > eventsLogMax() {
		rotateEventsLog(path)
	}
}

// rotateEventsLog renames the log at path to path.1 (replacing it) if it is still too large.
// The flock of the file makes a second writer that found it large wait for the first one's
// rename, after which the file at path is another one and it leaves it; a writer busy rotating
// is not waited for.
func rotateEventsLog(path string) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	if unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB) != nil {
		return // another process rotates it
	}
	var held, atPath unix.Stat_t
	if unix.Fstat(fd, &held) != nil || unix.Stat(path, &atPath) != nil {
		return
	}
	if held.Ino != atPath.Ino || held.Dev != atPath.Dev || held.Size <= eventsLogMax() {
		return // rotated meanwhile
	}
	if err := unix.Rename(path, path+".1"); err != nil {
		slog.Debug("events log not rotated", "err", err)
	}
}

// containerEvent logs a container event; extra are further attributes, as key, value pairs.
func (r *Runtime) containerEvent(cfg *model.ContainerConfig, status string, extra ...string) {
	attrs := cfg.Labels
	if len(extra) > 0 {
		attrs = make(map[string]string, len(cfg.Labels)+len(extra)/2)
		maps.Copy(attrs, cfg.Labels)
		for i := 0; i+1 < len(extra); i += 2 {
			attrs[extra[i]] = extra[i+1]
		}
	}
	r.emit(Event{Type: EventContainer, Status: status, ID: cfg.ID, Name: cfg.Name, Image: cfg.ImageName, PodID: cfg.Pod, Attributes: attrs})
}

// podEvent logs a pod event.
func (r *Runtime) podEvent(cfg *model.PodConfig, status string) {
	r.emit(Event{Type: EventPod, Status: status, ID: cfg.ID, Name: cfg.Name, Attributes: cfg.Labels})
}

// imageEvent logs an image event: the image's ID and the name it concerns.
func (r *Runtime) imageEvent(status, id, name string) {
	r.emit(Event{Type: EventImage, Status: status, ID: id, Name: name})
}

// volumeEvent logs a volume event.
func (r *Runtime) volumeEvent(v *model.Volume, status string) {
	r.emit(Event{Type: EventVolume, Status: status, Name: v.Name, Attributes: v.Labels})
}

// networkEvent logs a network's create or remove.
func (r *Runtime) networkEvent(status, id, name string, labels map[string]string) {
	r.emit(Event{Type: EventNetwork, Status: status, ID: id, Name: name, Network: name, Attributes: labels})
}

// EventImageMatches reports whether a stored image name (normalized: localhost/bb:latest) is
// the one want names: itself, its normalized form (bb, bb:latest), or its repository.
func EventImageMatches(name, want string) bool {
	if name == "" || want == "" {
		return false
	}
	if name == want {
		return true
	}
	if n, err := image.NormalizeLocalName(want); err == nil && n == name {
		return true
	}
	if n, err := image.NormalizeName(want); err == nil && n == name {
		return true
	}
	repo := name
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		repo = name[:i]
	}
	return repo == want || strings.HasSuffix(repo, "/"+want)
}

// EventReadOptions select what ReadEvents reads.
type EventReadOptions struct {
	Since, Until time.Time // bounds (inclusive); zero: none
	// FromEnd reads only the events written from now on (Docker's events without since).
	FromEnd bool
	// Follow waits for new events, until ctx ends or Until passes.
	Follow bool
	// Poll is how often a follower looks for new events (100 ms when zero).
	Poll time.Duration
	// looks, when set, replaces the poll timer: a follower looks each time it receives (tests
	// decide when it looks, and a second send returns once the first look is done).
	looks <-chan struct{}
}

// ReadEvents calls fn with each event of the log that the options select, oldest first (the
// rotated file, then the current one). It returns fn's first error; the end of ctx ends it
// without one.
func (r *Runtime) ReadEvents(ctx context.Context, o EventReadOptions, fn func(*Event) error) error {
	if o.Poll <= 0 {
		o.Poll = 100 * time.Millisecond
	}
	since, until := int64(0), int64(0)
	if !o.Since.IsZero() {
		since = o.Since.UnixNano()
	}
	if !o.Until.IsZero() {
		until = o.Until.UnixNano()
	}
	emit := func(line []byte) error {
		var e Event
		if json.Unmarshal(line, &e) != nil {
			return nil // not an event (a line cut short by a full disk)
		}
		if since != 0 && e.Time < since || until != 0 && e.Time > until {
			return nil
		}
		return fn(&e)
	}
	path := r.eventsLog()
	cur := openEventFile(path)
	defer func() { cur.close() }()
	if o.FromEnd {
		cur.skipToEnd()
	} else if old := openEventFile(path + ".1"); old != nil {
		// Opened after the current one: if the rename came between, this is the same file.
		if !old.same(cur) {
			if err := old.drain(emit); err != nil {
				old.close()
				return err
			}
		}
		old.close()
	}
	// Files renamed away, read again at each poll for a while, for the appends of writers that
	// opened them just before the rename.
	var rotated []*eventFile
	defer func() {
		for _, f := range rotated {
			f.close()
		}
	}()
	for {
		kept := rotated[:0]
		for _, f := range rotated {
			if err := f.drain(emit); err != nil {
				return err
			}
			if time.Now().Before(f.keepUntil) {
				kept = append(kept, f)
			} else {
				f.close()
			}
		}
		rotated = kept
		if err := cur.drain(emit); err != nil {
			return err
		}
		if !o.Follow || until != 0 && time.Now().UnixNano() > until {
			return nil
		}
		if o.looks != nil {
			select {
			case <-ctx.Done():
				return nil
			case <-o.looks:
			}
		} else {
			select {
			case <-ctx.Done():
				return nil
			case <-cpupin.After(o.Poll):
			}
		}
		var st unix.Stat_t
		if unix.Stat(path, &st) != nil || cur != nil && cur.ino == st.Ino && cur.dev == st.Dev {
			continue // not rotated (or no event written yet)
		}
		next := openEventFile(path)
		if next == nil {
			continue
		}
		if cur != nil {
			if err := cur.drain(emit); err != nil {
				next.close()
				return err
			}
			keep := time.Now().Add(rotatedGrace)
			cur.keepUntil = keep
			rotated = append(rotated, cur)
			// Rotated twice since the last look: the file in between is events.log.1.
			if mid := openEventFile(path + ".1"); mid != nil && !mid.same(cur) && !mid.same(next) {
				mid.keepUntil = keep
				rotated = append(rotated, mid)
			} else {
				mid.close()
			}
		}
		cur = next
	}
}

// rotatedGrace is how long a follower keeps reading a file renamed away: a writer appends to
// it only if it opened it just before the rename, microseconds before its write.
const rotatedGrace = time.Second

// eventFile is one log file being read.
type eventFile struct {
	f         *os.File
	ino, dev  uint64
	rest      []byte // the start of a line not yet ended
	buf       []byte
	keepUntil time.Time // a file renamed away: when to stop reading it
}

// openEventFile opens a log file; nil when it cannot (it does not exist yet).
func openEventFile(path string) *eventFile {
	f, err := fsx.Open(path)
	if err != nil {
		return nil
	}
	var st unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) != nil {
		f.Close()
		return nil
	}
	return &eventFile{f: f, ino: st.Ino, dev: st.Dev}
}

func (ef *eventFile) close() {
	if ef != nil {
		ef.f.Close()
	}
}

// same reports whether both are the same file.
func (ef *eventFile) same(o *eventFile) bool {
	return ef != nil && o != nil && ef.ino == o.ino && ef.dev == o.dev
}

// skipToEnd moves past what the file holds now.
func (ef *eventFile) skipToEnd() {
	if ef != nil {
		ef.f.Seek(0, io.SeekEnd)
	}
}

// drain reads the file to its end, calling emit with each whole line.
func (ef *eventFile) drain(emit func(line []byte) error) error {
	if ef == nil {
		return nil
	}
	if ef.buf == nil {
		ef.buf = make([]byte, 64<<10)
	}
	for {
		n, err := ef.f.Read(ef.buf)
		data := ef.buf[:n]
		for len(data) > 0 {
			i := slices.Index(data, '\n')
			if i < 0 {
				ef.rest = append(ef.rest, data...)
				break
			}
			line := data[:i]
			if len(ef.rest) > 0 {
				line = append(ef.rest, line...)
				ef.rest = ef.rest[:0]
			}
			data = data[i+1:]
			if err := emit(line); err != nil {
				return err
			}
		}
		if err != nil || n == 0 {
			return nil // io.EOF: the end for now
		}
	}
}
