package email

import (
	"context"
	"time"

	"github.com/skywatch-dev/skywatch/internal/retry"
)

// run is the sender: it waits until a digest is due, builds it and tries until
// the server takes or refuses it, or the sink closes.
func (s *Sink) run(ctx context.Context) {
	defer close(s.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		batch := s.take(false)
		if batch == nil {
			var tick <-chan time.Time
			if wait := s.untilDue(); wait > 0 {
				timer.Reset(wait)
				tick = timer.C
			}
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
			case <-tick:
			}
			timer.Stop()
			continue
		}
		// One message for every attempt: a server that took it while the
		// connection failed gets the same Message-ID again.
		d, err := buildDigest(&s.cfg, s.from, s.to, batch, s.now())
		if err != nil {
			s.log.Error("email: cannot build the digest", "error", err)
			return
		}
		tries := 0
		err = retry.Do(ctx, s.retry, func(ctx context.Context) error {
			if tries++; tries > 1 {
				s.stats.retries.Add(1)
			}
			return s.attempt(ctx, batch, d)
		})
		if err != nil {
			return // only the end of ctx stops retry.Do; the batch stays spooled
		}
	}
}

// take returns the alerts of the next digest when one is due (or, with all,
// whenever any wait), else nil. A digest is due when batch_max alerts wait,
// when the oldest has waited batch_window, or when one is urgent.
func (s *Sink) take(all bool) []*waiting {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.pending)
	if n == 0 {
		return nil
	}
	due := all || s.urgent || n >= s.cfg.BatchMax || s.now().Sub(s.pending[0].Added) >= s.cfg.BatchWindow.Std()
	if !due {
		return nil
	}
	return append([]*waiting(nil), s.pending[:min(n, s.cfg.BatchMax)]...)
}

// untilDue is how long until the oldest waiting alert's window ends; 0 when
// none waits.
func (s *Sink) untilDue() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) == 0 {
		return 0
	}
	return max(s.cfg.BatchWindow.Std()-s.now().Sub(s.pending[0].Added), time.Millisecond)
}

// attempt sends batch once. A message refused for good goes to the
// dead-letter file; either way the alerts then leave the spool. It returns an
// error only when the alerts are still to be sent.
func (s *Sink) attempt(ctx context.Context, batch []*waiting, d *digest) error {
	refused, err := s.mailer.send(ctx, d)
	if err == nil {
		if len(refused) > 0 {
			s.stats.refused.Add(int64(len(refused)))
			s.log.Warn("email: some recipients refused the digest", "refused", refused)
		}
		s.complete(batch)
		s.stats.sent.Add(int64(len(batch)))
		s.stats.messages.Add(1)
		return nil
	}
	if !isPermanent(err) {
		s.log.Warn("email: digest not sent, will retry", "server", s.mailer.addr, "alerts", len(batch), "error", err)
		return err
	}
	reason := "smtp " + s.mailer.addr + ": " + err.Error()
	s.log.Error("email: the server refused the digest; alerts moved to the dead-letter file",
		"server", s.mailer.addr, "alerts", len(batch), "file", s.deadLetterPath, "error", err)
	entries := make([]spoolEntry, len(batch))
	for i, w := range batch {
		entries[i] = w.spoolEntry
	}
	if err := deadLetter(s.deadLetterPath, s.name, reason, s.now(), entries); err != nil {
		s.log.Error("email: cannot write the dead-letter file; the digest stays spooled", "error", err)
		return err
	}
	s.complete(batch)
	s.stats.failed.Add(int64(len(batch)))
	return nil
}

// complete removes batch — the front of pending — from the spool. The alerts
// are sent (or dead-lettered) whatever happens to the spool: failing to record
// that only means they may be sent again after a restart. Unwritten done lines
// stay buffered for the next sync; a failed fsync stops Write and Flush.
func (s *Sink) complete(batch []*waiting) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, len(batch))
	for i, w := range batch {
		ids[i] = w.ID
		delete(s.ids, w.ID)
	}
	n := copy(s.pending, s.pending[len(batch):])
	clear(s.pending[n:])
	s.pending = s.pending[:n]
	s.urgent = false
	live := make([]spoolEntry, len(s.pending))
	var liveBytes int64
	for i, w := range s.pending {
		live[i] = w.spoolEntry
		liveBytes += int64(len(w.Alert)) + 100
		if s.cfg.ImmediateLevel > 0 && w.Level >= s.cfg.ImmediateLevel {
			s.urgent = true
		}
	}
	s.stats.buffered.Store(int64(n))
	s.spool.appendDone(ids)
	if err := s.spool.settle(live, liveBytes); err != nil {
		s.log.Error("email: cannot update the spool", "error", err)
	}
}
