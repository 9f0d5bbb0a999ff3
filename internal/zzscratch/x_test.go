package zzscratch

import (
	"testing"

	"github.com/skywatch-dev/skywatch/internal/rules/wregex"
)

func TestX(t *testing.T) {
	for _, c := range [][2]string{
		{`\d+\.\d+`, "build 10x5"},
		{`error: (\S+)`, "ERROR: disk full"},
		{`a\sb`, "a\tb"},
		{`(\w+)\d`, "host42"},
		{`[0-9]+`, "123"},
		{`[0-9]+`, "x[0-9]+"},
		{`a+`, "aaa"},
		{`\w`, "-"},
		{`(\d+)(\d+)`, "1234"},
		{`^(\S+) (\S+)$`, "alice 10.0.0.1"},
		{`(\w+)@(\S+)`, "mail from first.last@corp.example"},
		{`^(\S+) (\S+)`, "1.2.3.4 bob host1"},
		{`user=(\S+) `, "user=carol src=1"},
		{`user=(\S+)`, "user=carol src=1"},
		{`(\d+)\.`, "12a"},
		{`\s*$`, "abc"},
		{`^\s*$`, "   "},
		{`src=(\S+)|dst=(\S+)`, "dst=10.0.0.2"},
		{`(\.+)x`, "aaxbx"},
		{`\p`, "/"},
		{`\p`, "!"},
		{`^$`, ""},
		{`$`, "abc"},
		{`a.b`, "a.b"},
		{`a.b`, "axb"},
	} {
		re, err := wregex.CompileRegex(c[0])
		if err != nil {
			t.Logf("%q: %v", c[0], err)
			continue
		}
		caps, last, ok := re.Captures([]byte(c[1]), nil)
		var cs []string
		for _, x := range caps {
			cs = append(cs, string(x))
		}
		t.Logf("regex %-22q on %-35q ok=%v last=%d caps=%q", c[0], c[1], ok, last, cs)
	}
	for _, p := range []string{`x(a|b)`, `\n`, `((a))`, `a)`, `\>`} {
		_, err := wregex.CompileRegex(p)
		t.Logf("compile %q: %v", p, err)
	}
	for _, c := range [][2]string{
		{`22`, "2222"}, {`^22$`, "2222"}, {`^22$`, "22"}, {`^Stop|Delete`, "stoplogging"}, {`^Stop|Delete`, "BatchDeleteImage"},
		{`!^admin`, "administrator"}, {`!^admin`, "bob"}, {`a||b`, "zzz"}, {`\d`, "5"}, {`\d`, `a\d`}, {`.com$`, "example.COM"}, {`^`, "x"}, {`^$`, ""}, {`^$`, "x"},
	} {
		m, _ := wregex.CompileMatch(c[0])
		t.Logf("match %-15q on %-20q => %v", c[0], c[1], m.MatchString(c[1]))
	}
	for _, c := range [][2]string{{`(?i)^(owner|admin)$`, "Admin"}, {`^(owner|admin)$`, "Admin"}, {`^(?!svc-)`, "svc-backup"}, {`^(?!svc-)`, "alice"}, {`\d{3}`, "ab123"}} {
		p, err := wregex.CompilePCRE(c[0])
		if err != nil {
			t.Logf("pcre %q: %v", c[0], err)
			continue
		}
		t.Logf("pcre %-22q on %-15q => %v", c[0], c[1], p.Match([]byte(c[1])))
	}
	for _, p := range []string{`(?R)`, `a\Kb`, `(*ACCEPT)`} {
		_, err := wregex.CompilePCRE(p)
		t.Logf("pcre compile %q: %v", p, err)
	}
	for _, c := range [][2]string{{"authentication", "syslog,sshd,authentication_failed,"}, {"^sshd", "sshd,x,"}, {"^x", "sshd,x,"}, {"a$", "a,"}} {
		t.Logf("word %q on %q => %v", c[0], c[1], wregex.WordMatch(c[0], c[1]))
	}
}
