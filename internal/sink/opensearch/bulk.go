package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/skywatch-dev/skywatch/internal/retry"
)

// maxResponse bounds the bulk response read; filter_path keeps real ones far
// smaller.
const maxResponse = 64 << 20

// round sends every held alert once and settles the outcomes: it is what
// retry.Do repeats within one Flush.
func (s *Sink) round(ctx context.Context) error {
	if err := s.waitRetryAfter(ctx); err != nil {
		return err
	}
	send := make([]*item, 0, len(s.pending))
	for _, it := range s.pending {
		it.outcome, it.status, it.errType, it.reason = outRetry, 0, "", ""
		if it.invalid {
			it.outcome, it.errType, it.reason = outDead, "invalid_alert", "the alert is not one JSON object"
			continue
		}
		if it.tries > 0 {
			s.stats.retries.Add(1)
		}
		it.tries++
		send = append(send, it)
	}
	s.sendAll(ctx, s.chunks(send))
	return s.settle()
}

// chunks cuts items into bulk requests of at most BulkMaxDocs alerts and
// BulkMaxBytes bytes (an alert larger than that goes alone).
func (s *Sink) chunks(items []*item) [][]*item {
	var out [][]*item
	start, size := 0, 0
	for i, it := range items {
		n := len(it.line)
		if i > start && (i-start >= s.cfg.BulkMaxDocs || size+n > int(s.cfg.BulkMaxBytes)) {
			out = append(out, items[start:i])
			start, size = i, 0
		}
		size += n
	}
	if start < len(items) {
		out = append(out, items[start:])
	}
	return out
}

// sendAll sends the chunks with up to Concurrency requests in flight. Each
// item belongs to one chunk, so workers write their items' outcomes without
// locking.
func (s *Sink) sendAll(ctx context.Context, chunks [][]*item) {
	workers := min(s.cfg.Concurrency, len(chunks))
	if workers <= 1 {
		for _, c := range chunks {
			s.sendChunk(ctx, c)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(chunks) {
					return
				}
				s.sendChunk(ctx, chunks[i])
			}
		})
	}
	wg.Wait()
}

var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// sendChunk sends one bulk request and records each item's outcome. A request
// refused as a whole because of its content (400 with a parse or mapping
// error, 413 too large) is split in halves until the alert at fault is alone,
// and that one is dead-lettered.
func (s *Sink) sendChunk(ctx context.Context, items []*item) {
	raw := bodyPool.Get().(*bytes.Buffer)
	defer bodyPool.Put(raw)
	raw.Reset()
	for _, it := range items {
		raw.Write(it.line)
	}
	body := raw.Bytes()
	if s.gzip {
		z := bodyPool.Get().(*bytes.Buffer)
		defer bodyPool.Put(z)
		z.Reset()
		if err := s.compress(z, body); err != nil {
			setAll(items, outRetry, 0, "", "gzip: "+err.Error())
			return
		}
		body = z.Bytes()
	}
	rctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout.Std())
	defer cancel()
	s.stats.requests.Add(1)
	s.stats.bytesSent.Add(int64(len(body)))
	resp, err := s.do(rctx, http.MethodPost, s.bulkURL, "application/x-ndjson", body, s.gzip)
	if err != nil {
		s.stats.requestErrors.Add(1)
		setAll(items, outRetry, 0, "", s.scrub(err.Error()))
		return
	}
	code := resp.StatusCode
	switch {
	case code == http.StatusTooManyRequests || code >= 500:
		s.stats.requestErrors.Add(1)
		s.noteRetryAfter(resp.Header.Get("Retry-After"), s.now())
		data, _ := readBody(resp, 64<<10)
		e := parseError(data)
		setAll(items, outRetry, code, e.Type, s.scrub(e.detail(data)))
		return
	case code == http.StatusBadRequest || code == http.StatusRequestEntityTooLarge:
		s.stats.requestErrors.Add(1)
		data, _ := readBody(resp, 64<<10)
		e := parseError(data)
		// illegal_argument_exception is left out here: for a whole request
		// it is about the request or the cluster ("explicit index in bulk
		// is not allowed"), and narrowing down would dead-letter every alert.
		if code == http.StatusRequestEntityTooLarge || documentError(e.Type) && e.Type != "illegal_argument_exception" {
			if len(items) > 1 {
				h := len(items) / 2
				s.sendChunk(ctx, items[:h])
				s.sendChunk(ctx, items[h:])
				return
			}
			setAll(items, outDead, code, e.Type, s.scrub(e.detail(data)))
			return
		}
		setAll(items, outFatal, code, e.Type, s.scrub(e.detail(data)))
		return
	case code/100 != 2:
		s.stats.requestErrors.Add(1)
		data, _ := readBody(resp, 64<<10)
		e := parseError(data)
		setAll(items, outFatal, code, e.Type, s.scrub(e.detail(data)))
		return
	}
	data, err := readBody(resp, maxResponse)
	if err != nil {
		// The connection broke after the server may have indexed some items:
		// sending them again is safe, as their ids make them replays.
		s.stats.requestErrors.Add(1)
		setAll(items, outRetry, 0, "", "reading the bulk response: "+s.scrub(err.Error()))
		return
	}
	s.noteRetryAfter(resp.Header.Get("Retry-After"), s.now())
	s.applyResponse(items, data)
}

// bulkResponse is the part of the _bulk answer the output reads. Items are
// in request order, one per action.
type bulkResponse struct {
	Errors bool                         `json:"errors"`
	Items  []map[string]bulkItemOutcome `json:"items"`
}

type bulkItemOutcome struct {
	Status int             `json:"status"`
	Error  json.RawMessage `json:"error"`
}

// esError is the server's error object.
type esError struct {
	Type     string   `json:"type"`
	Reason   string   `json:"reason"`
	CausedBy *esError `json:"caused_by"`
}

// detail is the reason with its cause, or the raw body when the error did
// not parse.
func (e esError) detail(raw []byte) string {
	if e.Type == "" && e.Reason == "" {
		return snippet(raw)
	}
	s := e.Reason
	if e.CausedBy != nil && e.CausedBy.Reason != "" {
		s += " (caused by " + e.CausedBy.Type + ": " + e.CausedBy.Reason + ")"
	}
	return s
}

// parseError reads a whole-request error body: {"error":{...},"status":400}.
func parseError(data []byte) esError {
	var body struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(data, &body) != nil {
		return esError{}
	}
	return decodeError(body.Error)
}

// decodeError reads an error that is an object or, from old servers, a string.
func decodeError(raw json.RawMessage) esError {
	var e esError
	if len(raw) > 0 && raw[0] == '"' {
		_ = json.Unmarshal(raw, &e.Reason)
		return e
	}
	_ = json.Unmarshal(raw, &e)
	return e
}

// documentError reports the error types that mean "this document can never be
// indexed as it is" (the mapping refuses it, or it does not parse): retrying
// cannot help, so such alerts are dead-lettered. Elasticsearch 8 renamed
// mapper_parsing_exception to document_parsing_exception.
func documentError(typ string) bool {
	switch typ {
	case "mapper_parsing_exception", "document_parsing_exception", "strict_dynamic_mapping_exception",
		"illegal_argument_exception", "x_content_parse_exception", "json_parse_exception",
		"parse_exception", "not_x_content_exception":
		return true
	}
	return false
}

func (s *Sink) applyResponse(items []*item, data []byte) {
	var br bulkResponse
	if err := json.Unmarshal(data, &br); err != nil {
		setAll(items, outRetry, 200, "", "unreadable bulk response: "+snippet(data))
		return
	}
	if len(br.Items) != len(items) {
		if !br.Errors && len(br.Items) == 0 {
			setAll(items, outDone, 200, "", "")
			return
		}
		setAll(items, outRetry, 200, "", fmt.Sprintf("the bulk response lists %d items for %d sent", len(br.Items), len(items)))
		return
	}
	for i, it := range items {
		var r bulkItemOutcome
		for _, v := range br.Items[i] { // one key: the action
			r = v
		}
		e := decodeError(r.Error)
		it.status, it.errType, it.reason = r.Status, e.Type, s.scrub(e.detail(nil))
		switch st := r.Status; {
		case st/100 == 2:
			it.outcome, it.errType, it.reason = outDone, "", ""
		case st == http.StatusConflict && s.cfg.Action == "create":
			it.outcome, it.errType, it.reason = outExisting, "", ""
		case st == http.StatusBadRequest && documentError(e.Type):
			it.outcome = outDead
		case st == http.StatusTooManyRequests || st >= 500 || st == http.StatusConflict:
			it.outcome = outRetry
		default:
			it.outcome = outFatal
		}
	}
}

func setAll(items []*item, o outcome, status int, typ, reason string) {
	for _, it := range items {
		it.outcome, it.status, it.errType, it.reason = o, status, typ, reason
	}
}

// settle writes the dead alerts to the dead-letter file, forgets every alert
// that is done and reports what is left.
func (s *Sink) settle() error {
	var dead []*item
	for _, it := range s.pending {
		if it.outcome == outDead {
			dead = append(dead, it)
		}
	}
	if len(dead) > 0 {
		if err := s.dl.AppendSync(s.deadRecords(dead)); err != nil {
			// Not durable: keep them and try again, rather than lose them.
			setAll(dead, outRetry, 0, "", "dead-letter file: "+err.Error())
		} else {
			s.stats.deadLettered.Add(int64(len(dead)))
			s.log.Error("opensearch: the server refused alerts for good; they were written to the dead-letter file",
				"output", s.name, "alerts", len(dead), "file", s.dl.Path(), "first", describe(dead[0]))
		}
	}
	var nRetry, nFatal int
	var first *item
	keep := s.pending[:0]
	for _, it := range s.pending {
		switch it.outcome {
		case outDone:
			s.stats.sent.Add(1)
		case outExisting:
			s.stats.existing.Add(1)
		case outDead:
		case outRetry, outFatal:
			if it.outcome == outRetry {
				nRetry++
			} else {
				nFatal++
			}
			if first == nil {
				first = it
			}
			keep = append(keep, it)
			continue
		}
		delete(s.ids, it.id)
		s.pendingBytes -= int64(len(it.line))
	}
	clear(s.pending[len(keep):])
	s.pending = keep
	if first == nil {
		return nil
	}
	err := fmt.Errorf("%d of them failed (%d retryable): %s", nRetry+nFatal, nRetry, describe(first))
	if nRetry == 0 {
		return retry.Permanent(err)
	}
	return err
}

// describe says why an item failed, for errors and logs.
func describe(it *item) string {
	s := "alert " + it.id + ": "
	if it.status != 0 {
		s += "status " + strconv.Itoa(it.status) + ": "
	}
	if it.errType != "" {
		s += it.errType + ": "
	}
	return s + it.reason
}

// readBody reads and closes the body, at most limit bytes; the rest (up to
// 1MiB) is drained so the connection can be reused.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	}
	return b, err
}

// snippet is the start of a body, on one line, for messages.
func snippet(b []byte) string {
	if len(b) > 512 {
		b = b[:512]
	}
	return string(bytes.Join(bytes.Fields(b), []byte(" ")))
}
