package awsevent

import (
	"math"
	"strconv"
	"testing"
)

// Expected values below are what CPython 3.11 prints for the same inputs.

func TestLooksLikeIPv4(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		want      bool
	}{
		{"dotted quad", `10.0.0.1`, true},
		{"prefix match", `1.2.3.4.example.com`, true},
		{"wildcards eat digits", `1.23456`, true},
		{"one digit short", `1.2345`, false},
		{"three groups", `1.2.3`, false},
		{"empty group", `1..2.3.4`, false},
		{"anchored at start", `a1.2.3.4`, false},
		{"letters as wildcards", `1.2a3b4`, true},
		{"newline is no wildcard", `1.2\n3.4`, false},
		{"carriage return is a wildcard", `1.2\r3.4`, true},
		{"IPv6", `::1`, false},
		{"empty", ``, false},
		{"Arabic-Indic digits", "\u0661.\u0662.\u0663.\u0664", true},
		{"astral wildcard", `1.2\ud83d\ude003\u00e94`, true},
		{"escaped dot", `1\u002e2.3.4`, true},
		{"long digit runs", `999999.1x1y1`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := looksLikeIPv4([]byte(tc.raw)); got != tc.want {
				t.Errorf("looksLikeIPv4(%q) = %v, want %v", tc.raw, got, tc.want)
			}
		})
	}
}

func TestFloatRepr(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{1.5, "1.5"}, {100, "100.0"}, {1e5, "100000.0"}, {1e16, "1e+16"}, {1e15, "1000000000000000.0"},
		{0.1, "0.1"}, {1e-7, "1e-07"}, {1e-4, "0.0001"}, {1e-5, "1e-05"}, {math.Copysign(0, -1), "-0.0"},
		{0, "0.0"}, {5e-324, "5e-324"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
		{12345678901234567, "1.2345678901234568e+16"}, {2.5e10, "25000000000.0"},
		{123456789.123456789, "123456789.12345679"}, {1e22, "1e+22"}, {9999999999999998, "9999999999999998.0"},
		{0.001, "0.001"}, {123e-20, "1.23e-18"}, {-1.5e-10, "-1.5e-10"}, {-42, "-42.0"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := string(AppendFloatRepr(nil, tc.in)); got != tc.want {
				t.Errorf("repr(%v) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

// TestFloatReprRoundTrips checks the shortest-repr property on many values.
func TestFloatReprRoundTrips(t *testing.T) {
	f := 1.0
	for i := 0; i < 2000; i++ {
		f = f*1.37 + 1e-3
		if f > 1e300 {
			f = 1e-300 * float64(i)
		}
		for _, v := range []float64{f, -f, 1 / f} {
			s := AppendFloatRepr(nil, v)
			back, err := strconv.ParseFloat(string(s), 64)
			if err != nil || back != v {
				t.Fatalf("repr %s of %v does not round-trip: %v %v", s, v, back, err)
			}
		}
	}
}

func TestStrRepr(t *testing.T) {
	for _, tc := range []struct{ name, raw, want string }{
		{"plain", `abc`, `'abc'`},
		{"single quote switches", `it's`, `"it's"`},
		{"both quotes", `a'b\"c`, `'a\'b"c'`},
		{"backslash", `a\\b`, `'a\\b'`},
		{"controls", `\t\n\r\u0001\u007f`, `'\t\n\r\x01\x7f'`},
		{"latin-1 non printable", `\u00a0\u00ad`, `'\xa0\xad'`},
		{"printable non-ASCII", "\u00e9\u4e2d", "'\u00e9\u4e2d'"},
		{"separators", `\u2028\u3000`, `'\u2028\u3000'`},
		{"lone surrogate", `\ud800`, `'\ud800'`},
		{"escaped pair joins", `\ud83d\ude00`, "'\U0001f600'"},
		{"astral non printable", `\udb40\udc01`, `'\U000e0001'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(appendStrRepr(nil, []byte(tc.raw))); got != tc.want {
				t.Errorf("repr of %s = %s, want %s", tc.raw, got, tc.want)
			}
		})
	}
}
