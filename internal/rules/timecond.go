package rules

import (
	"fmt"
	"strings"
	"time"
)

// timeRange is a <time> condition: minutes since midnight, possibly wrapping.
type timeRange struct {
	from, to int
	negate   bool
}

// ParseTimeRange parses Wazuh's <time> syntax, e.g. "6 pm - 8:30 am" or "!21:00-04:00".
func parseTimeRange(s string) (*timeRange, error) {
	t := &timeRange{}
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "!") {
		t.negate = true
		s = s[1:]
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return nil, fmt.Errorf("time range %q has no '-'", s)
	}
	var err error
	if t.from, err = parseClock(a); err != nil {
		return nil, err
	}
	if t.to, err = parseClock(b); err != nil {
		return nil, err
	}
	return t, nil
}

func parseClock(s string) (int, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	pm, am := strings.HasSuffix(s, "pm"), strings.HasSuffix(s, "am")
	if pm || am {
		s = strings.TrimSpace(s[:len(s)-2])
	}
	hs, ms, _ := strings.Cut(s, ":")
	h, ok := atoi(strings.TrimSpace(hs))
	if !ok {
		return 0, fmt.Errorf("bad hour in %q", s)
	}
	m := 0
	if ms != "" {
		if m, ok = atoi(strings.TrimSpace(ms)); !ok || m > 59 {
			return 0, fmt.Errorf("bad minutes in %q", s)
		}
	}
	if pm && h < 12 {
		h += 12
	}
	if am && h == 12 {
		h = 0
	}
	if h > 23 {
		return 0, fmt.Errorf("bad hour in %q", s)
	}
	return h*60 + m, nil
}

func (t *timeRange) holds(now time.Time) bool {
	m := now.Hour()*60 + now.Minute()
	var in bool
	if t.from <= t.to {
		in = m >= t.from && m < t.to
	} else {
		in = m >= t.from || m < t.to
	}
	return in != t.negate
}

// weekdays is a bit set over time.Weekday, with its negation applied at parse time.
type weekdays uint8

var dayNames = map[string]weekdays{
	"sunday": 1 << time.Sunday, "sun": 1 << time.Sunday,
	"monday": 1 << time.Monday, "mon": 1 << time.Monday,
	"tuesday": 1 << time.Tuesday, "tue": 1 << time.Tuesday,
	"wednesday": 1 << time.Wednesday, "wed": 1 << time.Wednesday,
	"thursday": 1 << time.Thursday, "thu": 1 << time.Thursday,
	"friday": 1 << time.Friday, "fri": 1 << time.Friday,
	"saturday": 1 << time.Saturday, "sat": 1 << time.Saturday,
	"weekdays": 0x3e, "weekends": 0x41,
}

// parseWeekdays parses Wazuh's <weekday> syntax: day names, "weekdays", "weekends",
// separated by commas or spaces, optionally negated with '!'.
func parseWeekdays(s string) (weekdays, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	neg := strings.HasPrefix(s, "!")
	s = strings.TrimPrefix(s, "!")
	var w weekdays
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '-' }) {
		d, ok := dayNames[tok]
		if !ok {
			return 0, fmt.Errorf("unknown weekday %q", tok)
		}
		w |= d
	}
	if w == 0 {
		return 0, fmt.Errorf("no weekday in %q", s)
	}
	if neg {
		w = ^w & 0x7f
	}
	return w, nil
}

func (w weekdays) holds(now time.Time) bool { return w&(1<<uint(now.Weekday())) != 0 }
