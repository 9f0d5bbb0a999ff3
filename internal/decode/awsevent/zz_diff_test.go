package awsevent

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"
)

func TestZZDiff(t *testing.T) {
	in, err := os.Open(os.Getenv("CASES"))
	if err != nil {
		t.Skip()
	}
	out, _ := os.Create(os.Getenv("GOT"))
	defer out.Close()
	w := bufio.NewWriter(out)
	defer w.Flush()
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		var c struct{ Record, Log_file, Bucket, Acct, Alias string }
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		got, err := AppendCloudTrail(nil, []byte(c.Record), LogInfo{c.Alias, c.Log_file, c.Bucket}, c.Acct)
		if err != nil {
			w.WriteString("ERROR\n")
			continue
		}
		if !json.Valid(got) {
			t.Errorf("invalid JSON output: %s", got)
		}
		w.Write(got)
		w.WriteString("\n")
	}
}

func TestZZFastShare(t *testing.T) {
	in, err := os.Open(os.Getenv("CASES"))
	if err != nil {
		t.Skip()
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, 1<<26)
	var enc Encoder
	n, fast := 0, 0
	for sc.Scan() {
		var c struct{ Record, Log_file, Bucket, Acct, Alias string }
		json.Unmarshal(sc.Bytes(), &c)
		n++
		if _, ok := enc.fastCloudTrail(nil, []byte(c.Record), LogInfo{}, ""); ok {
			fast++
		}
	}
	t.Logf("fast path took %d of %d", fast, n)
}
