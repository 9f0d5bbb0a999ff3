package rules

import (
	"bytes"
	"net/netip"
)

// Expr is a compiled pattern of one of Wazuh's dialects (OS_Match, OS_Regex, PCRE2
// or exact string).
type Expr interface {
	Match(s []byte) bool
}

// CaptureExpr is a pattern that also returns captures and the position where the
// match ended (Wazuh's return position, used for decoder offsets).
type CaptureExpr interface {
	Expr
	Captures(s []byte, dst [][]byte) (caps [][]byte, last int, ok bool)
	// Exec matches without capture mode and returns the return position.
	Exec(s []byte) (last int, ok bool)
}

// ExactString is Wazuh's "string" expression type: exact, case-sensitive equality.
type ExactString string

// Match reports whether s equals the string exactly.
func (e ExactString) Match(s []byte) bool { return string(s) == string(e) }

// condKind names what a rule condition tests.
type condKind uint8

const (
	cDecodedAs condKind = iota
	cProgramName
	cStatic // one of the static fields, matched with an expression
	cMatch
	cRegex
	cLocation
	cField
	cSrcIP
	cDstIP
	cUser
	cGeoIP // srcgeoip/dstgeoip: never present on cloud events
	cMaxSize
	cTime
	cWeekday
	cHostname
	cCompiled // a <compiled_rule> function
	cCheckDiff
)

// cond is one compiled rule condition.
type cond struct {
	kind      condKind
	negate    bool
	expr      Expr
	static    StaticField
	slot      int32
	decoderID int
	ips       []netip.Prefix
	n         int
	tr        *timeRange
	wd        weekdays
	compiled  func(*decoded) bool
}

// IPCondition parses one <srcip>/<dstip> element as Wazuh does: "any", a v4 or v6
// address with an optional /bits or v4 netmask. A leading '!' is ignored, as in Wazuh.
func parseIPElement(s string) (netip.Prefix, bool) {
	s = trimBang(s)
	if s == "any" {
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0), true
	}
	addr, mask, hasMask := cut(s, '/')
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.Prefix{}, false
	}
	ip = ip.Unmap()
	bits := ip.BitLen()
	if hasMask {
		if m, err := netip.ParseAddr(mask); err == nil && m.Is4() && ip.Is4() {
			bits = maskBits(m)
			if bits < 0 {
				return netip.Prefix{}, false
			}
		} else {
			n, ok := atoi(mask)
			if !ok || n < 0 || n > ip.BitLen() {
				return netip.Prefix{}, false
			}
			bits = n
		}
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return netip.Prefix{}, false
	}
	return p, true
}

func trimBang(s string) string {
	for len(s) > 0 && s[0] == '!' {
		s = s[1:]
	}
	return s
}

func cut(s string, sep byte) (string, string, bool) {
	if i := bytes.IndexByte([]byte(s), sep); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

func maskBits(m netip.Addr) int {
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := 0
	for v&0x80000000 != 0 {
		n++
		v <<= 1
	}
	if v != 0 {
		return -1
	}
	return n
}

func atoi(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// matchIP reports whether the event value is a strict IP address inside one of the
// prefixes. Values such as "10.0.0.1:80" never match, as in Wazuh.
func matchIP(prefixes []netip.Prefix, v []byte) bool {
	ip, err := netip.ParseAddr(string(v))
	if err != nil || ip.Zone() != "" {
		return false
	}
	for _, p := range prefixes {
		if p.Addr().Is4() != ip.Is4() {
			continue
		}
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
