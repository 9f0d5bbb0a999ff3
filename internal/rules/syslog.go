package rules

// Syslog pre-decoding: the header shapes Wazuh recognises by fixed byte positions.
// Only the common shapes are implemented so far; the rest arrive with the agent work.

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func at(b []byte, i int, c byte) bool { return i < len(b) && b[i] == c }

// syslogHeaderLen returns the length of a recognised timestamp header including its
// trailing space (and one extra space if present), or 0.
func syslogHeaderLen(b []byte) int {
	n := 0
	switch {
	case len(b) > 16 && at(b, 3, ' ') && at(b, 6, ' ') && at(b, 9, ':') && at(b, 12, ':') && at(b, 15, ' '):
		n = 16 // "Mmm dd hh:mm:ss "
	case len(b) > 24 && at(b, 4, '-') && at(b, 7, '-') && at(b, 10, ' ') && at(b, 13, ':') && at(b, 16, ':') && at(b, 19, ',') && at(b, 23, ' '):
		n = 24 // "YYYY-MM-DD hh:mm:ss,mmm "
	case len(b) > 26 && at(b, 4, '-') && at(b, 7, '-') && at(b, 10, 'T') && at(b, 13, ':') && at(b, 16, ':') && at(b, 22, ':') && at(b, 25, ' '):
		n = 26 // "YYYY-MM-DDThh:mm:ss+hh:mm "
	case len(b) > 30 && at(b, 4, '-') && at(b, 7, '-') && at(b, 10, 'T') && at(b, 19, '.') && at(b, 26, ':') && at(b, 29, ' '):
		n = 30 // "...ss.fff+hh:mm "
	case len(b) > 33 && at(b, 4, '-') && at(b, 7, '-') && at(b, 10, 'T') && at(b, 19, '.') && at(b, 29, ':') && at(b, 32, ' '):
		n = 33 // "...ss.ffffff+hh:mm "
	case len(b) > 33 && at(b, 4, '-') && at(b, 7, '-') && at(b, 10, 'T') && at(b, 13, ':') && at(b, 16, ':') && at(b, 19, '.'):
		n = 32 // other ISO forms: Wazuh skips 32 bytes blindly
	case len(b) > 21 && isDigit(b[0]) && at(b, 4, ' ') && at(b, 8, ' ') && at(b, 11, ' ') && at(b, 14, ':') && at(b, 17, ':') && at(b, 20, ' '):
		n = 21 // "YYYY Mmm dd hh:mm:ss "
	case len(b) > 32 && at(b, 4, '-') && at(b, 7, '-') && at(b, 10, ' ') && at(b, 13, ':') && at(b, 16, ':') && at(b, 19, '.') && at(b, 31, ' '):
		n = 32 // "YYYY-MM-DD hh:mm:ss.ffffff+hhmm "
	default:
		return 0
	}
	if at(b, n, ' ') {
		n++
	}
	return n
}

func isHostByte(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) ||
		c == '(' || c == ')' || c == '@' || c == '/' || c == '.' || c == '_' || c == '-'
}

// splitHost reads the host token after the timestamp. ok is false when the token is
// not followed by a space or ':'.
func splitHost(b []byte) (host, rest []byte, ok bool) {
	i := 0
	for i < len(b) && isHostByte(b[i]) {
		i++
	}
	if i == 0 || i >= len(b) {
		return nil, nil, false
	}
	if b[i] == ':' {
		return b[:i], b[i:], true
	}
	if b[i] != ' ' {
		return nil, nil, false
	}
	return b[:i], b[i+1:], true
}

// splitProgram reads "prog:", "prog[pid]:" or "prog[pid] " at the start of b.
func splitProgram(b []byte) (prog, body []byte, ok bool) {
	i := 0
	for i < len(b) && isHostByte(b[i]) {
		i++
	}
	if i == 0 || i >= len(b) {
		return nil, nil, false
	}
	prog = b[:i]
	switch b[i] {
	case ':':
		i++
	case '[':
		j := i + 1
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		if j == i+1 || !at(b, j, ']') {
			return nil, nil, false
		}
		j++
		if at(b, j, ':') {
			j++
		} else if !at(b, j, ' ') {
			return nil, nil, false
		}
		i = j
	default:
		return nil, nil, false
	}
	if at(b, i, ' ') {
		i++
	}
	body = stripSolarisID(b[i:])
	return prog, body, true
}

// stripSolarisID removes a leading "[ID n fac.sev] " tag.
func stripSolarisID(b []byte) []byte {
	if len(b) < 5 || string(b[:4]) != "[ID " {
		return b
	}
	for i := 4; i < len(b); i++ {
		if b[i] == ']' {
			if at(b, i+1, ' ') {
				return b[i+2:]
			}
			return b[i+1:]
		}
	}
	return b
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return len(b) > 0
}

// noHostHeaderLen recognises the time prefixes Wazuh strips without looking for a
// host: Apache error logs ("[Www Mmm dd hh:mm:ss yyyy] ") and Squid's epoch
// ("1140701044.525   "); it returns the prefix length with its spaces, or 0.
func noHostHeaderLen(b []byte) int {
	switch {
	case len(b) > 27 && b[0] == '[' && at(b, 4, ' ') && at(b, 8, ' ') && at(b, 11, ' ') &&
		at(b, 14, ':') && at(b, 17, ':') && at(b, 20, ' ') && at(b, 25, ']') && at(b, 26, ' '):
		return 27
	case len(b) > 15 && allDigits(b[:10]) && b[10] == '.' && allDigits(b[11:14]) && b[14] == ' ':
		n := 14
		for n < len(b) && b[n] == ' ' {
			n++
		}
		return n
	}
	return 0
}
