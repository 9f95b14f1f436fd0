package state

import (
	"encoding/json"
	"errors"
	"fmt"

	"pea/internal/errdefs"
	"pea/internal/model"
	"pea/internal/sqlite"
)

// AddPod stores a new pod; its name must be free among pods and containers of its namespace.
func (s *Store) AddPod(p *model.Pod) error {
	cfg := p.Config
	return s.tx(func(tx *sqlite.Tx) error {
		if kind, err := nameTaken(tx, cfg.Namespace, cfg.Name); err != nil {
			return err
		} else if kind != "" {
			return fmt.Errorf("the name %q is already in use by a %s: %w", cfg.Name, kind, errdefs.ErrExists)
		}
		_, err := tx.Exec(`INSERT INTO pods (id, name, namespace, config, state) VALUES (?, ?, ?, ?, ?)`,
			cfg.ID, cfg.Name, cfg.Namespace, mustJSON(cfg), mustJSON(p.State))
		if isUnique(err) {
			return fmt.Errorf("pod %q: %w", cfg.Name, errdefs.ErrExists)
		}
		return err
	})
}

// Pod reads one pod by full ID; a missing pod is ErrPodRemoved.
func (s *Store) Pod(id string) (*model.Pod, error) {
	var cfg, st []byte
	err := s.db.QueryRow(`SELECT config, state FROM pods WHERE id = ?`, id).Scan(&cfg, &st)
	if errors.Is(err, sqlite.ErrNoRows) {
		return nil, fmt.Errorf("pod %s: %w", short(id), errdefs.ErrPodRemoved)
	}
	if err != nil {
		return nil, err
	}
	return decodePod(cfg, st)
}

// SavePodState writes a pod's state.
func (s *Store) SavePodState(id string, st *model.PodState) error {
	res, err := s.db.Exec(`UPDATE pods SET state = ? WHERE id = ?`, mustJSON(st), id)
	return checkOne(res, err, "pod", id)
}

// SavePodConfig rewrites a pod's config (port updates).
func (s *Store) SavePodConfig(cfg *model.PodConfig) error {
	res, err := s.db.Exec(`UPDATE pods SET config = ? WHERE id = ?`, mustJSON(cfg), cfg.ID)
	return checkOne(res, err, "pod", cfg.ID)
}

// RemovePod deletes a pod row; it fails with ErrInUse while containers still belong to it.
func (s *Store) RemovePod(id string) error {
	return s.tx(func(tx *sqlite.Tx) error {
		var n int
		if err := tx.QueryRow(`SELECT count(*) FROM containers WHERE pod_id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("pod %s still has %d containers: %w", short(id), n, errdefs.ErrInUse)
		}
		res, err := tx.Exec(`DELETE FROM pods WHERE id = ?`, id)
		return checkOne(res, err, "pod", id)
	})
}

// ListPods returns the pods of namespace (all when empty), in creation order.
func (s *Store) ListPods(namespace string) ([]*model.Pod, error) {
	q, args := inNamespace(`SELECT config, state FROM pods WHERE 1=1`, namespace)
	return decodeRows(s, q, args, decodePod)
}

func decodePod(cfg, st []byte) (*model.Pod, error) {
	p := &model.Pod{Config: &model.PodConfig{}, State: &model.PodState{}}
	if err := decodePodDocs(cfg, st, p); err != nil {
		return nil, err
	}
	return p, nil
}

func isForeignKey(err error) bool { return sqlite.ExtendedCode(err) == sqlite.ErrConstraintForeignKey }

// AddVolume stores a new named volume.
func (s *Store) AddVolume(v *model.Volume) error {
	_, err := s.db.Exec(`INSERT INTO volumes (name, config) VALUES (?, ?)`, v.Name, mustJSON(v))
	if isUnique(err) || isPrimaryKey(err) {
		return fmt.Errorf("volume with name %s already exists: %w", v.Name, errdefs.ErrExists)
	}
	return err
}

// Volume reads one volume.
func (s *Store) Volume(name string) (*model.Volume, error) {
	var cfg []byte
	err := s.db.QueryRow(`SELECT config FROM volumes WHERE name = ?`, name).Scan(&cfg)
	if errors.Is(err, sqlite.ErrNoRows) {
		return nil, fmt.Errorf("no volume with name %q found: %w", name, errdefs.ErrNoSuchVolume)
	}
	if err != nil {
		return nil, err
	}
	v := &model.Volume{}
	return v, json.Unmarshal(cfg, v)
}

// SaveVolume rewrites a volume's record (what its first use did).
func (s *Store) SaveVolume(v *model.Volume) error {
	res, err := s.db.Exec(`UPDATE volumes SET config = ? WHERE name = ?`, mustJSON(v), v.Name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("no volume with name %q found: %w", v.Name, errdefs.ErrNoSuchVolume)
	}
	return nil
}

// ListVolumes returns every volume.
func (s *Store) ListVolumes() ([]*model.Volume, error) {
	rows, err := s.db.Query(`SELECT config FROM volumes ORDER BY rowid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*model.Volume
	for rows.Next() {
		var cfg sqlite.RawBytes
		if err := rows.Scan(&cfg); err != nil {
			return nil, err
		}
		v := &model.Volume{}
		if err := json.Unmarshal(cfg, v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// RemoveVolume deletes a volume row.
func (s *Store) RemoveVolume(name string) error {
	res, err := s.db.Exec(`DELETE FROM volumes WHERE name = ?`, name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("no volume with name %q found: %w", name, errdefs.ErrNoSuchVolume)
	}
	return nil
}

func isPrimaryKey(err error) bool { return sqlite.ExtendedCode(err) == sqlite.ErrConstraintPrimaryKey }
