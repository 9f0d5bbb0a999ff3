package cdb

import (
	"bytes"
	"strings"
	"testing"
)

// importAndLoad imports feed and parses the result back as a list, so each test
// checks what the rules engine will actually match, not the text.
func importAndLoad(t *testing.T, feed string, opt ImportOptions) (*List, ImportReport, string) {
	t.Helper()
	var out bytes.Buffer
	rep, err := ImportAddresses(strings.NewReader(feed), "feed.txt", &out, opt)
	if err != nil {
		t.Fatalf("ImportAddresses: %v", err)
	}
	l, err := Parse(bytes.NewReader(out.Bytes()), "imported")
	if err != nil {
		t.Fatalf("Parse(imported): %v\n%s", err, out.String())
	}
	return l, rep, out.String()
}

func TestImportPlainFeed(t *testing.T) {
	feed := `# spamhaus-style feed
198.51.100.7
203.0.113.0/24 ; SBL123
192.0.2.0/23
10.0.0.0/8   # private, for the test
2001:db8::1
not-an-ip
198.51.100.7
`
	l, rep, text := importAndLoad(t, feed, ImportOptions{Value: "badip"})
	match := func(addr string) bool {
		return l.Check(AddressMatchKey, []byte(addr), nil)
	}
	for _, hit := range []string{"198.51.100.7", "203.0.113.200", "192.0.2.1", "192.0.3.255", "10.250.1.1", "2001:db8::1"} {
		if !match(hit) {
			t.Errorf("%s should match the imported list:\n%s", hit, text)
		}
	}
	for _, miss := range []string{"198.51.100.8", "203.0.114.1", "192.0.4.1", "11.0.0.1", "2001:db8::2"} {
		if match(miss) {
			t.Errorf("%s should not match the imported list:\n%s", miss, text)
		}
	}
	if v, ok := l.Lookup([]byte("198.51.100.7")); !ok || string(v) != "badip" {
		t.Errorf("value of 198.51.100.7 = %q, %v; want badip", v, ok)
	}
	if rep.Expanded != 1 || len(rep.Skipped) != 1 || !strings.Contains(rep.Skipped[0], "feed.txt:7") {
		t.Errorf("report = %+v; want one /23 expanded and line 7 skipped with its place", rep)
	}
	// 198.51.100.7, 2001:db8::1, 203.0.113., 192.0.2., 192.0.3., 10.
	if rep.Entries != 6 || l.Len() != 6 {
		t.Errorf("entries = %d, list has %d; want 6", rep.Entries, l.Len())
	}
}

func TestImportCSVNamedColumns(t *testing.T) {
	feed := "ip,first_seen,threat\n" +
		"198.51.100.9,2026-01-01,\"tor exit, relay\"\n" +
		"# comment row\n" +
		"203.0.113.0/24,2026-01-02,scanner\n"
	l, rep, _ := importAndLoad(t, feed, ImportOptions{CSV: true, Column: "IP", ValueColumn: "threat"})
	if rep.Entries != 2 || len(rep.Skipped) != 0 {
		t.Fatalf("report = %+v; want 2 entries, nothing skipped (the header is not data)", rep)
	}
	if v, ok := l.Lookup([]byte("198.51.100.9")); !ok || string(v) != "tor exit, relay" {
		t.Errorf("value = %q, %v; want the threat column", v, ok)
	}
	if !l.Check(AddressMatchKeyValue, []byte("203.0.113.4"), func(v []byte) bool { return string(v) != "scanner" }) {
		// address_match_key_value is inverted (holds unless the value matches);
		// a check that rejects "scanner" must therefore hold.
		t.Errorf("address_match_key_value lookup of a CIDR entry failed")
	}
}

func TestImportCSVNumberedColumn(t *testing.T) {
	l, rep, _ := importAndLoad(t, "x,198.51.100.1\ny,198.51.100.2\n", ImportOptions{CSV: true, Column: "2"})
	if rep.Entries != 2 || !l.Check(AddressMatchKey, []byte("198.51.100.2"), nil) {
		t.Fatalf("report %+v; column 2 was not used", rep)
	}
}

func TestImportErrors(t *testing.T) {
	var out bytes.Buffer
	_, err := ImportAddresses(strings.NewReader("addr\n1.2.3.4\n"), "intel.csv", &out, ImportOptions{CSV: true, Column: "ip"})
	if err == nil || !strings.Contains(err.Error(), "intel.csv") || !strings.Contains(err.Error(), `"ip"`) {
		t.Fatalf("missing column error = %v; want it to name the file and the column", err)
	}
	_, rep, _ := importAndLoad(t, "0.0.0.0/0\n10.0.0.0/7\n2001:db8::/32\n", ImportOptions{})
	if rep.Entries != 0 || len(rep.Skipped) != 3 {
		t.Fatalf("report = %+v; want /0, a range wider than /8 and an IPv6 range refused", rep)
	}
	l, rep, _ := importAndLoad(t, "10.128.0.0/9\n", ImportOptions{})
	if rep.Entries != 128 || !l.Check(AddressMatchKey, []byte("10.255.0.1"), nil) || l.Check(AddressMatchKey, []byte("10.127.0.1"), nil) {
		t.Fatalf("entries = %d; want a /9 as the 128 /16 prefixes it covers", rep.Entries)
	}
}

func FuzzImportAddresses(f *testing.F) {
	f.Add("198.51.100.7\n203.0.113.0/22\n", false)
	f.Add("ip,v\n1.2.3.4,\"a\"\"b\"\n", true)
	f.Fuzz(func(t *testing.T, feed string, csvIn bool) {
		var out bytes.Buffer
		opt := ImportOptions{CSV: csvIn, ValueColumn: "2"}
		rep, err := ImportAddresses(strings.NewReader(feed), "fuzz", &out, opt)
		if err != nil {
			return
		}
		l, err := Parse(bytes.NewReader(out.Bytes()), "fuzz")
		if err != nil {
			t.Fatalf("imported list does not parse: %v\n%s", err, out.String())
		}
		if l.Len() != rep.Entries {
			t.Fatalf("list has %d keys, report says %d:\n%s", l.Len(), rep.Entries, out.String())
		}
	})
}
