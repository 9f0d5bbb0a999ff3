// Package mitre resolves MITRE ATT&CK Enterprise v13.1 technique and tactic ids to names,
// and builds a rule's rule.mitre block the way Wazuh 4.14's analysisd does.
//
// The tables in table_gen.go are generated from MITRE's data; see README.md for the
// notice that goes with them.
package mitre

import "fmt"

//go:generate go run ./gen -attack ../../../shared/corpus/mitre/enterprise-attack-v13.1.tsv -tactics ../../../shared/corpus/mitre/enterprise-tactics-v13.1.tsv -o table_gen.go

// Mitre is the rule.mitre block of an alert: technique ids, tactic names and technique
// names, each in the order Wazuh emits them.
type Mitre struct {
	ID, Tactic, Technique []string
}

// TechniqueName returns the name of the technique with the given id (such as "T1078"
// or "T1078.004"). Deprecated and revoked techniques are known too, because Wazuh
// resolves them. Ids are case-sensitive.
func TechniqueName(id string) (string, bool) {
	name, _, ok := techniqueByID(id)
	return name, ok
}

// TacticName returns the name of the tactic with the given id (such as "TA0001").
// Ids are case-sensitive.
func TacticName(id string) (string, bool) {
	return tacticByID(id)
}

// ResolveIDs builds rule.mitre for the old declaration form <mitre><id>T…</id></mitre>.
// ID is the declared ids verbatim, unknown ones included. Tactic is the union of the
// tactic names of the known techniques, taken technique by technique in declaration
// order and, within a technique, in ATT&CK kill-chain order, keeping the first
// occurrence of each name. Technique holds one name per known id, in declaration
// order, without de-duplication (Wazuh does none in this form). ok is false when no
// tactic resolves; Wazuh then leaves rule.mitre out of the alert.
//
// The result depends only on ids, so callers should resolve once per rule at load time.
func ResolveIDs(ids []string) (m Mitre, ok bool) {
	m.ID = append([]string(nil), ids...)
	m.Technique = make([]string, 0, len(ids))
	for _, id := range ids {
		name, tactics, found := techniqueByID(id)
		if !found {
			continue
		}
		for i := 0; i < len(tactics); i++ {
			_, tname := tacticByIndex(tactics[i])
			m.Tactic = appendUnique(m.Tactic, tname)
		}
		m.Technique = append(m.Technique, name)
	}
	return m, len(m.Tactic) > 0
}

// ResolvePairs builds rule.mitre for the pair form
// <mitre><tacticID>TA…</tacticID><techniqueID>T…</techniqueID></mitre>, each pair
// given as {tacticID, techniqueID}. A pair counts only when the technique exists and
// lists that tactic; it then adds the tactic's name (once) and, unless a technique of
// the same name is already present, the technique's id and name. Every pair that does
// not count yields a warning, as Wazuh logs one. ok is false when no tactic resolves.
func ResolvePairs(pairs [][2]string) (m Mitre, ok bool, warnings []string) {
	for _, p := range pairs {
		tacticID, techID := p[0], p[1]
		name, tactics, found := techniqueByID(techID)
		if !found {
			warnings = append(warnings, fmt.Sprintf("mitre technique ID %q not found in database", techID))
			continue
		}
		listed := false
		for i := 0; i < len(tactics); i++ {
			id, tname := tacticByIndex(tactics[i])
			if id == tacticID {
				listed = true
				m.Tactic = appendUnique(m.Tactic, tname)
				break
			}
		}
		if !listed {
			warnings = append(warnings, fmt.Sprintf("mitre tactic ID %q is not a tactic of %q", tacticID, techID))
			continue
		}
		// Wazuh de-duplicates by technique name, not id, so two techniques that share a
		// name (say, a revoked id and its successor) contribute only the first id.
		if !contains(m.Technique, name) {
			m.ID = append(m.ID, techID)
			m.Technique = append(m.Technique, name)
		}
	}
	return m, len(m.Tactic) > 0, warnings
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func appendUnique(list []string, s string) []string {
	if contains(list, s) {
		return list
	}
	return append(list, s)
}
