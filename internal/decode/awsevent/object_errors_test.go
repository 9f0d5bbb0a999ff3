package awsevent

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestMalformedRecordsMidObject puts a bad record in the middle of an object of
// every log type: it gives a RecordError naming its record, and the records
// around it still give their events.
func TestMalformedRecordsMidObject(t *testing.T) {
	alb := func(port string) string {
		return `https 2024-05-01T08:00:00.000000Z app/x 192.0.2.1:5000 ` + port + ` 0.001 0.002 0.000 200 200 10 20 "GET / HTTP/1.1" "ua" - - ` +
			`arn "Root=1" "-" "-" 0 2024-05-01T08:00:00.000000Z "forward" "-" "-" "` + port + `" "200" "-" "-"`
	}
	for _, tc := range []struct {
		typ, key, data string
		events         []int64 // records giving events
		errs           []int64 // records refused
		lines          []int64 // line of each error (0: JSON streams, which report offsets)
	}{
		{VPCFlow, "v.log", "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
			"2 123456789012 eni-1 1.1.1.1 2.2.2.2 1 2 6 1 2 1714550400 1714550460 ACCEPT OK\n" +
			"2 123456789012 eni-1 1.1.1.1 2.2.2.2 1 2 6 1 2 soon 1714550460 ACCEPT OK\n" +
			"2 123456789012 eni-1 1.1.1.1 2.2.2.2 1 2 6 1 2 1714550400 1714550460 REJECT OK\n",
			[]int64{1, 3}, []int64{2}, []int64{3}},
		{ALB, "a.log", alb("10.0.0.1:80") + "\nhttps 2024 app/x\n" + alb("-") + "\n", []int64{0, 2}, []int64{1}, []int64{2}},
		{NLB, "n.log", "tls 2.0 t net/x l 192.0.2.1:1 10.0.0.1:443\ntls 2.0 t net/x l\ntls 2.0 t net/x l 192.0.2.1:1 10.0.0.1:443\n",
			[]int64{0, 2}, []int64{1}, []int64{2}},
		{CLB, "c.log", "t lb 192.0.2.1:1 10.0.0.1:80 0 0 0 200 200 0 0 \"GET / HTTP/1.1\" \"ua\" - -\nt lb \xff\xfe\nt lb\n",
			[]int64{0, 2}, []int64{1}, []int64{2}},
		{ServerAccess, "2024-05-01-08-00-00-ABC", "o b [01/May/2024:08:00:00 +0000] 1.2.3.4 r id op\n leading space\no b c\n",
			[]int64{0, 2}, []int64{1}, []int64{2}},
		{GuardDuty, "x.jsonl.gz", `{"id":"a","service":{"serviceName":"guardduty"}}` + "\n{\"id\":\n" + `{"id":"c","service":{"serviceName":"guardduty"}}` + "\n",
			[]int64{0, 2}, []int64{1}, []int64{2}},
		{GuardDuty, "x.jsonl.gz", `{"id":"a","service":{"serviceName":"guardduty"}}` + "\n" + `{"id":"b"}` + "\n" + `{"id":"c","service":{"serviceName":null}}` + "\n",
			[]int64{0}, []int64{1, 2}, []int64{2, 3}},
		{WAF, "w", `{"a":1}{"b":` + "\n" + `{"c":3}{"d":4}` + "\n", []int64{0, 2, 3}, []int64{1}, []int64{1}},
		{Custom, "2024/05/01/08/c", `{"source":"aws.x","detail":{"a":1}}{"bad":}{"source":"aws.y","detail":{"b":2}}{"detail":{}}`,
			[]int64{0, 2}, []int64{1, 3}, []int64{0, 0}},
		{CloudTrail, "t.json", `{"Records":[{"eventName":"A"},5,{"eventName":"B"}]}`, []int64{0, 2}, []int64{1}, []int64{0}},
		{Config, "c.json", `{"configurationItems":[{"a":1},"x",{"configuration":"abc"},{"b":2}]}`, []int64{0, 3}, []int64{1, 2}, []int64{0, 0}},
		{SecurityHub, "s", `{"detail-type":"x","detail":{}}{"detail-type":"y"}{"detail-type":"z","detail":{"findings":[]}}{"detail-type":"w","detail":{}}`,
			[]int64{0, 3}, []int64{1, 2}, []int64{0, 0}},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			_, recs, errs := readEvents(t, tc.typ, tc.key, tc.data, Options{})
			if fmt.Sprint(recs) != fmt.Sprint(tc.events) {
				t.Errorf("events from records %v, want %v", recs, tc.events)
			}
			var got, lines []int64
			for _, e := range errs {
				got, lines = append(got, e.Record), append(lines, e.Line)
				if e.Fatal {
					t.Errorf("fatal error %v", e)
				}
				if !strings.Contains(e.Error(), tc.key) || !strings.Contains(e.Error(), fmt.Sprintf("record %d", e.Record)) {
					t.Errorf("error %q does not name the key and record", e)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.errs) || fmt.Sprint(lines) != fmt.Sprint(tc.lines) {
				t.Errorf("errors for records %v (lines %v), want %v (lines %v): %v", got, lines, tc.errs, tc.lines, errs)
			}
		})
	}
}

// TestFatalErrors: input that ends the object gives one fatal RecordError,
// then io.EOF; what came before is delivered.
func TestFatalErrors(t *testing.T) {
	for _, tc := range []struct {
		typ  string
		r    io.Reader
		want int
	}{
		{CloudTrail, strings.NewReader(`{"Records":[{"a":1},{"b":2},{"c":`), 2},
		{Config, strings.NewReader(`{"configurationItems":[{"a":1}]} trailing`), 1},
		{VPCFlow, io.MultiReader(strings.NewReader("2 1 e - - - - - - - 1 2 - NODATA\n"), iotest.ErrReader(errors.New("disk gone"))), 1},
		{WAF, io.MultiReader(strings.NewReader("{\"a\":1}\n"), iotest.ErrReader(errors.New("disk gone"))), 1},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			r, err := NewObjectReader(tc.typ, tc.r, ObjectInfo{Key: "k"}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			n, fatal := 0, 0
			for {
				_, _, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				var re *RecordError
				if errors.As(err, &re) && re.Fatal {
					fatal++
					continue
				}
				if err != nil {
					t.Fatalf("non-fatal error %v", err)
				}
				n++
			}
			if n != tc.want || fatal != 1 {
				t.Errorf("%d events and %d fatal errors, want %d and 1", n, fatal, tc.want)
			}
		})
	}
}

func TestTooLargeRecordsAreSkipped(t *testing.T) {
	big := strings.Repeat("x", 300)
	for _, tc := range []struct{ typ, data string }{
		{ServerAccess, "a b\n" + big + "\nc d\n"},
		{GuardDuty, `{"service":{"serviceName":"s"}}` + "\n" + `{"x":"` + big + `"}` + "\n" + `{"service":{"serviceName":"s"}}`},
		{CloudTrail, `{"Records":[{"a":1},{"x":"` + big + `"},{"b":2}]}`},
		{WAF, "{\"a\":1}\n{\"x\":\"" + big + "\"}\r{\"b\":2}\n"},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			key := "k.jsonl.gz"
			_, recs, errs := readEvents(t, tc.typ, key, tc.data, Options{MaxRecordBytes: 100})
			if len(recs) != 2 || len(errs) != 1 || errs[0].Record != 1 || errs[0].Fatal {
				t.Errorf("events from %v, errors %v; want records 0 and 2 and one error for 1", recs, errs)
			}
		})
	}
}

func TestUnknownLogType(t *testing.T) {
	if _, err := NewObjectReader("cisco_umbrella", strings.NewReader(""), ObjectInfo{}, Options{}); err == nil ||
		!strings.Contains(err.Error(), "cisco_umbrella") {
		t.Fatalf("err = %v", err)
	}
	if len(LogTypes()) != 11 {
		t.Fatalf("LogTypes() = %v", LogTypes())
	}
	// Empty objects give nothing, without error. (A blank line of a server
	// access log is an event with an empty bucket_owner, as in the module.)
	for _, typ := range LogTypes() {
		for _, data := range []string{"", "\n"} {
			evs, _, errs := readEvents(t, typ, "k", data, Options{})
			if (len(evs) != 0 && (typ != ServerAccess || data == "")) || len(errs) != 0 {
				t.Errorf("%s %q: %d events, errors %v", typ, data, len(evs), errs)
			}
		}
	}
}
