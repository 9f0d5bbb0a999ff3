package cdb

import (
	"bytes"
	"fmt"
)

// LookupKind is the lookup attribute of a rule's <list> element: which question the
// rule asks the list about a field's value.
type LookupKind int

// The lookups a rule can ask for. MatchKey is Wazuh's default when the attribute is
// absent.
const (
	// MatchKey holds when the value is a key.
	MatchKey LookupKind = iota
	// NotMatchKey holds when the value is not a key.
	NotMatchKey
	// MatchKeyValue holds when the value is a key and the key's value matches
	// check_value; without check_value it never holds.
	MatchKeyValue
	// AddressMatchKey holds when the value is a key, or some prefix of it that ends
	// with '.' is (such as "10.0.0." for "10.0.0.7").
	AddressMatchKey
	// NotAddressMatchKey holds when AddressMatchKey does not.
	NotAddressMatchKey
	// AddressMatchKeyValue is inverted in Wazuh: it holds unless an address key is
	// found and its value matches check_value. Without check_value it always holds.
	AddressMatchKeyValue
)

// String returns the attribute spelling of the lookup, such as "match_key".
func (k LookupKind) String() string {
	switch k {
	case MatchKey:
		return "match_key"
	case NotMatchKey:
		return "not_match_key"
	case MatchKeyValue:
		return "match_key_value"
	case AddressMatchKey:
		return "address_match_key"
	case NotAddressMatchKey:
		return "not_address_match_key"
	case AddressMatchKeyValue:
		return "address_match_key_value"
	}
	return fmt.Sprintf("LookupKind(%d)", int(k))
}

// ParseLookup converts a lookup attribute value to its kind. Names are compared
// case-insensitively, as Wazuh does; anything else is an error (Wazuh refuses to
// start on it).
func ParseLookup(s string) (LookupKind, error) {
	for k := MatchKey; k <= AddressMatchKeyValue; k++ {
		if asciiEqualFold(s, k.String()) {
			return k, nil
		}
	}
	return 0, fmt.Errorf("cdb: parse lookup: unknown lookup %q", s)
}

// asciiEqualFold compares like C's strcasecmp: only A-Z fold. strings.EqualFold would
// also accept Unicode look-alikes such as the Kelvin sign for 'k'.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Check evaluates a rule's <list lookup=...> condition on a field value. checkValue
// is the compiled OS_Match of the check_value attribute, or nil when absent. The
// value ends at its first NUL byte, as in Wazuh, whose fields are C strings. An
// unknown kind never holds. Check does not allocate.
func (l *List) Check(kind LookupKind, value []byte, checkValue func([]byte) bool) bool {
	if i := bytes.IndexByte(value, 0); i >= 0 {
		value = value[:i]
	}
	switch kind {
	case MatchKey:
		_, ok := l.Lookup(value)
		return ok
	case NotMatchKey:
		_, ok := l.Lookup(value)
		return !ok
	case MatchKeyValue:
		v, ok := l.Lookup(value)
		return ok && checkValue != nil && checkValue(v)
	case AddressMatchKey:
		_, ok := l.lookupAddress(value)
		return ok
	case NotAddressMatchKey:
		_, ok := l.lookupAddress(value)
		return !ok
	case AddressMatchKeyValue:
		v, ok := l.lookupAddress(value)
		return !ok || checkValue == nil || !checkValue(v)
	}
	return false
}

// lookupAddress finds the value itself as a key or, failing that, the longest prefix
// of it that ends with '.' and is a key. Any '.' counts, not only the ones between
// octets, and there is no CIDR or IPv6 handling: this is what Wazuh does.
func (l *List) lookupAddress(value []byte) ([]byte, bool) {
	if v, ok := l.Lookup(value); ok {
		return v, true
	}
	for i := len(value) - 1; i >= 0; i-- {
		if value[i] != '.' {
			continue
		}
		if v, ok := l.Lookup(value[:i+1]); ok {
			return v, true
		}
	}
	return nil, false
}
