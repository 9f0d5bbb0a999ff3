package mitre

import (
	"strings"
	"testing"
)

func TestMatrix(t *testing.T) {
	m := Matrix()
	if len(m) != tacticCount || len(killChain) != tacticCount {
		t.Fatalf("%d tactics in the matrix, %d in kill-chain order, %d in the table", len(m), len(killChain), tacticCount)
	}
	if m[0].ID != "TA0043" || m[0].Name != "Reconnaissance" || m[2].Name != "Initial Access" ||
		m[11].Name != "Command and Control" || m[13].Name != "Impact" {
		t.Errorf("not in kill-chain order: %s, %s, %s, %s", m[0].Name, m[2].Name, m[11].Name, m[13].Name)
	}
	seenTactic := map[string]bool{}
	listed := map[string]bool{}
	for _, tac := range m {
		if seenTactic[tac.ID] {
			t.Errorf("tactic %s twice", tac.ID)
		}
		seenTactic[tac.ID] = true
		if name, ok := TacticName(tac.ID); !ok || name != tac.Name || len(tac.Techniques) == 0 {
			t.Errorf("tactic %s %q: table says %q, %d techniques", tac.ID, tac.Name, name, len(tac.Techniques))
		}
		prev := ""
		for _, tech := range tac.Techniques {
			listed[tech.ID] = true
			if tech.ID <= prev {
				t.Errorf("%s: %s after %s", tac.Name, tech.ID, prev)
			}
			prev = tech.ID
			if name, _ := TechniqueName(tech.ID); name != tech.Name {
				t.Errorf("%s named %q, table %q", tech.ID, tech.Name, name)
			}
			if p, _, sub := strings.Cut(tech.ID, "."); sub != (tech.Parent != "") || (sub && p != tech.Parent) {
				t.Errorf("%s: parent %q", tech.ID, tech.Parent)
			}
		}
	}
	// Valid Accounts and its Cloud Accounts sub-technique are under Initial
	// Access, among others; revoked (T1004) and deprecated (T1026) ones are not.
	find := func(tactic, id string) *MatrixTechnique {
		for _, tac := range m {
			if tac.Name == tactic {
				for i := range tac.Techniques {
					if tac.Techniques[i].ID == id {
						return &tac.Techniques[i]
					}
				}
			}
		}
		return nil
	}
	if v := find("Initial Access", "T1078"); v == nil || v.Name != "Valid Accounts" || v.Parent != "" {
		t.Errorf("T1078 under Initial Access: %+v", v)
	}
	if v := find("Privilege Escalation", "T1078.004"); v == nil || v.Parent != "T1078" || v.Name != "Cloud Accounts" {
		t.Errorf("T1078.004 under Privilege Escalation: %+v", v)
	}
	for _, id := range []string{"T1004", "T1026", "T1002"} {
		if listed[id] {
			t.Errorf("%s is revoked or deprecated but listed", id)
		}
	}
	if len(listed) != len(activeTechniques) {
		t.Errorf("%d techniques listed, %d active", len(listed), len(activeTechniques))
	}
	// Each call is a value of its own.
	m[0].Techniques[0].Name = "changed"
	if Matrix()[0].Techniques[0].Name == "changed" {
		t.Error("Matrix shares its result between calls")
	}
}
