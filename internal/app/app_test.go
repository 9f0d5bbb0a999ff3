package app

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skywatch-dev/skywatch/internal/config"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// quickstartConfig is examples/quickstart.yaml with its outputs moved to a temp dir.
func quickstartConfig(t *testing.T) (*config.Config, string) {
	t.Helper()
	tmp := t.TempDir()
	logs := filepath.Join(repoRoot(t), "examples", "logs")
	text := "data_dir: " + tmp + "/var\nrules: [builtin]\noutputs:\n  - type: file\n    path: " + tmp +
		"/alerts.json\nsources:\n  - name: demo\n    type: local\n    path: " + logs + "\n    log_type: cloudtrail\n"
	p := filepath.Join(tmp, "c.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	return cfg, filepath.Join(tmp, "alerts.json")
}

func readAlerts(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var a map[string]any
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("alerts.json line is not JSON: %v", err)
		}
		out = append(out, a)
	}
	return out
}

func TestRunOnceQuickstartThenNothingNew(t *testing.T) {
	cfg, alertsPath := quickstartConfig(t)
	sum, err := Run(context.Background(), cfg, Options{Once: true})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Events != 128 {
		t.Fatalf("read %d events, want the 128 example records", sum.Events)
	}
	alerts := readAlerts(t, alertsPath)
	if int64(len(alerts)) != sum.Alerts || len(alerts) == 0 {
		t.Fatalf("%d alerts in the file, summary says %d", len(alerts), sum.Alerts)
	}
	ids := map[string]bool{}
	found := false
	for _, a := range alerts {
		id := a["id"].(string)
		if ids[id] {
			t.Fatalf("duplicate alert id %s", id)
		}
		ids[id] = true
		rule := a["rule"].(map[string]any)
		if rule["id"] == "300001" {
			found = true
			data := a["data"].(map[string]any)["aws"].(map[string]any)
			if data["eventName"] != "StopLogging" && data["eventName"] != "DeleteTrail" {
				t.Errorf("300001 on %v", data["eventName"])
			}
			if data["readOnly"] != false {
				t.Errorf("data lost its JSON types: readOnly = %#v", data["readOnly"])
			}
		}
	}
	if !found {
		t.Error("no trail-disabled alert (300001) from the example logs")
	}
	sum2, err := Run(context.Background(), cfg, Options{Once: true})
	if err != nil {
		t.Fatal(err)
	}
	if sum2.Events != 0 || len(readAlerts(t, alertsPath)) != len(alerts) {
		t.Fatalf("second run read %d events and the file has %d alerts; want nothing new", sum2.Events, len(readAlerts(t, alertsPath)))
	}
}

func TestReplayGivesSameAlertIDs(t *testing.T) {
	cfg, alertsPath := quickstartConfig(t)
	if _, err := Run(context.Background(), cfg, Options{Once: true}); err != nil {
		t.Fatal(err)
	}
	first := readAlerts(t, alertsPath)
	// Forget the checkpoints and replay: ids must repeat exactly.
	if err := os.Remove(filepath.Join(cfg.DataDir, "state.db")); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), cfg, Options{Once: true}); err != nil {
		t.Fatal(err)
	}
	all := readAlerts(t, alertsPath)
	firstIDs := map[string]bool{}
	for _, a := range first {
		firstIDs[a["id"].(string)] = true
	}
	for _, a := range all[len(first):] {
		if !firstIDs[a["id"].(string)] {
			t.Fatalf("replay produced a new alert id %s", a["id"])
		}
	}
	if len(all) != 2*len(first) {
		t.Fatalf("replay wrote %d alerts, want %d", len(all)-len(first), len(first))
	}
}

// Every example configuration loads, validates and builds.
func TestExamplesValidate(t *testing.T) {
	matches, err := filepath.Glob(filepath.Join(repoRoot(t), "examples", "*.yaml"))
	if err != nil || len(matches) == 0 {
		t.Fatalf("no example configs found: %v", err)
	}
	for _, p := range matches {
		t.Run(filepath.Base(p), func(t *testing.T) {
			cfg, err := config.Load(p)
			if err == nil {
				err = cfg.Validate()
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := LoadRules(cfg); err != nil {
				t.Fatal(err)
			}
			// Build against a temp data dir so the test leaves nothing behind.
			cfg.DataDir = t.TempDir()
			for i := range cfg.Outputs {
				cfg.Outputs[i].BaseDir = t.TempDir()
			}
			outs, srcs, err := build(cfg, Env{})
			for _, o := range outs {
				o.Sink.Close()
			}
			if err != nil && !strings.Contains(err.Error(), "path") {
				t.Fatal(err)
			}
			if len(srcs) != len(cfg.Sources) {
				t.Fatalf("%d of %d sources built", len(srcs), len(cfg.Sources))
			}
		})
	}
}

func TestUnknownTypesReported(t *testing.T) {
	cfg, err := config.Parse("x.yaml", []byte("outputs:\n  - type: nosuch\nsources:\n  - name: a\n    type: nosuchsource\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = build(cfg, Env{})
	if err == nil || !strings.Contains(err.Error(), "x.yaml:2") || !strings.Contains(err.Error(), "x.yaml:4") {
		t.Fatalf("build error %v, want both unknown types with file:line", err)
	}
}

// An archives output records every event, without a rule, beside the alerts.
func TestArchivesOutputRecordsEveryEvent(t *testing.T) {
	cfg, alertsPath := quickstartConfig(t)
	archPath := filepath.Join(filepath.Dir(alertsPath), "archives.json")
	text := "data_dir: " + cfg.DataDir + "\noutputs:\n  - type: file\n    path: " + alertsPath +
		"\n  - type: archives\n    path: " + archPath + "\nsources:\n  - name: demo\n    type: local\n    path: " +
		filepath.Join(repoRoot(t), "examples", "logs") + "\n    log_type: cloudtrail\n"
	c, err := config.Parse("c.yaml", []byte(text))
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Run(context.Background(), c, Options{Once: true})
	if err != nil {
		t.Fatal(err)
	}
	arch := readAlerts(t, archPath)
	if len(arch) != int(sum.Events) || sum.Events != 128 {
		t.Fatalf("%d archive records for %d events", len(arch), sum.Events)
	}
	ids := map[string]bool{}
	for _, a := range arch {
		if _, ok := a["rule"]; ok {
			t.Fatalf("archive record has a rule section: %v", a)
		}
		if a["full_log"] == "" || a["location"] == nil || a["data"] == nil {
			t.Fatalf("archive record lacks the event: %v", a)
		}
		ids[a["id"].(string)] = true
	}
	if len(ids) != len(arch) {
		t.Fatalf("archive ids repeat: %d distinct of %d", len(ids), len(arch))
	}
	if n := len(readAlerts(t, alertsPath)); int64(n) != sum.Alerts || n >= len(arch) {
		t.Fatalf("alerts file has %d, summary %d, archives %d", n, sum.Alerts, len(arch))
	}
}
