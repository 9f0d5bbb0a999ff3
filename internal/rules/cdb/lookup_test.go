package cdb

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseLookup(t *testing.T) {
	tests := []struct {
		in      string
		want    LookupKind
		wantErr bool
	}{
		{"match_key", MatchKey, false},
		{"not_match_key", NotMatchKey, false},
		{"match_key_value", MatchKeyValue, false},
		{"address_match_key", AddressMatchKey, false},
		{"not_address_match_key", NotAddressMatchKey, false},
		{"address_match_key_value", AddressMatchKeyValue, false},
		{"MATCH_KEY", MatchKey, false},
		{"Address_Match_Key_Value", AddressMatchKeyValue, false},
		{"", 0, true},
		{"match", 0, true},
		{" match_key", 0, true},
		{"match_key ", 0, true},
		{"match_\u212aey", 0, true}, // Kelvin sign folds to k in Unicode, not in strcasecmp
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseLookup(tc.in)
			if (err != nil) != tc.wantErr || (!tc.wantErr && got != tc.want) {
				t.Fatalf("ParseLookup(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "parse lookup") {
				t.Fatalf("error %q does not name the operation", err)
			}
		})
	}
}

func TestLookupKindString(t *testing.T) {
	for k := MatchKey; k <= AddressMatchKeyValue; k++ {
		back, err := ParseLookup(k.String())
		if err != nil || back != k {
			t.Errorf("ParseLookup(%q) = %v, %v; want %v", k.String(), back, err, k)
		}
	}
	if s := LookupKind(42).String(); s != "LookupKind(42)" {
		t.Errorf("String of an unknown kind = %q", s)
	}
}

// osMatch is a stand-in for a compiled check_value: case-insensitive substring.
func osMatch(pattern string) func([]byte) bool {
	return func(v []byte) bool {
		return bytes.Contains(bytes.ToLower(v), bytes.ToLower([]byte(pattern)))
	}
}

func TestCheck(t *testing.T) {
	l := mustParse(t, strings.Join([]string{
		"alice:admin",
		"bob:user",
		"10.0.0.:internal",
		"10.0.:wide",
		"10.0.0.7:host",
		"172.16:nodot",
		"192.168.1.1:exact-only",
		"a..:x",
		"a.:adot",
		"",
	}, "\n"))
	admin := osMatch("admin")
	internal := osMatch("internal")
	tests := []struct {
		name  string
		kind  LookupKind
		value string
		check func([]byte) bool
		want  bool
	}{
		{"match_key present", MatchKey, "alice", nil, true},
		{"match_key absent", MatchKey, "carol", nil, false},
		{"match_key is case-sensitive", MatchKey, "Alice", nil, false},
		{"match_key ignores check_value", MatchKey, "bob", admin, true},
		{"match_key value ends at NUL", MatchKey, "alice\x00junk", nil, true},
		{"not_match_key absent", NotMatchKey, "carol", nil, true},
		{"not_match_key present", NotMatchKey, "alice", nil, false},

		{"match_key_value matches", MatchKeyValue, "alice", admin, true},
		{"match_key_value value differs", MatchKeyValue, "bob", admin, false},
		{"match_key_value key absent", MatchKeyValue, "carol", admin, false},
		{"match_key_value without check_value never matches", MatchKeyValue, "alice", nil, false},

		{"address exact key", AddressMatchKey, "192.168.1.1", nil, true},
		{"address dotted prefix", AddressMatchKey, "10.0.0.99", nil, true},
		{"address shorter dotted prefix", AddressMatchKey, "10.0.5.5", nil, true},
		{"address prefix without trailing dot matches only itself", AddressMatchKey, "172.16.1.1", nil, false},
		{"address undotted key exact", AddressMatchKey, "172.16", nil, true},
		{"address exact-only key is no prefix", AddressMatchKey, "192.168.1.10", nil, false},
		{"address no match", AddressMatchKey, "8.8.8.8", nil, false},
		{"address any dot counts", AddressMatchKey, "a..bc", nil, true},
		{"address empty value", AddressMatchKey, "", nil, false},
		{"not_address no match", NotAddressMatchKey, "8.8.8.8", nil, true},
		{"not_address prefix match", NotAddressMatchKey, "10.0.0.99", nil, false},

		// The longest prefix wins: 10.0.0.99 finds "10.0.0." (internal), not "10.0." (wide).
		{"address_value inverted: longest prefix value matches", AddressMatchKeyValue, "10.0.0.99", internal, false},
		{"address_value inverted: longest prefix value differs", AddressMatchKeyValue, "10.0.0.99", osMatch("wide"), true},
		{"address_value inverted: shorter prefix used when longer absent", AddressMatchKeyValue, "10.0.9.9", osMatch("wide"), false},
		{"address_value inverted: exact key preferred to prefix", AddressMatchKeyValue, "10.0.0.7", osMatch("host"), false},
		{"address_value inverted: exact key value differs", AddressMatchKeyValue, "10.0.0.7", internal, true},
		{"address_value inverted: nothing found holds", AddressMatchKeyValue, "8.8.8.8", internal, true},
		{"address_value inverted: without check_value always holds", AddressMatchKeyValue, "10.0.0.99", nil, true},

		{"unknown kind never holds", LookupKind(99), "alice", nil, false},
		{"negative kind never holds", LookupKind(-1), "carol", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := l.Check(tc.kind, []byte(tc.value), tc.check); got != tc.want {
				t.Fatalf("Check(%v, %q) = %v; want %v", tc.kind, tc.value, got, tc.want)
			}
		})
	}
}

func BenchmarkLookup(b *testing.B) {
	l := mustParse(b, "alice:admin\nbob:user\n")
	key := []byte("alice")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := l.Lookup(key); !ok {
			b.Fatal("not found")
		}
	}
}

func BenchmarkCheckAddress(b *testing.B) {
	l := mustParse(b, "10.0.:net\n")
	value := []byte("10.0.200.17")
	b.ReportAllocs()
	for b.Loop() {
		if !l.Check(AddressMatchKey, value, nil) {
			b.Fatal("not found")
		}
	}
}

func BenchmarkParse(b *testing.B) {
	var sb strings.Builder
	for i := 0; i < 10000; i++ {
		sb.WriteString("key")
		sb.WriteString(strings.Repeat("x", i%13))
		sb.WriteString(":value\n")
	}
	text := sb.String()
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := Parse(strings.NewReader(text), "bench"); err != nil {
			b.Fatal(err)
		}
	}
}
