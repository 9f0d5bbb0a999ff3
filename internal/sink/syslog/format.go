package syslog

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/skywatch-dev/skywatch/internal/alert"
	"github.com/skywatch-dev/skywatch/internal/sink"
)

// Severity maps a rule level (0–16) to a syslog severity. Emergency (0) is
// never used — it means the system is unusable — nor debug (7).
func Severity(level int) int {
	switch {
	case level >= 15:
		return 1 // alert
	case level >= 12:
		return 2 // critical
	case level >= 10:
		return 3 // error
	case level >= 7:
		return 4 // warning
	case level >= 4:
		return 5 // notice
	default:
		return 6 // informational
	}
}

// CEFSeverity maps a rule level (0–16) to CEF's 0–10 scale, rounding
// level×10/16 to the nearest integer.
func CEFSeverity(level int) int {
	return min(max((level*10+8)/16, 0), 10)
}

// formatter turns records into syslog messages (without transport framing).
type formatter struct {
	format, message    string
	facility           int
	hostname, appName  string
	procID, msgID      string
	sdID, version      string
	maxSize            int
	now                func() time.Time
	escapeLFForFraming bool
}

// timestampLayout is RFC 5424's TIMESTAMP with milliseconds.
const timestampLayout = "2006-01-02T15:04:05.000Z07:00"

// appendMessage appends r's message to dst and reports whether it had to be
// truncated to maxSize.
func (f *formatter) appendMessage(dst []byte, r *sink.Record) ([]byte, bool) {
	start := len(dst)
	switch f.format {
	case FormatJSON:
		dst = append(dst, r.JSON...)
	case FormatCEF:
		sum := summarize(r)
		dst = f.appendHeader(dst, r, sum.Timestamp)
		dst = append(dst, " - "...)
		dst = f.appendCEF(dst, r, &sum)
	default:
		var sum alert.Summary
		if f.message == MessageText {
			sum = summarize(r)
		} else {
			sum.Timestamp = alertTime(r.JSON)
		}
		dst = f.appendHeader(dst, r, sum.Timestamp)
		dst = append(dst, ' ')
		dst = f.appendSD(dst, r)
		dst = append(dst, ' ')
		if f.message == MessageText {
			dst = appendText(dst, &sum)
		} else {
			dst = append(dst, r.JSON...)
		}
	}
	if f.escapeLFForFraming {
		// A line feed would end the message early for an lf-framed receiver;
		// compact JSON and CEF never hold one, SD values and text might.
		for i := start; i < len(dst); i++ {
			if dst[i] == '\n' {
				dst[i] = ' '
			}
		}
	}
	if f.maxSize > 0 && len(dst)-start > f.maxSize {
		return dst[:start+truncLen(dst[start:], f.maxSize)], true
	}
	return dst, false
}

// appendHeader appends "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID".
func (f *formatter) appendHeader(dst []byte, r *sink.Record, ts time.Time) []byte {
	if ts.IsZero() {
		ts = f.now()
	}
	dst = append(dst, '<')
	dst = strconv.AppendInt(dst, int64(f.facility*8+Severity(r.Level)), 10)
	dst = append(dst, ">1 "...)
	dst = ts.AppendFormat(dst, timestampLayout)
	dst = append(dst, ' ')
	dst = appendField(dst, f.hostname, maxHostname)
	dst = append(dst, ' ')
	dst = appendField(dst, f.appName, maxAppName)
	dst = append(dst, ' ')
	dst = appendField(dst, f.procID, maxProcID)
	dst = append(dst, ' ')
	msgID := f.msgID
	if msgID == "" {
		msgID = r.RuleID
	}
	return appendField(dst, msgID, maxMsgID)
}

// appendField appends a header field: printable ASCII without spaces, at most
// max bytes, "-" when empty. Other bytes become '_' so a rule id or host name
// can never shift the fields after it.
func appendField(dst []byte, v string, max int) []byte {
	if v == "" {
		return append(dst, '-')
	}
	if len(v) > max {
		v = v[:max]
	}
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < 33 || b > 126 {
			dst = append(dst, '_')
		} else {
			dst = append(dst, b)
		}
	}
	return dst
}

// appendSD appends the structured-data element describing r.
func (f *formatter) appendSD(dst []byte, r *sink.Record) []byte {
	dst = append(dst, '[')
	dst = append(dst, f.sdID...)
	dst = appendParam(dst, "id", r.ID)
	dst = appendParam(dst, "rule", r.RuleID)
	dst = appendParam(dst, "level", strconv.Itoa(r.Level))
	if len(r.Groups) > 0 {
		dst = appendParam(dst, "groups", strings.Join(r.Groups, ","))
	}
	return append(dst, ']')
}

func appendParam(dst []byte, name, value string) []byte {
	dst = append(dst, ' ')
	dst = append(dst, name...)
	dst = append(dst, `="`...)
	dst = AppendSDValue(dst, value)
	return append(dst, '"')
}

// AppendSDValue appends v as a PARAM-VALUE (RFC 5424 §6.3.3): '"', '\' and ']'
// are escaped with a backslash, invalid UTF-8 becomes U+FFFD.
func AppendSDValue(dst []byte, v string) []byte {
	v = strings.ToValidUTF8(v, "\uFFFD")
	for i := 0; i < len(v); i++ {
		switch b := v[i]; b {
		case '"', '\\', ']':
			dst = append(dst, '\\', b)
		default:
			dst = append(dst, b)
		}
	}
	return dst
}

// appendCEF appends the CEF record of r.
func (f *formatter) appendCEF(dst []byte, r *sink.Record, s *alert.Summary) []byte {
	desc := s.Description
	if desc == "" {
		desc = "rule " + r.RuleID
	}
	dst = append(dst, "CEF:0|skywatch|skywatch|"...)
	dst = AppendCEFHeader(dst, f.version)
	dst = append(dst, '|')
	dst = AppendCEFHeader(dst, r.RuleID)
	dst = append(dst, '|')
	dst = AppendCEFHeader(dst, desc)
	dst = append(dst, '|')
	dst = strconv.AppendInt(dst, int64(CEFSeverity(r.Level)), 10)
	dst = append(dst, '|')

	ts := s.Timestamp
	if ts.IsZero() {
		ts = f.now()
	}
	ext := extWriter{dst: dst}
	ext.add("rt", strconv.FormatInt(ts.UnixMilli(), 10))
	if ip, err := netip.ParseAddr(s.SrcIP); err == nil {
		if ip.Is4() || ip.Is4In6() {
			ext.add("src", ip.Unmap().String())
		} else {
			ext.label("c6a2", "Source IPv6 Address", ip.String())
		}
	}
	ext.add("suser", s.Principal)
	ext.label("cs1", "account", s.Account)
	ext.label("cs2", "provider", s.Provider)
	ext.label("cs3", "technique", strings.Join(s.Techniques, ","))
	ext.label("cs4", "region", s.Region)
	ext.label("cs5", "location", s.Location)
	ext.label("cs6", "tactic", strings.Join(s.Tactics, ","))
	ext.add("cat", strings.Join(r.Groups, ","))
	ext.add("externalId", r.ID)
	ext.add("msg", s.Description)
	return ext.dst
}

// extWriter appends CEF extension pairs, leaving out empty values.
type extWriter struct {
	dst   []byte
	wrote bool
}

func (w *extWriter) add(key, value string) {
	if value == "" {
		return
	}
	if w.wrote {
		w.dst = append(w.dst, ' ')
	}
	w.wrote = true
	w.dst = append(w.dst, key...)
	w.dst = append(w.dst, '=')
	w.dst = AppendCEFExtension(w.dst, value)
}

// label adds a custom field with its label, as CEF's csN/csNLabel pairs want.
func (w *extWriter) label(key, label, value string) {
	if value == "" {
		return
	}
	w.add(key+"Label", label)
	w.add(key, value)
}

// AppendCEFHeader appends v as a CEF header field: '\' and '|' are escaped,
// line breaks (which header fields may not hold) become spaces.
func AppendCEFHeader(dst []byte, v string) []byte {
	v = strings.ToValidUTF8(v, "\uFFFD")
	for i := 0; i < len(v); i++ {
		switch b := v[i]; b {
		case '\\', '|':
			dst = append(dst, '\\', b)
		case '\r', '\n':
			dst = append(dst, ' ')
		default:
			dst = append(dst, b)
		}
	}
	return dst
}

// AppendCEFExtension appends v as a CEF extension value: '\' and '=' are
// escaped, and line breaks are written as \n and \r. Pipes need no escape here.
func AppendCEFExtension(dst []byte, v string) []byte {
	v = strings.ToValidUTF8(v, "\uFFFD")
	for i := 0; i < len(v); i++ {
		switch b := v[i]; b {
		case '\\', '=':
			dst = append(dst, '\\', b)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, b)
		}
	}
	return dst
}

// appendText appends the one-line summary used as an rfc5424 MSG with
// message: text.
func appendText(dst []byte, s *alert.Summary) []byte {
	dst = append(dst, "level "...)
	dst = strconv.AppendInt(dst, int64(s.Level), 10)
	dst = append(dst, " rule "...)
	dst = append(dst, s.RuleID...)
	dst = append(dst, ": "...)
	dst = appendLine(dst, s.Description)
	pairs := []struct{ k, v string }{
		{"provider", s.Provider}, {"account", s.Account}, {"region", s.Region},
		{"principal", s.Principal}, {"src", s.SrcIP}, {"technique", strings.Join(s.Techniques, ",")},
		{"id", s.ID},
	}
	for _, p := range pairs {
		if p.v == "" {
			continue
		}
		dst = append(dst, ' ')
		dst = append(dst, p.k...)
		dst = append(dst, '=')
		dst = appendLine(dst, p.v)
	}
	return dst
}

// appendLine appends v with control characters replaced by spaces.
func appendLine(dst []byte, v string) []byte {
	for _, r := range strings.ToValidUTF8(v, "\uFFFD") {
		if r < 0x20 || r == 0x7f {
			r = ' '
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// summarize reads the alert's summary, falling back to the record's own fields
// for JSON that does not parse (the encoder never writes such).
func summarize(r *sink.Record) alert.Summary {
	s, err := alert.Summarize(r.JSON)
	if err != nil {
		return alert.Summary{ID: r.ID, Level: r.Level, RuleID: r.RuleID, Groups: r.Groups}
	}
	return s
}

// alertTime reads the timestamp the alert encoder writes first, without
// decoding the rest of the alert; zero when it is not there.
func alertTime(j []byte) time.Time {
	const prefix = `{"timestamp":"`
	if !bytes.HasPrefix(j, []byte(prefix)) || len(j) < len(prefix)+len(alert.TimeLayout) {
		return time.Time{}
	}
	t, err := time.Parse(alert.TimeLayout, string(j[len(prefix):len(prefix)+len(alert.TimeLayout)]))
	if err != nil {
		return time.Time{}
	}
	return t
}

// truncLen returns how many bytes of msg to keep to stay within max: never
// splitting a UTF-8 sequence, nor leaving a lone escaping backslash at the end.
func truncLen(msg []byte, max int) int {
	n := max
	for n > 0 && n < len(msg) && !utf8.RuneStart(msg[n]) {
		n--
	}
	slashes := 0
	for i := n - 1; i >= 0 && msg[i] == '\\'; i-- {
		slashes++
	}
	if slashes%2 == 1 {
		n--
	}
	return n
}
