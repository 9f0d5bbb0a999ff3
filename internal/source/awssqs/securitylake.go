package awssqs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/parquet-go/parquet-go"

	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/source"
	"github.com/skywatch-dev/skywatch/internal/source/awss3"
)

// Location is the events' location, as Wazuh's AWS module writes it.
const Location = "Wazuh-AWS"

// A Security Lake object's rows are emitted in batches of at most lakeBatchRows
// events or lakeBatchBytes bytes, and read from Parquet lakeReadRows at a time.
const (
	lakeBatchRows  = 256
	lakeBatchBytes = 4 << 20
	lakeReadRows   = 64
)

// lakeReader reads Amazon Security Lake objects: Parquet files of OCSF rows,
// each sent as its JSON object with no wrapper, as Wazuh's Security Lake
// subscriber does. Parquet keeps its index at the end of the file, so the object
// is spooled to a temporary file first; then row groups are read one at a time,
// a few rows at a time, so memory stays bounded by a row group's pages, not the
// object.
type lakeReader struct {
	client         awss3.ObjectAPI
	source, agent  string
	now            func() time.Time
	log            *slog.Logger
	stats          *awss3.Counters
	maxAttempts    int
	maxRecordBytes int
	discard        *regexp.Regexp
	discardField   string
}

// lakeRun reads one object and delivers its rows through out.
type lakeRun struct {
	r           *lakeReader
	bucket, key string
	out         awss3.Batches
	bad         int
}

// Read reads one object into batches handed to emit; done is called once, with
// true when every batch was acknowledged (or the object held nothing readable)
// and false when it must be read again.
func (r *lakeReader) Read(ctx context.Context, bucket, key string, emit source.Emit, done func(ok bool)) {
	o := &lakeRun{r: r, bucket: bucket, key: key,
		out: awss3.Batches{Emit: emit, Done: done, MaxEvents: lakeBatchRows, MaxBytes: lakeBatchBytes}}
	err := o.read(ctx)
	if err == nil {
		err = o.out.Flush(ctx)
	}
	r.stats.Units.Add(1)
	switch {
	case err == nil || ctx.Err() != nil:
	case awss3.IsPermanent(err):
		// Broken content: what was read is kept, the rest cannot be reached.
		r.stats.Errors.Add(1)
		r.log.Error("aws-sqs: Security Lake object is not valid Parquet; rows after the error are lost",
			"source", r.source, "bucket", bucket, "key", key, "err", err)
		err = nil
	default:
		r.stats.Errors.Add(1)
		r.log.Error("aws-sqs: object not read; it will be read again", "source", r.source,
			"bucket", bucket, "key", key, "err", err)
	}
	o.out.Finish(err)
}

func (o *lakeRun) read(ctx context.Context) (err error) {
	f, size, err := o.spool(ctx)
	if f != nil {
		defer func() { f.Close(); os.Remove(f.Name()) }()
	}
	if err != nil || size == 0 {
		return err
	}
	defer func() {
		if p := recover(); p != nil { // parquet-go panics on some malformed files
			err = awss3.Permanent(fmt.Errorf("s3://%s/%s: parquet: %v", o.bucket, o.key, p))
		}
	}()
	pf, err := parquet.OpenFile(f, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return awss3.Permanent(fmt.Errorf("s3://%s/%s: parquet: %w", o.bucket, o.key, err))
	}
	conv := newRowJSON(pf.Root())
	rows := make([]parquet.Row, lakeReadRows)
	var idx int64
	var js []byte
	for _, rg := range pf.RowGroups() {
		rr := rg.Rows()
		for {
			n, rerr := rr.ReadRows(rows)
			for _, row := range rows[:n] {
				js = conv.appendRow(js[:0], row)
				if err := o.add(ctx, js, idx); err != nil {
					rr.Close()
					return err
				}
				idx++
			}
			if errors.Is(rerr, io.EOF) {
				break
			}
			if rerr != nil {
				rr.Close()
				return awss3.Permanent(fmt.Errorf("s3://%s/%s: row %d: %w", o.bucket, o.key, idx, rerr))
			}
		}
		if err := rr.Close(); err != nil {
			return awss3.Permanent(fmt.Errorf("s3://%s/%s: %w", o.bucket, o.key, err))
		}
	}
	return nil
}

// spool downloads the object to a temporary file, retrying a broken download.
func (o *lakeRun) spool(ctx context.Context) (*os.File, int64, error) {
	f, err := os.CreateTemp("", "skywatch-lake-*.parquet")
	if err != nil {
		return nil, 0, fmt.Errorf("s3://%s/%s: spool: %w", o.bucket, o.key, err)
	}
	for attempt := 1; ; attempt++ {
		var n int64
		n, err = o.download(ctx, f)
		if err == nil {
			return f, n, nil
		}
		if attempt >= max(o.r.maxAttempts, 1) || ctx.Err() != nil {
			return f, 0, err
		}
		o.r.log.Warn("aws-sqs: object download failed, retrying", "source", o.r.source, "bucket", o.bucket,
			"key", o.key, "attempt", attempt, "err", err)
	}
}

func (o *lakeRun) download(ctx context.Context, f *os.File) (int64, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	if err := f.Truncate(0); err != nil {
		return 0, err
	}
	out, err := o.r.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(o.key)})
	if err != nil {
		return 0, fmt.Errorf("get s3://%s/%s: %w", o.bucket, o.key, err)
	}
	defer out.Body.Close()
	n, err := io.Copy(f, out.Body)
	if err != nil {
		return 0, fmt.Errorf("download s3://%s/%s: %w", o.bucket, o.key, err)
	}
	return n, nil
}

// add delivers one row's event, unless it is too large or discarded.
func (o *lakeRun) add(ctx context.Context, js []byte, idx int64) error {
	r := o.r
	if r.maxRecordBytes > 0 && len(js) > r.maxRecordBytes {
		o.bad++
		r.stats.Errors.Add(1)
		if o.bad == 1 {
			r.log.Warn("aws-sqs: row larger than the event size limit skipped", "source", r.source,
				"bucket", o.bucket, "key", o.key, "row", idx, "bytes", len(js))
		}
		return nil
	}
	if r.discard != nil && awss3.FieldMatches(js, r.discardField, r.discard) {
		r.stats.Discarded.Add(1)
		return nil
	}
	r.stats.Events.Add(1)
	return o.out.Add(ctx, event.Event{
		Location: Location, AgentID: event.LocalAgentID, AgentName: r.agent, Received: r.now(),
		Origin: event.Origin{Source: r.source, Unit: "s3://" + o.bucket + "/" + o.key, Offset: idx},
	}, js)
}
