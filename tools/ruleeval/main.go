// Command ruleeval measures a ruleset on the shared corpus: which ATT&CK techniques
// the attack-simulation CloudTrail logs (invictus-ir-aws-dataset) raise at level 7 or
// more, and what fraction of the benign samples (aws-centralized-logging, plaso,
// cloud-custodian, ...) go above level 6. It reads the events as Wazuh's modules
// shape them (the oracle event sets, with their provenance). Not shipped.
//
//	go run ./tools/ruleeval [-shared ../shared] [-rules builtin] [-v]
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/skywatch-dev/skywatch/internal/event"
	"github.com/skywatch-dev/skywatch/internal/rules"
	"github.com/skywatch-dev/skywatch/internal/rules/wazuhxml"
	"github.com/skywatch-dev/skywatch/internal/ruleset"
)

var sets = []struct{ name, location string }{
	{"aws-cloudtrail-public", "Wazuh-AWS"},
	{"aws-other-public", "Wazuh-AWS"},
	{"gcp-public", "Wazuh-GCloud"},
	{"azure-public", "Azure"},
}

// attackCorpus holds the attack simulations; everything else counts as benign.
const attackCorpus = "invictus-ir-aws-dataset/"

func main() {
	shared := flag.String("shared", "../shared", "the shared folder")
	rulesPath := flag.String("rules", "builtin", "rules to evaluate")
	verbose := flag.Bool("v", false, "list benign events above level 6 and attack alerts")
	flag.Parse()
	rs, err := wazuhxml.Load([]string{*rulesPath}, rules.Options{ManagerName: "eval"}, ruleset.FS())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	eng := rules.NewEngine(rs, rules.EngineOptions{})
	m := eng.NewMatcher()
	techniques := map[string]map[string]int{} // technique -> rule -> count
	benign := map[string][2]int{}             // corpus -> (above 6, total)
	for _, set := range sets {
		dir := filepath.Join(*shared, "corpus", "wazuh-oracle")
		events := lines(filepath.Join(dir, set.name+".events.jsonl"))
		prov := lines(filepath.Join(dir, set.name+".provenance.jsonl"))
		for i, ev := range events {
			var p struct{ Source string }
			if i < len(prov) {
				json.Unmarshal([]byte(prov[i]), &p)
			}
			e := event.Event{Log: []byte(ev), Location: set.location, AgentID: "000", Received: time.Now()}
			res := m.Process(&e)
			level := 0
			if res.Rule != nil {
				level = res.Rule.Level
			}
			corpus := strings.SplitN(p.Source, "/", 2)[0]
			if strings.HasPrefix(p.Source, attackCorpus) {
				if level >= 7 {
					a := m.Alert(res)
					ids := []string{"(none)"}
					if a.Rule.Mitre != nil {
						ids = a.Rule.Mitre.ID
					}
					for _, id := range ids {
						if techniques[id] == nil {
							techniques[id] = map[string]int{}
						}
						techniques[id][a.Rule.ID+" "+a.Rule.Description]++
					}
				}
				continue
			}
			c := benign[corpus]
			c[1]++
			if level > 6 {
				c[0]++
				if *verbose {
					a := m.Alert(res)
					fmt.Printf("benign above 6: %s rule %s level %d %s\n", p.Source, a.Rule.ID, a.Rule.Level, a.Rule.Description)
				}
			}
			benign[corpus] = c
		}
	}
	fmt.Println("Attack simulation (invictus-ir-aws-dataset): ATT&CK techniques raised at level >= 7")
	var ids []string
	for id := range techniques {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		total := 0
		var rulesHit []string
		for r, n := range techniques[id] {
			total += n
			rulesHit = append(rulesHit, fmt.Sprintf("%s (%d)", r, n))
		}
		sort.Strings(rulesHit)
		fmt.Printf("  %-10s %5d alerts", id, total)
		if *verbose {
			fmt.Printf("  %s", strings.Join(rulesHit, "; "))
		}
		fmt.Println()
	}
	fmt.Println("Benign samples above level 6:")
	var corpora []string
	for c := range benign {
		corpora = append(corpora, c)
	}
	sort.Strings(corpora)
	above, total := 0, 0
	for _, c := range corpora {
		v := benign[c]
		above += v[0]
		total += v[1]
		fmt.Printf("  %-45s %4d / %5d\n", c, v[0], v[1])
	}
	if total > 0 {
		fmt.Printf("  %-45s %4d / %5d = %.2f%%\n", "all", above, total, 100*float64(above)/float64(total))
	}
}

func lines(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}
