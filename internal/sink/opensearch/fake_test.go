package opensearch_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeES is a protocol fake of the parts of OpenSearch and Elasticsearch the
// output uses: composable index templates (PUT _index_template), _bulk (and
// {index}/_bulk) with per-item results, create/index semantics (409 on a
// create of an existing id), data streams, and dynamic mapping with the
// conflicts that make real servers refuse documents: an object where the
// index has a value or the reverse, a string in a numeric, ip or date field.
// Faults are injected per request or per item. It follows the documented
// wire format; it is not a search engine.
type fakeES struct {
	t       testing.TB
	product string // "opensearch" or "elasticsearch": the flat type it knows and its error names

	mu        sync.Mutex
	templates map[string]fakeTemplate
	indexes   map[string]*fakeIndex
	writes    map[string]int // id → successful creates or indexes
	seen      map[string]int // id → times it arrived in a bulk
	log       []fakeRequest

	// Faults, set by tests before or between requests.
	auth          string      // required Authorization value; "" accepts any
	templateFails []int       // statuses for the next template PUTs
	requestFails  []fakeFault // answers for the next bulk requests, instead of applying them
	itemFault     func(id string, seen int) (status int, typ string)
	dropNext      int                 // apply the next bulks, then cut the connection mid-response
	delayNext     int                 // apply the next bulks, then answer after delay
	delay         time.Duration       //
	rejectMarker  string              // a body containing it is refused as a whole (400 parse error)
	maxBody       int                 // bodies larger get 413
	onRequest     func(*http.Request) // observes every request
	afterApply    func()              // called when a bulk has been applied, before the answer

	srv *http.Server
	ln  net.Listener
}

type fakeFault struct {
	status     int
	retryAfter string
	typ        string // error type; a default by status when empty
}

type fakeRequest struct {
	at      time.Time
	method  string
	path    string
	query   string
	items   int
	headers http.Header
	gzipped bool
}

type fakeTemplate struct {
	name       string
	patterns   []string
	priority   int
	dataStream bool
	body       map[string]any
}

type fakeIndex struct {
	docs            map[string]json.RawMessage
	fields          map[string]string // path → type (object, keyword, long, double, boolean, date, ip, integer, text)
	flat            map[string]bool   // flat_object/flattened roots
	lenient         map[string]bool   // fields with ignore_malformed
	lenientDynamic  map[string]bool   // dynamic types mapped with ignore_malformed
	ignoreMalformed bool
	dataStream      bool
}

func newFakeES(t testing.TB, product string) *fakeES {
	f := &fakeES{
		t: t, product: product,
		templates: map[string]fakeTemplate{}, indexes: map[string]*fakeIndex{},
		writes: map[string]int{}, seen: map[string]int{},
	}
	f.start("127.0.0.1:0")
	t.Cleanup(f.stop)
	return f
}

// start serves on addr (127.0.0.1:0 for a new port, or the old address to
// come back after stop).
func (f *fakeES) start(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		f.t.Fatalf("fake: listen %s: %v", addr, err)
	}
	srv := &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	f.mu.Lock()
	f.ln, f.srv = ln, srv
	f.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// stop closes the listener and every connection: the server is gone.
func (f *fakeES) stop() {
	f.mu.Lock()
	srv := f.srv
	f.srv = nil
	f.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

func (f *fakeES) addr() string { return f.ln.Addr().String() }
func (f *fakeES) url() string  { return "http://" + f.addr() }

func (f *fakeES) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.onRequest != nil {
		f.onRequest(r)
	}
	if f.auth != "" && r.Header.Get("Authorization") != f.auth {
		writeJSON(w, http.StatusUnauthorized, esErr("security_exception", "missing authentication credentials for REST request [/_bulk]"))
		return
	}
	body, err := readRequestBody(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, esErr("parse_exception", err.Error()))
		return
	}
	p := strings.Trim(r.URL.Path, "/")
	switch {
	case r.Method == http.MethodPut && strings.HasPrefix(p, "_index_template/"):
		f.putTemplate(w, r, strings.TrimPrefix(p, "_index_template/"), body)
	case r.Method == http.MethodPost && p == "_bulk":
		f.bulk(w, r, "", body)
	case r.Method == http.MethodPost && strings.HasSuffix(p, "/_bulk") && !strings.Contains(strings.TrimSuffix(p, "/_bulk"), "/"):
		f.bulk(w, r, strings.TrimSuffix(p, "/_bulk"), body)
	default:
		writeJSON(w, http.StatusNotFound, esErr("no_handler_found_exception", "no handler found for uri ["+r.URL.Path+"] and method ["+r.Method+"]"))
	}
}

func readRequestBody(r *http.Request) ([]byte, error) {
	var rd io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, err
		}
		rd = zr
	}
	return io.ReadAll(rd)
}

func esErr(typ, reason string) map[string]any {
	return map[string]any{"error": map[string]any{"type": typ, "reason": reason, "root_cause": []any{map[string]any{"type": typ, "reason": reason}}}}
}

func writeJSON(w http.ResponseWriter, status int, v map[string]any) {
	if _, ok := v["error"]; ok {
		v["status"] = status
	}
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (f *fakeES) flatType() string {
	if f.product == "elasticsearch" {
		return "flattened"
	}
	return "flat_object"
}

func (f *fakeES) parseErrType() string {
	if f.product == "elasticsearch" {
		return "document_parsing_exception" // Elasticsearch 8
	}
	return "mapper_parsing_exception"
}

func (f *fakeES) putTemplate(w http.ResponseWriter, r *http.Request, name string, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, fakeRequest{at: time.Now(), method: r.Method, path: r.URL.Path, headers: r.Header.Clone()})
	if len(f.templateFails) > 0 {
		st := f.templateFails[0]
		f.templateFails = f.templateFails[1:]
		writeJSON(w, st, esErr("security_exception", "action [indices:admin/index_template/put] is unauthorized"))
		return
	}
	var t map[string]any
	if err := json.Unmarshal(body, &t); err != nil {
		writeJSON(w, 400, esErr("x_content_parse_exception", err.Error()))
		return
	}
	ft := fakeTemplate{name: name, body: t}
	for _, p := range asSlice(t["index_patterns"]) {
		ft.patterns = append(ft.patterns, p.(string))
	}
	if pr, ok := t["priority"].(float64); ok {
		ft.priority = int(pr)
	}
	_, ft.dataStream = t["data_stream"]
	if len(ft.patterns) == 0 {
		writeJSON(w, 400, esErr("action_request_validation_exception", "Validation Failed: 1: index patterns are missing;"))
		return
	}
	// Check the mapping types as the product would.
	tmpl, _ := t["template"].(map[string]any)
	mappings, _ := tmpl["mappings"].(map[string]any)
	if err := f.checkTypes(mappings["properties"], ""); err != "" {
		writeJSON(w, 400, esErr("mapper_parsing_exception", err))
		return
	}
	f.templates[name] = ft
	writeJSON(w, 200, map[string]any{"acknowledged": true})
}

func (f *fakeES) checkTypes(props any, prefix string) string {
	m, _ := props.(map[string]any)
	for name, v := range m {
		def, _ := v.(map[string]any)
		typ, _ := def["type"].(string)
		switch typ {
		case "flat_object", "flattened":
			if typ != f.flatType() {
				return "Failed to parse mapping: No handler for type [" + typ + "] declared on field [" + prefix + name + "]"
			}
		case "", "object", "keyword", "text", "long", "integer", "double", "boolean", "date", "ip":
		default:
			return "No handler for type [" + typ + "] declared on field [" + prefix + name + "]"
		}
		if sub, ok := def["properties"]; ok {
			if err := f.checkTypes(sub, prefix+name+"."); err != "" {
				return err
			}
		}
	}
	return ""
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func (f *fakeES) bulk(w http.ResponseWriter, r *http.Request, defIndex string, body []byte) {
	f.mu.Lock()
	req := fakeRequest{at: time.Now(), method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, headers: r.Header.Clone(),
		gzipped: r.Header.Get("Content-Encoding") == "gzip"}
	if len(f.requestFails) > 0 {
		ft := f.requestFails[0]
		f.requestFails = f.requestFails[1:]
		f.log = append(f.log, req)
		f.mu.Unlock()
		if ft.retryAfter != "" {
			w.Header().Set("Retry-After", ft.retryAfter)
		}
		typ := ft.typ
		switch {
		case typ != "":
		case ft.status == 429:
			typ = "es_rejected_execution_exception"
		default:
			typ = "cluster_block_exception"
		}
		writeJSON(w, ft.status, esErr(typ, "injected failure"))
		return
	}
	if f.maxBody > 0 && len(body) > f.maxBody {
		f.log = append(f.log, req)
		f.mu.Unlock()
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	if f.rejectMarker != "" && bytes.Contains(body, []byte(f.rejectMarker)) {
		f.log = append(f.log, req)
		f.mu.Unlock()
		writeJSON(w, 400, esErr("x_content_parse_exception", "[1:42] Unexpected character in the document"))
		return
	}
	items, errMsg := f.applyBulk(defIndex, body)
	req.items = len(items)
	f.log = append(f.log, req)
	drop, delay := f.dropNext > 0, f.delayNext > 0
	if drop {
		f.dropNext--
	}
	if delay {
		f.delayNext--
	}
	f.mu.Unlock()
	if f.afterApply != nil {
		f.afterApply()
	}
	if errMsg != "" {
		writeJSON(w, 400, esErr("illegal_argument_exception", errMsg))
		return
	}
	anyErr := false
	for _, it := range items {
		for _, v := range it {
			if v.(map[string]any)["error"] != nil {
				anyErr = true
			}
		}
	}
	resp, _ := json.Marshal(map[string]any{"took": 3, "errors": anyErr, "items": items})
	if delay {
		select {
		case <-time.After(f.delay):
		case <-r.Context().Done():
			return
		}
	}
	if drop {
		// The bulk was applied; the client sees the connection die halfway
		// through the answer.
		hj, ok := w.(http.Hijacker)
		if !ok {
			f.t.Error("fake: cannot hijack")
			return
		}
		conn, bw, err := hj.Hijack()
		if err != nil {
			f.t.Error(err)
			return
		}
		fmt.Fprintf(bw, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(resp))
		_, _ = bw.Write(resp[:len(resp)/2])
		_ = bw.Flush()
		_ = conn.Close()
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_, _ = w.Write(resp)
}

// applyBulk runs the actions; f.mu is held.
func (f *fakeES) applyBulk(defIndex string, body []byte) ([]map[string]any, string) {
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var action map[string]struct {
			Index string `json:"_index"`
			ID    string `json:"_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &action); err != nil || len(action) != 1 {
			return nil, fmt.Sprintf("Malformed action/metadata line [%d], expected START_OBJECT", line)
		}
		var op, index, id string
		for k, v := range action {
			op, index, id = k, v.Index, v.ID
		}
		if op != "create" && op != "index" {
			return nil, fmt.Sprintf("Malformed action/metadata line [%d], expected one of [create, delete, index, update] but found [%s]", line, op)
		}
		if !sc.Scan() {
			return nil, "The bulk request must be terminated by a newline [\\n]"
		}
		line++
		doc := append([]byte(nil), sc.Bytes()...)
		if index == "" {
			index = defIndex
		}
		if index == "" {
			return nil, "index is missing"
		}
		out = append(out, map[string]any{op: f.applyItem(op, index, id, doc)})
	}
	return out, ""
}

func (f *fakeES) applyItem(op, index, id string, doc []byte) map[string]any {
	res := map[string]any{"_index": index, "_id": id}
	fail := func(status int, typ, reason string) map[string]any {
		res["status"] = status
		res["error"] = map[string]any{"type": typ, "reason": reason, "index": index}
		return res
	}
	f.seen[id]++
	if f.itemFault != nil {
		if st, typ := f.itemFault(id, f.seen[id]); st != 0 {
			return fail(st, typ, "injected item failure")
		}
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return fail(400, f.parseErrType(), "failed to parse: "+err.Error())
	}
	ix := f.indexes[index]
	if ix == nil {
		ix = f.newIndex(index)
	}
	if ix.dataStream {
		if op != "create" {
			return fail(400, "illegal_argument_exception", "only write ops with an op_type of create are allowed in data streams")
		}
		if _, ok := m["@timestamp"]; !ok {
			return fail(400, f.parseErrType(), "data stream timestamp field [@timestamp] is missing")
		}
	}
	if _, exists := ix.docs[id]; exists && op == "create" {
		return fail(409, "version_conflict_engine_exception", "["+id+"]: version conflict, document already exists (current version [1])")
	}
	added, msg := ix.check(m)
	if msg != "" {
		return fail(400, f.parseErrType(), msg)
	}
	for k, v := range added {
		ix.fields[k] = v
		ix.lenient[k] = ix.lenientDynamic[v]
	}
	result, status := "created", 201
	if _, exists := ix.docs[id]; exists {
		result, status = "updated", 200
	}
	ix.docs[id] = doc
	f.writes[id]++
	res["status"], res["result"], res["_version"] = status, result, f.writes[id]
	return res
}

// Inspection helpers.

// docs returns every stored document by id, with its index.
func (f *fakeES) docs() map[string]storedDoc {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]storedDoc{}
	for name, ix := range f.indexes {
		for id, d := range ix.docs {
			if prev, dup := out[id]; dup {
				f.t.Errorf("id %s is stored in both %s and %s", id, prev.index, name)
			}
			out[id] = storedDoc{index: name, doc: d}
		}
	}
	return out
}

type storedDoc struct {
	index string
	doc   json.RawMessage
}

func (f *fakeES) requests() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.log...)
}

func (f *fakeES) writeCount(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes[id]
}

func (f *fakeES) template(name string) (fakeTemplate, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.templates[name]
	return t, ok
}

func (f *fakeES) set(fn func(f *fakeES)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}
