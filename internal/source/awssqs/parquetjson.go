package awssqs

import (
	"encoding/base64"
	"encoding/hex"
	"math"
	"math/big"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/skywatch-dev/skywatch/internal/decode/awsevent"
)

// Wazuh sends each Security Lake row as Python's json.dumps writes it with its
// defaults: separators ", " and ": ", every character outside printable ASCII
// escaped (ensure_ascii), floats as Python's repr. Strings and floats are
// written with awsevent's json.dumps writers, so full_log is the same as Wazuh's.

// rowJSON turns Parquet rows into JSON objects as Wazuh's Security Lake
// subscriber sends them (pyarrow's to_pylist, then json.dumps):
// fields in schema order, nulls kept as null, LIST groups as arrays, MAP groups
// as arrays of [key, value] pairs (OCSF's "unmapped": [["k", "v"], ...]),
// FLOAT widened to double as Python does. Values json.dumps cannot encode (and
// Wazuh fails on) get the OCSF form: timestamps as epoch milliseconds, dates as
// YYYY-MM-DD, binary as base64, decimals as numbers.
//
// It assembles records from the columns' repetition and definition levels
// (Dremel record assembly), one row at a time, without reflection.
type rowJSON struct {
	root *pnode
	cols [][]parquet.Value
	pos  []int
}

// pnode is one schema node with what assembly needs.
type pnode struct {
	name        string
	col         int // leaf column index, -1 for groups
	first, last int // leaf columns under the node: [first, last)
	def, rep    int // definition level when present; repetition level
	repeated    bool
	kind        nodeKind
	fields      []*pnode
	enc         func(dst []byte, v parquet.Value) []byte
}

type nodeKind int

const (
	leafNode nodeKind = iota
	structNode
	listNode
	mapNode
)

// newRowJSON prepares the assembly of rows of a file whose schema root is root.
func newRowJSON(root *parquet.Column) *rowJSON {
	r := &rowJSON{root: buildNode(root, 0, 0, true)}
	n := r.root.last
	r.cols, r.pos = make([][]parquet.Value, n), make([]int, n)
	return r
}

func buildNode(c *parquet.Column, def, rep int, isRoot bool) *pnode {
	n := &pnode{name: c.Name(), col: -1, def: def, rep: rep}
	if !isRoot {
		if c.Optional() || c.Repeated() {
			n.def++
		}
		if c.Repeated() {
			n.rep++
			n.repeated = true
		}
	}
	if c.Leaf() {
		n.kind, n.col, n.first, n.last = leafNode, c.Index(), c.Index(), c.Index()+1
		n.enc = leafEncoder(c.Type())
		return n
	}
	n.kind = structNode
	switch logicalType(c.Type()).(type) {
	case *format.ListType:
		n.kind = listNode
	case *format.MapType:
		n.kind = mapNode
	}
	n.first = -1
	for _, child := range c.Columns() {
		f := buildNode(child, n.def, n.rep, false)
		n.fields = append(n.fields, f)
		if n.first < 0 {
			n.first = f.first
		}
		n.last = f.last
	}
	if n.first < 0 { // a group without columns
		n.first, n.last = 0, 0
	}
	// LIST and MAP need one repeated child (MAP: a key and a value under it).
	if n.kind != structNode && (len(n.fields) != 1 || !n.fields[0].repeated) {
		n.kind = structNode
	}
	if n.kind == mapNode && len(n.fields[0].fields) == 0 {
		n.kind = listNode
	}
	return n
}

// appendRow appends row as a JSON object to dst.
func (r *rowJSON) appendRow(dst []byte, row parquet.Row) []byte {
	clear(r.cols)
	row.Range(func(col int, vals []parquet.Value) bool {
		if col < len(r.cols) {
			r.cols[col] = vals
		}
		return true
	})
	clear(r.pos)
	return r.writeInstance(dst, r.root)
}

// peek returns the next value of a leaf column.
func (r *rowJSON) peek(col int) (parquet.Value, bool) {
	if col >= len(r.cols) || r.pos[col] >= len(r.cols[col]) {
		return parquet.Value{}, false
	}
	return r.cols[col][r.pos[col]], true
}

// skip consumes the one value each leaf under an absent node holds for it.
func (r *rowJSON) skip(n *pnode) {
	for c := n.first; c < n.last; c++ {
		r.pos[c]++
	}
}

// present reports whether the node has a value (or, repeated, an element) at
// the current position.
func (r *rowJSON) present(n *pnode) bool {
	if n.first == n.last {
		return false
	}
	v, ok := r.peek(n.first)
	return ok && v.DefinitionLevel() >= n.def
}

// writeField writes a struct member: null when absent, an array when repeated.
func (r *rowJSON) writeField(dst []byte, n *pnode) []byte {
	if n.repeated {
		return r.writeRepeated(dst, n, func(dst []byte) []byte { return r.writeInstance(dst, n) })
	}
	if !r.present(n) {
		r.skip(n)
		return append(dst, "null"...)
	}
	return r.writeInstance(dst, n)
}

// writeRepeated writes the instances of a repeated node as an array, each with
// elem.
func (r *rowJSON) writeRepeated(dst []byte, n *pnode, elem func([]byte) []byte) []byte {
	if !r.present(n) {
		r.skip(n)
		return append(dst, "[]"...)
	}
	dst = append(dst, '[')
	for i := 0; ; i++ {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = elem(dst)
		v, ok := r.peek(n.first)
		if !ok || v.RepetitionLevel() != n.rep {
			break
		}
	}
	return append(dst, ']')
}

// writeInstance writes one present value of a node.
func (r *rowJSON) writeInstance(dst []byte, n *pnode) []byte {
	switch n.kind {
	case leafNode:
		v, _ := r.peek(n.col)
		r.pos[n.col]++
		if v.IsNull() {
			return append(dst, "null"...)
		}
		return n.enc(dst, v)
	case listNode:
		rep := n.fields[0]
		// Three-level lists wrap each element in a one-field group; two-level
		// (legacy) lists repeat the element itself.
		if len(rep.fields) == 1 && rep.kind == structNode && rep.name != "array" && rep.name != n.name+"_tuple" {
			return r.writeRepeated(dst, rep, func(dst []byte) []byte { return r.writeField(dst, rep.fields[0]) })
		}
		return r.writeRepeated(dst, rep, func(dst []byte) []byte { return r.writeInstance(dst, rep) })
	case mapNode:
		kv := n.fields[0]
		return r.writeRepeated(dst, kv, func(dst []byte) []byte {
			dst = append(dst, '[')
			for i, f := range kv.fields[:min(2, len(kv.fields))] {
				if i > 0 {
					dst = append(dst, ", "...)
				}
				dst = r.writeField(dst, f)
			}
			if len(kv.fields) == 1 {
				dst = append(dst, ", null"...)
			}
			return append(dst, ']')
		})
	}
	dst = append(dst, '{')
	for i, f := range n.fields {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = awsevent.AppendTextString(dst, f.name)
		dst = append(dst, ": "...)
		dst = r.writeField(dst, f)
	}
	return append(dst, '}')
}

// leafEncoder picks how a column's values are written.
func leafEncoder(t parquet.Type) func([]byte, parquet.Value) []byte {
	switch lt := logicalType(t).(type) {
	case *format.StringType, *format.EnumType, *format.JsonType:
		return func(dst []byte, v parquet.Value) []byte { return awsevent.AppendTextString(dst, string(v.ByteArray())) }
	case *format.UUIDType:
		return encUUID
	case *format.DateType:
		return func(dst []byte, v parquet.Value) []byte {
			return awsevent.AppendTextString(dst, time.Unix(int64(v.Int32())*86400, 0).UTC().Format("2006-01-02"))
		}
	case *format.TimestampType:
		div := int64(1)
		switch lt.Unit.Value.(type) {
		case *format.MicroSeconds:
			div = 1e3
		case *format.NanoSeconds:
			div = 1e6
		}
		return func(dst []byte, v parquet.Value) []byte { return strconv.AppendInt(dst, floorDiv(v.Int64(), div), 10) }
	case *format.DecimalType:
		scale := int(lt.Scale)
		return func(dst []byte, v parquet.Value) []byte { return appendDecimal(dst, v, scale) }
	case *format.IntType:
		if !lt.IsSigned {
			if lt.BitWidth == 64 {
				return func(dst []byte, v parquet.Value) []byte { return strconv.AppendUint(dst, v.Uint64(), 10) }
			}
			return func(dst []byte, v parquet.Value) []byte { return strconv.AppendUint(dst, uint64(v.Uint32()), 10) }
		}
	case *format.NullType:
		return func(dst []byte, _ parquet.Value) []byte { return append(dst, "null"...) }
	}
	switch t.Kind() {
	case parquet.Boolean:
		return func(dst []byte, v parquet.Value) []byte { return strconv.AppendBool(dst, v.Boolean()) }
	case parquet.Int32:
		return func(dst []byte, v parquet.Value) []byte { return strconv.AppendInt(dst, int64(v.Int32()), 10) }
	case parquet.Int64:
		return func(dst []byte, v parquet.Value) []byte { return strconv.AppendInt(dst, v.Int64(), 10) }
	case parquet.Int96:
		return encInt96
	case parquet.Float:
		return func(dst []byte, v parquet.Value) []byte { return appendPyFloat(dst, float64(v.Float())) }
	case parquet.Double:
		return func(dst []byte, v parquet.Value) []byte { return appendPyFloat(dst, v.Double()) }
	case parquet.ByteArray:
		return func(dst []byte, v parquet.Value) []byte {
			if b := v.ByteArray(); utf8.Valid(b) {
				return awsevent.AppendTextString(dst, string(b))
			}
			return awsevent.AppendTextString(dst, base64.StdEncoding.EncodeToString(v.ByteArray()))
		}
	}
	return func(dst []byte, v parquet.Value) []byte {
		return awsevent.AppendTextString(dst, base64.StdEncoding.EncodeToString(v.ByteArray()))
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// encInt96 writes a legacy INT96 timestamp (nanoseconds of the day, then the
// Julian day) as epoch milliseconds.
func encInt96(dst []byte, v parquet.Value) []byte {
	i := v.Int96()
	nanos := int64(uint64(i[1])<<32 | uint64(i[0]))
	days := int64(i[2]) - 2440588 // Julian day of 1970-01-01
	return strconv.AppendInt(dst, days*86400000+nanos/1e6, 10)
}

func encUUID(dst []byte, v parquet.Value) []byte {
	b := v.ByteArray()
	if len(b) != 16 {
		return awsevent.AppendTextString(dst, hex.EncodeToString(b))
	}
	h := hex.EncodeToString(b)
	return awsevent.AppendTextString(dst, h[:8]+"-"+h[8:12]+"-"+h[12:16]+"-"+h[16:20]+"-"+h[20:])
}

// appendDecimal writes an unscaled integer (INT32, INT64 or big-endian two's
// complement bytes) with its decimal point.
func appendDecimal(dst []byte, v parquet.Value, scale int) []byte {
	var n big.Int
	switch v.Kind() {
	case parquet.Int32:
		n.SetInt64(int64(v.Int32()))
	case parquet.Int64:
		n.SetInt64(v.Int64())
	default:
		b := v.ByteArray()
		n.SetBytes(b)
		if len(b) > 0 && b[0]&0x80 != 0 {
			n.Sub(&n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
		}
	}
	s := n.String()
	if scale <= 0 {
		return append(dst, s...)
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
		dst = append(dst, '-')
	}
	for len(s) <= scale {
		s = "0" + s
	}
	return append(append(append(dst, s[:len(s)-scale]...), '.'), s[len(s)-scale:]...)
}

// logicalType returns a type's logical annotation (nil when it has none).
func logicalType(t parquet.Type) format.LogicalTypeValue {
	if lt := t.LogicalType(); lt != nil {
		return lt.Value
	}
	return nil
}

// appendPyFloat writes a float as json.dumps does (Python's repr). NaN and
// infinities, which json.dumps writes as invalid JSON, become null.
func appendPyFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	return awsevent.AppendFloatRepr(dst, f)
}
