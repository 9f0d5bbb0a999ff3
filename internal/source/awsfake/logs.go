package awsfake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// LogEvent is one CloudWatch Logs event.
type LogEvent struct {
	Timestamp int64 // ms since the epoch
	Message   string
	// IngestionTime defaults to the time Put is called.
	IngestionTime int64
	seq           int64 // arrival order, breaks timestamp ties as the service does
}

// Logs holds log groups and their streams, per region: requests see the groups
// of the region they are signed for.
type Logs struct {
	mu     sync.Mutex
	groups map[string]*logGroup // by "<region> <group>"
	seq    int64
	// MaxEvents caps the events of one GetLogEvents page (0: the service's 10000).
	MaxEvents int
}

type logGroup struct {
	streams map[string]*logStream
}

type logStream struct {
	name    string
	created int64
	events  []LogEvent // by (Timestamp, seq)
}

// CreateGroup creates an empty log group.
func (l *Logs) CreateGroup(region, group string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.group(region, group)
}

func (l *Logs) group(region, name string) *logGroup {
	g := l.groups[region+" "+name]
	if g == nil {
		g = &logGroup{streams: map[string]*logStream{}}
		l.groups[region+" "+name] = g
	}
	return g
}

// Put appends events to a stream, creating the group and the stream when needed.
// Events may come late: they are stored in timestamp order, as the service
// returns them.
func (l *Logs) Put(region, group, stream string, events ...LogEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	g := l.group(region, group)
	st := g.streams[stream]
	if st == nil {
		st = &logStream{name: stream, created: time.Now().UnixMilli()}
		g.streams[stream] = st
	}
	for _, e := range events {
		l.seq++
		e.seq = l.seq
		if e.IngestionTime == 0 {
			e.IngestionTime = time.Now().UnixMilli()
		}
		st.events = append(st.events, e)
	}
	sort.SliceStable(st.events, func(i, j int) bool { return st.events[i].Timestamp < st.events[j].Timestamp })
}

// DeleteStream removes a stream and its events.
func (l *Logs) DeleteStream(region, group, stream string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if g := l.groups[region+" "+group]; g != nil {
		delete(g.streams, stream)
	}
}

type describeLogStreamsRequest struct {
	LogGroupName        string  `json:"logGroupName"`
	LogGroupIdentifier  string  `json:"logGroupIdentifier"`
	LogStreamNamePrefix string  `json:"logStreamNamePrefix"`
	OrderBy             string  `json:"orderBy"`
	Descending          bool    `json:"descending"`
	NextToken           *string `json:"nextToken"`
	Limit               *int    `json:"limit"`
}

// logStreamJSON is a LogStream as the service returns it; the event times are
// absent for a stream without events.
type logStreamJSON struct {
	Arn                 string `json:"arn"`
	CreationTime        int64  `json:"creationTime"`
	FirstEventTimestamp *int64 `json:"firstEventTimestamp,omitempty"`
	LastEventTimestamp  *int64 `json:"lastEventTimestamp,omitempty"`
	LastIngestionTime   *int64 `json:"lastIngestionTime,omitempty"`
	LogStreamName       string `json:"logStreamName"`
	StoredBytes         int64  `json:"storedBytes"`
}

const jsonType = "application/x-amz-json-1.1"

// describeLogStreams answers Logs_20140328.DescribeLogStreams: up to 50 streams a
// page in name order; nextToken resumes after the last name sent.
func (l *Logs) describeLogStreams(w http.ResponseWriter, body []byte, region string) {
	var req describeLogStreamsRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, awsJSON, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	limit := 50
	if req.Limit != nil {
		if *req.Limit < 1 || *req.Limit > 50 {
			writeError(w, awsJSON, http.StatusBadRequest, "InvalidParameterException", "limit must be between 1 and 50")
			return
		}
		limit = *req.Limit
	}
	if req.OrderBy != "" && req.OrderBy != "LogStreamName" {
		writeError(w, awsJSON, http.StatusBadRequest, "InvalidParameterException", "the fake only orders by LogStreamName")
		return
	}
	after := ""
	if req.NextToken != nil {
		b, err := base64.StdEncoding.DecodeString(*req.NextToken)
		if err != nil {
			writeError(w, awsJSON, http.StatusBadRequest, "InvalidParameterException", "The specified nextToken is invalid.")
			return
		}
		after = string(b)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	g := l.groups[region+" "+req.LogGroupName]
	if g == nil {
		writeError(w, awsJSON, http.StatusBadRequest, "ResourceNotFoundException", "The specified log group does not exist.")
		return
	}
	var names []string
	for n := range g.streams {
		if strings.HasPrefix(n, req.LogStreamNamePrefix) && n > after {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	reply := struct {
		LogStreams []logStreamJSON `json:"logStreams"`
		NextToken  string          `json:"nextToken,omitempty"`
	}{LogStreams: []logStreamJSON{}}
	for i, n := range names {
		if i == limit {
			reply.NextToken = base64.StdEncoding.EncodeToString([]byte(names[i-1]))
			break
		}
		st := g.streams[n]
		js := logStreamJSON{LogStreamName: n, CreationTime: st.created,
			Arn: fmt.Sprintf("arn:aws:logs:%s:123456789012:log-group:%s:log-stream:%s", region, req.LogGroupName, n)}
		if len(st.events) > 0 {
			first, last := st.events[0].Timestamp, st.events[len(st.events)-1].Timestamp
			var ingest int64
			for _, e := range st.events {
				ingest = max(ingest, e.IngestionTime)
				js.StoredBytes += int64(len(e.Message))
			}
			js.FirstEventTimestamp, js.LastEventTimestamp, js.LastIngestionTime = &first, &last, &ingest
		}
		reply.LogStreams = append(reply.LogStreams, js)
	}
	writeJSON(w, jsonType, reply)
}

type getLogEventsRequest struct {
	LogGroupName  string  `json:"logGroupName"`
	LogStreamName string  `json:"logStreamName"`
	StartTime     *int64  `json:"startTime"`
	EndTime       *int64  `json:"endTime"`
	NextToken     *string `json:"nextToken"`
	StartFromHead *bool   `json:"startFromHead"`
	Limit         *int    `json:"limit"`
}

type outputLogEvent struct {
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
}

// position is a place in a stream: after the event with this timestamp and
// arrival number. Forward tokens encode it as f/<timestamp>/<seq>; anything after
// that is ignored (the service's tokens are opaque).
type position struct{ ts, seq int64 }

func (p position) token(prefix string) string {
	return fmt.Sprintf("%s/%020d/%020d", prefix, p.ts, p.seq)
}

func parseToken(tok string) (position, bool) {
	var p position
	rest, ok := strings.CutPrefix(tok, "f/")
	if !ok {
		return p, false
	}
	_, err := fmt.Sscanf(rest, "%d/%d", &p.ts, &p.seq)
	return p, err == nil
}

// getLogEvents answers Logs_20140328.GetLogEvents, forward only (startFromHead
// true): events from the token's position (or startTime) in timestamp order,
// up to limit; at the end of the stream nextForwardToken is the token passed in.
func (l *Logs) getLogEvents(w http.ResponseWriter, body []byte, region string, empty bool) {
	var req getLogEventsRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		writeError(w, awsJSON, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	if req.StartFromHead == nil || !*req.StartFromHead {
		writeError(w, awsJSON, http.StatusBadRequest, "InvalidParameterException", "the fake only reads forward (startFromHead true)")
		return
	}
	limit := 10000
	if req.Limit != nil {
		if *req.Limit < 1 || *req.Limit > 10000 {
			writeError(w, awsJSON, http.StatusBadRequest, "InvalidParameterException", "limit must be between 1 and 10000")
			return
		}
		limit = *req.Limit
	}
	if l.MaxEvents > 0 {
		limit = min(limit, l.MaxEvents)
	}
	pos := position{ts: -1 << 62}
	if req.StartTime != nil {
		pos = position{ts: *req.StartTime - 1, seq: 1 << 62}
	}
	if req.NextToken != nil {
		p, ok := parseToken(*req.NextToken)
		if !ok {
			writeError(w, awsJSON, http.StatusBadRequest, "InvalidParameterException", "The specified nextToken is invalid.")
			return
		}
		pos = p
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	g := l.groups[region+" "+req.LogGroupName]
	if g == nil {
		writeError(w, awsJSON, http.StatusBadRequest, "ResourceNotFoundException", "The specified log group does not exist.")
		return
	}
	st := g.streams[req.LogStreamName]
	if st == nil {
		writeError(w, awsJSON, http.StatusBadRequest, "ResourceNotFoundException", "The specified log stream does not exist.")
		return
	}
	reply := struct {
		Events            []outputLogEvent `json:"events"`
		NextForwardToken  string           `json:"nextForwardToken"`
		NextBackwardToken string           `json:"nextBackwardToken"`
	}{Events: []outputLogEvent{}, NextForwardToken: pos.token("f"), NextBackwardToken: pos.token("b")}
	if req.NextToken != nil {
		reply.NextForwardToken = *req.NextToken
	}
	if empty {
		// A page with no events that still moves the token on.
		reply.NextForwardToken = pos.token("f") + "/e"
		writeJSON(w, jsonType, reply)
		return
	}
	for _, e := range st.events {
		if e.Timestamp < pos.ts || (e.Timestamp == pos.ts && e.seq <= pos.seq) {
			continue
		}
		if (req.StartTime != nil && e.Timestamp < *req.StartTime) || (req.EndTime != nil && e.Timestamp >= *req.EndTime) {
			continue
		}
		if len(reply.Events) == limit {
			break
		}
		reply.Events = append(reply.Events, outputLogEvent{e.Timestamp, e.Message, e.IngestionTime})
		reply.NextForwardToken = position{e.Timestamp, e.seq}.token("f")
	}
	writeJSON(w, jsonType, reply)
}
