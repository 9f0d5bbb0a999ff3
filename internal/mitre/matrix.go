package mitre

import "strings"

// Version is the ATT&CK Enterprise release the tables hold.
const Version = "13.1"

// killChain is the Enterprise matrix's tactic order (its x_mitre_tactic_refs),
// which the source tables do not carry: they list tactics by id.
var killChain = [...]string{
	"TA0043", // Reconnaissance
	"TA0042", // Resource Development
	"TA0001", // Initial Access
	"TA0002", // Execution
	"TA0003", // Persistence
	"TA0004", // Privilege Escalation
	"TA0005", // Defense Evasion
	"TA0006", // Credential Access
	"TA0007", // Discovery
	"TA0008", // Lateral Movement
	"TA0009", // Collection
	"TA0011", // Command and Control
	"TA0010", // Exfiltration
	"TA0040", // Impact
}

// MatrixTactic is one column of the ATT&CK matrix.
type MatrixTactic struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Techniques []MatrixTechnique `json:"techniques"`
}

// MatrixTechnique is a technique or sub-technique under a tactic. Parent is
// the technique a sub-technique belongs to ("" for a technique).
type MatrixTechnique struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Parent string `json:"parent,omitempty"`
}

// Matrix returns the Enterprise matrix: tactics in kill-chain order, each with
// the techniques and sub-techniques that list it and are neither deprecated
// nor revoked, in id order (a sub-technique right after its parent). Each call
// builds a new value, which the caller may keep or change.
func Matrix() []MatrixTactic {
	out := make([]MatrixTactic, 0, len(killChain))
	for _, tid := range killChain {
		name, _ := tacticByID(tid)
		out = append(out, MatrixTactic{ID: tid, Name: name, Techniques: []MatrixTechnique{}})
	}
	for _, id := range activeTechniques {
		name, tactics, _ := techniqueByID(id)
		parent, _, _ := strings.Cut(id, ".")
		if parent == id {
			parent = ""
		}
		for i := 0; i < len(tactics); i++ {
			tid, _ := tacticByIndex(tactics[i])
			for j := range out {
				if out[j].ID == tid {
					out[j].Techniques = append(out[j].Techniques, MatrixTechnique{ID: id, Name: name, Parent: parent})
				}
			}
		}
	}
	return out
}
