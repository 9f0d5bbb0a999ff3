package azurefake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// GraphBase is the service base the fake Graph checks tokens against: tokens
// must be issued for "https://graph.microsoft.com/.default".
const GraphBase = "https://graph.microsoft.com"

// Graph is a fake Microsoft Graph v1.0 serving collections of records per
// resource path ("auditLogs/signIns"), as the list APIs do: OData $filter on
// date and string properties (eq, ne, ge, gt, le, lt joined by and), $top, and
// @odata.nextLink paging with a $skiptoken. Records are listed newest first
// (by the property named in TimeFields), as Graph lists audit logs. Faults
// injected with Inject apply to the following requests of a resource.
type Graph struct {
	// Server is the TLS server; its URL is the value for a source's endpoint.
	Server *httptest.Server
	// Entra issues the tokens requests must carry.
	Entra *Entra
	// DefaultTop is the page size without $top (default 100); MaxTop the
	// largest $top accepted (default 1000).
	DefaultTop, MaxTop int
	// TimeFields names, per resource, the property records are ordered by.
	TimeFields map[string]string

	mu       sync.Mutex
	records  map[string][]stored
	faults   map[string][]Fault
	requests []GraphRequest
}

// FaultKind is a failure the fake Graph answers with.
type FaultKind int

// Faults a resource can be given.
const (
	// Throttle answers 429 TooManyRequests with Retry-After.
	Throttle FaultKind = iota + 1
	// Unavailable answers 503 ServiceNotAvailable.
	Unavailable
	// ExpireToken revokes every token (Entra.ExpireAll) before the request is
	// checked, so it gets 401 InvalidAuthenticationToken.
	ExpireToken
	// CutOff sends the status, headers and half of the page, then drops the
	// connection.
	CutOff
	// MalformedRow serves the page with an extra element that is not a record
	// (a JSON string) and one object without id.
	MalformedRow
)

// Fault is one injected failure; RetryAfter (seconds) is sent with Throttle
// and Unavailable when positive.
type Fault struct {
	Kind       FaultKind
	RetryAfter int
}

// GraphRequest is one request the fake received.
type GraphRequest struct {
	Resource, Filter, SkipToken string
	Top                         int
	Status                      int
}

// NewGraph starts a fake Graph accepting tokens issued by e.
func NewGraph(e *Entra) *Graph {
	g := &Graph{Entra: e, DefaultTop: 100, MaxTop: 1000, TimeFields: map[string]string{
		"auditLogs/directoryAudits": "activityDateTime", "auditLogs/signIns": "createdDateTime",
		"security/alerts_v2": "lastUpdateDateTime", "identityProtection/riskDetections": "detectedDateTime",
	}, records: map[string][]stored{}, faults: map[string][]Fault{}}
	g.Server = httptest.NewTLSServer(http.HandlerFunc(g.serve))
	return g
}

// Close stops the server.
func (g *Graph) Close() { g.Server.Close() }

// Put stores records (JSON objects as Graph returns them) under a resource.
// A record already stored with the same id and time property is replaced,
// as an updated object would be.
func (g *Graph) Put(resource string, records ...json.RawMessage) {
	g.mu.Lock()
	defer g.mu.Unlock()
	tf := g.timeField(resource)
	for _, r := range records {
		s := stored{raw: r, props: props(r)}
		id, ts := s.props["id"], s.props[tf]
		replaced := false
		for i, old := range g.records[resource] {
			if id != "" && old.props["id"] == id && old.props[tf] == ts {
				g.records[resource][i], replaced = s, true
			}
		}
		if !replaced {
			g.records[resource] = append(g.records[resource], s)
		}
	}
}

// Inject queues faults for the next requests of a resource, one per request.
func (g *Graph) Inject(resource string, faults ...Fault) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.faults[resource] = append(g.faults[resource], faults...)
}

// Requests returns the requests received so far.
func (g *Graph) Requests() []GraphRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]GraphRequest(nil), g.requests...)
}

func (g *Graph) timeField(resource string) string {
	if tf := g.TimeFields[resource]; tf != "" {
		return tf
	}
	return "createdDateTime"
}

func (g *Graph) serve(w http.ResponseWriter, r *http.Request) {
	resource, ok := strings.CutPrefix(r.URL.Path, "/v1.0/")
	q := r.URL.Query()
	req := GraphRequest{Resource: resource, Filter: q.Get("$filter"), SkipToken: q.Get("$skiptoken")}
	g.mu.Lock()
	var fault Fault
	if f := g.faults[resource]; len(f) > 0 {
		fault, g.faults[resource] = f[0], f[1:]
	}
	g.mu.Unlock()
	status := g.answer(w, r, ok, resource, q, fault, &req)
	req.Status = status
	g.mu.Lock()
	g.requests = append(g.requests, req)
	g.mu.Unlock()
}

// answer serves one request and returns the status it sent.
func (g *Graph) answer(w http.ResponseWriter, r *http.Request, ok bool, resource string, q url.Values, fault Fault, req *GraphRequest) int {
	if fault.Kind == ExpireToken {
		g.Entra.ExpireAll()
	}
	switch {
	case r.Method != http.MethodGet:
		return graphError(w, http.StatusMethodNotAllowed, "Request_BadRequest", "Only GET is served.", 0)
	case !g.Entra.Valid(r, GraphBase):
		return graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.", 0)
	case !ok:
		return graphError(w, http.StatusBadRequest, "BadRequest", "Invalid version.", 0)
	case fault.Kind == Throttle:
		return graphError(w, http.StatusTooManyRequests, "TooManyRequests", "Too many requests.", fault.RetryAfter)
	case fault.Kind == Unavailable:
		return graphError(w, http.StatusServiceUnavailable, "ServiceNotAvailable", "Service unavailable.", fault.RetryAfter)
	}
	top := g.DefaultTop
	if s := q.Get("$top"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > g.MaxTop {
			return graphError(w, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Invalid $top value %q.", s), 0)
		}
		top = n
	}
	req.Top = top
	cond, err := parseFilter(q.Get("$filter"))
	if err != nil {
		return graphError(w, http.StatusBadRequest, "Request_UnsupportedQuery", "Invalid filter clause: "+err.Error(), 0)
	}
	offset := 0
	if tok := q.Get("$skiptoken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if n, ok := strings.CutPrefix(string(b), "offset:"); err == nil && ok {
			offset, err = strconv.Atoi(n)
		}
		if err != nil || offset < 0 {
			return graphError(w, http.StatusBadRequest, "Request_BadRequest", "Invalid $skiptoken.", 0)
		}
	}
	all := g.matching(resource, cond)
	end := min(offset+top, len(all))
	page := all[min(offset, len(all)):end]
	body := map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#" + resource}
	if fault.Kind == MalformedRow {
		page = append(append([]json.RawMessage{}, page...), json.RawMessage(`"not a record"`), json.RawMessage(`{"activityDateTime":"2024-01-01T00:00:00Z"}`))
	}
	body["value"] = page
	if end < len(all) {
		next := *r.URL
		next.Scheme, next.Host = "https", r.Host
		nq := next.Query()
		nq.Set("$skiptoken", base64.RawURLEncoding.EncodeToString([]byte("offset:"+strconv.Itoa(end))))
		next.RawQuery = nq.Encode()
		body["@odata.nextLink"] = next.String()
	}
	data, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	if fault.Kind == CutOff {
		cutOff(w, data)
		return http.StatusOK
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
	return http.StatusOK
}

// cutOff writes a full-length header and half the body, then closes the
// connection, as a dropped connection mid-page looks to the client.
func cutOff(w http.ResponseWriter, data []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data[:len(data)/2])
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	if hj, ok := w.(http.Hijacker); ok {
		if conn, buf, err := hj.Hijack(); err == nil {
			_ = buf.Flush()
			_ = conn.Close()
		}
	}
}

// matching returns the resource's records that satisfy cond, newest first.
func (g *Graph) matching(resource string, cond []clause) []json.RawMessage {
	g.mu.Lock()
	defer g.mu.Unlock()
	tf := g.timeField(resource)
	var sel []stored
	for _, r := range g.records[resource] {
		if matches(r.props, cond) {
			sel = append(sel, r)
		}
	}
	sort.SliceStable(sel, func(i, j int) bool { return sel[i].props[tf] > sel[j].props[tf] })
	out := make([]json.RawMessage, len(sel))
	for i, r := range sel {
		out[i] = r.raw
	}
	return out
}

// graphError writes Graph's error body and returns the status.
func graphError(w http.ResponseWriter, status int, code, msg string, retryAfter int) int {
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	now := time.Now().UTC().Format("2006-01-02T15:04:05")
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"innerError": map[string]any{"date": now, "request-id": "00000000-0000-0000-0000-000000000001", "client-request-id": "00000000-0000-0000-0000-000000000002"},
	}})
	return status
}

// clause is one comparison of a $filter: property op literal.
type clause struct {
	field, op string
	when      time.Time // date literal
	text      string    // string literal
	isTime    bool
}

// parseFilter reads the subset of OData $filter the fake serves: comparisons
// joined by "and", each optionally in parentheses.
func parseFilter(f string) ([]clause, error) {
	var out []clause
	f = strings.TrimSpace(f)
	if f == "" {
		return nil, nil
	}
	for _, part := range splitAnd(f) {
		part = strings.TrimSpace(part)
		for strings.HasPrefix(part, "(") && strings.HasSuffix(part, ")") {
			inner, err := parseFilter(part[1 : len(part)-1])
			if err != nil {
				return nil, err
			}
			out = append(out, inner...)
			part = ""
		}
		if part == "" {
			continue
		}
		fs := strings.SplitN(part, " ", 3)
		if len(fs) != 3 {
			return nil, fmt.Errorf("cannot read %q", part)
		}
		c := clause{field: fs[0], op: fs[1]}
		switch c.op {
		case "eq", "ne", "ge", "gt", "le", "lt":
		default:
			return nil, fmt.Errorf("operator %q is not supported", c.op)
		}
		lit := fs[2]
		if s, ok := strings.CutPrefix(lit, "'"); ok && strings.HasSuffix(s, "'") && len(s) > 0 {
			c.text = strings.ReplaceAll(s[:len(s)-1], "''", "'")
		} else {
			t, err := time.Parse(time.RFC3339Nano, lit)
			if err != nil {
				return nil, fmt.Errorf("literal %q is neither a string nor a DateTimeOffset", lit)
			}
			c.when, c.isTime = t, true
		}
		out = append(out, c)
	}
	return out, nil
}

// splitAnd splits on " and " outside parentheses and string literals.
func splitAnd(f string) []string {
	var parts []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(f); i++ {
		switch c := f[i]; {
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && strings.HasPrefix(f[i:], " and "):
			parts = append(parts, f[start:i])
			start = i + len(" and ")
			i = start - 1
		}
	}
	return append(parts, f[start:])
}

func matches(props map[string]string, cond []clause) bool {
	for _, c := range cond {
		v := props[c.field]
		var cmp int
		if c.isTime {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return props["id"] == "" // records the fake cannot place are served (malformed rows)
			}
			cmp = t.Compare(c.when)
		} else {
			cmp = strings.Compare(v, c.text)
		}
		ok := map[string]bool{"eq": cmp == 0, "ne": cmp != 0, "ge": cmp >= 0, "gt": cmp > 0, "le": cmp <= 0, "lt": cmp < 0}[c.op]
		if !ok {
			return false
		}
	}
	return true
}

// stored is a record with its top-level string properties, which filters and
// ordering read.
type stored struct {
	raw   json.RawMessage
	props map[string]string
}

func props(rec json.RawMessage) map[string]string {
	var m map[string]any
	out := map[string]string{}
	if json.Unmarshal(rec, &m) != nil {
		return out
	}
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}
