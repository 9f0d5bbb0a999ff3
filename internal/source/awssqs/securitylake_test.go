package awssqs

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/parquet-go/parquet-go"

	"github.com/skywatch-dev/skywatch/internal/sharedcorpus"
	"github.com/skywatch-dev/skywatch/internal/source"
	"github.com/skywatch-dev/skywatch/internal/source/awss3"
)

// OCSF rows as Security Lake stores VPC flow logs (source version 1), with the
// members of the Wazuh ruleset test events; json tags read those events.
type ocsfEndpoint struct {
	Port            *int32   `json:"port" parquet:"port,optional"`
	SvcName         *string  `json:"svc_name" parquet:"svc_name,optional"`
	IP              *string  `json:"ip" parquet:"ip,optional"`
	IntermediateIPs []string `json:"intermediate_ips" parquet:"intermediate_ips,optional,list"`
	InterfaceUID    *string  `json:"interface_uid" parquet:"interface_uid,optional"`
	VpcUID          *string  `json:"vpc_uid" parquet:"vpc_uid,optional"`
	InstanceUID     *string  `json:"instance_uid" parquet:"instance_uid,optional"`
	SubnetUID       *string  `json:"subnet_uid" parquet:"subnet_uid,optional"`
}

type ocsfFlow struct {
	Metadata struct {
		Product struct {
			Version string `json:"version" parquet:"version"`
			Name    string `json:"name" parquet:"name"`
			Feature struct {
				Name string `json:"name" parquet:"name"`
			} `json:"feature" parquet:"feature"`
			VendorName string `json:"vendor_name" parquet:"vendor_name"`
		} `json:"product" parquet:"product"`
		Profiles []string `json:"profiles" parquet:"profiles,list"`
		Version  string   `json:"version" parquet:"version"`
	} `json:"metadata" parquet:"metadata"`
	Cloud struct {
		AccountUID string `json:"account_uid" parquet:"account_uid"`
		Region     string `json:"region" parquet:"region"`
		Zone       string `json:"zone" parquet:"zone"`
		Provider   string `json:"provider" parquet:"provider"`
	} `json:"cloud" parquet:"cloud"`
	SrcEndpoint    ocsfEndpoint `json:"src_endpoint" parquet:"src_endpoint"`
	DstEndpoint    ocsfEndpoint `json:"dst_endpoint" parquet:"dst_endpoint"`
	ConnectionInfo struct {
		ProtocolNum int32  `json:"protocol_num" parquet:"protocol_num"`
		TCPFlags    int32  `json:"tcp_flags" parquet:"tcp_flags"`
		ProtocolVer string `json:"protocol_ver" parquet:"protocol_ver"`
		Direction   string `json:"direction" parquet:"direction"`
		BoundaryID  int32  `json:"boundary_id" parquet:"boundary_id"`
		Boundary    string `json:"boundary" parquet:"boundary"`
		DirectionID int32  `json:"direction_id" parquet:"direction_id"`
	} `json:"connection_info" parquet:"connection_info"`
	Traffic struct {
		Packets int64 `json:"packets" parquet:"packets"`
		Bytes   int64 `json:"bytes" parquet:"bytes"`
	} `json:"traffic" parquet:"traffic"`
	// Security Lake 2 stores times as timestamps; the JSON is still epoch ms.
	Time         int64             `json:"time" parquet:"time,timestamp(millisecond)"`
	StartTime    int64             `json:"start_time" parquet:"start_time"`
	EndTime      int64             `json:"end_time" parquet:"end_time"`
	SeverityID   int32             `json:"severity_id" parquet:"severity_id"`
	Severity     string            `json:"severity" parquet:"severity"`
	ClassName    string            `json:"class_name" parquet:"class_name"`
	ClassUID     int32             `json:"class_uid" parquet:"class_uid"`
	CategoryName string            `json:"category_name" parquet:"category_name"`
	CategoryUID  int32             `json:"category_uid" parquet:"category_uid"`
	ActivityName string            `json:"activity_name" parquet:"activity_name"`
	ActivityID   int32             `json:"activity_id" parquet:"activity_id"`
	TypeUID      int64             `json:"type_uid" parquet:"type_uid"`
	TypeName     string            `json:"type_name" parquet:"type_name"`
	Unmapped     map[string]string `json:"-" parquet:"unmapped,optional"`
}

type ocsfDNS struct {
	Metadata struct {
		Product struct {
			Version string `json:"version" parquet:"version"`
			Name    string `json:"name" parquet:"name"`
			Feature struct {
				Name string `json:"name" parquet:"name"`
			} `json:"feature" parquet:"feature"`
			VendorName string `json:"vendor_name" parquet:"vendor_name"`
		} `json:"product" parquet:"product"`
		Profiles []string `json:"profiles" parquet:"profiles,list"`
		Version  string   `json:"version" parquet:"version"`
	} `json:"metadata" parquet:"metadata"`
	Cloud struct {
		AccountUID string `json:"account_uid" parquet:"account_uid"`
		Region     string `json:"region" parquet:"region"`
		Provider   string `json:"provider" parquet:"provider"`
	} `json:"cloud" parquet:"cloud"`
	SrcEndpoint struct {
		VpcUID      string `json:"vpc_uid" parquet:"vpc_uid"`
		IP          string `json:"ip" parquet:"ip"`
		Port        int32  `json:"port" parquet:"port"`
		InstanceUID string `json:"instance_uid" parquet:"instance_uid"`
	} `json:"src_endpoint" parquet:"src_endpoint"`
	Time  int64 `json:"time" parquet:"time"`
	Query struct {
		Hostname string `json:"hostname" parquet:"hostname"`
		Type     string `json:"type" parquet:"type"`
		Class    string `json:"class" parquet:"class"`
	} `json:"query" parquet:"query"`
	Rcode   string `json:"rcode" parquet:"rcode"`
	Answers []struct {
		Type  string `json:"type" parquet:"type"`
		Rdata string `json:"rdata" parquet:"rdata"`
		Class string `json:"class" parquet:"class"`
	} `json:"answers" parquet:"answers,list"`
	ConnectionInfo struct {
		ProtocolName string `json:"protocol_name" parquet:"protocol_name"`
		Direction    string `json:"direction" parquet:"direction"`
		DirectionID  int32  `json:"direction_id" parquet:"direction_id"`
	} `json:"connection_info" parquet:"connection_info"`
	DstEndpoint struct {
		InstanceUID  *string `json:"instance_uid" parquet:"instance_uid,optional"`
		InterfaceUID *string `json:"interface_uid" parquet:"interface_uid,optional"`
	} `json:"dst_endpoint" parquet:"dst_endpoint"`
	SeverityID   int32             `json:"severity_id" parquet:"severity_id"`
	Severity     string            `json:"severity" parquet:"severity"`
	ClassName    string            `json:"class_name" parquet:"class_name"`
	ClassUID     int32             `json:"class_uid" parquet:"class_uid"`
	CategoryName string            `json:"category_name" parquet:"category_name"`
	CategoryUID  int32             `json:"category_uid" parquet:"category_uid"`
	RcodeID      int32             `json:"rcode_id" parquet:"rcode_id"`
	ActivityID   int32             `json:"activity_id" parquet:"activity_id"`
	ActivityName string            `json:"activity_name" parquet:"activity_name"`
	TypeName     string            `json:"type_name" parquet:"type_name"`
	TypeUID      int64             `json:"type_uid" parquet:"type_uid"`
	Unmapped     map[string]string `json:"-" parquet:"unmapped,optional"`
}

// corpusRows returns the events of one product in Wazuh's Security Lake
// ruleset tests, as text and as rows; unmapped receives each event's unmapped
// pairs.
func corpusRows[T any](t *testing.T, product string, unmapped func(*T) *map[string]string) ([]string, []T) {
	t.Helper()
	f, err := os.Open(sharedcorpus.Path(t, "corpus", "wazuh", "ruleset-tests", "amazon_sec_lake.ini"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var texts []string
	var rows []T
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		_, ev, ok := strings.Cut(sc.Text(), "log 1 pass = ")
		if !ok || !strings.Contains(ev, `"name": "`+product+`"`) {
			continue
		}
		var row T
		var un struct {
			Unmapped *[][2]string `json:"unmapped"`
		}
		if err := json.Unmarshal([]byte(ev), &row); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(ev), &un); err != nil {
			t.Fatal(err)
		}
		if un.Unmapped != nil {
			m := map[string]string{}
			for _, kv := range *un.Unmapped {
				m[kv[0]] = kv[1]
			}
			*unmapped(&row) = m
		}
		texts, rows = append(texts, ev), append(rows, row)
	}
	if len(rows) < 3 {
		t.Fatalf("found %d %s events in amazon_sec_lake.ini", len(rows), product)
	}
	return texts, rows
}

func corpusFlows(t *testing.T) ([]string, []ocsfFlow) {
	return corpusRows(t, "Amazon VPC", func(r *ocsfFlow) *map[string]string { return &r.Unmapped })
}

func writeParquet[T any](t *testing.T, rows []T, perGroup int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[T](&buf, parquet.MaxRowsPerRowGroup(int64(perGroup)))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSecurityLakeRows: Parquet rows of the OCSF shape are sent as the text
// Wazuh sends for them, byte for byte (the ruleset tests' events: members in
// schema order, nulls, lists, the unmapped map as [key, value] pairs,
// json.dumps' spacing), at Wazuh-AWS, one event per row with the row index as
// offset, across row groups.
func TestSecurityLakeRows(t *testing.T) {
	e := newEnv(t)
	texts, rows := corpusFlows(t)
	var all []ocsfFlow
	for range 50 {
		all = append(all, rows...)
	}
	key := "aws/VPC_FLOW/1.0/region=us-east-1/accountId=567970947422/eventDay=20230331/5f2b.zstd.parquet"
	e.s3.put(t, key, writeParquet(t, all, 64))
	e.sqs.Send("notifications", eventBridge(key))
	cfg := e.cfg
	cfg.LogType = SecurityLake
	c := &collector{}
	s := e.drain(t, cfg, c)
	evs := c.all()
	if len(evs) != len(all) {
		t.Fatalf("%d events, want %d", len(evs), len(all))
	}
	for i, ev := range evs {
		// Byte for byte: json.dumps' separators and escapes, schema order.
		if want := texts[i%len(texts)]; string(ev.Log) != want {
			t.Fatalf("row %d:\n got %s\nwant %s", i, ev.Log, want)
		}
		if ev.Origin.Offset != int64(i) || ev.Origin.Unit != "s3://logs/"+key || ev.Location != "Wazuh-AWS" {
			t.Fatalf("row %d origin %+v at %q", i, ev.Origin, ev.Location)
		}
	}
	if st := s.Stats(); st.Units != 1 || st.Errors != 0 || s.MessageStats().Deleted != 1 {
		t.Errorf("stats %+v, %+v", st, s.MessageStats())
	}
	leftovers, _ := filepath.Glob(filepath.Join(os.TempDir(), "skywatch-lake-*"))
	if len(leftovers) != 0 {
		t.Errorf("spool files left: %v", leftovers)
	}
}

// TestSecurityLakeDNS: Route 53 rows (lists of structs, empty lists, null
// members and maps) are sent byte for byte as Wazuh sends them.
func TestSecurityLakeDNS(t *testing.T) {
	e := newEnv(t)
	texts, rows := corpusRows(t, "Route 53", func(r *ocsfDNS) *map[string]string { return &r.Unmapped })
	e.s3.put(t, "dns.parquet", writeParquet(t, rows, 2))
	e.sqs.Send("notifications", eventBridge("dns.parquet"))
	cfg := e.cfg
	cfg.LogType = SecurityLake
	c := &collector{}
	e.drain(t, cfg, c)
	evs := c.all()
	if len(evs) != len(texts) {
		t.Fatalf("%d events, want %d", len(evs), len(texts))
	}
	for i, ev := range evs {
		if string(ev.Log) != texts[i] {
			t.Errorf("row %d:\n got %s\nwant %s", i, ev.Log, texts[i])
		}
	}
}

// TestSecurityLakeDiscardAndBadFiles: discard applies to the row's members;
// an object that is not Parquet (or is cut short) is counted and named, and its
// message deleted, while good objects beside it are read.
func TestSecurityLakeDiscardAndBadFiles(t *testing.T) {
	e := newEnv(t)
	_, rows := corpusFlows(t)
	good := writeParquet(t, rows, 2)
	e.s3.put(t, "good.parquet", good)
	e.s3.put(t, "cut.parquet", good[:len(good)/2])
	e.s3.put(t, "text.parquet", []byte("PAR1 this is not parquet PAR1"))
	for _, k := range []string{"good.parquet", "cut.parquet", "text.parquet"} {
		e.sqs.Send("notifications", eventBridge(k))
	}
	cfg := e.cfg
	cfg.LogType = SecurityLake
	cfg.Discard.Field, cfg.Discard.Regex = "dst_endpoint.port", "22$"
	c := &collector{}
	s := e.drain(t, cfg, c)
	kept := 0
	for _, r := range rows {
		if r.DstEndpoint.Port == nil || !strings.HasSuffix(fmt.Sprint(*r.DstEndpoint.Port), "22") {
			kept++
		}
	}
	if got := c.count(); got["s3://logs/good.parquet"] != kept || kept == len(rows) || len(got) != 1 {
		t.Errorf("events %v, want %d of good.parquet", got, kept)
	}
	logs := e.logs.String()
	if st := s.Stats(); st.Errors != 2 || st.Skipped != int64(len(rows)-kept) || !strings.Contains(logs, "cut.parquet") || !strings.Contains(logs, "text.parquet") {
		t.Errorf("stats %+v; logs:\n%s", st, logs)
	}
	if left := e.sqs.Messages("notifications"); len(left) != 0 {
		t.Errorf("messages left: %+v", left)
	}
}

type wideRow struct {
	Msg string `parquet:"msg"`
	Seq int64  `parquet:"seq"`
}

// bytesObject serves one object from memory.
type bytesObject []byte

func (b bytesObject) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b))}, nil
}

// TestSecurityLakeBoundedMemory: reading a 20 MB Parquet object (incompressible
// text, 10 row groups) does not hold it in memory: the live heap grows by a few
// MB at most while its rows stream out.
func TestSecurityLakeBoundedMemory(t *testing.T) {
	rows := make([]wideRow, 100000)
	raw := make([]byte, 100)
	for i := range rows {
		rand.Read(raw)
		rows[i] = wideRow{Msg: hex.EncodeToString(raw), Seq: int64(i)}
	}
	data := writeParquet(t, rows, len(rows)/10)
	rows = nil
	live := func() int64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC() // the second empties sync.Pool's victim cache
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	base := live()
	r := &lakeReader{client: bytesObject(data), now: time.Now, log: slog.New(slog.DiscardHandler), stats: &awss3.Counters{}, maxAttempts: 1}
	peak := int64(math.MinInt64)
	n := 0
	emit := func(_ context.Context, b *source.Batch) error {
		if n += len(b.Events); n%(lakeBatchRows*40) == 0 {
			peak = max(peak, live()-base)
		}
		ack := b.Ack
		source.Release(b)
		ack(nil)
		return nil
	}
	ok := false
	r.Read(context.Background(), "b", "k", emit, func(v bool) { ok = v })
	if !ok || n != 100000 {
		t.Fatalf("ok=%v, %d rows", ok, n)
	}
	t.Logf("object %d MB, live heap growth at most %d KB", len(data)>>20, peak>>10)
	if peak > 8<<20 {
		t.Errorf("live heap grew by %d MB while reading a %d MB object", peak>>20, len(data)>>20)
	}
}
