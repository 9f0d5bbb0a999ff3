package gcs

import (
	"context"
	"errors"

	"cloud.google.com/go/storage"
)

// The checkpoint (cursors and objects read in the open days) is kept by
// daycursor, as aws-s3's.

// readObject is an object read and acknowledged, waiting for Commit.
type readObject struct {
	name       string
	generation int64 // the generation read, so that a delete spares a newer one
}

// key is the name the object is recorded under.
func (o readObject) key() string { return o.name }

// Commit records the objects read since the last commit and closes the days
// that are complete and outside the re-read window, in one transaction; then
// it removes the objects from the bucket if configured.
func (s *Source) Commit() error {
	done, err := s.track.Commit()
	if err != nil {
		return err
	}
	if s.cfg.remove() && len(done) > 0 {
		s.removeObjects(done)
	}
	return nil
}

// removeObjects deletes objects whose alerts are durable (remove_from_bucket).
// The delete is conditional on the generation read, so an object rewritten
// since is kept. A failed delete is logged; the object stays recorded as read.
func (s *Source) removeObjects(objs []readObject) {
	ctx := context.Background()
	for _, o := range objs {
		h := s.bucket.Object(o.name)
		if o.generation != 0 {
			h = h.If(storage.Conditions{GenerationMatch: o.generation})
		}
		if err := h.Delete(ctx); err != nil && !errors.Is(err, storage.ErrObjectNotExist) {
			s.log.Error("gcs: remove_from_bucket failed", "source", s.name, "bucket", s.cfg.Bucket, "object", o.name, "err", err)
		}
	}
}
