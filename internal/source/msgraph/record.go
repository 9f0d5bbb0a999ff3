package msgraph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Locations of the events, as Wazuh's modules write them.
const (
	LocationAzure   = "Azure"    // azure-logs module
	LocationMSGraph = "ms-graph" // ms-graph module
)

// shaper turns Graph records of one resource into events.
type shaper struct {
	format, timeField, tag string
	resource, relationship string // ms-graph's split of the path
}

func newShaper(r Resource) shaper {
	res, rel, _ := strings.Cut(r.Resource, "/")
	return shaper{format: r.Format, timeField: r.TimeField, tag: r.Tag, resource: res, relationship: rel}
}

func (s shaper) location() string {
	if s.format == FormatMSGraph {
		return LocationMSGraph
	}
	return LocationAzure
}

// record is what the source needs of one Graph object besides its event.
type record struct {
	id   string
	when time.Time
	raw  string // the time property as sent, part of the version key
}

// key identifies a version of a record: objects that change (alerts) are
// listed again with a new time, which makes them a new version.
func (r record) key() string { return r.id + "@" + r.raw }

// shape appends the event made of raw (one element of a page's value array)
// to dst and returns the record's id and time. Members keep the order Graph
// sent them in.
//
// azure-ad-graph is written as Wazuh's azure-logs module writes it (Python
// json.dumps: ", " and ": " separators, non-ASCII escaped), without a null or
// string status, initiatedBy.user or initiatedBy.app, and with azure_tag and
// azure_aad_tag last. ms-graph is written compactly as the ms-graph module's
// cJSON does, with resource and relationship last.
func (s shaper) shape(dst *bytes.Buffer, raw []byte) (record, error) {
	var rec record
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return rec, errors.New("record is not a JSON object")
	}
	py := s.format == FormatAzureADGraph
	var fallback string
	if py {
		dst.WriteByte('{')
	} else {
		dst.WriteString(`{"integration":"ms-graph","ms-graph":{`)
	}
	n := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return rec, fmt.Errorf("read record: %w", err)
		}
		key := tok.(string) // object keys are strings
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return rec, fmt.Errorf("read member %q: %w", key, err)
		}
		switch key {
		case "id":
			_ = json.Unmarshal(val, &rec.id)
		case s.timeField:
			_ = json.Unmarshal(val, &rec.raw)
		case "createdDateTime", "activityDateTime":
			_ = json.Unmarshal(val, &fallback) // Wazuh's module reads either
		}
		if py && key == "status" && dropped(val) {
			continue
		}
		mark := dst.Len()
		if n > 0 {
			dst.WriteString(sep(py, ", ", ","))
		}
		writeString(dst, key, py)
		dst.WriteString(sep(py, ": ", ":"))
		var werr error
		if py && key == "initiatedBy" {
			werr = encode(dst, val, py, dropInitiator)
		} else {
			werr = encode(dst, val, py, nil)
		}
		if werr != nil {
			dst.Truncate(mark)
			return rec, fmt.Errorf("read member %q: %w", key, werr)
		}
		n++
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return rec, errors.New("record is not a complete JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return rec, errors.New("data after the record")
	}
	if n > 0 {
		dst.WriteString(sep(py, ", ", ","))
	}
	if py {
		dst.WriteString(`"azure_tag": "azure-ad-graph", "azure_aad_tag": `)
		writeString(dst, s.tag, true)
		dst.WriteByte('}')
	} else {
		dst.WriteString(`"resource":`)
		writeString(dst, s.resource, false)
		dst.WriteString(`,"relationship":`)
		writeString(dst, s.relationship, false)
		dst.WriteString("}}")
	}
	if rec.id == "" {
		return rec, errors.New("record without id")
	}
	if rec.raw == "" {
		rec.raw = fallback
	}
	t, err := time.Parse(time.RFC3339Nano, rec.raw)
	if err != nil {
		return rec, fmt.Errorf("record %s: %s %q is not a date and time", rec.id, s.timeField, rec.raw)
	}
	rec.when = t
	return rec, nil
}

// dropped reports a null or string value, which Wazuh's module removes from
// status and initiatedBy.user/app.
func dropped(val json.RawMessage) bool {
	v := bytes.TrimSpace(val)
	return len(v) > 0 && (v[0] == '"' || string(v) == "null")
}

// dropInitiator is the member filter of initiatedBy.
func dropInitiator(key string, val json.RawMessage) bool {
	return (key == "user" || key == "app") && dropped(val)
}

func sep(py bool, pySep, compact string) string {
	if py {
		return pySep
	}
	return compact
}

// encode re-writes one JSON value. skip, when set, leaves out members of this
// object (not of nested ones).
func encode(dst *bytes.Buffer, val json.RawMessage, py bool, skip func(string, json.RawMessage) bool) error {
	v := bytes.TrimSpace(val)
	if len(v) == 0 {
		return errors.New("empty value")
	}
	switch v[0] {
	case '{':
		var members []struct {
			k string
			v json.RawMessage
		}
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		_, _ = dec.Token()
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			var mv json.RawMessage
			if err := dec.Decode(&mv); err != nil {
				return err
			}
			if skip != nil && skip(tok.(string), mv) {
				continue
			}
			members = append(members, struct {
				k string
				v json.RawMessage
			}{tok.(string), mv})
		}
		dst.WriteByte('{')
		for i, m := range members {
			if i > 0 {
				dst.WriteString(sep(py, ", ", ","))
			}
			writeString(dst, m.k, py)
			dst.WriteString(sep(py, ": ", ":"))
			if err := encode(dst, m.v, py, nil); err != nil {
				return err
			}
		}
		dst.WriteByte('}')
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(v, &elems); err != nil {
			return err
		}
		dst.WriteByte('[')
		for i, e := range elems {
			if i > 0 {
				dst.WriteString(sep(py, ", ", ","))
			}
			if err := encode(dst, e, py, nil); err != nil {
				return err
			}
		}
		dst.WriteByte(']')
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return err
		}
		writeString(dst, s, py)
	case 't', 'f', 'n':
		dst.Write(v)
	default:
		if py {
			return writePyNumber(dst, string(v))
		}
		dst.Write(v)
	}
	return nil
}

// writeString writes s as a JSON string: with py, as Python's json.dumps
// (ensure_ascii: everything outside ASCII as \uXXXX, surrogate pairs above
// the BMP); otherwise as cJSON prints (UTF-8 kept).
func writeString(dst *bytes.Buffer, s string, py bool) {
	const hex = "0123456789abcdef"
	dst.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			dst.WriteString(`\"`)
		case r == '\\':
			dst.WriteString(`\\`)
		case r == '\n':
			dst.WriteString(`\n`)
		case r == '\r':
			dst.WriteString(`\r`)
		case r == '\t':
			dst.WriteString(`\t`)
		case r == '\b':
			dst.WriteString(`\b`)
		case r == '\f':
			dst.WriteString(`\f`)
		case r < 0x20 || (py && r > 0x7e && r != 0x7f):
			if r > 0xffff {
				r -= 0x10000
				writeU(dst, 0xd800+(r>>10), hex)
				writeU(dst, 0xdc00+(r&0x3ff), hex)
				continue
			}
			writeU(dst, r, hex)
		default:
			dst.WriteRune(r)
		}
	}
	dst.WriteByte('"')
}

func writeU(dst *bytes.Buffer, r rune, hex string) {
	dst.WriteString(`\u`)
	dst.WriteByte(hex[r>>12&0xf])
	dst.WriteByte(hex[r>>8&0xf])
	dst.WriteByte(hex[r>>4&0xf])
	dst.WriteByte(hex[r&0xf])
}

// writePyNumber writes a JSON number as Python re-prints it after json.loads:
// integers as they are, other numbers as float repr (shortest round-trip
// digits, positional between 1e-4 and 1e16, else d.ddde+XX).
func writePyNumber(dst *bytes.Buffer, num string) error {
	if !strings.ContainsAny(num, ".eE") {
		if _, err := strconv.ParseInt(num, 10, 64); err != nil && !validInt(num) {
			return fmt.Errorf("invalid number %q", num)
		}
		if num == "-0" {
			num = "0"
		}
		dst.WriteString(num)
		return nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsInf(f, 0) {
		if math.IsInf(f, 0) {
			dst.WriteString(map[bool]string{true: "Infinity", false: "-Infinity"}[f > 0])
			return nil
		}
		return fmt.Errorf("invalid number %q", num)
	}
	dst.WriteString(pyFloat(f))
	return nil
}

// validInt reports a JSON integer too large for int64 (Python keeps it).
func validInt(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// pyFloat formats f as Python's repr(float).
func pyFloat(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // -d.ddde±XX
	mant, expS, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expS)
	neg := strings.HasPrefix(mant, "-")
	digits := strings.Replace(strings.TrimPrefix(mant, "-"), ".", "", 1)
	var out string
	switch {
	case exp >= -4 && exp < 16:
		if exp >= 0 {
			if len(digits) <= exp+1 {
				out = digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
			} else {
				out = digits[:exp+1] + "." + digits[exp+1:]
			}
		} else {
			out = "0." + strings.Repeat("0", -exp-1) + digits
		}
	default:
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		out = fmt.Sprintf("%se%s%02d", m, sign, exp)
	}
	if neg {
		out = "-" + out
	}
	return out
}
