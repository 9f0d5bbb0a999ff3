package awsevent

import (
	"unicode"
	"unicode/utf8"
)

// looksLikeIPv4 reports whether the module would add source_ip_address for
// this sourceIPAddress (raw JSON string content). The module tests
// re.match(r'\d+\.\d+.\d+.\d+', value): anchored at the start only, \d is any
// Unicode decimal digit (category Nd), and the last two dots are "any
// character but a newline". So "10.0.0.1", "1.2.3.4.example.com" and even
// "1.23456" match, while IPv6 addresses and host names do not.
//
// The pattern is run as a small NFA over the decoded code points, so the cost
// is linear in the string length whatever its content.
func looksLikeIPv4(raw []byte) bool {
	var set uint8 = 1 << 0
	for i := 0; i < len(raw) && set != 0; {
		var r rune
		r, i = nextRune(raw, i)
		var done bool
		if set, done = ipv4Step(set, r); done {
			return true
		}
	}
	return false
}

// looksLikeIPv4Text is looksLikeIPv4 for decoded UTF-8 text.
func looksLikeIPv4Text(s []byte) bool {
	var set uint8 = 1 << 0
	for i := 0; i < len(s) && set != 0; {
		r, n := utf8.DecodeRune(s[i:])
		i += n
		var done bool
		if set, done = ipv4Step(set, r); done {
			return true
		}
	}
	return false
}

// ipv4Step advances the NFA by one code point. States: 0 first digit run must
// start; 1 in it; 2 after the literal dot; 3 in the second run; 4 after the
// first wildcard; 5 in the third run; 6 after the second wildcard. A digit in
// state 6 completes the match.
func ipv4Step(set uint8, r rune) (uint8, bool) {
	digit := r >= '0' && r <= '9' || (r >= 0x80 && unicode.IsDigit(r))
	var next uint8
	if digit {
		if set&(1<<6) != 0 {
			return 0, true
		}
		if set&(1<<0|1<<1) != 0 {
			next |= 1 << 1
		}
		if set&(1<<2|1<<3) != 0 {
			next |= 1 << 3
		}
		if set&(1<<4|1<<5) != 0 {
			next |= 1 << 5
		}
	}
	if r != '\n' {
		if set&(1<<3) != 0 {
			next |= 1 << 4
		}
		if set&(1<<5) != 0 {
			next |= 1 << 6
		}
	}
	if r == '.' && set&(1<<1) != 0 {
		next |= 1 << 2
	}
	return next, false
}
