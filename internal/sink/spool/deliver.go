package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/skywatch-dev/skywatch/internal/retry"
	"github.com/skywatch-dev/skywatch/internal/sink"
)

// logEvery is the least time between two log lines about the same ongoing
// problem (an output failing, a cursor that cannot be written).
const logEvery = time.Minute

// maxInterned bounds the table of rule ids and group lists shared between
// delivered records.
const maxInterned = 4096

// deliverer is the state of the goroutine that reads the spool in order and
// hands it to the inner sink.
type deliverer struct {
	s   *Spool
	cur cursor // the next record to deliver is at or after it

	f   *os.File // segment cur.seq, opened for reading
	sc  *scanner
	b   batch
	str map[string]string
	grp map[string][]string

	failing   int // consecutive failed attempts
	failSince time.Time
	lastLog   time.Time
}

// batch is consecutive records of one segment, with the range they cover
// (damaged bytes skipped on the way included).
type batch struct {
	seq        uint64
	start, end int64
	recs       []sink.Record
	arena      []byte // the records' JSON, back to back
	spans      []int  // end of each record's JSON in arena
}

// deliver runs until the spool is closed and drained, or ctx ends.
func (s *Spool) deliver(ctx context.Context) {
	defer close(s.done)
	d := &deliverer{s: s, cur: s.start, str: map[string]string{}, grp: map[string][]string{}}
	defer d.closeFile()
	for d.next(ctx) {
		if len(d.b.recs) > 0 {
			if err := d.send(ctx); err != nil {
				return
			}
		}
		if err := d.commit(ctx, cursor{seq: d.b.seq, off: d.b.end}); err != nil {
			return
		}
		s.mu.Lock()
		s.buffered -= d.b.end - d.b.start
		s.bufferedRecs -= int64(len(d.b.recs))
		close(s.spaceCh)
		s.spaceCh = make(chan struct{})
		s.mu.Unlock()
	}
}

// next reads the next batch into d.b, waiting for records to become durable.
// It returns false when the spool is drained or ctx ends.
func (d *deliverer) next(ctx context.Context) bool {
	s := d.s
	for {
		s.mu.Lock()
		seg := s.segs[0] // delivery is always in the oldest segment kept
		durable, sealed, draining, ch := seg.durable, seg.sealed, s.draining, s.dataCh
		s.mu.Unlock()
		if d.cur.off < durable {
			err := retry.Do(ctx, s.retryPolicy(), func(context.Context) error {
				err := d.read(seg, durable)
				if err != nil {
					d.logLimited("spool: cannot read segment; retrying", err)
				}
				return err
			})
			if err != nil {
				return false
			}
			if d.b.end > d.b.start {
				return true
			}
		}
		if sealed && d.cur.off >= durable {
			if err := d.finishSegment(ctx); err != nil {
				return false
			}
			continue
		}
		s.headAt.Store(0)
		if draining {
			return false
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// read fills d.b with up to cfg.Batch records from segment seg, from the cursor
// to durable.
func (d *deliverer) read(seg *segment, durable int64) error {
	if d.f == nil {
		f, err := os.Open(segmentPath(d.s.dir, seg.seq))
		if err != nil {
			return err
		}
		d.f = f
		d.sc = newScanner(f, d.cur.off, durable)
	}
	d.sc.end = durable
	b := &d.b
	b.seq, b.start = seg.seq, d.sc.offset()
	b.recs, b.arena, b.spans = b.recs[:0], b.arena[:0], b.spans[:0]
	var firstAt int64
	for len(b.recs) < d.s.cfg.Batch {
		p, off, skipped, ok := d.sc.next()
		if skipped > 0 {
			d.damaged(seg, off-skipped, skipped)
		}
		if !ok {
			if d.sc.err != nil {
				err := d.sc.err
				d.closeFile() // reopen and read again from the cursor
				return err
			}
			if end := d.sc.offset(); end < durable {
				// The file is shorter than what was fsynced: it was cut by
				// something else. Account for the missing bytes and go on.
				d.damaged(seg, end, durable-end)
				d.sc = newScanner(d.f, durable, durable)
			}
			break
		}
		v, _ := parsePayload(p) // the scanner only returns valid payloads
		if firstAt == 0 {
			firstAt = v.at
		}
		b.arena = append(b.arena, v.json...)
		b.spans = append(b.spans, len(b.arena))
		b.recs = append(b.recs, sink.Record{
			ID:     string(v.id),
			Level:  int(v.level),
			RuleID: d.intern(v.ruleID),
			Groups: d.groups(&v),
		})
	}
	prev := 0
	for i, end := range b.spans {
		b.recs[i].JSON = b.arena[prev:end:end]
		prev = end
	}
	b.end = d.sc.offset()
	if firstAt != 0 {
		d.s.headAt.Store(firstAt)
	}
	return nil
}

// damaged reports bytes of a segment that hold no valid record. They cannot be
// delivered; the segment is kept in corrupt/ once the rest of it is.
func (d *deliverer) damaged(seg *segment, off, n int64) {
	d.s.c.corrupt.Add(1)
	d.s.c.corruptBytes.Add(n)
	d.s.mu.Lock()
	seg.corrupt = true
	d.s.mu.Unlock()
	d.s.log.Error("spool: damaged data in a segment; skipping it, the alerts it held are lost to this output",
		"segment", segmentName(seg.seq), "offset", off, "bytes", n,
		"kept_in", filepath.Join(d.s.dir, corruptDir))
}

// send hands d.b to the inner sink, retrying until it is flushed or ctx ends.
// The batch is written once and then only flushed again: by the Sink contract
// a sink keeps what Write accepted until a Flush succeeds, so writing it again
// would only repeat it. A batch whose Write failed was not accepted and is
// written again.
func (d *deliverer) send(ctx context.Context) error {
	s := d.s
	attempts := 0
	written := false
	err := retry.Do(ctx, s.retryPolicy(), func(ctx context.Context) error {
		if attempts > 0 {
			s.c.retries.Add(1)
		}
		attempts++
		var err error
		if !written {
			if err = s.inner.Write(ctx, d.b.recs); err != nil {
				err = fmt.Errorf("write: %w", err)
			}
			written = err == nil
		}
		if err == nil {
			if err = s.inner.Flush(ctx); err != nil {
				err = fmt.Errorf("flush: %w", err)
			}
		}
		if err == nil || ctx.Err() != nil {
			return err
		}
		s.c.failed.Add(1)
		d.failed(err)
		if retry.IsPermanent(err) {
			// The spool never drops: a batch the output rejects is retried
			// until it is accepted or an operator intervenes.
			err = errors.New(err.Error())
		}
		return err
	})
	if err != nil {
		return err
	}
	s.c.delivered.Add(int64(len(d.b.recs)))
	if d.failing > 0 {
		s.log.Info("spool: delivery to the output resumed", "failed_attempts", d.failing, "since", d.failSince)
		d.failing = 0
	}
	return nil
}

func (d *deliverer) failed(err error) {
	d.failing++
	now := time.Now()
	if d.failing == 1 {
		d.failSince = now
	}
	if d.failing == 1 || now.Sub(d.lastLog) >= logEvery {
		d.lastLog = now
		st := d.s.Stats()
		msg := "spool: delivery to the output failed; alerts stay spooled and are retried"
		if retry.IsPermanent(err) {
			msg = "spool: the output rejects a batch; retrying it forever, delivery is stuck until it is accepted"
		}
		d.s.log.Warn(msg, "err", err, "failed_attempts", d.failing, "since", d.failSince,
			"buffered_bytes", st.BufferedBytes, "buffered_records", st.BufferedRecords, "oldest_age", st.OldestAge)
	}
}

// logLimited logs a local problem at most once per logEvery.
func (d *deliverer) logLimited(msg string, err error) {
	if now := time.Now(); now.Sub(d.lastLog) >= logEvery {
		d.lastLog = now
		d.s.log.Error(msg, "err", err)
	}
}

// commit saves c as the delivery cursor, retrying until it is saved or ctx ends.
func (d *deliverer) commit(ctx context.Context, c cursor) error {
	err := retry.Do(ctx, d.s.retryPolicy(), func(context.Context) error {
		err := writeCursor(d.s.dir, c)
		if err != nil {
			d.logLimited("spool: cannot save the delivery cursor; retrying", err)
		}
		return err
	})
	if err == nil {
		d.cur = c
	}
	return err
}

// finishSegment moves delivery to the next segment and removes the delivered
// one, or moves it to corrupt/ when it held damaged data.
func (d *deliverer) finishSegment(ctx context.Context) error {
	s := d.s
	s.mu.Lock()
	seg, next := s.segs[0], s.segs[1].seq // a sealed segment always has a successor
	s.mu.Unlock()
	d.closeFile()
	// The cursor moves first: a crash before the removal leaves a segment that
	// recovery removes, never one delivered twice.
	if err := d.commit(ctx, cursor{seq: next}); err != nil {
		return err
	}
	s.mu.Lock()
	s.segs = s.segs[1:]
	s.mu.Unlock()
	path := segmentPath(s.dir, seg.seq)
	if !seg.corrupt {
		if err := os.Remove(path); err != nil {
			s.log.Warn("spool: remove delivered segment", "err", err)
		}
		return nil
	}
	if err := keepCorruptSegment(s.dir, path); err != nil {
		s.log.Error("spool: keep damaged segment for inspection", "err", err)
		if err := os.Remove(path); err != nil {
			s.log.Warn("spool: remove delivered segment", "err", err)
		}
	}
	return nil
}

// keepCorruptSegment moves a delivered segment that held damaged data to
// corrupt/, keeping only the newest keepCorrupt there.
func keepCorruptSegment(dir, path string) error {
	cdir := filepath.Join(dir, corruptDir)
	if err := os.MkdirAll(cdir, 0o750); err != nil {
		return err
	}
	if err := os.Rename(path, filepath.Join(cdir, filepath.Base(path))); err != nil {
		return err
	}
	entries, err := os.ReadDir(cdir)
	if err != nil {
		return err
	}
	var names []string
	for _, e := range entries {
		if _, ok := parseSegmentName(e.Name()); ok {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	for len(names) > keepCorrupt {
		if err := os.Remove(filepath.Join(cdir, names[0])); err != nil {
			return err
		}
		names = names[1:]
	}
	return nil
}

func (d *deliverer) closeFile() {
	if d.f != nil {
		_ = d.f.Close()
		d.f, d.sc = nil, nil
	}
}

// intern returns b as a string shared with earlier records: rule ids repeat.
func (d *deliverer) intern(b []byte) string {
	if v, ok := d.str[string(b)]; ok {
		return v
	}
	if len(d.str) >= maxInterned {
		clear(d.str)
	}
	v := string(b)
	d.str[v] = v
	return v
}

// groups returns the record's groups, sharing the slice with earlier records
// that have the same ones. Sinks only read Record fields.
func (d *deliverer) groups(v *view) []string {
	if v.ngroups == 0 {
		return nil
	}
	if g, ok := d.grp[string(v.groups)]; ok {
		return g
	}
	if len(d.grp) >= maxInterned {
		clear(d.grp)
	}
	g := make([]string, 0, v.ngroups)
	for rest := v.groups; len(rest) > 0; {
		var s []byte
		s, rest, _ = cutString(rest)
		g = append(g, d.intern(s))
	}
	d.grp[string(v.groups)] = g
	return g
}
