package wregex

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// diffOne compares the exported matchers with the reference for one
// pattern/input pair and returns a description of the first difference.
func diffOne(r *Regex, in []byte) string {
	wantLast, _, wantOK := refExec(r.alts, r.totalMarks, in, false)
	gotLast, gotOK := r.Exec(in)
	if gotOK != wantOK || (wantOK && gotLast != wantLast) {
		return fmt.Sprintf("Exec(%q, %q) = %d,%v; reference %d,%v", r.src, in, gotLast, gotOK, wantLast, wantOK)
	}
	if r.Match(in) != wantOK {
		return fmt.Sprintf("Match(%q, %q) = %v; reference %v", r.src, in, !wantOK, wantOK)
	}

	wLast, wSpans, wOK := refExec(r.alts, r.totalMarks, in, true)
	caps, gLast, gOK := r.Captures(in, nil)
	var gSpans []int
	base := cut(in)
	for _, c := range caps {
		// Recover offsets from the aliasing sub-slices.
		off := cap(base) - cap(c)
		gSpans = append(gSpans, off, off+len(c))
	}
	if gOK != wOK || (wOK && (gLast != wLast || !slices.Equal(gSpans, wSpans))) {
		return fmt.Sprintf("Captures(%q, %q) = %v last=%d ok=%v; reference %v last=%d ok=%v",
			r.src, in, gSpans, gLast, gOK, wSpans, wLast, wOK)
	}
	return ""
}

// Interesting pattern pieces: every escape, quantifiers, groups, anchors,
// alternation and literals that collide with escape meanings.
var patternPieces = []string{
	`a`, `b`, `A`, ` `, `.`, `-`, `@`, `1`, `+`, `*`, `(`, `)`, `|`, `^`, `$`, `x`,
	`\d`, `\w`, `\s`, `\p`, `\D`, `\W`, `\S`, `\.`, `\t`, `\(`, `\)`, `\\`, `\$`, `\|`, `\<`,
	`\d+`, `\w+`, `\S+`, `\.+`, `\s*`, `\.*`, `\w*`, `\d*`, `\D+`, `\p*`,
}

var inputBytes = []byte("aaabbAB 1 2-@._()$|<\\\t\x80x")

func randPattern(r *rand.Rand) string {
	n := r.IntN(7)
	if r.IntN(4) == 0 {
		n += r.IntN(6)
	}
	s := ""
	for range n {
		s += patternPieces[r.IntN(len(patternPieces))]
	}
	return s
}

func randInput(r *rand.Rand) []byte {
	n := r.IntN(12)
	if r.IntN(4) == 0 {
		n += r.IntN(30)
	}
	b := make([]byte, n)
	// Draw from a small random subset of the alphabet now and then, so that
	// long repetitive inputs (many hand-overs and save points) occur.
	alpha := inputBytes
	if r.IntN(2) == 0 {
		alpha = []byte{inputBytes[r.IntN(len(inputBytes))], inputBytes[r.IntN(len(inputBytes))], inputBytes[r.IntN(len(inputBytes))]}
	}
	for i := range b {
		b[i] = alpha[r.IntN(len(alpha))]
	}
	if r.IntN(20) == 0 && n > 0 {
		b[r.IntN(n)] = 0
	}
	return b
}

func TestDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	iters := 200000
	if testing.Short() {
		iters = 20000
	}
	compiled := 0
	for range iters {
		pat := randPattern(rng)
		r, err := CompileRegex(pat)
		if err != nil {
			continue
		}
		compiled++
		for range 8 {
			if d := diffOne(r, randInput(rng)); d != "" {
				t.Fatal(d)
			}
		}
	}
	if compiled < iters/4 {
		t.Fatalf("only %d of %d random patterns compiled; generator is broken", compiled, iters)
	}
}

func FuzzCompileRegex(f *testing.F) {
	for _, c := range spec16 {
		f.Add(c.pat, []byte(c.in))
	}
	for _, c := range extraCases {
		f.Add(c.pat, []byte(c.in))
	}
	f.Add(`((a))`, []byte("a"))
	f.Add(`\d+\s\wx`, []byte("1 !"))
	f.Fuzz(func(t *testing.T, pat string, in []byte) {
		r, err := CompileRegex(pat)
		if err != nil {
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("CompileRegex(%q) returned %T, want *CompileError", pat, err)
			}
			return
		}
		if d := diffOne(r, in); d != "" {
			t.Fatal(d)
		}
	})
}
