package jsonstream

import "bytes"

// This file reads the {"Records":[...]} document shape: the document object is
// walked member by member, arrays under one of the configured keys are streamed
// element by element, and every other member value is checked and skipped.

// looksLikeRecordsArray peeks (without consuming) for `{ "<key>" : [` with key
// one of the configured array keys.
func (r *Reader) looksLikeRecordsArray() bool {
	k := 0
	next := func() (byte, bool) {
		for {
			c, ok := r.peek(k)
			if !ok {
				return 0, false
			}
			k++
			if !isSpace(c) {
				return c, true
			}
		}
	}
	if c, ok := next(); !ok || c != '{' {
		return false
	}
	if c, ok := next(); !ok || c != '"' {
		return false
	}
	var key []byte
	for {
		c, ok := r.peek(k)
		k++
		if !ok || c == '\\' || len(key) > 256 {
			return false
		}
		if c == '"' {
			break
		}
		key = append(key, c)
	}
	if c, ok := next(); !ok || c != ':' {
		return false
	}
	if c, ok := next(); !ok || c != '[' {
		return false
	}
	return r.isArrayKey(key)
}

func (r *Reader) isArrayKey(key []byte) bool {
	for _, k := range r.keys {
		if bytes.Equal(k, key) {
			return true
		}
	}
	return false
}

// member reads one document member. An array under an array key is entered;
// any other value is validated and skipped.
func (r *Reader) member() error {
	c, ok, err := r.skipSpace()
	if err != nil {
		return err
	}
	if !ok {
		return r.ended(r.off(), 0)
	}
	if c == '}' && r.state == stObjOpen {
		r.advance(1)
		r.state = stDocEnd
		return nil
	}
	if c != '"' {
		return r.fatal(r.off(), 0, syntaxErr(r.off(), "invalid character "+quoteByte(c)+" looking for a document key"))
	}
	off := r.off()
	n, res := r.split(false, false)
	if res != splitOK {
		return r.abandon(off, res)
	}
	key := r.buf[r.pos : r.pos+n]
	if at, msg := r.val.check(key); at >= 0 {
		return r.fatal(off, 0, syntaxErr(off+int64(at), msg))
	}
	arrayKey := r.isArrayKey(key[1 : len(key)-1])
	r.advance(n)
	if c, ok, err = r.skipSpace(); err != nil {
		return err
	}
	if !ok {
		return r.ended(off, 0)
	}
	if c != ':' {
		return r.fatal(r.off(), 0, syntaxErr(r.off(), "missing ':' after document key"))
	}
	r.advance(1)
	if c, ok, err = r.skipSpace(); err != nil {
		return err
	}
	if !ok {
		return r.ended(off, 0)
	}
	if arrayKey && c == '[' {
		r.advance(1)
		r.state = stArrOpen
		return nil
	}
	off = r.off()
	n, res = r.split(false, false)
	switch res {
	case splitOK:
		if at, msg := r.val.check(r.buf[r.pos : r.pos+n]); at >= 0 {
			return r.fatal(off, 0, syntaxErr(off+int64(at), msg))
		}
		r.advance(n)
	case splitTooLarge:
		// Not a record, so its size is not an error; stream past it.
		if r.discard() != splitOK {
			return r.ended(off, 0)
		}
	default:
		return r.abandon(off, res)
	}
	r.state = stObjNext
	return nil
}

// abandon turns a failed split inside the document into the fatal error.
func (r *Reader) abandon(off int64, res splitRes) error {
	if res == splitTooLarge {
		return r.fatal(off, 0, r.tooLarge())
	}
	return r.ended(off, 0)
}

// arrayPunct handles what follows '[' or an element: ']' closes the array, and
// after an element ',' announces the next one.
func (r *Reader) arrayPunct() error {
	if r.state == stArrOpen {
		c, ok, err := r.skipSpace()
		if err != nil {
			return err
		}
		if !ok {
			return r.ended(r.off(), 0)
		}
		if c == ']' {
			r.advance(1)
			r.state = stObjNext
		} else {
			r.state = stArrElem
		}
		return nil
	}
	return r.expectPunct(',', stArrElem, ']', stObjNext, "',' or ']' after a record")
}

// expectPunct consumes one of two punctuation bytes and moves to its state.
func (r *Reader) expectPunct(a byte, aState int, b byte, bState int, what string) error {
	c, ok, err := r.skipSpace()
	if err != nil {
		return err
	}
	if !ok {
		return r.ended(r.off(), 0)
	}
	switch c {
	case a:
		r.state = aState
	case b:
		r.state = bState
	default:
		return r.fatal(r.off(), 0, syntaxErr(r.off(), "invalid character "+quoteByte(c)+", expected "+what))
	}
	r.advance(1)
	return nil
}

// arrayElem returns the next element of a records array.
func (r *Reader) arrayElem() ([]byte, int64, error) {
	c, ok, err := r.skipSpace()
	if err != nil {
		return nil, r.off(), err
	}
	off := r.off()
	if !ok {
		return nil, off, r.ended(off, 0)
	}
	if !startsValue(c) {
		return nil, off, r.fatal(off, 0, syntaxErr(off, "invalid character "+quoteByte(c)+" looking for a record"))
	}
	n, res := r.split(false, false)
	switch res {
	case splitOK:
		r.state = stArrNext
		rec := r.buf[r.pos : r.pos+n]
		if n > r.max {
			r.advance(n)
			return nil, off, &RecordError{Offset: off, Err: r.tooLarge()}
		}
		if r.noValidate {
			r.advance(n)
			return rec, off, nil
		}
		if at, msg := r.val.check(rec); at >= 0 {
			return nil, off, r.fatal(off, 0, syntaxErr(off+int64(at), msg))
		}
		r.advance(n)
		return rec, off, nil
	case splitTooLarge:
		if r.discard() != splitOK {
			return nil, off, r.ended(off, 0)
		}
		r.state = stArrNext
		return nil, off, &RecordError{Offset: off, Err: r.tooLarge()}
	default:
		return nil, off, r.ended(off, 0)
	}
}

// startsValue reports bytes that can begin a JSON value.
func startsValue(c byte) bool {
	switch c {
	case '{', '[', '"', '-', 't', 'f', 'n':
		return true
	}
	return c >= '0' && c <= '9'
}
