package alert

import (
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends the alert as one compact JSON object, keys in Wazuh's order.
func (a *Alert) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"timestamp":`...)
	dst = append(dst, '"')
	dst = a.Timestamp.AppendFormat(dst, TimeLayout)
	dst = append(dst, '"')
	if !a.NoRule {
		dst = append(dst, `,"rule":`...)
		dst = a.Rule.appendJSON(dst)
	}
	dst = append(dst, `,"agent":{"id":`...)
	dst = AppendString(dst, a.Agent.ID)
	dst = append(dst, `,"name":`...)
	dst = AppendString(dst, a.Agent.Name)
	dst = append(dst, `},"manager":{"name":`...)
	dst = AppendString(dst, a.Manager)
	dst = append(dst, `},"id":`...)
	dst = AppendString(dst, a.ID)
	if a.PreviousOutput != "" {
		dst = append(dst, `,"previous_output":`...)
		dst = AppendString(dst, a.PreviousOutput)
	}
	if a.FullLog != "" {
		dst = append(dst, `,"full_log":`...)
		dst = AppendString(dst, a.FullLog)
	}
	dst = append(dst, `,"decoder":{`...)
	if a.Decoder.Parent != "" {
		dst = append(dst, `"parent":`...)
		dst = AppendString(dst, a.Decoder.Parent)
		dst = append(dst, ',')
	}
	if a.Decoder.Name != "" {
		dst = append(dst, `"name":`...)
		dst = AppendString(dst, a.Decoder.Name)
	}
	dst = append(dst, '}')
	if len(a.Data) > 0 {
		dst = append(dst, `,"data":`...)
		dst = append(dst, a.Data...)
	}
	dst = append(dst, `,"location":`...)
	dst = AppendString(dst, a.Location)
	return append(dst, '}')
}

// MarshalJSON implements json.Marshaler.
func (a *Alert) MarshalJSON() ([]byte, error) { return a.AppendJSON(nil), nil }

func (r *Rule) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"level":`...)
	dst = strconv.AppendInt(dst, int64(r.Level), 10)
	dst = append(dst, `,"description":`...)
	dst = AppendString(dst, r.Description)
	dst = append(dst, `,"id":`...)
	dst = AppendString(dst, r.ID)
	if r.Mitre != nil {
		dst = append(dst, `,"mitre":{"id":`...)
		dst = appendStrings(dst, r.Mitre.ID)
		dst = append(dst, `,"tactic":`...)
		dst = appendStrings(dst, r.Mitre.Tactic)
		dst = append(dst, `,"technique":`...)
		dst = appendStrings(dst, r.Mitre.Technique)
		dst = append(dst, '}')
	}
	if r.CVE != "" {
		dst = append(dst, `,"cve":`...)
		dst = AppendString(dst, r.CVE)
	}
	if r.Info != "" {
		dst = append(dst, `,"info":`...)
		dst = AppendString(dst, r.Info)
	}
	if r.HasFrequency {
		dst = append(dst, `,"frequency":`...)
		dst = strconv.AppendInt(dst, int64(r.Frequency), 10)
	}
	if !r.NoCounter {
		dst = append(dst, `,"firedtimes":`...)
		dst = strconv.AppendInt(dst, r.Firedtimes, 10)
	}
	dst = append(dst, `,"mail":`...)
	dst = strconv.AppendBool(dst, r.Mail)
	if len(r.Groups) > 0 {
		dst = append(dst, `,"groups":`...)
		dst = appendStrings(dst, r.Groups)
	}
	for _, c := range r.Compliance {
		dst = append(dst, ',')
		dst = AppendString(dst, c.Name)
		dst = append(dst, ':')
		dst = appendStrings(dst, c.Values)
	}
	return append(dst, '}')
}

func appendStrings(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, s)
	}
	return append(dst, ']')
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD so the
// output is always valid JSON.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
