// Package wregex implements the three pattern dialects of Wazuh's rule and
// decoder language with Wazuh's exact semantics, quirks included, as
// described in wazuh-engine-semantics.md §1-§3.
//
// OS_Regex (CompileRegex) is Wazuh's own small regex language, the default
// for rule <regex> and <field> and decoder <prematch> and <regex>. It is
// not a regular-expression engine in the usual sense: \. matches any byte,
// \s only a space, \w includes "-@_", quantifiers follow class escapes only,
// a repeat followed by something is lazy (with at most four resume points)
// while a final one is greedy, adjacent groups never match normal text, and
// the "return position" used for decoder offsets follows the C code's
// cursor. Matching is ASCII case-insensitive. reference.go transcribes the
// specification's algorithm literally; it is the oracle for the fast code.
//
// OS_Match (CompileMatch) is the default for <match> and most static-field
// elements: "|"-separated case-insensitive substring, prefix, suffix or
// equality tests, with a leading "!" negating the whole. WordMatch is the
// variant Wazuh uses to attach if_group children.
//
// PCRE2 (CompilePCRE) is what type="pcre2" selects. Wazuh compiles it
// without UTF mode, so patterns and subjects are byte strings; the pattern is
// rewritten into an equivalent one over a byte-per-rune alphabet and run by
// Go's regexp when RE2 can express it, otherwise by the backtracking regexp2
// engine (see the PCRE type for the exact rules).
//
// Fast paths: every OS_Regex alternative is classified at compile time. Pure
// literals (optionally ^/$ anchored) become ASCII case-insensitive searches
// that look for the needle's rarest byte with bytes.IndexByte; a single
// "\X+" or "\X*" with any anchors is answered by one pass over a 256-bit
// class table; everything else runs an element-level version of the
// reference state machine with precomputed class tables, no allocation, a
// required-literal prefilter and a skip to the next byte where an attempt
// can start. TestDifferential and FuzzCompileRegex compare every path with
// the reference (match result, captures and return position). OS_Match
// alternatives are lower-cased needles searched the same way.
//
// Inputs are treated as C strings: everything from the first NUL byte on is
// ignored, for patterns and subjects alike.
package wregex
