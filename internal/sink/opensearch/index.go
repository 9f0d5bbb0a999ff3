package opensearch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/skywatch-dev/skywatch/internal/alert"
)

// indexPattern is an index name with %Y, %m and %d standing for the alert's
// UTC date.
type indexPattern struct {
	pattern string
	dated   bool
}

func parseIndexPattern(p string) (indexPattern, error) {
	if p == "" {
		return indexPattern{}, fmt.Errorf("required")
	}
	dated := false
	for i := 0; i < len(p); i++ {
		if p[i] != '%' {
			continue
		}
		if i+1 == len(p) || !strings.ContainsRune("Ymd", rune(p[i+1])) {
			return indexPattern{}, fmt.Errorf("%q: only %%Y, %%m and %%d may follow %%", p)
		}
		dated = true
		i++
	}
	ip := indexPattern{pattern: p, dated: dated}
	if msg := checkIndexName(ip.name(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))); msg != "" {
		return indexPattern{}, fmt.Errorf("%q: %s", p, msg)
	}
	return ip, nil
}

// name returns the index for an alert of time t.
func (ip indexPattern) name(t time.Time) string {
	if !ip.dated {
		return ip.pattern
	}
	t = t.UTC()
	var b strings.Builder
	for i := 0; i < len(ip.pattern); i++ {
		c := ip.pattern[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		switch ip.pattern[i] {
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		}
	}
	return b.String()
}

// wildcard is the index pattern the template applies to: the part before the
// first date field followed by *, or the fixed name.
func (ip indexPattern) wildcard() string {
	if i := strings.IndexByte(ip.pattern, '%'); i >= 0 {
		return ip.pattern[:i] + "*"
	}
	return ip.pattern
}

// dailyIndexes caches the index names of recent days, since almost every
// alert of a batch falls on the same one.
type dailyIndexes struct {
	ip    indexPattern
	day   int64 // Unix day of name
	valid bool
	name  string
}

func (d *dailyIndexes) of(t time.Time) string {
	if !d.ip.dated {
		return d.ip.pattern
	}
	u := t.Unix()
	day := u / 86400
	if u%86400 < 0 {
		day-- // floor, for times before 1970
	}
	if !d.valid || day != d.day {
		d.day, d.name, d.valid = day, d.ip.name(t), true
	}
	return d.name
}

// tsPrefix is how alert.AppendJSON starts every alert.
const tsPrefix = `{"timestamp":"`

// alertTime reads the alert's timestamp. Alerts skywatch encodes start with it,
// so the common case costs one time.Parse; other JSON is decoded. ok is false
// when the alert has no timestamp that parses.
func alertTime(doc []byte) (time.Time, bool) {
	if bytes.HasPrefix(doc, []byte(tsPrefix)) {
		rest := doc[len(tsPrefix):]
		if i := bytes.IndexByte(rest, '"'); i > 0 {
			if t, err := time.Parse(alert.TimeLayout, string(rest[:i])); err == nil {
				return t, true
			}
		}
	}
	var a struct {
		Timestamp string `json:"timestamp"`
	}
	if json.Unmarshal(doc, &a) != nil || a.Timestamp == "" {
		return time.Time{}, false
	}
	for _, layout := range []string{alert.TimeLayout, time.RFC3339Nano} {
		if t, err := time.Parse(layout, a.Timestamp); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
