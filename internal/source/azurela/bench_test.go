package azurela

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/skywatch-dev/skywatch/internal/source"
	"github.com/skywatch-dev/skywatch/internal/source/azurefake"
)

// benchColumns and benchRow make an AzureActivity-like row of about 1.3 KB with
// a dynamic column, the shape of Wazuh's test data.
var benchColumns = []azurefake.LAColumn{
	{Name: "TenantId", Type: "string"}, {Name: "SourceSystem", Type: "string"}, {Name: "CallerIpAddress", Type: "string"},
	{Name: "CategoryValue", Type: "string"}, {Name: "CorrelationId", Type: "guid"}, {Name: "Authorization", Type: "string"},
	{Name: "Authorization_d", Type: "dynamic"}, {Name: "Level", Type: "string"}, {Name: "OperationNameValue", Type: "string"},
	{Name: "Properties", Type: "string"}, {Name: "Caller", Type: "string"}, {Name: "EventSubmissionTimestamp", Type: "datetime"},
	{Name: "TimeGenerated", Type: "datetime"}, {Name: "SubscriptionId", Type: "string"}, {Name: "OperationName", Type: "string"},
	{Name: "ActivityStatusValue", Type: "string"}, {Name: "DurationMs", Type: "long"}, {Name: "ResourceId", Type: "string"},
	{Name: "Type", Type: "string"},
}

func benchRow(i int, at time.Time) json.RawMessage {
	auth := `{"action":"Microsoft.Authorization/roleAssignments/write","scope":"/subscriptions/4c1e7a52-93b1-4f0e-9a64-2d3f5b7c8e10"}`
	authJSON, _ := json.Marshal(auth)
	props, _ := json.Marshal(`{"eventCategory":"Administrative","entity":"/subscriptions/4c1e7a52-93b1-4f0e-9a64-2d3f5b7c8e10/resourceGroups/prod-rg/providers/Microsoft.Compute/virtualMachines/vm-` +
		fmt.Sprint(i%50) + `","message":"Microsoft.Compute/virtualMachines/write","hierarchy":"6b1f3c2d-8e4a-4f7b-9c0d-1a2b3c4d5e6f"}`)
	ts := at.Format(time.RFC3339Nano)
	return json.RawMessage(fmt.Sprintf(`["6b1f3c2d-8e4a-4f7b-9c0d-1a2b3c4d5e6f","Azure","81.34.%d.%d","Administrative","%08x-93b1-4f0e-9a64-2d3f5b7c8e10",%s,%s,"Informational","Microsoft.Compute/virtualMachines/write",%s,"user%d@contoso.com",%q,%q,"4c1e7a52-93b1-4f0e-9a64-2d3f5b7c8e10","Create or Update Virtual Machine","Success",%d,"/subscriptions/4c1e7a52-93b1-4f0e-9a64-2d3f5b7c8e10/resourceGroups/prod-rg/providers/Microsoft.Compute/virtualMachines/vm-%d","AzureActivity"]`,
		i%256, i/256%256, i, authJSON, authJSON, props, i%97, ts, ts, 1000+i, i%50))
}

// BenchmarkPassEndToEnd measures one pass over 20,000 rows end to end: token,
// query over TLS to the fake, reply decoding, typed events, de-duplication keys,
// batches handed over and acknowledged, checkpoint kept in memory.
func BenchmarkPassEndToEnd(b *testing.B) {
	const rows = 20000
	entra := azurefake.NewEntra(testClient, testSecret)
	defer entra.Close()
	la := azurefake.NewLogAnalytics(entra)
	defer la.Close()
	la.SetColumns(benchColumns...)
	base := noon.Add(-90 * time.Minute)
	var size int
	for i := range rows {
		at := base.Add(time.Duration(i) * 200 * time.Millisecond)
		r := benchRow(i, at)
		size += len(r)
		la.AddRow(ws1, at, r)
	}
	cfg := DefaultConfig()
	cfg.Azure.TenantID, cfg.Azure.ClientID, cfg.Azure.ClientSecret = testTenant, testClient, testSecret
	cfg.Azure.AuthorityHost, cfg.Endpoint = entra.AuthorityHost(), la.Endpoint()
	cfg.Workspace, cfg.Query, cfg.TimeOffset = ws1, "AzureActivity", "2h"
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	var events int
	for range b.N {
		s, err := New(cfg, Settings{Name: "bench", Now: func() time.Time { return noon }, HTTPClient: entra.Server.Client(), Retry: fastRetry})
		if err != nil {
			b.Fatal(err)
		}
		err = s.Run(context.Background(), func(_ context.Context, bt *source.Batch) error {
			events += len(bt.Events)
			bt.Ack(nil)
			source.Release(bt)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if events != rows*b.N {
		b.Fatalf("%d events, want %d", events, rows*b.N)
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkRows measures reply decoding and event writing alone.
func BenchmarkRows(b *testing.B) {
	const rows = 5000
	var body bytes.Buffer
	body.WriteString(`{"tables":[{"name":"PrimaryResult","columns":`)
	cols, _ := json.Marshal(benchColumnsJSON())
	body.Write(cols)
	body.WriteString(`,"rows":[`)
	for i := range rows {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(benchRow(i, noon.Add(time.Duration(i)*time.Second)))
	}
	body.WriteString(`]}]}`)
	b.SetBytes(int64(body.Len()))
	b.ReportAllocs()
	var buf []byte
	for range b.N {
		tb, err := parseReply(body.Bytes())
		if err != nil {
			b.Fatal(err)
		}
		w := newWriter("bench")
		for _, r := range tb.rows {
			if buf, _, err = w.appendEvent(buf[:0], tb, r); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "events/s")
}

func benchColumnsJSON() []map[string]string {
	var out []map[string]string
	for _, c := range benchColumns {
		out = append(out, map[string]string{"name": c.Name, "type": c.Type})
	}
	return out
}
