package email

import (
	"bufio"
	"mime"
	"net/textproto"
	"strings"
	"testing"
)

// FuzzEncodeHeader checks that any alert text makes one header whose lines
// stay within 78 characters (when words allow) and that decodes to the text
// with control characters turned into spaces.
func FuzzEncodeHeader(f *testing.F) {
	for _, s := range []string{"plain", "a\r\nBcc: x@example.com", "Müller ", strings.Repeat("ü", 200), "=?utf-8?q?x?=", "\x00\x7f\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if r := []rune(v); len(r) > maxSubjectRunes {
			v = string(r[:maxSubjectRunes]) // subject() never passes more
		}
		enc := encodeHeader(v)
		raw := "Subject: " + enc + "\r\n\r\n"
		for i, line := range strings.Split(strings.TrimSuffix(raw, "\r\n\r\n"), "\r\n") {
			if strings.ContainsAny(line, "\r\n") {
				t.Fatalf("stray line break in %q", raw)
			}
			if i > 0 && !strings.HasPrefix(line, " ") {
				t.Fatalf("continuation line %q does not start with a space", line)
			}
			// Only a word too long to fold may pass 78 characters.
			if len(line) > 78 && (strings.Contains(strings.TrimSpace(line), " ") && i > 0 || len(line) > 998) {
				t.Fatalf("line of %d characters: %q", len(line), line)
			}
		}
		h, err := textproto.NewReader(bufio.NewReader(strings.NewReader(raw))).ReadMIMEHeader()
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		if len(h) != 1 || len(h["Subject"]) != 1 {
			t.Fatalf("%q parsed to %v", raw, h)
		}
		want := oneLine(v)
		if strings.Contains(want, "=?") {
			return // looks like an encoded-word itself; decoding it is the reader's choice
		}
		got, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
		if err != nil {
			t.Fatal(err)
		}
		// Folding whitespace is unfolded into single spaces, so compare words.
		if strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(want), " ") {
			t.Fatalf("decoded %q, want %q", got, want)
		}
	})
}

func TestEncodedSubjectLines(t *testing.T) {
	enc := encodeHeader(strings.Repeat("Überwachung ", 15))
	for _, line := range strings.Split("Subject: "+enc, "\r\n") {
		if len(line) > 78 {
			t.Errorf("line of %d characters: %q", len(line), line)
		}
	}
	if !strings.HasPrefix(enc, "\r\n =?utf-8?q?") && !strings.HasPrefix(enc, "=?utf-8?q?") {
		t.Errorf("not encoded: %q", enc)
	}
}
