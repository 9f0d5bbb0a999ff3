package jsonstream

import "io"

// This file reads a sequence of values (JSON Lines or concatenated JSON). A bad
// record is reported and skipped: a complete but invalid value is skipped as a
// whole; in line mode a value cut by a newline is skipped up to that newline.

// nextSeq returns the next value of a sequence.
func (r *Reader) nextSeq() ([]byte, int64, error) {
	c, ok, err := r.skipSpace()
	if err != nil {
		return nil, r.off(), err
	}
	if !ok {
		r.state = stDone
		return nil, 0, io.EOF
	}
	off, line := r.off(), r.line
	switch c {
	case '}', ']', ',', ':':
		r.resync()
		return nil, off, &RecordError{Offset: off, Line: line,
			Err: syntaxErr(off, "invalid character "+quoteByte(c)+" looking for a value")}
	}
	tentative := r.first
	r.first = false
	n, res := r.split(r.lineMode, tentative)
	if tentative {
		r.lineMode = r.sc.lineMode
	}
	switch res {
	case splitOK:
		rec := r.buf[r.pos : r.pos+n]
		if n > r.max {
			r.advance(n)
			return nil, off, &RecordError{Offset: off, Line: line, Err: r.tooLarge()}
		}
		if !r.noValidate {
			if at, msg := r.val.check(rec); at >= 0 {
				r.advance(n)
				return nil, off, &RecordError{Offset: off, Line: line, Err: syntaxErr(off+int64(at), msg)}
			}
		}
		r.advance(n)
		return rec, off, nil
	case splitLineEnd:
		at := r.off() + int64(n)
		r.advance(n + 1)
		return nil, off, &RecordError{Offset: off, Line: line,
			Err: syntaxErr(at, "value not finished at the end of its line")}
	case splitTooLarge:
		switch r.discard() {
		case splitLineEnd:
			r.advance(1)
		case splitEOF:
			r.state = stDone
			return nil, off, &RecordError{Offset: off, Line: line, Fatal: true, Err: r.tooLarge()}
		}
		return nil, off, &RecordError{Offset: off, Line: line, Err: r.tooLarge()}
	default:
		return nil, off, r.ended(off, line)
	}
}

// resync skips input after a byte that cannot start a value: to the next line
// in line mode, else to the next '{'.
func (r *Reader) resync() {
	r.advance(1)
	want := byte('{')
	if r.lineMode {
		want = '\n'
	}
	for {
		for i := r.pos; i < r.end; i++ {
			if r.buf[i] == want {
				if want == '\n' {
					i++
				}
				r.advance(i - r.pos)
				return
			}
		}
		r.advance(r.end - r.pos)
		if !r.fill() {
			return
		}
	}
}
