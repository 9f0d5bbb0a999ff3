package app

import (
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/api"
	"github.com/skywatch-dev/skywatch/internal/source"
)

func TestPassProgress(t *testing.T) {
	for _, tt := range []struct {
		p       source.Progress
		elapsed time.Duration
		want    *api.SourceProgress
	}{
		{source.Progress{}, time.Minute, nil}, // size unknown
		{source.Progress{Done: 3, Unit: "files"}, time.Minute, nil},
		{source.Progress{Total: 30, Unit: "days"}, time.Minute, &api.SourceProgress{Total: 30, Unit: "days"}},
		// A tenth done in 10 minutes: 90 minutes left.
		{source.Progress{Done: 3, Total: 30, Unit: "days"}, 10 * time.Minute,
			&api.SourceProgress{Done: 3, Total: 30, Unit: "days", ETASeconds: 5400}},
		{source.Progress{Done: 30, Total: 30, Unit: "days"}, time.Hour, &api.SourceProgress{Done: 30, Total: 30, Unit: "days"}},
	} {
		got := passProgress(tt.p, tt.elapsed)
		if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
			t.Errorf("%+v after %s: %+v, want %+v", tt.p, tt.elapsed, got, tt.want)
		}
	}
}
