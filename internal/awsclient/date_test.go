package awsclient_test

import (
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/awsclient"
)

func TestParseDate(t *testing.T) {
	want := time.Date(2018, 8, 21, 0, 0, 0, 0, time.UTC)
	for _, s := range []string{"2018-08-21", "2018-AUG-21", "2018-aug-21", "2018-Aug-21", "2018-08-21T00:00:00Z", "2018-08-21T02:00:00+02:00"} {
		got, err := awsclient.ParseDate(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseDate(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"2018-13-01", "21/08/2018", "21-08-2018", "2018-AUGU-21"} {
		if _, err := awsclient.ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q) accepted", s)
		}
	}
	if got, err := awsclient.ParseDate(" "); err != nil || !got.IsZero() {
		t.Errorf("ParseDate of a blank = %v, %v, want the zero time", got, err)
	}
}
