package email

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/skywatch-dev/skywatch/internal/alert"
)

// waiting is one alert in the outbox with what the digest shows of it.
type waiting struct {
	spoolEntry
	sum alert.Summary
}

// digest is one message ready for the SMTP DATA command.
type digest struct {
	from  string   // envelope sender
	to    []string // envelope recipients
	data  []byte
	msgID string
}

// maxSubjectRunes keeps the subject readable and its header within line limits.
const maxSubjectRunes = 160

// buildDigest writes the message for alerts: a multipart/alternative with a
// text and an HTML part, both UTF-8 and quoted-printable, alerts highest level
// first. Every value from an alert goes through oneLine (headers, text) or
// html.EscapeString (HTML), so no alert text can add a header or markup.
func buildDigest(cfg *Config, from *mail.Address, to []*mail.Address, alerts []*waiting, now time.Time) (*digest, error) {
	sorted := slices.Clone(alerts)
	slices.SortStableFunc(sorted, func(a, b *waiting) int { return b.Level - a.Level })

	msgID := "<" + randomHex(16) + "@" + domainOf(from.Address) + ">"
	boundary := "skywatch-" + randomHex(12)
	var b bytes.Buffer
	header := func(name, value string) { b.WriteString(name + ": " + value + "\r\n") }
	header("From", from.String())
	tos := make([]string, len(to))
	for i, a := range to {
		tos[i] = a.String()
	}
	header("To", strings.Join(tos, ",\r\n "))
	header("Subject", encodeHeader(subject(cfg.SubjectPrefix, sorted)))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", msgID)
	header("MIME-Version", "1.0")
	header("Auto-Submitted", "auto-generated") // RFC 3834: no vacation replies
	header("Content-Type", "multipart/alternative;\r\n boundary=\""+boundary+"\"")
	b.WriteString("\r\n")

	mw := multipart.NewWriter(&b)
	if err := mw.SetBoundary(boundary); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		ctype string
		body  string
	}{{"text/plain; charset=utf-8", textBody(sorted)}, {"text/html; charset=utf-8", htmlBody(sorted)}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {p.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(p.body)); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	d := &digest{from: from.Address, data: b.Bytes(), msgID: msgID}
	for _, a := range to {
		d.to = append(d.to, a.Address)
	}
	return d, nil
}

// subject reads "[skywatch] 3 alerts, highest level 12: <description>".
func subject(prefix string, sorted []*waiting) string {
	top := sorted[0]
	desc := oneLine(top.sum.Description)
	if desc == "" {
		desc = "rule " + oneLine(top.sum.RuleID)
	}
	var s string
	if len(sorted) == 1 {
		s = fmt.Sprintf("1 alert, level %d: %s", top.Level, desc)
	} else {
		s = fmt.Sprintf("%d alerts, highest level %d: %s", len(sorted), top.Level, desc)
	}
	if prefix != "" {
		s = oneLine(prefix) + " " + s
	}
	if utf8.RuneCountInString(s) > maxSubjectRunes {
		r := []rune(s)
		s = string(r[:maxSubjectRunes-1]) + "…"
	}
	return s
}

// encodeHeader encodes v as RFC 2047 encoded-words when it is not plain ASCII
// and folds it at spaces so that no line passes 78 characters where avoidable.
func encodeHeader(v string) string {
	enc := mime.QEncoding.Encode("utf-8", oneLine(v))
	var out strings.Builder
	lineLen := len("Subject: ")
	for i, word := range strings.Split(enc, " ") {
		switch {
		case lineLen+1+len(word) > 78:
			// Fold, even before the first word: "Subject:" and an encoded-word
			// of 75 characters do not fit one line.
			out.WriteString("\r\n ")
			lineLen = 1
		case i > 0:
			out.WriteByte(' ')
			lineLen++
		}
		out.WriteString(word)
		lineLen += len(word)
	}
	return out.String()
}

// oneLine replaces control characters (CR and LF among them) with spaces and
// invalid UTF-8 with U+FFFD.
func oneLine(v string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(v, "\uFFFD"))
}

// details returns the labelled facts shown under an alert's title.
func details(s *alert.Summary) [][2]string {
	var d [][2]string
	add := func(label string, v string) {
		if v = oneLine(v); v != "" {
			d = append(d, [2]string{label, v})
		}
	}
	if !s.Timestamp.IsZero() {
		add("time", s.Timestamp.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	add("rule", s.RuleID)
	add("cloud", s.Provider)
	add("account", s.Account)
	add("region", s.Region)
	add("principal", s.Principal)
	add("source IP", s.SrcIP)
	attack := strings.Join(s.Techniques, ", ")
	if len(s.Tactics) > 0 {
		attack = strings.TrimSpace(attack + " (" + strings.Join(s.Tactics, ", ") + ")")
	}
	add("ATT&CK", attack)
	add("groups", strings.Join(s.Groups, ", "))
	add("location", s.Location)
	add("alert id", s.ID)
	return d
}

func countLine(sorted []*waiting) string {
	if len(sorted) == 1 {
		return "1 alert"
	}
	return strconv.Itoa(len(sorted)) + " alerts, highest level " + strconv.Itoa(sorted[0].Level)
}

func title(w *waiting) string {
	if d := oneLine(w.sum.Description); d != "" {
		return d
	}
	return "rule " + oneLine(w.sum.RuleID)
}

func textBody(sorted []*waiting) string {
	var b strings.Builder
	b.WriteString("skywatch: " + countLine(sorted) + "\n")
	for _, w := range sorted {
		fmt.Fprintf(&b, "\n[level %d] %s\n", w.Level, title(w))
		for _, d := range details(&w.sum) {
			fmt.Fprintf(&b, "    %-10s %s\n", d[0], d[1])
		}
	}
	b.WriteString("\n-- \nSent by skywatch.\n")
	return b.String()
}

func htmlBody(sorted []*waiting) string {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body style=\"font-family:sans-serif\">\n")
	b.WriteString("<p><b>skywatch</b>: " + html.EscapeString(countLine(sorted)) + "</p>\n")
	for _, w := range sorted {
		fmt.Fprintf(&b, "<h3>[level %d] %s</h3>\n<table>\n", w.Level, html.EscapeString(title(w)))
		for _, d := range details(&w.sum) {
			fmt.Fprintf(&b, "<tr><td style=\"color:#666;padding-right:1em\">%s</td><td>%s</td></tr>\n",
				html.EscapeString(d[0]), html.EscapeString(d[1]))
		}
		b.WriteString("</table>\n")
	}
	b.WriteString("<p style=\"color:#666\">Sent by skywatch.</p>\n</body></html>\n")
	return b.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail
	return hex.EncodeToString(b)
}

// domainOf returns the domain of an address, for Message-ID.
func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i+1 < len(addr) {
		return addr[i+1:]
	}
	return "skywatch.invalid"
}
