package jsonstream

import "fmt"

// splitRes is the outcome of finding the end of the value at buf[pos].
type splitRes int

const (
	splitOK       splitRes = iota // the value is buf[pos:pos+n]
	splitLineEnd                  // line mode: a newline at buf[pos+n] cut the value
	splitEOF                      // the input ended inside the value
	splitTooLarge                 // the value outgrew MaxRecordBytes; call discard
)

// split finds the end of the value whose first byte is buf[pos], reading more
// input as needed. It never consumes bytes.
func (r *Reader) split(lineMode, tentative bool) (int, splitRes) {
	r.sc.reset(r.buf[r.pos], lineMode, tentative)
	for {
		switch r.sc.step(r.buf[r.pos:r.end]) {
		case scanDone:
			return r.sc.i, splitOK
		case scanLineEnd:
			return r.sc.i, splitLineEnd
		}
		if r.end-r.pos > r.max {
			return r.end - r.pos, splitTooLarge
		}
		if !r.fill() {
			if r.sc.scalar && r.rerr == nil {
				// End of input is a valid delimiter for a bare number or literal.
				return r.sc.i, splitOK
			}
			return r.sc.i, splitEOF
		}
	}
}

// discard consumes the rest of an oversized value after split reported
// splitTooLarge, streaming through it without buffering. It returns splitOK with
// pos just past the value, splitLineEnd with pos at the newline that cut it, or
// splitEOF.
func (r *Reader) discard() splitRes {
	s := &r.sc
	esc := s.inStr && escaped(r.buf[r.pos:r.pos+s.i])
	r.advance(s.i)
	for {
		b := r.buf[r.pos:r.end]
		for i, c := range b {
			switch {
			case s.scalar:
				if isDelim(c) {
					r.advance(i)
					return splitOK
				}
			case esc:
				esc = false
			case c == '\n' && s.newline():
				r.advance(i)
				return splitLineEnd
			case s.inStr:
				switch c {
				case '\\':
					esc = true
				case '"':
					s.inStr = false
					if s.depth <= 0 {
						r.advance(i + 1)
						return splitOK
					}
				}
			case c == '"':
				s.inStr = true
			case c == '{' || c == '[':
				s.depth++
			case c == '}' || c == ']':
				s.depth--
				if s.depth <= 0 {
					r.advance(i + 1)
					return splitOK
				}
			}
		}
		r.advance(len(b))
		if !r.fill() {
			if s.scalar && r.rerr == nil {
				return splitOK
			}
			return splitEOF
		}
	}
}

// tooLarge is the cause reported for an oversized record.
func (r *Reader) tooLarge() error {
	return fmt.Errorf("%w: longer than %d bytes", ErrTooLarge, r.max)
}
