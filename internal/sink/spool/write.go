package spool

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/sink"
)

// Write appends the alerts to the spool. It may keep them in memory until
// Flush. When the spool is full it waits for delivery to free space, up to the
// block timeout, the end of ctx or Options.Shutdown, and then returns ErrFull
// having appended none of them (marked retry.Permanent when the service is
// stopping, so that callers do not retry in vain). A batch larger than
// max_bytes is appended record by record as space frees, and a disk error
// while starting a new segment can come after part of a batch was appended:
// writing the batch again then repeats those records, never tears them.
func (s *Spool) Write(ctx context.Context, recs []sink.Record) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	total := int64(0)
	for i := range recs {
		n := int64(encodedSize(&recs[i]))
		if n-headerSize > maxPayload || n > int64(s.cfg.MaxBytes) {
			return fmt.Errorf("spool %s: alert %q is %d bytes: %w", s.name, recs[i].ID, len(recs[i].JSON), ErrTooLarge)
		}
		total += n
	}
	// Refuse up front what cannot be written, rather than after accepting part.
	if len(s.wbuf) >= writeChunk {
		if err := s.writeOut(); err != nil {
			return err
		}
	}
	at := time.Now().UnixNano()
	if total <= int64(s.cfg.MaxBytes) {
		if err := s.waitSpace(ctx, total); err != nil {
			return err
		}
		return s.appendAll(recs, at)
	}
	for i := range recs {
		if err := s.waitSpace(ctx, int64(encodedSize(&recs[i]))); err != nil {
			return err
		}
		if err := s.appendAll(recs[i:i+1], at); err != nil {
			return err
		}
	}
	return nil
}

// appendAll encodes recs into the active segment's buffer, starting a new
// segment whenever the next record would not fit in this one.
func (s *Spool) appendAll(recs []sink.Record, at int64) error {
	var bytes, n int64
	// count publishes what was appended; it must run before a rotation makes
	// those records durable, or the deliverer could subtract them first.
	count := func() {
		if n == 0 {
			return
		}
		s.mu.Lock()
		s.buffered += bytes
		s.bufferedRecs += n
		s.mu.Unlock()
		s.c.appended.Add(n)
		s.pendingAt.CompareAndSwap(0, at)
		bytes, n = 0, 0
	}
	defer count()
	for i := range recs {
		size := int64(encodedSize(&recs[i]))
		if used := s.wsize + int64(len(s.wbuf)); used > 0 && used+size > int64(s.cfg.SegmentBytes) {
			count()
			if err := s.rotate(); err != nil {
				return err
			}
		}
		s.wbuf = appendRecord(s.wbuf, &recs[i], at)
		bytes += size
		n++
	}
	return nil
}

// waitSpace returns once n more bytes fit under max_bytes.
func (s *Spool) waitSpace(ctx context.Context, n int64) error {
	var timeout <-chan time.Time
	waited := false
	for {
		s.mu.Lock()
		fits := s.buffered == 0 || s.buffered+n <= int64(s.cfg.MaxBytes)
		ch := s.spaceCh
		buffered := s.buffered
		s.mu.Unlock()
		if fits {
			return nil
		}
		if !waited {
			waited = true
			// Delivery only reads what is durable: without this, a spool
			// filled by unflushed records would wait for itself.
			if err := s.syncActive(); err != nil {
				return err
			}
			s.c.blocked.Add(1)
			s.full.Store(true)
			defer s.full.Store(false)
			if now := time.Now(); now.Sub(s.fullLogged) >= logEvery {
				s.fullLogged = now
				s.log.Warn("spool full: waiting for the output to take alerts before accepting more",
					"buffered_bytes", buffered, "max_bytes", int64(s.cfg.MaxBytes), "blocked_writes", s.c.blocked.Load())
			}
			if d := s.cfg.BlockTimeout.Std(); d > 0 {
				t := time.NewTimer(d)
				defer t.Stop()
				timeout = t.C
			}
		}
		var why error
		final := false // retrying cannot help: the service is stopping
		select {
		case <-ch:
			continue
		case <-ctx.Done():
			why = ctx.Err()
		case <-timeout:
			why = fmt.Errorf("no space within block_timeout %s", s.cfg.BlockTimeout)
		case <-s.shutdown:
			why, final = errors.New("service stopping"), true
		case <-s.closing:
			why, final = ErrClosed, true
		}
		err := fmt.Errorf("spool %s: %w (%d bytes undelivered): %w", s.name, ErrFull, buffered, why)
		if final {
			return retry.Permanent(err)
		}
		return err
	}
}

// Flush writes what Write buffered and fsyncs the active segment: when it
// returns nil, every alert written so far is on disk and will be delivered
// even after a crash.
func (s *Spool) Flush(ctx context.Context) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	return s.syncActive()
}

func (s *Spool) usable() error {
	if s.closed {
		return fmt.Errorf("spool %s: %w", s.name, ErrClosed)
	}
	return s.sticky
}

// writeOut writes the buffer to the active segment. A partial write is cut off
// again, so the file always ends on a record boundary and a retry cannot leave
// a damaged record in the middle of it.
func (s *Spool) writeOut() error {
	if len(s.wbuf) == 0 {
		return nil
	}
	n, err := s.w.Write(s.wbuf)
	if err != nil {
		if n > 0 {
			if terr := s.w.Truncate(s.wsize); terr != nil {
				s.sticky = fmt.Errorf("spool %s: cut off a partial write to %s: %w (after: %w)", s.name, s.w.Name(), terr, err)
				return s.sticky
			}
		}
		return fmt.Errorf("spool %s: write %s: %w", s.name, s.w.Name(), err)
	}
	s.wsize += int64(n)
	s.wbuf = s.wbuf[:0]
	return nil
}

// syncActive writes and fsyncs the active segment and lets the deliverer read
// up to its end. A failed fsync is final, as the kernel may have dropped what it
// covered: the spool then refuses everything until restarted.
func (s *Spool) syncActive() error {
	if err := s.writeOut(); err != nil {
		return err
	}
	if s.wsync == s.wsize {
		return nil
	}
	if err := s.w.Sync(); err != nil {
		s.sticky = fmt.Errorf("spool %s: fsync %s: %w (restart to recover)", s.name, s.w.Name(), err)
		return s.sticky
	}
	s.wsync = s.wsize
	s.pendingAt.Store(0) // from now on the deliverer sees the oldest record
	s.mu.Lock()
	s.wseg.durable = s.wsync
	s.notifyData()
	s.mu.Unlock()
	return nil
}

// rotate seals the active segment, durable, and starts the next one.
func (s *Spool) rotate() error {
	if err := s.syncActive(); err != nil {
		return err
	}
	seq := s.wseg.seq + 1
	f, err := createSegment(s.dir, seq)
	if err != nil {
		return fmt.Errorf("spool %s: %w", s.name, err)
	}
	old := s.w
	s.w, s.wsize, s.wsync = f, 0, 0
	s.mu.Lock()
	s.wseg.sealed = true
	s.wseg = &segment{seq: seq}
	s.segs = append(s.segs, s.wseg)
	s.notifyData()
	s.mu.Unlock()
	if err := old.Close(); err != nil {
		s.log.Warn("spool: close sealed segment", "file", old.Name(), "err", err)
	}
	return nil
}

// notifyData wakes the deliverer; s.mu is held.
func (s *Spool) notifyData() {
	close(s.dataCh)
	s.dataCh = make(chan struct{})
}
