package awsclient

import (
	"fmt"
	"strings"
	"time"
)

// ParseDate reads a date setting such as only_logs_after: 2006-01-02, Wazuh's
// 2006-JAN-02 (any case) or an RFC 3339 time (returned in UTC). The empty string
// gives the zero time.
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if len(s) == 11 {
		// Wazuh's form; Go wants the month as Jan.
		if t, err := time.Parse("2006-Jan-02", s[:5]+strings.ToUpper(s[5:6])+strings.ToLower(s[6:8])+s[8:]); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("invalid date %q: want 2024-01-31, 2024-JAN-31 or an RFC 3339 time", s)
}
