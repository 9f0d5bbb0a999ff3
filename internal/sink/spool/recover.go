package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Files in the spool directory.
const (
	segmentExt = ".seg"
	cursorName = "cursor"
	cursorTmp  = "cursor.tmp"
	corruptDir = "corrupt"
	// keepCorrupt is how many damaged segments corrupt/ keeps, newest first,
	// so a failing disk cannot fill itself up with them.
	keepCorrupt = 8
)

// cursor is the delivery position: the next record to deliver is the first at
// or after off in segment seq.
type cursor struct {
	seq uint64
	off int64
}

var cursorMagic = [4]byte{'s', 'w', 'c', '1'}

const cursorSize = 24 // magic, seq, off, CRC-32C of the 20 bytes before it

func segmentName(seq uint64) string { return fmt.Sprintf("%020d%s", seq, segmentExt) }

func segmentPath(dir string, seq uint64) string { return filepath.Join(dir, segmentName(seq)) }

// parseSegmentName returns the sequence number of a segment file name.
func parseSegmentName(name string) (uint64, bool) {
	base, ok := strings.CutSuffix(name, segmentExt)
	if !ok || len(base) != 20 {
		return 0, false
	}
	seq, err := strconv.ParseUint(base, 10, 64)
	return seq, err == nil
}

// createSegment creates a new, empty segment and makes its name durable.
func createSegment(dir string, seq uint64) (*os.File, error) {
	f, err := os.OpenFile(segmentPath(dir, seq), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("create segment: %w", err)
	}
	if err := syncDir(dir); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// readCursor returns the saved delivery position; ok is false when there is
// none. A damaged file is an error.
func readCursor(dir string) (c cursor, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, cursorName))
	if errors.Is(err, fs.ErrNotExist) {
		return c, false, nil
	}
	if err != nil {
		return c, false, err
	}
	if len(b) != cursorSize || !slices.Equal(b[:4], cursorMagic[:]) ||
		crc32.Checksum(b[:20], castagnoli) != binary.LittleEndian.Uint32(b[20:]) {
		return c, false, fmt.Errorf("%s is damaged", filepath.Join(dir, cursorName))
	}
	c.seq = binary.LittleEndian.Uint64(b[4:])
	c.off = int64(binary.LittleEndian.Uint64(b[12:]))
	return c, true, nil
}

// writeCursor replaces the cursor file atomically and durably: write a
// temporary file, fsync it, rename it over the old one, fsync the directory.
func writeCursor(dir string, c cursor) error {
	b := make([]byte, 0, cursorSize)
	b = append(b, cursorMagic[:]...)
	b = binary.LittleEndian.AppendUint64(b, c.seq)
	b = binary.LittleEndian.AppendUint64(b, uint64(c.off))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	tmp := filepath.Join(dir, cursorTmp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("write cursor: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, cursorName))
	}
	if err != nil {
		return fmt.Errorf("write cursor: %w", err)
	}
	return syncDir(dir)
}

// recover rebuilds the spool's state from its directory: drops segments the
// cursor has passed (their deletion was interrupted), cuts a torn tail off the
// newest segment, counts what is left to deliver and starts a new active
// segment, so that segments written by earlier runs are never appended to.
func (s *Spool) recover() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	var seqs []uint64
	for _, e := range entries {
		if seq, ok := parseSegmentName(e.Name()); ok && e.Type().IsRegular() {
			seqs = append(seqs, seq)
		}
	}
	slices.Sort(seqs)
	if err := os.Remove(filepath.Join(s.dir, cursorTmp)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	cur, ok, err := readCursor(s.dir)
	if err != nil {
		// Without a cursor delivery restarts from the oldest segment kept:
		// alerts already delivered are sent again, none is lost.
		s.log.Error("spool: delivery cursor damaged; delivering again from the oldest segment", "err", err)
		ok = false
	}
	for len(seqs) > 0 && ok && seqs[0] < cur.seq {
		if err := os.Remove(segmentPath(s.dir, seqs[0])); err != nil {
			return err
		}
		seqs = seqs[1:]
	}
	switch {
	case len(seqs) == 0:
		cur = cursor{seq: max(cur.seq, 1)}
	case !ok || seqs[0] != cur.seq:
		cur = cursor{seq: seqs[0]}
	}

	for i, seq := range seqs {
		last := i == len(seqs)-1
		seg, recs, bytes, err := s.recoverSegment(seq, last, cur)
		if err != nil {
			return err
		}
		if seq == cur.seq && cur.off > seg.durable {
			s.log.Error("spool: delivery cursor is past the end of its segment; delivering from the segment's end",
				"segment", segmentName(seq), "cursor", cur.off, "size", seg.durable)
			cur.off = seg.durable
		}
		s.segs = append(s.segs, seg)
		s.buffered += bytes
		s.bufferedRecs += recs
	}

	next := cur.seq
	if len(seqs) > 0 {
		next = max(next, seqs[len(seqs)-1]+1)
	}
	f, err := createSegment(s.dir, next)
	if err != nil {
		return err
	}
	s.w = f
	s.wseg = &segment{seq: next}
	s.segs = append(s.segs, s.wseg)
	if len(seqs) == 0 {
		cur = cursor{seq: next}
	}
	s.start = cur
	if s.bufferedRecs > 0 {
		s.log.Info("spool: resuming delivery of alerts left by the previous run",
			"records", s.bufferedRecs, "bytes", s.buffered, "segments", len(seqs))
	}
	return nil
}

// recoverSegment scans one segment left by a previous run and returns it sealed,
// with the records and bytes at or after the cursor. Damage in the middle is
// left for delivery to skip and report; damage at the end of the newest segment
// is a torn write of records never flushed, and is cut off.
func (s *Spool) recoverSegment(seq uint64, last bool, cur cursor) (*segment, int64, int64, error) {
	path := segmentPath(s.dir, seq)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, 0, 0, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, 0, 0, err
	}
	size := info.Size()
	sc := newScanner(f, 0, size)
	var recs, damaged, validEnd int64
	for {
		_, off, skipped, ok := sc.next()
		if !ok {
			if sc.err != nil {
				return nil, 0, 0, fmt.Errorf("read %s: %w", path, sc.err)
			}
			if !last {
				damaged += skipped
			}
			break
		}
		damaged += skipped
		validEnd = sc.offset()
		if seq > cur.seq || off >= cur.off {
			recs++
		}
	}
	if damaged > 0 {
		s.log.Warn("spool: segment has damaged data; delivery will skip it and keep the segment in corrupt/",
			"segment", segmentName(seq), "damaged_bytes", damaged)
	}
	if last && validEnd < size {
		s.log.Warn("spool: cutting a torn write off the newest segment (alerts never flushed, so never acknowledged)",
			"segment", segmentName(seq), "offset", validEnd, "bytes", size-validEnd)
		if err := f.Truncate(validEnd); err != nil {
			return nil, 0, 0, err
		}
		s.c.torn.Add(size - validEnd)
		size = validEnd
	}
	if last {
		// A crash of the process (not of the machine) leaves unflushed
		// records in the page cache; make them durable before delivering them.
		if err := f.Sync(); err != nil {
			return nil, 0, 0, err
		}
	}
	bytes := size
	if seq == cur.seq {
		bytes = max(0, size-cur.off)
	}
	return &segment{seq: seq, durable: size, sealed: true, corrupt: damaged > 0}, recs, bytes, nil
}
