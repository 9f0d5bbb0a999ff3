package awsclient

import (
	"fmt"
	"regexp"

	"github.com/skywatch-dev/skywatch/internal/config"
)

var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// ValidateRegions checks a source's regions setting: each must look like a region
// name (us-east-1) and be listed once.
func ValidateRegions(regions []string) []error {
	return ValidateNames("regions", regions, regionRE, "a region name such as us-east-1")
}

// ValidateNames checks a list of names set in field: each must match valid and be
// listed once. what describes a valid name in the errors ("%q is not <what>").
func ValidateNames(field string, names []string, valid *regexp.Regexp, what string) []error {
	var errs []error
	seen := map[string]bool{}
	for _, n := range names {
		switch {
		case !valid.MatchString(n):
			errs = append(errs, config.FieldError{Field: field, Msg: fmt.Sprintf("%q is not %s", n, what)})
		case seen[n]:
			errs = append(errs, config.FieldError{Field: field, Msg: fmt.Sprintf("%q is listed twice", n)})
		}
		seen[n] = true
	}
	return errs
}
