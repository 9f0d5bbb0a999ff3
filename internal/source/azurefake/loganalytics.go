package azurefake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"
)

// LogAnalyticsAudience is the resource whose tokens the query API accepts.
const LogAnalyticsAudience = "https://api.loganalytics.io"

// LogAnalytics is a fake of the Log Analytics query API (v1): POST
// /v1/workspaces/{id}/query with {"query", "timespan"}, answering
// {"tables":[{"name":"PrimaryResult","columns":[...],"rows":[...]}]}.
//
// It does not run KQL: every query returns the stored rows of the workspace
// whose time lies in the request's timespan [start, end), in time order; the
// query text is only recorded. Past RowLimit rows it answers as the service
// does when a query exceeds its limits: 200, the first RowLimit rows, and an
// "error" object with code PartialError.
type LogAnalytics struct {
	// Server is the TLS server; its URL + "/v1" is the query endpoint.
	Server *httptest.Server
	// Entra, when set, issues the tokens the fake accepts (audience
	// LogAnalyticsAudience); nil accepts any bearer token.
	Entra *Entra
	// RowLimit is the most rows of one reply (default 500000, the service's).
	RowLimit int

	mu      sync.Mutex
	columns []LAColumn
	rows    map[string][]laRow // by lower-case workspace id
	faults  []LAFault
	calls   []LACall
}

// LAColumn is a column of the stored table.
type LAColumn struct{ Name, Type string }

type laRow struct {
	t   time.Time
	raw json.RawMessage
}

// LACall is one request the fake answered.
type LACall struct {
	Workspace, Query, Timespan, Prefer string
	Status                             int
	Rows                               int  // rows in the reply
	Partial                            bool // the reply carried a PartialError
}

// LAFault is an injected failure, consumed by the next request.
type LAFault int

// Faults.
const (
	// LAThrottle answers 429 with Retry-After: 7 (seconds).
	LAThrottle LAFault = iota + 1
	// LAUnavailable answers 503.
	LAUnavailable
	// LAExpireToken revokes every token issued so far (Entra.ExpireAll) and then
	// serves the request, which is refused with 401.
	LAExpireToken
	// LAMalformed answers 200 with a body cut in the middle of the rows.
	LAMalformed
)

// NewLogAnalytics starts the fake, checking tokens against e (nil: any).
func NewLogAnalytics(e *Entra) *LogAnalytics {
	f := &LogAnalytics{Entra: e, RowLimit: 500000, rows: map[string][]laRow{}}
	f.Server = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	return f
}

// Close stops the server.
func (f *LogAnalytics) Close() { f.Server.Close() }

// Endpoint is the value for a source's endpoint.
func (f *LogAnalytics) Endpoint() string { return f.Server.URL + "/v1" }

// SetColumns sets the stored table's columns (shared by every workspace).
func (f *LogAnalytics) SetColumns(cols ...LAColumn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.columns = cols
}

// AddRow stores a row of a workspace: raw is the row as the API sends it (a
// JSON array of values in column order, or anything else to test bad rows), t
// its TimeGenerated, which the timespan filters on.
func (f *LogAnalytics) AddRow(workspace string, t time.Time, raw json.RawMessage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ws := strings.ToLower(workspace)
	f.rows[ws] = append(f.rows[ws], laRow{t: t, raw: raw})
	sort.SliceStable(f.rows[ws], func(i, j int) bool { return f.rows[ws][i].t.Before(f.rows[ws][j].t) })
}

// Inject queues faults for the next requests, one each.
func (f *LogAnalytics) Inject(faults ...LAFault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, faults...)
}

// Calls returns the requests answered so far.
func (f *LogAnalytics) Calls() []LACall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]LACall(nil), f.calls...)
}

func (f *LogAnalytics) serve(w http.ResponseWriter, r *http.Request) {
	call := LACall{Prefer: r.Header.Get("Prefer")}
	status := f.answer(w, r, &call)
	call.Status = status
	f.mu.Lock()
	f.calls = append(f.calls, call)
	f.mu.Unlock()
}

// answer handles one request and returns the status it sent.
func (f *LogAnalytics) answer(w http.ResponseWriter, r *http.Request, call *LACall) int {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != 4 || parts[0] != "v1" || parts[1] != "workspaces" || parts[3] != "query" {
		return laError(w, http.StatusNotFound, "PathNotFoundError", "The requested path does not exist")
	}
	if r.Method != http.MethodPost {
		return laError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "use POST")
	}
	call.Workspace = parts[2]
	f.mu.Lock()
	var fault LAFault
	if len(f.faults) > 0 {
		fault, f.faults = f.faults[0], f.faults[1:]
	}
	f.mu.Unlock()
	switch fault {
	case LAThrottle:
		w.Header().Set("Retry-After", "7")
		return laError(w, http.StatusTooManyRequests, "ThrottledError", "Your request was throttled; retry after 7 seconds")
	case LAUnavailable:
		return laError(w, http.StatusServiceUnavailable, "ServiceUnavailableError", "The service is temporarily unavailable")
	case LAExpireToken:
		if f.Entra != nil {
			f.Entra.ExpireAll()
		}
	}
	if f.Entra != nil && !f.Entra.Valid(r, LogAnalyticsAudience) {
		w.Header().Set("WWW-Authenticate", `Bearer authorization_uri="`+f.Entra.AuthorityHost()+`", error="invalid_token", error_description="The access token is invalid or expired"`)
		return laError(w, http.StatusUnauthorized, "AuthorizationRequiredError", "Valid authentication was not provided")
	}
	var body struct {
		Query    string `json:"query"`
		Timespan string `json:"timespan"`
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(b, &body)
	}
	call.Query, call.Timespan = body.Query, body.Timespan
	if err != nil || strings.TrimSpace(body.Query) == "" {
		return laError(w, http.StatusBadRequest, "BadArgumentError", "The request had some invalid properties")
	}
	from, to, ok := parseTimespan(body.Timespan)
	if !ok {
		return laError(w, http.StatusBadRequest, "BadArgumentError", "Invalid timespan "+body.Timespan)
	}
	f.mu.Lock()
	rows, known := f.rows[strings.ToLower(call.Workspace)]
	var match []json.RawMessage
	for _, row := range rows {
		if !row.t.Before(from) && row.t.Before(to) {
			match = append(match, row.raw)
		}
	}
	cols, limit := f.columns, f.RowLimit
	f.mu.Unlock()
	if !known && len(cols) == 0 {
		return laError(w, http.StatusNotFound, "WorkspaceNotFoundError", "Workspace "+call.Workspace+" not found")
	}
	partial := limit > 0 && len(match) > limit
	if partial {
		match = match[:limit]
	}
	call.Rows, call.Partial = len(match), partial
	out := f.reply(cols, match, partial, limit)
	if fault == LAMalformed {
		out = out[:len(out)*2/3]
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
	return http.StatusOK
}

// reply writes the body of a 200 answer.
func (f *LogAnalytics) reply(cols []LAColumn, rows []json.RawMessage, partial bool, limit int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"tables":[{"name":"PrimaryResult","columns":[`)
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(',')
		}
		n, _ := json.Marshal(c.Name)
		t, _ := json.Marshal(c.Type)
		fmt.Fprintf(&b, `{"name":%s,"type":%s}`, n, t)
	}
	b.WriteString(`],"rows":[`)
	for i, r := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(r)
	}
	b.WriteString(`]}]`)
	if partial {
		// The shape the service sends when a result set exceeds its limits:
		// a OneAPI error with code PartialError, the limit in the details.
		fmt.Fprintf(&b, `,"error":{"message":"There were some errors when processing your query.","code":"PartialError",`+
			`"details":[{"code":"EngineError","message":"Something went wrong processing your query on the server.",`+
			`"innererror":{"code":"-2133196797","message":"Query result set has exceeded the internal record count limit %d `+
			`(E_QUERY_RESULT_SET_TOO_LARGE; see https://aka.ms/kustoquerylimits)","severity":2,"severityName":"Error"}}]}`, limit)
	}
	b.WriteString("}")
	return b.Bytes()
}

// parseTimespan reads an ISO 8601 interval start/end; empty means all time.
func parseTimespan(s string) (time.Time, time.Time, bool) {
	if s == "" {
		return time.Time{}, time.Unix(1<<40, 0), true
	}
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return time.Time{}, time.Time{}, false
	}
	from, err1 := time.Parse(time.RFC3339Nano, a)
	to, err2 := time.Parse(time.RFC3339Nano, b)
	return from, to, err1 == nil && err2 == nil && !to.Before(from)
}

func laError(w http.ResponseWriter, status int, code, msg string) int {
	writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "code": code,
		"correlationId": "00000000-0000-0000-0000-000000000000"}})
	return status
}
