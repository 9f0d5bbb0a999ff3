package azurela

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The query API answers {"tables":[{"name","columns":[{"name","type"}],"rows":[[...]]}]}
// and, when the service hit one of its limits, an "error" object next to the
// tables (code PartialError). Wazuh reads the first table (PrimaryResult); so
// does the source.

// reply is the part of a query reply the source reads.
type reply struct {
	Tables []struct {
		Name    string `json:"name"`
		Columns []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"columns"`
		Rows []json.RawMessage `json:"rows"`
	} `json:"tables"`
	Error json.RawMessage `json:"error"`
}

// apiError is the OneAPI error object of a reply.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// table is a decoded reply: its columns, ready to write events with, and rows.
type table struct {
	cols    []column
	rows    []json.RawMessage
	timeCol int    // index of TimeGenerated, -1 when absent
	idCol   int    // index of _ItemId, -1 when absent
	partial string // the PartialError's text, "" when complete
}

type column struct {
	key     []byte // `"Name":`
	dynamic bool
}

// parseReply decodes a query reply body.
func parseReply(body []byte) (*table, error) {
	var r reply
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("malformed reply: %w", err)
	}
	t := &table{timeCol: -1, idCol: -1}
	if len(r.Error) > 0 && !bytes.Equal(r.Error, []byte("null")) {
		var e apiError
		_ = json.Unmarshal(r.Error, &e)
		if e.Code == "" {
			e.Code = "unknown"
		}
		// Keep the whole object: the limit that was hit is in its details.
		t.partial = e.Code + ": " + compactString(r.Error)
	}
	if len(r.Tables) == 0 {
		if t.partial != "" {
			return t, nil
		}
		return nil, errors.New("malformed reply: no tables")
	}
	tb := r.Tables[0]
	t.rows = tb.Rows
	for i, c := range tb.Columns {
		key, _ := json.Marshal(c.Name)
		t.cols = append(t.cols, column{key: append(key, ':'), dynamic: strings.EqualFold(c.Type, "dynamic")})
		switch c.Name {
		case "TimeGenerated":
			t.timeCol = i
		case "_ItemId":
			t.idCol = i
		}
	}
	return t, nil
}

// rowKey identifies a row across queries, for recognising rows read twice.
type rowKey [16]byte

func (k rowKey) String() string { return hex.EncodeToString(k[:]) }

// rowOut is what writing one row produced.
type rowOut struct {
	key  rowKey
	time time.Time // TimeGenerated; zero when absent or unreadable
}

// writer turns rows into events, reusing its buffers.
type writer struct {
	suffix []byte // `,"azure_tag":...,"log_analytics_tag":...}`
	cells  [][]byte
	str    []byte
	dups   map[rowKey]int // identical rows so far in this reply
}

func newWriter(tag string) *writer {
	t, _ := json.Marshal(tag)
	return &writer{suffix: append([]byte(`"azure_tag":"azure-log-analytics","log_analytics_tag":`), append(t, '}')...)}
}

// reset starts a new reply.
func (w *writer) reset() { clear(w.dups) }

// appendEvent appends the event of one row to dst: {"<column>":<value>,...,
// "azure_tag":"azure-log-analytics","log_analytics_tag":<tag>}. Values keep
// their JSON types; dynamic columns, which the API sends as JSON text, become
// the JSON they hold. The row key is the hash of _ItemId when the query returns
// that column, else of the whole event, counted among identical rows of the
// reply (so two identical rows stay two events).
func (w *writer) appendEvent(dst []byte, t *table, row []byte) ([]byte, rowOut, error) {
	var out rowOut
	cells, err := splitRow(w.cells[:0], row)
	w.cells = cells
	if err != nil {
		return dst, out, err
	}
	if len(cells) != len(t.cols) {
		return dst, out, fmt.Errorf("row has %d values for %d columns", len(cells), len(t.cols))
	}
	start := len(dst)
	dst = append(dst, '{')
	for i, c := range t.cols {
		dst = append(dst, c.key...)
		v := cells[i]
		switch {
		case c.dynamic && v[0] == '"':
			dst = w.appendDynamic(dst, v)
		case v[0] == '{' || v[0] == '[':
			var b bytes.Buffer
			_ = json.Compact(&b, v) // valid: the reply was decoded
			dst = append(dst, b.Bytes()...)
		default:
			dst = append(dst, v...)
		}
		dst = append(dst, ',')
	}
	body := dst[start:]
	dst = append(dst, w.suffix...)
	if t.timeCol >= 0 {
		if v := cells[t.timeCol]; len(v) > 2 && v[0] == '"' {
			out.time, _ = time.Parse(time.RFC3339Nano, string(v[1:len(v)-1]))
		}
	}
	if t.idCol >= 0 && !bytes.Equal(cells[t.idCol], []byte("null")) {
		out.key = hashKey([]byte("_ItemId"), cells[t.idCol], 0)
		return dst, out, nil
	}
	k := hashKey(body, nil, 0)
	if w.dups == nil {
		w.dups = map[rowKey]int{}
	}
	n := w.dups[k]
	w.dups[k] = n + 1
	if n > 0 {
		k = hashKey(body, nil, n)
	}
	out.key = k
	return dst, out, nil
}

// appendDynamic writes a dynamic value the API sent as a JSON string: the JSON
// it holds when it holds valid JSON, else the string itself.
func (w *writer) appendDynamic(dst, v []byte) []byte {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return append(dst, v...)
	}
	w.str = append(w.str[:0], s...)
	inner := bytes.TrimSpace(w.str)
	if len(inner) == 0 || !json.Valid(inner) {
		return append(dst, v...)
	}
	b := bytes.NewBuffer(dst)
	_ = json.Compact(b, inner)
	return b.Bytes()
}

func hashKey(a, b []byte, n int) rowKey {
	h := sha256.New()
	h.Write(a)
	h.Write(b)
	if n > 0 {
		var c [8]byte
		binary.BigEndian.PutUint64(c[:], uint64(n))
		h.Write(c[:])
	}
	var k rowKey
	copy(k[:], h.Sum(nil))
	return k
}

// splitRow appends to cells the values of a row, a JSON array already known to
// be valid JSON, with surrounding whitespace removed.
func splitRow(cells [][]byte, row []byte) ([][]byte, error) {
	row = bytes.TrimSpace(row)
	if len(row) < 2 || row[0] != '[' || row[len(row)-1] != ']' {
		return cells, errors.New("row is not an array")
	}
	i, end := 1, len(row)-1
	for {
		i = skipSpace(row, i)
		if i >= end {
			return cells, nil
		}
		j, err := skipValue(row, i)
		if err != nil {
			return cells, err
		}
		cells = append(cells, row[i:j])
		i = skipSpace(row, j)
		if i < end {
			if row[i] != ',' {
				return cells, errors.New("row: expected ,")
			}
			i++
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return i, errors.New("row: value expected")
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				j, err := skipString(b, i)
				if err != nil {
					return j, err
				}
				i = j
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return i, errors.New("row: unterminated value")
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\t' && b[j] != '\r' {
			j++
		}
		if j == i {
			return j, errors.New("row: value expected")
		}
		return j, nil
	}
}

func skipString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return len(b), errors.New("row: unterminated string")
}

func compactString(raw []byte) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return strconv.Quote(string(raw))
	}
	return b.String()
}
