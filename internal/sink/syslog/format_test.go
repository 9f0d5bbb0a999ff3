package syslog

import (
	"strings"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/alert"
	"github.com/skywatch-dev/skywatch/internal/sink"
)

func TestSeverityMaps(t *testing.T) {
	wantSys := []int{6, 6, 6, 6, 5, 5, 5, 4, 4, 4, 3, 3, 2, 2, 2, 1, 1}
	wantCEF := []int{0, 1, 1, 2, 3, 3, 4, 4, 5, 6, 6, 7, 8, 8, 9, 9, 10}
	for level := 0; level <= 16; level++ {
		if got := Severity(level); got != wantSys[level] {
			t.Errorf("Severity(%d) = %d, want %d", level, got, wantSys[level])
		}
		if got := CEFSeverity(level); got != wantCEF[level] {
			t.Errorf("CEFSeverity(%d) = %d, want %d", level, got, wantCEF[level])
		}
	}
}

func TestHeaderFieldsClamped(t *testing.T) {
	f := formatter{format: FormatRFC5424, message: MessageJSON, facility: 16, hostname: strings.Repeat("h", 300),
		appName: "skywatch", procID: "1", sdID: "skywatch@32473", now: time.Now}
	r := sink.Record{JSON: []byte(`{}`), ID: "x", Level: 3, RuleID: "rule with spaces and a very long name beyond thirty-two"}
	msg, _ := f.appendMessage(nil, &r)
	m, err := parse5424(string(msg))
	if err != nil {
		t.Fatalf("%q: %v", msg, err)
	}
	if len(m.Hostname) != 255 || m.MsgID != "rule_with_spaces_and_a_very_long" {
		t.Errorf("hostname of %d bytes, MSGID %q", len(m.Hostname), m.MsgID)
	}
}

func TestTruncLen(t *testing.T) {
	tests := []struct {
		msg  string
		max  int
		want string
	}{
		{"abcdef", 4, "abcd"},
		{"abé", 3, "ab"},      // é is two bytes
		{`ab\\cd`, 4, `ab\\`}, // a whole escape stays
		{`ab\|cd`, 3, `ab`},   // half an escape goes
		{`a\\\|`, 4, `a\\`},
	}
	for _, tt := range tests {
		if got := tt.msg[:truncLen([]byte(tt.msg), tt.max)]; got != tt.want {
			t.Errorf("truncate %q to %d = %q, want %q", tt.msg, tt.max, got, tt.want)
		}
	}
}

// FuzzSDValue checks that any string survives AppendSDValue and the test's
// independent RFC 5424 parser unchanged (invalid UTF-8 aside).
func FuzzSDValue(f *testing.F) {
	for _, s := range []string{"", `"`, `\`, `]`, `a\"b]c\\`, "x\xffy", "\\\"]\\]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		msg := "<14>1 - - - - - [x@1 p=\"" + string(AppendSDValue(nil, v)) + "\" q=\"end\"] MSG"
		m, err := parse5424(msg)
		if err != nil {
			t.Fatalf("%q: %v", msg, err)
		}
		if got, _ := m.SD[0].param("p"); got != strings.ToValidUTF8(v, "\uFFFD") {
			t.Fatalf("round trip of %q gave %q", v, got)
		}
		if got, _ := m.SD[0].param("q"); got != "end" || m.Msg != "MSG" {
			t.Fatalf("value %q leaked into what follows: %+v", v, m)
		}
	})
}

// FuzzCEF checks that header fields and extension values built from arbitrary
// alert text parse back, with the independent parser, to what went in.
func FuzzCEF(f *testing.F) {
	f.Add("desc", "rule", "arn:aws:iam::1:user/x", "123", "T1", "loc")
	f.Add(`a|b\c=d`, `r|1\`, "user=admin cs2=evil", "\\", "x\ny\r", " lead and trail ")
	f.Add("line\nbreak", "", "=", "|", `\\=`, "é\xff")
	f.Fuzz(func(t *testing.T, desc, ruleID, principal, account, technique, location string) {
		fm := formatter{format: FormatCEF, version: "1.0|x", now: time.Now}
		r := sink.Record{ID: "id", RuleID: ruleID, Level: 7, Groups: []string{"g=1", `g\2`}}
		s := alert.Summary{Description: desc, Principal: principal, Account: account, Location: location,
			Techniques: []string{technique}, Timestamp: time.UnixMilli(1700000000123)}
		out := string(fm.appendCEF(nil, &r, &s))
		hdr, ext, err := parseCEF(out)
		if err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		header := func(v string) string {
			return strings.NewReplacer("\r", " ", "\n", " ").Replace(strings.ToValidUTF8(v, "\uFFFD"))
		}
		wantDesc := desc
		if wantDesc == "" {
			wantDesc = "rule " + ruleID
		}
		if hdr[3] != "1.0|x" || hdr[4] != header(ruleID) || hdr[5] != header(wantDesc) || hdr[6] != "4" {
			t.Fatalf("header %q from rule %q desc %q", hdr, ruleID, desc)
		}
		want := map[string]string{"rt": "1700000000123", "suser": principal, "cs1": account, "cs3": technique,
			"cs5": location, "cat": `g=1,g\2`, "externalId": "id", "msg": desc}
		for k, v := range want {
			v = strings.ToValidUTF8(v, "\uFFFD")
			if got, ok := ext[k]; v != "" && got != v || v == "" && ok {
				t.Fatalf("extension %s = %q (present %v), want %q\nin %q", k, got, ok, v, out)
			}
		}
	})
}
