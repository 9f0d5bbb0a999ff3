package awsfake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Finding is an Inspector2 finding in the fake's store. Only the members the
// tests look at are typed; Extra adds any other member as it goes on the wire.
type Finding struct {
	// Region is where the finding lives (default us-east-1): ListFindings
	// returns the findings of the region the request is signed for.
	Region    string
	ARN       string
	AccountID string
	UpdatedAt time.Time
	// FirstObservedAt defaults to UpdatedAt.
	FirstObservedAt time.Time
	Severity        string // e.g. HIGH
	Type            string // e.g. PACKAGE_VULNERABILITY
	Title           string
	Status          string // ACTIVE (default), SUPPRESSED, CLOSED
	Extra           map[string]any
}

// Inspector holds the findings ListFindings serves, and how it pages them.
type Inspector struct {
	mu       sync.Mutex
	findings map[string]*Finding
	// MaxPage caps a page below the request's maxResults (0: no cap).
	MaxPage int
	// Windows records each ListFindings updatedAt filter, as [start, end].
	Windows [][2]time.Time
}

// Put adds findings, or replaces the stored findings with the same region and
// ARN (an update).
func (in *Inspector) Put(fs ...Finding) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for i := range fs {
		f := fs[i]
		if f.Region == "" {
			f.Region = "us-east-1"
		}
		in.findings[f.Region+" "+f.ARN] = &f
	}
}

// listFindingsRequest is the restJson1 body of ListFindings.
type listFindingsRequest struct {
	FilterCriteria map[string]json.RawMessage `json:"filterCriteria"`
	MaxResults     *int                       `json:"maxResults"`
	NextToken      *string                    `json:"nextToken"`
	SortCriteria   json.RawMessage            `json:"sortCriteria"`
}

type dateFilter struct {
	StartInclusive *json.Number `json:"startInclusive"`
	EndInclusive   *json.Number `json:"endInclusive"`
}

// listFindings answers POST /findings/list. Findings come in ARN order (the
// service does not sort by updatedAt); nextToken resumes after the last ARN
// sent, over the findings as they are at the time of the next call.
func (in *Inspector) listFindings(w http.ResponseWriter, body []byte, region string) {
	var req listFindingsRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		writeError(w, restJSON, http.StatusBadRequest, "ValidationException", "malformed request body: "+err.Error())
		return
	}
	limit := 100
	if req.MaxResults != nil {
		if *req.MaxResults < 1 || *req.MaxResults > 100 {
			writeError(w, restJSON, http.StatusBadRequest, "ValidationException", "maxResults must be between 1 and 100")
			return
		}
		limit = *req.MaxResults
	}
	start, end := time.Time{}, time.Unix(1<<40, 0)
	for k, v := range req.FilterCriteria {
		if k != "updatedAt" {
			writeError(w, restJSON, http.StatusBadRequest, "ValidationException", "the fake only filters on updatedAt, not "+k)
			return
		}
		var dfs []dateFilter
		if err := json.Unmarshal(v, &dfs); err != nil || len(dfs) != 1 {
			writeError(w, restJSON, http.StatusBadRequest, "ValidationException", "updatedAt wants one date filter")
			return
		}
		if dfs[0].StartInclusive != nil {
			start = epochSeconds(*dfs[0].StartInclusive)
		}
		if dfs[0].EndInclusive != nil {
			end = epochSeconds(*dfs[0].EndInclusive)
		}
	}
	after := ""
	if req.NextToken != nil {
		b, err := base64.StdEncoding.DecodeString(*req.NextToken)
		if err != nil || !strings.HasPrefix(string(b), "after:") {
			writeError(w, restJSON, http.StatusBadRequest, "ValidationException", "invalid nextToken")
			return
		}
		after = strings.TrimPrefix(string(b), "after:")
	}
	if in.MaxPage > 0 {
		limit = min(limit, in.MaxPage)
	}

	in.mu.Lock()
	in.Windows = append(in.Windows, [2]time.Time{start, end})
	var match []*Finding
	for _, f := range in.findings {
		u := f.UpdatedAt.Truncate(time.Millisecond)
		if f.Region == region && f.ARN > after && !u.Before(start) && !u.After(end) {
			match = append(match, f)
		}
	}
	sort.Slice(match, func(i, j int) bool { return match[i].ARN < match[j].ARN })
	reply := struct {
		Findings  []json.RawMessage `json:"findings"`
		NextToken string            `json:"nextToken,omitempty"`
	}{Findings: []json.RawMessage{}}
	for i, f := range match {
		if i == limit {
			reply.NextToken = base64.StdEncoding.EncodeToString([]byte("after:" + match[i-1].ARN))
			break
		}
		reply.Findings = append(reply.Findings, f.wire())
	}
	in.mu.Unlock()
	writeJSON(w, "application/json", reply)
}

// wire encodes the finding as the service does: camelCase members, timestamps
// as epoch seconds in the number form Java services write (1.700000000123E9).
func (f *Finding) wire() json.RawMessage {
	first := f.FirstObservedAt
	if first.IsZero() {
		first = f.UpdatedAt
	}
	status := f.Status
	if status == "" {
		status = "ACTIVE"
	}
	var b bytes.Buffer
	b.WriteString(`{"awsAccountId":` + quote(f.AccountID))
	b.WriteString(`,"description":` + quote("Fake finding "+f.Title))
	b.WriteString(`,"findingArn":` + quote(f.ARN))
	b.WriteString(`,"firstObservedAt":` + javaEpoch(first))
	b.WriteString(`,"lastObservedAt":` + javaEpoch(f.UpdatedAt))
	b.WriteString(`,"remediation":{"recommendation":{"text":"Upgrade the package."}}`)
	b.WriteString(`,"resources":[{"id":"i-0123456789abcdef0","partition":"aws","region":` + quote(f.Region) + `,"type":"AWS_EC2_INSTANCE"}]`)
	b.WriteString(`,"severity":` + quote(f.Severity))
	b.WriteString(`,"status":` + quote(status))
	b.WriteString(`,"title":` + quote(f.Title))
	b.WriteString(`,"type":` + quote(f.Type))
	b.WriteString(`,"updatedAt":` + javaEpoch(f.UpdatedAt))
	keys := make([]string, 0, len(f.Extra))
	for k := range f.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, _ := json.Marshal(f.Extra[k])
		b.WriteString(`,` + quote(k) + `:` + string(v))
	}
	b.WriteByte('}')
	return b.Bytes()
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// javaEpoch writes t as epoch seconds with millisecond precision in Java's
// double notation: 1.700000000123E9.
func javaEpoch(t time.Time) string {
	ms := t.UnixMilli()
	s := strconv.FormatFloat(float64(ms)/1e3, 'E', -1, 64) // 1.700000000123E+09
	mant, exp, _ := strings.Cut(s, "E")
	e, _ := strconv.Atoi(exp)
	return fmt.Sprintf("%sE%d", mant, e)
}

// epochSeconds reads a JSON epoch-seconds number at millisecond precision.
func epochSeconds(n json.Number) time.Time {
	f, _ := n.Float64()
	return time.UnixMilli(int64(f*1e3 + 0.5)).UTC()
}
