package cdb

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// ImportOptions say how to read an address feed.
type ImportOptions struct {
	// CSV reads the input as CSV; otherwise it is one address or CIDR per line,
	// with '#' comments.
	CSV bool
	// Column picks the CSV column holding the address: a 1-based number or a header
	// name (which makes the first row a header). Default: the first column.
	Column string
	// ValueColumn, when set, takes each entry's value from that CSV column.
	ValueColumn string
	// Value is the value written for every entry without a ValueColumn (default
	// "imported").
	Value string
}

// ImportReport counts what an import did.
type ImportReport struct {
	Entries  int      // keys written
	Expanded int      // CIDRs written as several prefix keys
	Skipped  []string // input lines not used, with the reason
}

// ImportAddresses reads IPv4/IPv6 addresses and IPv4 CIDRs from a threat-intel feed
// and writes a CDB text list for <list lookup="address_match_key">: single
// addresses as exact keys, CIDRs as the dotted prefixes the lookup understands
// ("10.0.0." for a /24). A CIDR whose length is not a multiple of 8 is expanded into
// the prefixes of the next multiple of 8 it covers (at most 128 keys); ranges wider
// than a /8 are refused as almost certainly a feed error.
func ImportAddresses(in io.Reader, name string, out io.Writer, opt ImportOptions) (ImportReport, error) {
	if opt.Value == "" {
		opt.Value = "imported"
	}
	var rep ImportReport
	keys := map[string]string{}
	add := func(line int, addr, value string) {
		k, exp, err := addressKeys(strings.TrimSpace(addr))
		if err != nil {
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("%s:%d: %v", name, line, err))
			return
		}
		if exp {
			rep.Expanded++
		}
		for _, key := range k {
			if _, dup := keys[key]; !dup {
				keys[key] = value
			}
		}
	}
	var err error
	if opt.CSV {
		err = readCSV(in, name, opt, add)
	} else {
		err = readPlain(in, opt.Value, add)
	}
	if err != nil {
		return rep, err
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	w := bufio.NewWriter(out)
	for _, k := range sorted {
		// Keys holding ':' (IPv6) must be quoted in the list format.
		if strings.Contains(k, ":") {
			fmt.Fprintf(w, "%q:%s\n", k, sanitizeValue(keys[k]))
		} else {
			fmt.Fprintf(w, "%s:%s\n", k, sanitizeValue(keys[k]))
		}
	}
	rep.Entries = len(sorted)
	return rep, w.Flush()
}

func sanitizeValue(v string) string {
	v = strings.NewReplacer("\n", " ", "\r", " ", `"`, "'").Replace(v)
	if v == "" {
		return "imported"
	}
	return v
}

func readPlain(in io.Reader, value string, add func(int, string, string)) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		add(n, fields[0], value)
	}
	return sc.Err()
}

func readCSV(in io.Reader, name string, opt ImportOptions, add func(int, string, string)) error {
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	r.Comment = '#'
	addrCol, valCol := 0, -1
	header := false
	if opt.Column != "" {
		if n, err := strconv.Atoi(opt.Column); err == nil {
			addrCol = n - 1
		} else {
			header = true
		}
	}
	if opt.ValueColumn != "" {
		if n, err := strconv.Atoi(opt.ValueColumn); err == nil {
			valCol = n - 1
		} else {
			header = true
		}
	}
	for line := 1; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		if header {
			header = false
			if addrCol, err = columnIndex(rec, opt.Column, addrCol); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if opt.ValueColumn != "" {
				if valCol, err = columnIndex(rec, opt.ValueColumn, valCol); err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
			}
			continue
		}
		if addrCol < 0 || addrCol >= len(rec) {
			continue
		}
		value := opt.Value
		if valCol >= 0 && valCol < len(rec) {
			value = rec[valCol]
		}
		add(line, rec[addrCol], value)
	}
}

func columnIndex(header []string, want string, def int) (int, error) {
	if want == "" {
		return def, nil
	}
	if n, err := strconv.Atoi(want); err == nil {
		return n - 1, nil
	}
	for i, h := range header {
		if strings.EqualFold(strings.TrimSpace(h), want) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("no column %q in the header %v", want, header)
}

// addressKeys turns one address or CIDR into list keys.
func addressKeys(s string) (keys []string, expanded bool, err error) {
	if s == "" {
		return nil, false, errors.New("empty address")
	}
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return nil, false, fmt.Errorf("%q is not an IP address", s)
		}
		return []string{a.Unmap().String()}, false, nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return nil, false, fmt.Errorf("%q is not a CIDR", s)
	}
	p = p.Masked()
	if !p.Addr().Is4() {
		if p.Bits() == 128 {
			return []string{p.Addr().String()}, false, nil
		}
		return nil, false, fmt.Errorf("%s: IPv6 ranges cannot be listed (address lookups match IPv4 prefixes only)", s)
	}
	bits := p.Bits()
	if bits == 32 {
		return []string{p.Addr().String()}, false, nil
	}
	if bits < 8 {
		return nil, false, fmt.Errorf("%s: refusing a range wider than a /8", s)
	}
	octets := (bits + 7) / 8 // prefix length in whole octets, rounded up
	n := 1 << (octets*8 - bits)
	base := p.Addr().As4()
	start := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	step := uint32(1) << (32 - octets*8)
	for i := 0; i < n; i++ {
		v := start + uint32(i)*step
		parts := []uint32{v >> 24, v >> 16 & 255, v >> 8 & 255, v & 255}
		var b strings.Builder
		for j := 0; j < octets; j++ {
			b.WriteString(strconv.Itoa(int(parts[j])))
			b.WriteByte('.')
		}
		keys = append(keys, b.String())
	}
	return keys, n > 1 || bits%8 != 0, nil
}
