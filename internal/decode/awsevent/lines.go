package awsevent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// lineReader splits a stream into lines the way Python's text files do with
// universal newlines: "\n", "\r\n" and a lone "\r" all end a line. Memory is
// bounded by the longest line it returns (Options.MaxRecordBytes).
type lineReader struct {
	src      io.Reader
	buf      []byte
	pos, end int
	base     int64 // stream offset of buf[0]
	eof      bool
	rerr     error
	max      int
	line     int64 // 0-based index of the next line
	skipLF   bool  // a "\n" right at the buffer's start belongs to the previous "\r"
}

// errLineTooLong is the cause for lines above the size limit.
var errLineTooLong = errors.New("line longer than the record size limit")

func newLineReader(r io.Reader, max int) *lineReader {
	size := 64 << 10
	if max+1 < size {
		size = max + 1
	}
	return &lineReader{src: r, buf: make([]byte, size), max: max}
}

// fill reads more input after buf[end]; it returns false when nothing was added.
func (l *lineReader) fill() bool {
	if l.eof || l.rerr != nil {
		return false
	}
	if l.pos > 0 {
		n := copy(l.buf, l.buf[l.pos:l.end])
		l.base += int64(l.pos)
		l.pos, l.end = 0, n
	}
	if l.end == len(l.buf) {
		size := 2 * len(l.buf)
		if limit := l.max + 2; size > limit {
			size = limit
		}
		if size <= len(l.buf) {
			return false
		}
		nb := make([]byte, size)
		copy(nb, l.buf[:l.end])
		l.buf = nb
	}
	for tries := 0; tries < 100; tries++ {
		n, err := l.src.Read(l.buf[l.end:])
		l.end += n
		if err != nil {
			if errors.Is(err, io.EOF) {
				l.eof = true
			} else {
				l.rerr = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	l.rerr = io.ErrNoProgress
	return false
}

// next returns the next line without its terminator (valid until the next
// call), the stream offset where it starts, and whether a terminator ended it.
// It returns io.EOF after the last line. A line over the limit is skipped with
// errLineTooLong (its index is used up); a read error is returned as is.
func (l *lineReader) next() (line []byte, off int64, term bool, err error) {
	if l.skipLF {
		// The previous line ended with "\r" at the end of the buffer.
		if l.pos == l.end {
			l.fill()
		}
		if l.pos < l.end && l.buf[l.pos] == '\n' {
			l.pos++
		}
		l.skipLF = false
	}
	scanned := 0
	for {
		if i := indexEOL(l.buf[l.pos+scanned : l.end]); i >= 0 {
			at := l.pos + scanned + i
			line, off = l.buf[l.pos:at], l.base+int64(l.pos)
			l.endLine(at)
			if len(line) > l.max {
				return nil, off, true, errLineTooLong
			}
			return line, off, true, nil
		}
		scanned = l.end - l.pos
		if scanned > l.max {
			return nil, l.base + int64(l.pos), true, l.skipLong()
		}
		if !l.fill() {
			if l.rerr != nil {
				return nil, l.base + int64(l.pos), false, fmt.Errorf("read: %w", l.rerr)
			}
			if l.pos == l.end {
				return nil, l.base + int64(l.pos), false, io.EOF
			}
			line, off = l.buf[l.pos:l.end], l.base+int64(l.pos)
			l.pos = l.end
			l.line++
			return line, off, false, nil
		}
	}
}

// endLine consumes the terminator at buf[at] ("\r\n" counts as one).
func (l *lineReader) endLine(at int) {
	l.pos = at + 1
	l.line++
	if l.buf[at] == '\r' {
		if l.pos < l.end {
			if l.buf[l.pos] == '\n' {
				l.pos++
			}
		} else {
			l.skipLF = true
		}
	}
}

// indexEOL returns the index of the first "\n" or "\r" in b, or -1.
func indexEOL(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return bytes.IndexByte(b, '\r')
	}
	if j := bytes.IndexByte(b[:i], '\r'); j >= 0 {
		return j
	}
	return i
}

// skipLong discards the rest of an over-long line.
func (l *lineReader) skipLong() error {
	for {
		if i := indexEOL(l.buf[l.pos:l.end]); i >= 0 {
			l.endLine(l.pos + i)
			return errLineTooLong
		}
		l.pos = l.end
		if !l.fill() {
			l.line++
			if l.rerr != nil {
				return fmt.Errorf("read: %w", l.rerr)
			}
			return errLineTooLong
		}
	}
}
