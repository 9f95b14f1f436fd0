package state

import (
	"errors"
	"fmt"
	"time"

	"pea/internal/errdefs"
	"pea/internal/jsonfast"
	"pea/internal/model"
	"pea/internal/sqlite"
)

// AddContainer stores a new container. The name must be free among containers and pods of its
// namespace; its pod, if any, must exist.
func (s *Store) AddContainer(c *model.Container) error {
	cfg := c.Config
	return s.tx(func(tx *sqlite.Tx) error {
		if kind, err := nameTaken(tx, cfg.Namespace, cfg.Name); err != nil {
			return err
		} else if kind != "" {
			return fmt.Errorf("the name %q is already in use by a %s: %w", cfg.Name, kind, errdefs.ErrExists)
		}
		var pod any
		if cfg.Pod != "" {
			pod = cfg.Pod
		}
		_, err := tx.Exec(`INSERT INTO containers (id, name, namespace, pod_id, config, state) VALUES (?, ?, ?, ?, ?, ?)`,
			cfg.ID, cfg.Name, cfg.Namespace, pod, mustJSON(cfg), mustJSON(c.State))
		if isUnique(err) {
			return fmt.Errorf("container %q: %w", cfg.Name, errdefs.ErrExists)
		}
		if err != nil && cfg.Pod != "" && isForeignKey(err) {
			return fmt.Errorf("pod %s: %w", cfg.Pod, errdefs.ErrPodRemoved)
		}
		return err
	})
}

// Container reads one container by full ID.
func (s *Store) Container(id string) (*model.Container, error) {
	var cfg, st []byte
	err := s.db.QueryRow(`SELECT config, state FROM containers WHERE id = ?`, id).Scan(&cfg, &st)
	if errors.Is(err, sqlite.ErrNoRows) {
		return nil, fmt.Errorf("container %s: %w", short(id), errdefs.ErrCtrRemoved)
	}
	if err != nil {
		return nil, err
	}
	return decodeContainer(cfg, st)
}

// ContainerExists reports whether a container ID is stored.
func (s *Store) ContainerExists(id string) bool {
	var one int
	return s.db.QueryRow(`SELECT 1 FROM containers WHERE id = ?`, id).Scan(&one) == nil
}

// SaveContainerState writes a container's state.
func (s *Store) SaveContainerState(id string, st *model.ContainerState) error {
	res, err := s.db.Exec(`UPDATE containers SET state = ? WHERE id = ?`, mustJSON(st), id)
	return checkOne(res, err, "container", id)
}

// SaveContainerConfig rewrites a container's config (rename, port updates).
func (s *Store) SaveContainerConfig(cfg *model.ContainerConfig) error {
	return s.tx(func(tx *sqlite.Tx) error {
		var old string
		if err := tx.QueryRow(`SELECT name FROM containers WHERE id = ?`, cfg.ID).Scan(&old); err != nil {
			if errors.Is(err, sqlite.ErrNoRows) {
				return fmt.Errorf("container %s: %w", short(cfg.ID), errdefs.ErrCtrRemoved)
			}
			return err
		}
		if old != cfg.Name {
			if kind, err := nameTaken(tx, cfg.Namespace, cfg.Name); err != nil {
				return err
			} else if kind != "" {
				return fmt.Errorf("the name %q is already in use by a %s: %w", cfg.Name, kind, errdefs.ErrExists)
			}
		}
		_, err := tx.Exec(`UPDATE containers SET name = ?, config = ? WHERE id = ?`, cfg.Name, mustJSON(cfg), cfg.ID)
		return err
	})
}

// RemoveContainer deletes a container row.
func (s *Store) RemoveContainer(id string) error {
	res, err := s.db.Exec(`DELETE FROM containers WHERE id = ?`, id)
	return checkOne(res, err, "container", id)
}

// ListContainers returns the containers of namespace (all when empty), in creation order; with
// podID set, only that pod's members.
func (s *Store) ListContainers(namespace, podID string) ([]*model.Container, error) {
	q, args := inNamespace(`SELECT config, state FROM containers WHERE 1=1`, namespace)
	if podID != "" {
		q += ` AND pod_id = ?`
		args = append(args, podID)
	}
	return decodeRows(s, q, args, decodeContainer)
}

// inNamespace adds the namespace condition (none when namespace is empty) to a query that has a
// WHERE clause.
func inNamespace(q, namespace string) (string, []any) {
	if namespace == "" {
		return q, nil
	}
	return q + ` AND namespace = ?`, []any{namespace}
}

// decodeRows runs q (in creation order) and decodes each (config, state) row it returns.
func decodeRows[T any](s *Store, q string, args []any, decode func(cfg, st []byte) (T, error)) ([]T, error) {
	rows, err := s.db.Query(q+` ORDER BY rowid`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var cfg, st sqlite.RawBytes // valid until Next; decoding copies what it keeps
		if err := rows.Scan(&cfg, &st); err != nil {
			return nil, err
		}
		v, err := decode(cfg, st)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ContainersMentioning returns the containers other than id whose config holds the string id
// anywhere (SQLite's instr, without decoding any config in Go): a superset of those that refer
// to container id, for the caller to check. Most removals find none, and decode nothing.
func (s *Store) ContainersMentioning(id string) ([]*model.Container, error) {
	return decodeRows(s, `SELECT config, state FROM containers WHERE id != ? AND instr(config, ?) > 0`, []any{id, id}, decodeContainer)
}

// ContainersWithIDMaps returns the containers whose configs hold ID mappings (a user
// namespace of their own), found by SQLite's instr without decoding the others.
func (s *Store) ContainersWithIDMaps() ([]*model.Container, error) {
	return decodeRows(s, `SELECT config, state FROM containers WHERE instr(config, '"uidMap"') > 0`, nil, decodeContainer)
}

// ContainerImages maps each image ID that containers use (to run, or to mount: image volumes)
// to those containers' IDs, read by SQLite's json_extract without decoding any config in Go (`images` with 300 containers: 6.2 ->
// 3.x ms).
func (s *Store) ContainerImages() (map[string][]string, error) {
	// With the images of image mounts, looked for only in configs that have one.
	rows, err := s.db.Query(`SELECT id, json_extract(config, '$.image') FROM containers
		UNION SELECT c.id, json_extract(m.value, '$.imageID')
			FROM (SELECT id, config FROM containers WHERE instr(config, '"type":"image"') > 0) c, json_each(c.config, '$.mounts') m
			WHERE json_extract(m.value, '$.type') = 'image'
		ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	users := map[string][]string{}
	for rows.Next() {
		var id string
		var img sqlite.NullString
		if err := rows.Scan(&id, &img); err != nil {
			return nil, err
		}
		if img.String != "" {
			users[img.String] = append(users[img.String], id)
		}
	}
	return users, rows.Err()
}

// ListedConfig names listedConfig for tools/jsongen, which generates its decoder (json.gen.go).
type ListedConfig = listedConfig

// listedConfig is the part of a container's config that `ps` shows, filters and sorts by, with
// ContainerConfig's JSON names (a test keeps them in step). Decoding only these skips the
// environment, namespaces, resources and the rest, which were most of a listing's time.
type listedConfig struct {
	ID         string              `json:"id"`
	Name       string              `json:"name"`
	Namespace  string              `json:"namespace,omitempty"`
	Pod        string              `json:"pod,omitempty"`
	IsInfra    bool                `json:"isInfra,omitempty"`
	Created    time.Time           `json:"created"`
	Image      string              `json:"image,omitempty"`
	ImageName  string              `json:"imageName,omitempty"`
	Entrypoint []string            `json:"entrypoint,omitempty"`
	Cmd        []string            `json:"cmd,omitempty"`
	Labels     map[string]string   `json:"labels,omitempty"`
	Mounts     []model.Mount       `json:"mounts,omitempty"`
	Network    model.NetworkConfig `json:"network"`
	// Namespaces tell a container on the default network (ps's Networks and its network=
	// filter) from one that joins another's.
	Namespaces map[string]model.Namespace `json:"namespaces,omitempty"`
	AutoRemove bool                       `json:"autoRemove,omitempty"`
	// RestartPolicy is for ps --filter restart-policy=.
	RestartPolicy string `json:"restartPolicy,omitempty"`
	// Healthcheck is for ps --filter health=none.
	Healthcheck *model.HealthConfig `json:"healthcheck,omitempty"`
	// ReadOnly and ReadOnlyTmpfs are for ps's Mounts (a read-only root's own tmpfs).
	ReadOnly      bool `json:"readOnly,omitempty"`
	ReadOnlyTmpfs bool `json:"readOnlyTmpfs,omitempty"`
}

// ListContainersListed is ListContainers with only the listedConfig part of each config.
func (s *Store) ListContainersListed(namespace string) ([]*model.Container, error) {
	q, args := inNamespace(`SELECT config, state FROM containers WHERE 1=1`, namespace)
	return decodeRows(s, q, args, func(cfg, st []byte) (*model.Container, error) {
		var l listedConfig
		if err := decodeListedConfig(cfg, &l); err != nil {
			return nil, fmt.Errorf("decode container config: %w", err)
		}
		c := &model.Container{State: &model.ContainerState{}, Config: &model.ContainerConfig{
			ID: l.ID, Name: l.Name, Namespace: l.Namespace, Pod: l.Pod, IsInfra: l.IsInfra, Created: l.Created,
			Image: l.Image, ImageName: l.ImageName, Entrypoint: l.Entrypoint, Cmd: l.Cmd, Labels: l.Labels,
			Mounts: l.Mounts, Network: l.Network, Namespaces: l.Namespaces, AutoRemove: l.AutoRemove, Healthcheck: l.Healthcheck, RestartPolicy: l.RestartPolicy,
			ReadOnly: l.ReadOnly, ReadOnlyTmpfs: l.ReadOnlyTmpfs,
		}}
		return c, decodeState(st, c.State)
	})
}

// ListPodMembersBrief returns every pod member of the namespace with its state but, of its
// config, only ID, name and pod: what `pod ps` shows, without decoding each member's config.
func (s *Store) ListPodMembersBrief(namespace string) ([]*model.Container, error) {
	q, args := inNamespace(`SELECT id, name, pod_id, state FROM containers WHERE pod_id IS NOT NULL`, namespace)
	rows, err := s.db.Query(q+` ORDER BY rowid`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*model.Container
	for rows.Next() {
		c := &model.Container{Config: &model.ContainerConfig{}, State: &model.ContainerState{}}
		var st sqlite.RawBytes
		if err := rows.Scan(&c.Config.ID, &c.Config.Name, &c.Config.Pod, &st); err != nil {
			return nil, err
		}
		if err := decodeState(st, c.State); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func decodeContainer(cfg, st []byte) (*model.Container, error) {
	c := &model.Container{Config: &model.ContainerConfig{}, State: &model.ContainerState{}}
	if err := jsonfast.Unmarshal(cfg, c.Config); err != nil {
		return nil, fmt.Errorf("decode container config: %w", err)
	}
	return c, decodeState(st, c.State)
}

func checkOne(res sqlite.Result, err error, kind, id string) error {
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if kind == "pod" {
			return fmt.Errorf("pod %s: %w", short(id), errdefs.ErrPodRemoved)
		}
		return fmt.Errorf("%s %s: %w", kind, short(id), errdefs.ErrCtrRemoved)
	}
	return nil
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
