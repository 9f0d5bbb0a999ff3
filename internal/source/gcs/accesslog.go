package gcs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/skywatch-dev/skywatch/internal/decode/jsonstream"
)

// accessLogReader reads a Cloud Storage usage or storage log: CSV whose first
// line names the fields. Each row becomes the event Wazuh's gcp-bucket module
// sends, byte for byte for well-formed rows:
//
//	{"integration": "gcp", "gcp": {"time_micros": "1623657113850001", ..., "source": "gcp_bucket"}}
//
// Keys in header order, every value a string (Wazuh's csv.DictReader yields
// strings; the rules compare text), Python's json.dumps spacing and \u escapes.
// Unlike Wazuh, which deletes every quote and splits at every comma, the CSV is
// parsed properly, so a user agent holding a comma does not shift the fields.
type accessLogReader struct {
	br       *bufio.Reader
	max      int
	off      int64 // offset of the next line
	line     int   // number of the next line
	keys     [][]byte
	valueAt  []int // for each key, the column its value comes from (-1: "gcp_bucket")
	columns  int
	hasTail  bool // no "source" column: the tag is appended
	long     []byte
	spans    []span
	buf      []byte
	finished bool
}

func newAccessLogReader(r io.Reader, maxBytes int) *accessLogReader {
	if maxBytes <= 0 {
		maxBytes = jsonstream.DefaultMaxRecordBytes
	}
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &accessLogReader{br: br, max: maxBytes, line: 1}
}

var errTooLong = errors.New("line too long")

// readLine returns the next line without its end of line, with its offset and
// number. A line longer than the limit is skipped and reported.
func (a *accessLogReader) readLine() ([]byte, int64, int, error) {
	off, num := a.off, a.line
	a.long = a.long[:0]
	tooLong := false
	for {
		chunk, err := a.br.ReadSlice('\n')
		a.off += int64(len(chunk))
		if !tooLong {
			if len(a.long)+len(chunk) > a.max+2 {
				tooLong, a.long = true, a.long[:0]
			} else if errors.Is(err, bufio.ErrBufferFull) || len(a.long) > 0 {
				a.long = append(a.long, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, off, num, err
		}
		if err != nil && a.off == off {
			return nil, off, num, io.EOF
		}
		a.line++
		if tooLong {
			return nil, off, num, &badRecord{off: off, line: num, err: errTooLong}
		}
		if len(a.long) > 0 {
			chunk = a.long
		}
		chunk = bytes.TrimSuffix(chunk, []byte("\n"))
		return bytes.TrimSuffix(chunk, []byte("\r")), off, num, nil
	}
}

// Next returns the next row's event.
func (a *accessLogReader) Next() ([]byte, int64, error) {
	for {
		if a.finished {
			return nil, a.off, io.EOF
		}
		line, off, num, err := a.readLine()
		bad, isBad := err.(*badRecord) // not errors.As: its target would escape, an allocation per row
		switch {
		case isBad:
			if a.keys == nil {
				bad.last = true // without a header no row can be read
				a.finished = true
			}
			return nil, off, bad
		case errors.Is(err, io.EOF):
			return nil, off, io.EOF
		case err != nil:
			// The decompressor or the download failed: nothing more can be read.
			return nil, off, &badRecord{off: off, line: num, err: err, last: true}
		}
		if a.keys == nil {
			if err := a.setHeader(line); err != nil {
				a.finished = true
				return nil, off, &badRecord{off: off, line: num, err: err, last: true}
			}
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue // csv.DictReader skips empty rows
		}
		a.spans, err = splitCSV(line, a.spans[:0])
		if err == nil && len(a.spans) != a.columns {
			err = fmt.Errorf("row has %d fields, the header %d", len(a.spans), a.columns)
		}
		if err != nil {
			return nil, off, &badRecord{off: off, line: num, err: err}
		}
		return a.event(line), off, nil
	}
}

// setHeader reads the field names. A repeated name keeps its first place and
// its last value, and a "source" field is overwritten by the tag, as Python's
// dict(row, source="gcp_bucket") does.
func (a *accessLogReader) setHeader(line []byte) error {
	spans, err := splitCSV(line, nil)
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return errors.New("the first line, the header, is empty")
	}
	a.columns, a.hasTail = len(spans), true
	index := make(map[string]int)
	for i, sp := range spans {
		name := string(bytes.TrimSpace(unquote(line, sp)))
		if k, ok := index[name]; ok {
			a.valueAt[k] = i
			continue
		}
		index[name] = len(a.keys)
		a.keys = append(a.keys, appendPyString(nil, []byte(name), false))
		a.valueAt = append(a.valueAt, i)
	}
	if k, ok := index["source"]; ok {
		a.valueAt[k], a.hasTail = -1, false
	}
	return nil
}

// unquote returns a header field's text with doubled quotes undone.
func unquote(line []byte, sp span) []byte {
	v := line[sp.start:sp.end]
	if sp.doubled {
		v = bytes.ReplaceAll(v, []byte(`""`), []byte(`"`))
	}
	return v
}

const accessTag = `"gcp_bucket"`

// event writes the JSON event of the row just split.
func (a *accessLogReader) event(line []byte) []byte {
	b := append(a.buf[:0], `{"integration": "gcp", "gcp": {`...)
	for k, key := range a.keys {
		if k > 0 {
			b = append(b, ", "...)
		}
		b = append(b, key...)
		b = append(b, ": "...)
		if col := a.valueAt[k]; col < 0 {
			b = append(b, accessTag...)
		} else {
			sp := a.spans[col]
			b = appendPyString(b, line[sp.start:sp.end], sp.doubled)
		}
	}
	if a.hasTail {
		b = append(b, `, "source": `+accessTag...)
	}
	b = append(b, "}}"...)
	a.buf = b
	return b
}

// span locates one CSV field in its line; doubled marks a quoted field
// holding "" for a quote.
type span struct {
	start, end int
	doubled    bool
}

// splitCSV splits one line into fields (RFC 4180 without line breaks inside
// fields, which Cloud Storage logs never have): a field is either quoted, with
// "" standing for a quote, or bare, without quotes.
func splitCSV(line []byte, dst []span) ([]span, error) {
	i := 0
	for {
		if i < len(line) && line[i] == '"' {
			j, doubled := i+1, false
			for {
				k := bytes.IndexByte(line[j:], '"')
				if k < 0 {
					return dst, fmt.Errorf("field %d: quote not closed", len(dst)+1)
				}
				j += k
				if j+1 < len(line) && line[j+1] == '"' {
					j, doubled = j+2, true
					continue
				}
				break
			}
			dst = append(dst, span{start: i + 1, end: j, doubled: doubled})
			i = j + 1
			if i == len(line) {
				return dst, nil
			}
			if line[i] != ',' {
				return dst, fmt.Errorf("field %d: %q after the closing quote", len(dst), line[i])
			}
			i++
			continue
		}
		end := len(line)
		if k := bytes.IndexByte(line[i:], ','); k >= 0 {
			end = i + k
		}
		if bytes.IndexByte(line[i:end], '"') >= 0 {
			return dst, fmt.Errorf("field %d: quote inside an unquoted field", len(dst)+1)
		}
		dst = append(dst, span{start: i, end: end})
		if end == len(line) {
			return dst, nil
		}
		i = end + 1
	}
}

const hexDigits = "0123456789abcdef"

// appendPyString appends v as a JSON string the way Python's json.dumps writes
// it by default (ensure_ascii): everything outside printable ASCII as \u
// escapes (surrogate pairs above the BMP), invalid UTF-8 as U+FFFD. doubled
// turns "" into " (a quoted CSV field).
func appendPyString(b, v []byte, doubled bool) []byte {
	b = append(b, '"')
	for i := 0; i < len(v); {
		c := v[i]
		if c >= 0x20 && c < 0x7f {
			switch c {
			case '"':
				if doubled && i+1 < len(v) && v[i+1] == '"' {
					i++
				}
				b = append(b, '\\', '"')
			case '\\':
				b = append(b, '\\', '\\')
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRune(v[i:])
		}
		i += size
		switch r {
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			if r > 0xffff {
				r -= 0x10000
				b = appendU(b, 0xd800+(r>>10))
				r = 0xdc00 + (r & 0x3ff)
			}
			b = appendU(b, r)
		}
	}
	return append(b, '"')
}

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}
