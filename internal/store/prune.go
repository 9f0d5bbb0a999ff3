package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// pruneBatch is how many alerts one delete transaction removes. Deleting costs
// about 0.2 ms per alert (its index, tag and full-text entries go too), so a
// batch holds the write lock for about 0.1 s and Inserts interleave with a big
// prune instead of waiting for all of it.
const pruneBatch = 500

// Prune deletes, now, alerts older than the retention and then, while the
// database uses more than MaxSize bytes, the oldest alerts, until it uses about
// 90% of MaxSize (so that pruning does not run at every tick). Size is the
// database's pages in use (Size); freed pages are reused by later inserts, so the
// file stays near MaxSize plus the write-ahead log. Deleting frees whole pages
// only, and the full-text index releases space as it merges segments, so one
// call can leave the size above the target: it stops after a few rounds and the
// next call continues. It returns how many alerts it deleted.
func (s *Store) Prune(ctx context.Context) (int64, error) {
	var total int64
	if s.opt.Retention > 0 {
		cutoff := s.opt.Now().Add(-s.opt.Retention).UnixMilli()
		n, err := s.deleteOldest(ctx, -1, cutoff)
		total += n
		if err != nil {
			return total, err
		}
	}
	if s.opt.MaxSize > 0 {
		n, err := s.pruneSize(ctx)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (s *Store) pruneSize(ctx context.Context) (int64, error) {
	var total int64
	target := s.opt.MaxSize / 10 * 9
	for round := 0; round < 8; round++ {
		used, err := s.Size(ctx)
		if err != nil {
			return total, err
		}
		if used <= s.opt.MaxSize && (round == 0 || used <= target) {
			break
		}
		count, err := s.Count(ctx)
		if err != nil || count == 0 {
			return total, err
		}
		// Delete half the share of alerts the excess represents (rounded up, so
		// there is progress): the space of deleted rows comes back partly later,
		// as index pages empty and the full-text index merges, so deleting all
		// of it at once overshoots.
		n := int64(float64(count)*float64(used-target)/float64(used)/2) + 1
		deleted, err := s.deleteOldest(ctx, n, 0)
		total += deleted
		if err != nil {
			return total, err
		}
		// Let the full-text index merge segments holding deleted rows, which is
		// what gives their pages back.
		if err := s.exec(ctx, `INSERT INTO alerts_fts(alerts_fts, rank) VALUES ('merge', 500)`); err != nil {
			return total, err
		}
	}
	return total, nil
}

// deleteOldest deletes up to n of the oldest alerts (n < 0: no limit) whose
// timestamp is before cutoff (cutoff 0: any), pruneBatch per transaction.
func (s *Store) deleteOldest(ctx context.Context, n, cutoff int64) (int64, error) {
	var total int64
	for n < 0 || total < n {
		batch := int64(pruneBatch)
		if n >= 0 {
			batch = min(batch, n-total)
		}
		stmt := `DELETE FROM alerts WHERE rid IN (SELECT rid FROM alerts ORDER BY ts, rid LIMIT ?)`
		args := []any{batch}
		if cutoff != 0 {
			stmt = `DELETE FROM alerts WHERE rid IN (SELECT rid FROM alerts WHERE ts < ? ORDER BY ts, rid LIMIT ?)`
			args = []any{cutoff, batch}
		}
		deleted, err := s.execCount(ctx, stmt, args...)
		total += deleted
		if err != nil {
			return total, fmt.Errorf("store: prune: %w", err)
		}
		if deleted < batch {
			break
		}
	}
	return total, nil
}

// exec runs one write statement in its own transaction.
func (s *Store) exec(ctx context.Context, stmt string, args ...any) error {
	_, err := s.execCount(ctx, stmt, args...)
	return err
}

func (s *Store) execCount(ctx context.Context, stmt string, args ...any) (int64, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	res, err := s.w.ExecContext(ctx, stmt, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// pruneLoop runs Prune at start and then every PruneInterval until Close, and
// refreshes the planner's statistics about hourly.
func (s *Store) pruneLoop() {
	defer close(s.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.stop
		cancel()
	}()
	t := time.NewTicker(s.opt.PruneInterval)
	defer t.Stop()
	lastOptimize := time.Now()
	for {
		n, err := s.Prune(ctx)
		switch {
		case err != nil && !errors.Is(err, context.Canceled):
			s.log.Warn("alert store: pruning failed", "path", s.path, "deleted", n, "error", err)
		case n > 0:
			s.log.Info("alert store: pruned old alerts", "path", s.path, "deleted", n)
		}
		if time.Since(lastOptimize) > time.Hour {
			lastOptimize = time.Now()
			if err := s.exec(ctx, `PRAGMA optimize`); err != nil && !errors.Is(err, context.Canceled) {
				s.log.Warn("alert store: optimize failed", "path", s.path, "error", err)
			}
		}
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
	}
}
