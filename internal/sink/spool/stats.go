package spool

import (
	"sync/atomic"
	"time"
)

// Stats is a snapshot of a spool's counters. Counts are since New, except the
// Buffered ones, which include what a previous run left.
type Stats struct {
	// BufferedBytes and BufferedRecords are what is in the spool and not yet
	// delivered (record framing included in the bytes).
	BufferedBytes   int64
	BufferedRecords int64
	// Appended counts records accepted by Write.
	Appended int64
	// Delivered counts records the inner sink flushed.
	Delivered int64
	// Failed counts delivery attempts that failed; Retries the attempts made
	// after a failure.
	Failed  int64
	Retries int64
	// Corrupt counts damaged regions of the spool that delivery skipped, and
	// CorruptBytes their size: the alerts in them are lost to this output.
	Corrupt      int64
	CorruptBytes int64
	// TornBytes counts bytes cut off the end of the newest segment at start:
	// records being written when the previous run crashed, never flushed.
	TornBytes int64
	// Dropped counts alerts the spool discarded: always 0, it never drops.
	Dropped int64
	// BlockedWrites counts Write calls that had to wait for space, and Full
	// says whether one is waiting now.
	BlockedWrites int64
	Full          bool
	// OldestAge is how long the oldest undelivered alert has been in the
	// spool (0 when it is empty): the output's lag.
	OldestAge time.Duration
}

type counters struct {
	appended, delivered, failed, retries atomic.Int64
	corrupt, corruptBytes, torn, blocked atomic.Int64
}

// Stats returns the current counters. It may be called from any goroutine.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	st := Stats{BufferedBytes: s.buffered, BufferedRecords: s.bufferedRecs}
	s.mu.Unlock()
	st.Appended = s.c.appended.Load()
	st.Delivered = s.c.delivered.Load()
	st.Failed = s.c.failed.Load()
	st.Retries = s.c.retries.Load()
	st.Corrupt = s.c.corrupt.Load()
	st.CorruptBytes = s.c.corruptBytes.Load()
	st.TornBytes = s.c.torn.Load()
	st.BlockedWrites = s.c.blocked.Load()
	st.Full = s.full.Load()
	oldest := s.headAt.Load()
	if oldest == 0 {
		oldest = s.pendingAt.Load()
	}
	if oldest != 0 && st.BufferedRecords > 0 {
		st.OldestAge = max(0, time.Since(time.Unix(0, oldest)))
	}
	return st
}
