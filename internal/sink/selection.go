package sink

import (
	"errors"
	"fmt"

	"github.com/skywatch-dev/skywatch/internal/config"
)

// Selection holds the alert selection keys every output's configuration has;
// outputs embed it inline so the keys sit beside their own.
type Selection struct {
	// MinLevel, MaxLevel, RuleIDs, Groups and ExcludeGroups select the alerts an
	// output takes, as Filter describes (default: all).
	MinLevel      int      `yaml:"min_level"`
	MaxLevel      int      `yaml:"max_level"`
	RuleIDs       []string `yaml:"rule_ids"`
	Groups        []string `yaml:"groups"`
	ExcludeGroups []string `yaml:"exclude_groups"`
}

// Filter returns the alert selection the keys describe; the pipeline applies it
// before Write.
func (s *Selection) Filter() Filter {
	return Filter{MinLevel: s.MinLevel, MaxLevel: s.MaxLevel, RuleIDs: s.RuleIDs, Groups: s.Groups, ExcludeGroups: s.ExcludeGroups}
}

// Validate returns a config.FieldError for each bad selection key.
func (s *Selection) Validate() error {
	var errs []error
	for _, l := range []struct {
		field string
		v     int
	}{{"min_level", s.MinLevel}, {"max_level", s.MaxLevel}} {
		if l.v < 0 || l.v > 16 {
			errs = append(errs, config.FieldError{Field: l.field, Msg: fmt.Sprintf("must be between 0 and 16, got %d", l.v)})
		}
	}
	if s.MaxLevel > 0 && s.MinLevel > s.MaxLevel {
		errs = append(errs, config.FieldError{Field: "max_level", Msg: fmt.Sprintf("must not be below min_level (%d)", s.MinLevel)})
	}
	return errors.Join(errs...)
}
