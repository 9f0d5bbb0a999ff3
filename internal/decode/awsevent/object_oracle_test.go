package awsevent

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/skywatch-dev/skywatch/internal/sharedcorpus"
)

// oracleObject is one S3 object of the aws-other-public set: a corpus file
// (or the part of it the set used) under the key and bucket type it was
// submitted with.
type oracleObject struct {
	source, typ, key string
	lines            []int // oracle lines (0-based) that came from it
	records          []int // their record indexes
}

// readCorpusObject returns the object content the oracle set was built from:
// the file (gunzipped), with the adjustments its provenance describes.
func readCorpusObject(t testing.TB, corpus, source, typ string) []byte {
	t.Helper()
	file, detail := strings.CutSuffix(source, "#detail")
	data, err := os.ReadFile(filepath.Join(corpus, file))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(file, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	switch {
	case detail:
		// A native GuardDuty export line: the envelope's detail, compact.
		var env struct{ Detail json.RawMessage }
		if err := json.Unmarshal(data, &env); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var b bytes.Buffer
		if err := json.Compact(&b, env.Detail); err != nil {
			t.Fatal(err)
		}
		return append(b.Bytes(), '\n')
	case typ == Custom:
		// A Firehose object holding one compact envelope.
		var b bytes.Buffer
		if err := json.Compact(&b, data); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		return b.Bytes()
	case filepath.Base(file) == "aws_elb_access.log":
		// plaso's file mixes the three load balancer formats: keep typ's lines.
		var out []byte
		for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
			lt := ALB
			switch {
			case strings.HasPrefix(l, "tls "):
				lt = NLB
			case l != "" && l[0] >= '0' && l[0] <= '9':
				lt = CLB
			}
			if lt == typ {
				out = append(append(out, l...), '\n')
			}
		}
		return out
	}
	return data
}

// readAll returns every event of an object by record index, failing on errors.
func readObjectEvents(t testing.TB, typ string, data []byte, info ObjectInfo, opt Options) map[int64][][]byte {
	t.Helper()
	r, err := NewObjectReader(typ, bytes.NewReader(data), info, opt)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64][][]byte{}
	for {
		ev, rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			t.Fatalf("%s (%s): %v", info.Key, typ, err)
		}
		if !json.Valid(ev) {
			t.Fatalf("%s record %d: invalid JSON %s", info.Key, rec, ev)
		}
		got[rec] = append(got[rec], append([]byte(nil), ev...))
	}
}

// TestOracleOtherTypes rebuilds every event of the aws-other-public oracle set
// from its corpus file with an ObjectReader and requires byte-identical output.
// The only difference allowed is the one made on purpose: the header line of a
// VPC flow log object is read as its column list, not sent as an event.
func TestOracleOtherTypes(t *testing.T) {
	oracle := sharedcorpus.Path(t, "corpus", "wazuh-oracle")
	corpus := filepath.Dir(oracle)
	events := readLines(t, filepath.Join(oracle, "aws-other-public.events.jsonl"))
	prov := readLines(t, filepath.Join(oracle, "aws-other-public.provenance.jsonl"))
	if len(events) != 182 || len(prov) != 182 {
		t.Fatalf("got %d events and %d provenance lines, want 182 of each", len(events), len(prov))
	}
	var objects []*oracleObject
	byKey := map[string]*oracleObject{}
	for i, line := range prov {
		var p struct {
			Source  string `json:"source"`
			Record  int    `json:"record"`
			Type    string `json:"bucket_type"`
			LogFile string `json:"log_file"`
		}
		if err := json.Unmarshal(line, &p); err != nil {
			t.Fatalf("provenance line %d: %v", i+1, err)
		}
		id := p.Source + "\x00" + p.Type + "\x00" + p.LogFile
		o := byKey[id]
		if o == nil {
			o = &oracleObject{source: p.Source, typ: p.Type, key: p.LogFile}
			byKey[id] = o
			objects = append(objects, o)
		}
		o.lines, o.records = append(o.lines, i), append(o.records, p.Record)
	}
	matched, headers, failed := 0, 0, 0
	perType := map[string][2]int{}
	for _, o := range objects {
		data := readCorpusObject(t, corpus, o.source, o.typ)
		got := readObjectEvents(t, o.typ, data, ObjectInfo{Bucket: "corpus-bucket", Key: o.key}, Options{})
		used := 0
		for j, line := range o.lines {
			rec := int64(o.records[j])
			evs := got[rec]
			c := perType[o.typ]
			c[1]++
			if o.typ == VPCFlow && rec == 0 && bytes.Contains(events[line], []byte(`"version": "version", "account_id": "account-id"`)) {
				// The header line Wazuh sends as an event: we never do.
				if len(evs) != 0 {
					t.Errorf("line %d: the VPC header line gave %d events, want none", line+1, len(evs))
				}
				headers++
				perType[o.typ] = c
				continue
			}
			switch {
			case len(evs) != 1:
				failed++
				t.Errorf("line %d (%s %s record %d): %d events, want 1", line+1, o.typ, o.source, rec, len(evs))
			case !bytes.Equal(evs[0], events[line]):
				failed++
				if failed <= 5 {
					t.Errorf("line %d (%s %s record %d) differs at byte %d:\n got %s\nwant %s", line+1, o.typ, o.source, rec,
						firstDiff(evs[0], events[line]), evs[0], events[line])
				}
			default:
				matched++
				c[0]++
			}
			used += len(evs)
			perType[o.typ] = c
		}
		total := 0
		for _, evs := range got {
			total += len(evs)
		}
		if total != used {
			t.Errorf("%s (%s): %d events, the oracle has %d", o.source, o.typ, total, used)
		}
	}
	var types []string
	for typ := range perType {
		types = append(types, typ)
	}
	sort.Strings(types)
	for _, typ := range types {
		t.Logf("%-14s %d/%d byte-identical", typ, perType[typ][0], perType[typ][1])
	}
	if headers != 2 {
		t.Errorf("%d VPC header events left out, want exactly 2", headers)
	}
	if matched != 180 || failed != 0 {
		t.Fatalf("%d of 182 oracle events byte-identical, %d differ; want 180 (all but the 2 VPC headers)", matched, failed)
	}
	t.Logf("%d of 182 oracle events byte-identical; the 2 others are the VPC header lines, left out on purpose", matched)
}

// TestOracleCloudTrailObjects reads every file of the CloudTrail oracle set as
// an S3 object and requires the 2945 events byte for byte. The account is the
// one the set used (the key's, else the file's first recipientAccountId), as the
// module always knows it from the object's prefix.
func TestOracleCloudTrailObjects(t *testing.T) {
	oracle := sharedcorpus.Path(t, "corpus", "wazuh-oracle")
	corpus := filepath.Dir(oracle)
	events := readLines(t, filepath.Join(oracle, "aws-cloudtrail-public.events.jsonl"))
	prov := readLines(t, filepath.Join(oracle, "aws-cloudtrail-public.provenance.jsonl"))
	got := map[string]map[int64][][]byte{}
	matched := 0
	for i, line := range prov {
		var p struct {
			Source string `json:"source"`
			Record int64  `json:"record"`
		}
		if err := json.Unmarshal(line, &p); err != nil {
			t.Fatal(err)
		}
		evs, ok := got[p.Source]
		if !ok {
			cf := loadCorpusFile(t, corpus, p.Source)
			data := readCorpusObject(t, corpus, p.Source, CloudTrail)
			evs = readObjectEvents(t, CloudTrail, data,
				ObjectInfo{Bucket: "corpus-bucket", Key: p.Source, AccountID: cf.account}, Options{})
			got[p.Source] = evs
		}
		if e := evs[p.Record]; len(e) != 1 || !bytes.Equal(e[0], events[i]) {
			t.Errorf("line %d (%s #%d) differs", i+1, p.Source, p.Record)
			continue
		}
		matched++
	}
	if matched != len(events) {
		t.Fatalf("%d of %d events byte-identical", matched, len(events))
	}
	t.Logf("%d of %d CloudTrail oracle events byte-identical through ObjectReader", matched, len(events))
}
