package awsevent

import (
	"fmt"
	"unicode/utf8"
)

// csvFieldLimit is Python's csv.field_size_limit() default, in characters.
const csvFieldLimit = 131072

// csvReader reproduces Python's csv.reader with delimiter ' ' and the default
// dialect otherwise (quotechar '"', doublequote, not strict), fed with the
// lines of a universal-newlines text file. A quoted field may span lines.
type csvReader struct {
	lr     *lineReader
	fields []span // fields of the last record, in buf
	buf    []byte
	state  uint8
	start  int // start of the field being built
}

// Parser states, named after CPython's _csv.c.
const (
	csvStartRecord = iota
	csvStartField
	csvInField
	csvInQuoted
	csvQuoteInQuoted
	csvEatCRNL
)

// record reads the next record, whose first line is line (term: it had a
// terminator). It returns the index of the record's first line. Blank lines
// give a record without fields.
func (c *csvReader) record(line []byte, term bool) error {
	c.fields, c.buf, c.state, c.start = c.fields[:0], c.buf[:0], csvStartRecord, 0
	for {
		if !utf8.Valid(line) {
			return fmt.Errorf("%w: line is not valid UTF-8", errPyValue)
		}
		for _, b := range line {
			c.feed(b)
		}
		if term {
			c.feed('\n')
		}
		c.eol()
		if c.state == csvStartRecord {
			break
		}
		if len(c.buf) > c.lr.max {
			return errLineTooLong // a quoted field that does not end
		}
		// Inside a quoted field: the record goes on with the next line.
		var err error
		line, _, term, err = c.lr.next()
		if err != nil {
			// End of input: the open field is saved as it is.
			c.save()
			break
		}
	}
	for _, f := range c.fields {
		if f.end-f.off > csvFieldLimit && utf8.RuneCount(c.buf[f.off:f.end]) > csvFieldLimit {
			return fmt.Errorf("csv.Error: field larger than field limit (%d)", csvFieldLimit)
		}
	}
	return nil
}

func (c *csvReader) save() {
	c.fields = append(c.fields, span{c.start, len(c.buf)})
	c.start = len(c.buf)
}

// feed processes one byte: delimiters and quotes are ASCII, so bytes of
// multi-byte characters are ordinary characters.
func (c *csvReader) feed(b byte) {
	switch c.state {
	case csvStartRecord:
		if b == '\n' {
			c.state = csvEatCRNL
			return
		}
		c.state = csvStartField
		fallthrough
	case csvStartField:
		switch b {
		case '\n':
			c.save()
			c.state = csvEatCRNL
		case '"':
			c.state = csvInQuoted
		case ' ':
			c.save()
		default:
			c.buf = append(c.buf, b)
			c.state = csvInField
		}
	case csvInField:
		switch b {
		case '\n':
			c.save()
			c.state = csvEatCRNL
		case ' ':
			c.save()
			c.state = csvStartField
		default:
			c.buf = append(c.buf, b)
		}
	case csvInQuoted:
		if b == '"' {
			c.state = csvQuoteInQuoted
		} else {
			c.buf = append(c.buf, b)
		}
	case csvQuoteInQuoted:
		switch b {
		case '"':
			c.buf = append(c.buf, b)
			c.state = csvInQuoted
		case ' ':
			c.save()
			c.state = csvStartField
		case '\n':
			c.save()
			c.state = csvEatCRNL
		default:
			c.buf = append(c.buf, b)
			c.state = csvInField
		}
	}
}

// eol is the end-of-line marker CPython feeds after each line.
func (c *csvReader) eol() {
	switch c.state {
	case csvStartField, csvInField, csvQuoteInQuoted:
		c.save()
		c.state = csvStartRecord
	case csvEatCRNL:
		c.state = csvStartRecord
	}
}
