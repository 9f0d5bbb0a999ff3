package gcs

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"
)

// A root is an object name prefix whose objects are grouped into days:
//
//	logging_export  <path><log id>/           days <root>YYYY/MM/DD/
//	access_logs     <path><prefix>_usage_     days <root>YYYY_MM_DD_
//	                <path><prefix>_storage_
//
// Under a root, names sort by date in both layouts, which is what lets a day be
// listed by prefix and an empty stretch of days be skipped with one call.

// basePath normalises the configured path: no leading slash, one trailing slash.
func basePath(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return p + "/"
}

// dayPrefix is the name prefix of one day's objects under a root.
func (s *Source) dayPrefix(rootPrefix string, day time.Time) string {
	if s.cfg.LogType == AccessLogs {
		return rootPrefix + day.Format("2006_01_02_")
	}
	return rootPrefix + day.Format("2006/01/02/")
}

// dayOfName reads the day of an object name under a root.
func (s *Source) dayOfName(rootPrefix, name string) (time.Time, bool) {
	layout := "2006/01/02"
	if s.cfg.LogType == AccessLogs {
		layout = "2006_01_02"
	}
	rest := strings.TrimPrefix(name, rootPrefix)
	if len(rest) < len(layout) {
		return time.Time{}, false
	}
	t, err := time.Parse(layout, rest[:len(layout)])
	return t, err == nil
}

// roots finds the listing roots under path.
func (s *Source) roots(ctx context.Context) ([]string, error) {
	base := basePath(s.cfg.Path)
	if s.cfg.LogType == AccessLogs {
		return s.accessRoots(ctx, base)
	}
	var out []string
	err := s.exportRoots(ctx, base, maxLogIDDepth, &out)
	return out, err
}

// maxLogIDDepth bounds how many folder levels a log id spans under path
// (cloudaudit.googleapis.com/activity is two).
const maxLogIDDepth = 4

var yearFolder = regexp.MustCompile(`^\d{4}$`)

// exportRoots finds the log folders of a Cloud Logging export: the folders
// under prefix whose sub-folders are years. Log ids may contain slashes, so
// folders that are not years are searched further, to a bounded depth.
func (s *Source) exportRoots(ctx context.Context, prefix string, depth int, out *[]string) error {
	q := &storage.Query{Prefix: prefix, Delimiter: "/"}
	if err := q.SetAttrSelection([]string{"Name"}); err != nil {
		return err
	}
	it := s.bucket.Objects(ctx, q)
	isRoot := false
	var subs []string
	for {
		a, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return fmt.Errorf("list gs://%s/%s: %w", s.cfg.Bucket, prefix, err)
		}
		if a.Prefix == "" {
			continue // an object beside the folders
		}
		if yearFolder.MatchString(strings.TrimSuffix(a.Prefix[len(prefix):], "/")) {
			isRoot = true
		} else {
			subs = append(subs, a.Prefix)
		}
	}
	if isRoot {
		*out = append(*out, prefix)
	}
	if depth == 0 {
		return nil
	}
	for _, sub := range subs {
		if err := s.exportRoots(ctx, sub, depth-1, out); err != nil {
			return err
		}
	}
	return nil
}

// accessName splits a usage or storage log name (after path): the root part up
// to the date, and the date. The greedy first group takes the last
// "_usage_"/"_storage_" followed by a date, so prefixes may contain either word.
var accessName = regexp.MustCompile(`^(.*_(?:usage|storage)_)(\d{4}_\d{2}_\d{2})_\d{2}_\d{2}_\d{2}_`)

// accessRoots finds the roots of usage and storage logs directly under base.
// Their names are flat (no folders) and several logged buckets may share a
// folder, so the roots are found by skipping through the listing: each call
// asks for the first name at or after an offset, and the offset then jumps
// past every name of the root found. The cost is one call per root (and one
// per object that is not a log), not one per object.
func (s *Source) accessRoots(ctx context.Context, base string) ([]string, error) {
	var roots []string
	offset := base
	for {
		name, err := s.firstName(ctx, base, offset)
		if err != nil || name == "" {
			return roots, err
		}
		rest := name[len(base):]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			offset = base + rest[:i] + "0" // '0' follows '/': past the sub-folder
			continue
		}
		m := accessName.FindStringSubmatch(rest)
		if m == nil {
			offset = name + "\x00"
			continue
		}
		root := base + m[1]
		roots = append(roots, root)
		offset = root + ":" // ':' follows the digits: past every dated name of the root
	}
}
