package sink_test

import (
	"testing"

	"github.com/skywatch-dev/skywatch/internal/sink"
)

func TestFilterMatch(t *testing.T) {
	rec := &sink.Record{Level: 5, RuleID: "80202", Groups: []string{"aws", "cloudtrail", "authentication_failed"}}
	tests := []struct {
		name   string
		filter sink.Filter
		want   bool
	}{
		{"zero value takes all", sink.Filter{}, true},
		{"min level met", sink.Filter{MinLevel: 5}, true},
		{"min level not met", sink.Filter{MinLevel: 6}, false},
		{"max level met", sink.Filter{MaxLevel: 5}, true},
		{"max level exceeded", sink.Filter{MaxLevel: 4}, false},
		{"rule id listed", sink.Filter{RuleIDs: []string{"1", "80202"}}, true},
		{"rule id not listed", sink.Filter{RuleIDs: []string{"1"}}, false},
		{"any group", sink.Filter{Groups: []string{"gcp", "cloudtrail"}}, true},
		{"no group", sink.Filter{Groups: []string{"gcp"}}, false},
		{"excluded group", sink.Filter{ExcludeGroups: []string{"authentication_failed"}}, false},
		{"exclusion wins over inclusion", sink.Filter{Groups: []string{"aws"}, ExcludeGroups: []string{"cloudtrail"}}, false},
		{"other exclusions", sink.Filter{ExcludeGroups: []string{"gcp"}}, true},
		{"all conditions", sink.Filter{MinLevel: 3, MaxLevel: 10, RuleIDs: []string{"80202"}, Groups: []string{"aws"}, ExcludeGroups: []string{"azure"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.filter.Match(rec); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFilterIsZero(t *testing.T) {
	tests := []struct {
		name   string
		filter sink.Filter
		want   bool
	}{
		{"zero", sink.Filter{}, true},
		{"min level", sink.Filter{MinLevel: 1}, false},
		{"max level", sink.Filter{MaxLevel: 16}, false},
		{"rule ids", sink.Filter{RuleIDs: []string{"1"}}, false},
		{"groups", sink.Filter{Groups: []string{"a"}}, false},
		{"exclude groups", sink.Filter{ExcludeGroups: []string{"a"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.filter.IsZero(); got != tt.want {
				t.Errorf("IsZero = %v, want %v", got, tt.want)
			}
		})
	}
}
