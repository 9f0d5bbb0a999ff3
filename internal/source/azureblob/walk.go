package azureblob

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// The walk lists a container hierarchically ('/' delimiter) from the configured
// path. Folders named y=YYYY/ make their parent a dated root: year and month
// folders before the root's cursor are not listed, and each open day folder
// (d=DD/) is listed flat, page by page, whatever lies below it (h=/m=/ and
// macAddress= folders). Blobs elsewhere are read when modified after the
// container's watermark. Only one page per folder level is in memory at a time.

// dateLevel is where the walk is in a y=/m=/d= tree.
type dateLevel struct {
	root        *rootProgress
	year, month int // 0 until entered
}

// walkContainer lists one container and submits the blobs to read.
func (s *Source) walkContainer(ctx context.Context, name string, passStart time.Time, jobs chan<- job) error {
	und, err := s.undatedOf(name, passStart)
	if err != nil {
		return err
	}
	cc := s.client.ServiceClient().NewContainerClient(name)
	if err := s.walk(ctx, cc, name, s.cfg.Path, dateLevel{}, und, jobs); err != nil {
		return err
	}
	s.track.mu.Lock()
	und.listed = true
	s.track.mu.Unlock()
	return nil
}

// walk lists one folder and descends into its sub-folders.
func (s *Source) walk(ctx context.Context, cc *container.Client, cname, prefix string, at dateLevel, und *undatedProgress, jobs chan<- job) error {
	pager := cc.NewListBlobsHierarchyPager("/", &container.ListBlobsHierarchyOptions{
		Prefix: to.Ptr(prefix), MaxResults: to.Ptr(s.pageSize)})
	var roots []*rootProgress // dated roots found at this level, walked once this folder is done
	fail := func(err error) error {
		for _, r := range roots {
			s.track.mu.Lock()
			r.failed = true
			s.track.mu.Unlock()
		}
		return err
	}
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return fail(fmt.Errorf("list %s: %w", unit(cname, prefix), err))
		}
		if page.Segment == nil {
			continue
		}
		for _, b := range page.Segment.BlobItems {
			if err := s.submit(ctx, cname, b, group{und: und}, jobs); err != nil {
				return fail(err)
			}
		}
		for _, p := range page.Segment.BlobPrefixes {
			if p.Name == nil {
				continue
			}
			sub := *p.Name
			seg := strings.TrimSuffix(sub[len(prefix):], "/")
			var err error
			switch n, kind := dateSegment(seg); {
			case at.root == nil && kind == 'y':
				r, rerr := s.root(cname, prefix)
				if rerr != nil {
					return fail(rerr)
				}
				if len(roots) == 0 || roots[len(roots)-1] != r {
					roots = append(roots, r)
				}
				if n >= r.cursor.Year() {
					err = s.walk(ctx, cc, cname, sub, dateLevel{root: r, year: n}, und, jobs)
				}
			case at.root != nil && at.month == 0 && kind == 'm' && n >= 1 && n <= 12:
				c := at.root.cursor
				if at.year > c.Year() || n >= int(c.Month()) {
					err = s.walk(ctx, cc, cname, sub, dateLevel{root: at.root, year: at.year, month: n}, und, jobs)
				}
			case at.root != nil && at.month != 0 && kind == 'd' && n >= 1 && n <= 31:
				day := time.Date(at.year, time.Month(at.month), n, 0, 0, 0, 0, time.UTC)
				if !day.Before(at.root.cursor) && day.Day() == n {
					err = s.listDay(ctx, cc, cname, sub, at.root, day, jobs)
				}
			default:
				// Not a date folder where one was expected: an ordinary folder.
				err = s.walk(ctx, cc, cname, sub, dateLevel{}, und, jobs)
			}
			if err != nil {
				return fail(err)
			}
		}
	}
	s.track.mu.Lock()
	for _, r := range roots {
		r.walked = true
		s.countDays(r, s.track.today)
	}
	s.track.mu.Unlock()
	return nil
}

// dateSegment reads y=2024, m=05 or d=01.
func dateSegment(seg string) (int, byte) {
	if len(seg) < 3 || seg[1] != '=' || (seg[0] != 'y' && seg[0] != 'm' && seg[0] != 'd') {
		return 0, 0
	}
	n, err := strconv.Atoi(seg[2:])
	if err != nil || n < 0 {
		return 0, 0
	}
	return n, seg[0]
}

// listDay lists one open day folder flat and submits its blobs.
func (s *Source) listDay(ctx context.Context, cc *container.Client, cname, prefix string, r *rootProgress, day time.Time, jobs chan<- job) error {
	s.track.mu.Lock()
	dp := r.days[day]
	if dp == nil {
		dp = &dayProgress{prefix: prefix}
		r.days[day] = dp
	}
	s.track.mu.Unlock()
	pager := cc.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: to.Ptr(prefix), MaxResults: to.Ptr(s.pageSize)})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			s.track.mu.Lock()
			dp.failed = true
			s.track.mu.Unlock()
			return fmt.Errorf("list %s: %w", unit(cname, prefix), err)
		}
		if page.Segment == nil {
			continue
		}
		for _, b := range page.Segment.BlobItems {
			if err := s.submit(ctx, cname, b, group{day: dp}, jobs); err != nil {
				return err
			}
		}
	}
	s.track.mu.Lock()
	dp.listed = true
	s.countDays(r, day)
	s.track.mu.Unlock()
	return nil
}

// job is one blob to read.
type job struct {
	container, name string
	key             string // checkpoint key
	size            int64
	etag            string
	modified        time.Time
	prev            *blobState
	group           group
}

// submit decides whether a listed blob has anything new and queues it.
func (s *Source) submit(ctx context.Context, cname string, b *container.BlobItem, g group, jobs chan<- job) error {
	if b.Name == nil || b.Properties == nil {
		return nil
	}
	name := *b.Name
	p := b.Properties
	size := derefInt(p.ContentLength)
	var modified time.Time
	if p.LastModified != nil {
		modified = *p.LastModified
	}
	if size == 0 || strings.HasSuffix(name, "/") || (s.cfg.Blobs != "" && !strings.Contains(name, s.cfg.Blobs)) {
		return nil
	}
	key := datedPrefix + cname + "|" + name
	if g.day == nil {
		if modified.Before(g.und.watermark) {
			return nil
		}
		key = undatedPrefix + cname + "|" + name
	}
	etag := ""
	if p.ETag != nil {
		etag = string(*p.ETag)
	}
	prev, err := s.blobStateOf(key)
	if err != nil {
		return err
	}
	if prev != nil && prev.Done && (prev.ETag == etag || prev.Size == size) {
		s.stats.skipped.Add(1)
		return nil
	}
	s.groupAdd(g, 1)
	select {
	case jobs <- job{container: cname, name: name, key: key, size: size, etag: etag, modified: modified, prev: prev, group: g}:
		return nil
	case <-ctx.Done():
		s.blobFinished(g, false)
		return ctx.Err()
	}
}

func derefInt(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
