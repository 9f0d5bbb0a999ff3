package wregex

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dlclark/regexp2/v2"
)

var pcrePieces = []string{
	`a`, `b`, `A`, `.`, ` `, `\s`, `\S`, `\d`, `\w`, `\W`, `\b`, `[ab]`, `[^a]`, `[\x80-\xff]`,
	`(`, `)`, `(?:`, `|`, `*`, `+`, `?`, `*?`, `+?`, `{2}`, `{1,3}`, `^`, `$`, `(?i)`, `\xe9`,
	`(a|)`, `(a*)`, `()`, `(b?)`, `(|a)`,
}

// TestPCREEngineAgreement checks the claim behind the engine choice: for
// patterns both engines accept, RE2 and regexp2 report the same match and
// groups over the mapped alphabet (subjects not ending in "\n", where "$"
// deliberately differs).
func TestPCREEngineAgreement(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alpha := []byte("aabbAB 1\t\xe9\xff")
	iters := 30000
	if testing.Short() {
		iters = 3000
	}
	checked := 0
	for range iters {
		pat := ""
		for range rng.IntN(6) + 1 {
			pat += pcrePieces[rng.IntN(len(pcrePieces))]
		}
		p, err := CompilePCRE(pat)
		if err != nil || p.std == nil {
			continue
		}
		bt, err := regexp2.Compile(p.mapped, regexp2.OptionMaintainCaptureOrder())
		if err != nil {
			continue
		}
		q := &PCRE{mapped: p.mapped, bt: bt, ngroups: p.ngroups}
		for range 6 {
			in := make([]byte, rng.IntN(10))
			for i := range in {
				in[i] = alpha[rng.IntN(len(alpha))]
			}
			a := make([]int, 2*(p.ngroups+1))
			b := make([]int, 2*(p.ngroups+1))
			okA := p.findRE2(in, a)
			okB := q.findBacktrack(in, b)
			if okA != okB || (okA && !slices.Equal(a, b)) {
				t.Fatalf("%q (mapped %q) on %q: RE2 %v %v, regexp2 %v %v", pat, p.mapped, in, okA, a, okB, b)
			}
			checked++
		}
	}
	if checked < iters {
		t.Fatalf("only %d comparisons; generator is broken", checked)
	}
}

// TestPCREPrefilterSound checks that the literal prefilter never rejects a
// subject the engine would match.
func TestPCREPrefilterSound(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	pieces := []string{`abc`, `(?i)abc`, `Ab|ba`, `(x|yz)`, `\d+`, `.`, `(?:cat|dog)+`, `\xe9t`, `a{2}`, `b?`, `|`, `(?i:QQ)`, `\w*`}
	frags := []string{"abc", "ABC", "ab", "ba", "x", "yz", "1", "cat", "DOG", "\xe9t", "aa", "qq", " "}
	withPre := 0
	for range 20000 {
		pat := ""
		for range rng.IntN(4) + 1 {
			pat += pieces[rng.IntN(len(pieces))]
		}
		p, err := CompilePCRE(pat)
		if err != nil || p.pre == nil {
			continue
		}
		withPre++
		bare := &PCRE{src: p.src, mapped: p.mapped, std: p.std, bt: p.bt, ngroups: p.ngroups}
		for range 8 {
			in := ""
			for range rng.IntN(5) {
				in += frags[rng.IntN(len(frags))]
			}
			if got, want := p.MatchString(in), bare.MatchString(in); got != want {
				t.Fatalf("%q on %q: with prefilter %v, without %v", pat, in, got, want)
			}
		}
	}
	if withPre < 1000 {
		t.Fatalf("only %d patterns had a prefilter; generator is broken", withPre)
	}
}

// TestPCRELookaheadPrefilterSound is TestPCREPrefilterSound for patterns made
// of look-aheads (which RE2 cannot run), the shape rules use to ask for
// several things in any order, including look-aheads whose body reaches past
// what follows them and classes holding parentheses.
func TestPCRELookaheadPrefilterSound(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	bodies := []string{`.*abc`, `.*?"k"\s*:\s*"(?:cat|dog)`, `ab`, `[()]*xyz`, `.*(?:QQ|rr)\d`, `x(?!y)`, `.*\(ab\)`, `b`, `.*[^)]abc`}
	heads := []string{``, `(?i)`, `(?is)`, `(?s)`}
	frags := []string{"abc", "ABC", `"k": "cat"`, `"K":"DOG"`, "xyz", "()", "(ab)", "qq1", "RR2", "xy", "x", " ", "\n", "b"}
	withPre := 0
	for range 20000 {
		pat := heads[rng.IntN(len(heads))]
		if rng.IntN(2) == 0 {
			pat += "^"
		}
		for range rng.IntN(3) + 1 {
			op := "(?="
			if rng.IntN(5) == 0 {
				op = "(?!"
			}
			pat += op + bodies[rng.IntN(len(bodies))] + ")"
		}
		if rng.IntN(3) == 0 {
			pat += `abc|x`
		}
		p, err := CompilePCRE(pat)
		if err != nil {
			t.Fatalf("%q: %v", pat, err)
		}
		if p.pre == nil {
			continue
		}
		withPre++
		bare := &PCRE{src: p.src, mapped: p.mapped, std: p.std, bt: p.bt, ngroups: p.ngroups}
		for range 8 {
			in := ""
			for range rng.IntN(6) {
				in += frags[rng.IntN(len(frags))]
			}
			if got, want := p.MatchString(in), bare.MatchString(in); got != want {
				t.Fatalf("%q on %q: with prefilter %v, without %v", pat, in, got, want)
			}
		}
	}
	if withPre < 1000 {
		t.Fatalf("only %d patterns had a prefilter; generator is broken", withPre)
	}
}

func TestLookaheadRequired(t *testing.T) {
	for pat, want := range map[string]string{
		`(?is)^(?=.*"clientAppUsed"\s*:\s*"(?:IMAP|POP))(?=.*"ResultType")`: `"clientappused"`,
		`^(?=.*abc)(?=.*abcdef)`: "abcdef",
		`(?!.*abcdef)(?=.*xyz)`:  "",
		`(?=[)]abcd)`:            ")abcd",
	} {
		p, err := CompilePCRE(pat)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if p.pre != nil && len(p.pre.alts) == 1 {
			got = string(p.pre.alts[0].needle)
		}
		if got != want {
			t.Errorf("%q: prefilter %q, want %q", pat, got, want)
		}
	}
}

func TestStripLookarounds(t *testing.T) {
	for in, want := range map[string]string{
		`"operation"\s*:\s*\{(?![^{}]*"first")[^{}]*"last"`: `"operation"\s*:\s*\{[^{}]*"last"`,
		`a(?<=a)b(?<!c(?=d))c`:                              `abc`,
		`[(?=]x\(?=y`:                                       `[(?=]x\(?=y`,
	} {
		if got := stripLookarounds(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
