package spool

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"slices"

	"github.com/skywatch-dev/skywatch/internal/sink"
)

// A record on disk is a 16-byte header and a payload:
//
//	magic [4]byte | payload length uint32 | payload CRC-32C uint32 | header CRC-32C uint32 (of the 12 bytes before it)
//	payload: appended-at int64 (unix ns) | level varint | id, rule id: uvarint length + bytes |
//	         group count uvarint, each group uvarint length + bytes | alert JSON (the rest)
//
// Integers are little-endian. The magic lets a reader find the next record after
// damaged bytes; the header's own CRC lets it reject a false magic without
// reading (and checksumming) the length it claims.
const (
	headerSize = 16
	// maxPayload bounds one record. It keeps a damaged length from making a
	// reader allocate gigabytes; alerts are far smaller.
	maxPayload = 32 << 20
	// readChunk is how much a scanner reads at a time.
	readChunk = 256 << 10
)

var (
	magic      = [4]byte{0xF5, 's', 'w', '1'} // 0xF5 never occurs in UTF-8 text
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

// encodedSize is the size appendRecord gives r, header included.
func encodedSize(r *sink.Record) int {
	n := headerSize + 8 + varintLen(int64(r.Level)) + strLen(r.ID) + strLen(r.RuleID) + uvarintLen(uint64(len(r.Groups)))
	for _, g := range r.Groups {
		n += strLen(g)
	}
	return n + len(r.JSON)
}

func strLen(s string) int { return uvarintLen(uint64(len(s))) + len(s) }

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func varintLen(v int64) int {
	u := uint64(v) << 1
	if v < 0 {
		u = ^u
	}
	return uvarintLen(u)
}

// appendRecord encodes r, appended at the given time, onto buf.
func appendRecord(buf []byte, r *sink.Record, at int64) []byte {
	start := len(buf)
	buf = append(buf, magic[:]...)
	buf = append(buf, make([]byte, headerSize-len(magic))...)
	p := len(buf)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(at))
	buf = binary.AppendVarint(buf, int64(r.Level))
	buf = appendString(buf, r.ID)
	buf = appendString(buf, r.RuleID)
	buf = binary.AppendUvarint(buf, uint64(len(r.Groups)))
	for _, g := range r.Groups {
		buf = appendString(buf, g)
	}
	buf = append(buf, r.JSON...)
	h := buf[start:p]
	binary.LittleEndian.PutUint32(h[4:], uint32(len(buf)-p))
	binary.LittleEndian.PutUint32(h[8:], crc32.Checksum(buf[p:], castagnoli))
	binary.LittleEndian.PutUint32(h[12:], crc32.Checksum(h[:12], castagnoli))
	return buf
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// view is a decoded payload whose byte fields point into it.
type view struct {
	at      int64
	level   int64
	id      []byte
	ruleID  []byte
	ngroups int
	groups  []byte // the encoded groups, ngroups of them
	json    []byte
}

// parsePayload decodes a payload, reporting false for one that is malformed.
func parsePayload(p []byte) (v view, ok bool) {
	if len(p) < 8 {
		return v, false
	}
	v.at = int64(binary.LittleEndian.Uint64(p))
	p = p[8:]
	var n int
	if v.level, n = binary.Varint(p); n <= 0 {
		return v, false
	}
	p = p[n:]
	if v.id, p, ok = cutString(p); !ok {
		return v, false
	}
	if v.ruleID, p, ok = cutString(p); !ok {
		return v, false
	}
	count, n := binary.Uvarint(p)
	if n <= 0 || count > uint64(len(p)) { // each group takes at least one byte
		return v, false
	}
	p = p[n:]
	rest := p
	for i := uint64(0); i < count; i++ {
		if _, rest, ok = cutString(rest); !ok {
			return v, false
		}
	}
	v.ngroups = int(count)
	v.groups = p[:len(p)-len(rest)]
	v.json = rest
	return v, true
}

func cutString(p []byte) (s, rest []byte, ok bool) {
	n, k := binary.Uvarint(p)
	if k <= 0 || n > uint64(len(p)-k) {
		return nil, p, false
	}
	return p[k : k+int(n)], p[k+int(n):], true
}

// scanner reads the records of a region [start, end) of a segment file in
// order, skipping over damaged bytes to the next valid record.
type scanner struct {
	r    io.ReaderAt
	end  int64  // end of the region; may grow as more becomes readable
	base int64  // file offset of buf[0]
	buf  []byte // bytes read from base on
	pos  int    // index in buf of the next byte to scan
	err  error  // a read error other than a short file
}

func newScanner(r io.ReaderAt, start, end int64) *scanner {
	return &scanner{r: r, end: end, base: start}
}

// offset is the file offset of the next byte to scan.
func (s *scanner) offset() int64 { return s.base + int64(s.pos) }

// fill makes n bytes from pos available in buf, reporting false when the region
// (or the file) ends first or reading fails.
func (s *scanner) fill(n int) bool {
	if len(s.buf)-s.pos >= n {
		return true
	}
	if s.err != nil {
		return false
	}
	if s.pos > 0 {
		s.buf = s.buf[:copy(s.buf, s.buf[s.pos:])]
		s.base += int64(s.pos)
		s.pos = 0
	}
	for len(s.buf) < n {
		have := s.base + int64(len(s.buf))
		avail := s.end - have
		if avail <= 0 {
			return false
		}
		want := int(min(int64(max(n-len(s.buf), readChunk)), avail))
		s.buf = slices.Grow(s.buf, want)
		m, err := s.r.ReadAt(s.buf[len(s.buf):len(s.buf)+want], have)
		s.buf = s.buf[:len(s.buf)+m]
		if m < want {
			if err == io.EOF || err == nil {
				s.end = s.base + int64(len(s.buf)) // the file is shorter than the region
			} else {
				s.err = err
			}
			return len(s.buf) >= n
		}
	}
	return true
}

// next returns the payload of the next valid record (valid until the following
// call) and its file offset. skipped counts the damaged bytes passed over to
// reach it. At the end of the region ok is false and skipped counts the damaged
// bytes at the end; check s.err to tell a read error from the end.
func (s *scanner) next() (payload []byte, off, skipped int64, ok bool) {
	for {
		if n, valid := s.valid(); valid {
			off = s.offset()
			payload = s.buf[s.pos+headerSize : s.pos+n]
			s.pos += n
			return payload, off, skipped, true
		}
		if !s.fill(1) {
			return nil, s.offset(), skipped, false
		}
		s.pos++
		skipped++
		for {
			if i := bytes.Index(s.buf[s.pos:], magic[:]); i >= 0 {
				s.pos += i
				skipped += int64(i)
				break
			}
			// The last bytes may be the start of a magic cut by the buffer's end.
			keep := min(len(s.buf)-s.pos, len(magic)-1)
			adv := len(s.buf) - s.pos - keep
			s.pos += adv
			skipped += int64(adv)
			if !s.fill(keep + 1) {
				if s.err != nil {
					return nil, s.offset(), skipped, false
				}
				rest := len(s.buf) - s.pos
				s.pos += rest
				skipped += int64(rest)
				return nil, s.offset(), skipped, false
			}
		}
	}
}

// valid reports whether a whole, intact record starts at pos, and its size.
func (s *scanner) valid() (int, bool) {
	if !s.fill(headerSize) {
		return 0, false
	}
	h := s.buf[s.pos : s.pos+headerSize]
	if !bytes.Equal(h[:len(magic)], magic[:]) || crc32.Checksum(h[:12], castagnoli) != binary.LittleEndian.Uint32(h[12:]) {
		return 0, false
	}
	n := binary.LittleEndian.Uint32(h[4:])
	if n > maxPayload || !s.fill(headerSize+int(n)) {
		return 0, false
	}
	h = s.buf[s.pos : s.pos+headerSize] // fill may have moved the buffer
	p := s.buf[s.pos+headerSize : s.pos+headerSize+int(n)]
	if crc32.Checksum(p, castagnoli) != binary.LittleEndian.Uint32(h[8:]) {
		return 0, false
	}
	if _, ok := parsePayload(p); !ok {
		return 0, false
	}
	return headerSize + int(n), true
}
