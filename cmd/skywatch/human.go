package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/skywatch-dev/skywatch/internal/alert"
	"github.com/skywatch-dev/skywatch/internal/rules"
)

// printHuman prints one logtest result in the three phases wazuh-logtest shows.
func printHuman(w io.Writer, m *rules.Matcher, res rules.Result, a *alert.Alert, verbose bool) {
	d := m.Decoded()
	fmt.Fprintf(w, "\n**Phase 1: Completed pre-decoding.\n\tfull event: '%s'\n", a.FullLogOr(d.Log))
	if d.ProgramName != "" {
		fmt.Fprintf(w, "\thostname: '%s'\n\tprogram_name: '%s'\n", d.Hostname, d.ProgramName)
	}
	if d.Decoder != "" {
		fmt.Fprintf(w, "\n**Phase 2: Completed decoding.\n\tname: '%s'\n", d.Decoder)
		if d.Parent != "" {
			fmt.Fprintf(w, "\tparent: '%s'\n", d.Parent)
		}
		for _, f := range d.Fields {
			fmt.Fprintf(w, "\t%s: '%s'\n", f.Name, f.Value)
		}
	}
	if res.Rule == nil {
		fmt.Fprintln(w)
		return
	}
	r := a.Rule
	fmt.Fprintf(w, "\n**Phase 3: Completed filtering (rules).\n\tid: '%s'\n\tlevel: '%d'\n\tdescription: '%s'\n", r.ID, r.Level, r.Description)
	fmt.Fprintf(w, "\tgroups: '%s'\n\tfiredtimes: '%d'\n\tmail: '%t'\n", strings.Join(r.Groups, "', '"), r.Firedtimes, r.Mail)
	for _, c := range r.Compliance {
		fmt.Fprintf(w, "\t%s: '%s'\n", c.Name, strings.Join(c.Values, "', '"))
	}
	if r.Mitre != nil {
		fmt.Fprintf(w, "\tmitre.id: '%s'\n\tmitre.tactic: '%s'\n\tmitre.technique: '%s'\n",
			strings.Join(r.Mitre.ID, "', '"), strings.Join(r.Mitre.Tactic, "', '"), strings.Join(r.Mitre.Technique, "', '"))
	}
	if res.Alert {
		fmt.Fprintln(w, "**Alert to be generated.")
	}
	fmt.Fprintln(w)
}
