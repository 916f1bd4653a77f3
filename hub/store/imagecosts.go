package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ImageCost is what one idle server of a notebook image used on this
// machine: the least seen so far.
type ImageCost struct {
	// ImageID is the image's ID (sha256:…), Image the reference it ran as.
	ImageID, Image string
	// Memory is in bytes, page cache excluded; CPU is 100 per CPU.
	Memory   uint64
	CPU      float64
	Measured time.Time
}

// ImageCost returns what was recorded for the image with ID imageID, or
// ErrNotFound.
func (s *Store) ImageCost(ctx context.Context, imageID string) (ImageCost, error) {
	c := ImageCost{ImageID: imageID}
	var at int64
	err := s.r.QueryRowContext(ctx, "SELECT image, memory, cpu, measured FROM image_costs WHERE image_id = ?", imageID).
		Scan(&c.Image, &c.Memory, &c.CPU, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("image cost of %s: %w", imageID, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("image cost of %s: %w", imageID, err)
	}
	c.Measured = time.UnixMicro(at).UTC()
	return c, nil
}

// RecordImageCost keeps c as its image's idle cost unless a smaller one is
// recorded already: a server measured while its student already ran
// something costs more than an idle one, never less. It reports whether c
// was kept.
func (s *Store) RecordImageCost(ctx context.Context, c ImageCost) (bool, error) {
	var kept bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO image_costs (image_id, image, memory, cpu, measured) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (image_id) DO UPDATE SET image = excluded.image, memory = excluded.memory, cpu = excluded.cpu, measured = excluded.measured
			WHERE excluded.memory < image_costs.memory`,
			c.ImageID, c.Image, c.Memory, c.CPU, c.Measured.UnixMicro())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		kept = n > 0
		return err
	})
	if err != nil {
		return false, fmt.Errorf("record the idle cost of %s: %w", c.Image, err)
	}
	return kept, nil
}
