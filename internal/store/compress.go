package store

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Alert JSON is stored deflated with a preset dictionary of the words alerts
// share (Wazuh's alert keys and the cloud providers' event fields). On the
// benchmark's alerts that takes a 2 KB alert to about 650 bytes, and the whole
// database from about 3.7 KB to about 1.6 KB per alert: rows of 2 KB fill a 4 KB
// page alone, so half of each page was empty. Compressing costs about 40 µs per
// alert on insert and a few µs to read one back.
//
// The first byte tells the format: '{' is plain JSON, formatDeflateV1 is deflate
// with dictV1. dictV1 must never change once released: a new dictionary needs a
// new format byte.
const formatDeflateV1 = 1

var dictV1 = []byte(`"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","methodName":"","authenticationInfo":{"principalEmail":""},"requestMetadata":{"callerIp":"","callerSuppliedUserAgent":""},"serviceName":".googleapis.com","resourceName":"projects/"},"insertId":"","resource":{"type":"","labels":{"project_id":"","location":""}},"severity":"NOTICE","logName":"projects//logs/cloudaudit.googleapis.com%2Factivity","integration":"gcp","gcp":{` +
	`"azure_tag":"azure-activity","Type":"AzureActivity","TenantId":"","SubscriptionId":"","Caller":"","CallerIpAddress":"","Location":"","OperationNameValue":"MICROSOFT.","CategoryValue":"Administrative","ActivityStatusValue":"Success","ResourceGroup":"","CorrelationId":"","TimeGenerated":"","Properties":{"message":"","eventCategory":"Administrative"},"resourceId":"/subscriptions/","operationName":"","callerIpAddress":"","identity":{"claims":{"name":""}},` +
	`"source":"cloudtrail","log_info":{"log_file":"AWSLogs//CloudTrail/","s3bucket":""},"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"","arn":"arn:aws:iam::","accountId":"","accessKeyId":"","userName":"","sessionContext":{"attributes":{"creationDate":"","mfaAuthenticated":"false"}}},"eventTime":"","eventSource":".amazonaws.com","eventName":"","awsRegion":"us-east-1","sourceIPAddress":"","userAgent":"","requestParameters":{},"responseElements":null,"requestID":"","eventID":"","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":""}` +
	`{"timestamp":"","rule":{"level":,"description":"","id":"","mitre":{"id":["T"],"tactic":["Defense Evasion"],"technique":[""]},"firedtimes":,"mail":false,"groups":["aws","cloudtrail"],"pci_dss":[""],"gdpr":[""],"hipaa":[""],"nist_800_53":[""],"tsc":[""]},"agent":{"id":"000","name":""},"manager":{"name":""},"id":"","full_log":"","decoder":{"name":"json"},"data":{"integration":"aws","aws":{`)

var (
	deflaters = sync.Pool{New: func() any {
		w, err := flate.NewWriterDict(nil, 2, dictV1)
		if err != nil {
			panic(err) // only for a bad level
		}
		return w
	}}
	inflaters = sync.Pool{New: func() any { return flate.NewReaderDict(nil, dictV1) }}
)

// compressJSON appends the stored form of an alert's JSON to dst.
func compressJSON(dst *bytes.Buffer, js []byte) {
	dst.WriteByte(formatDeflateV1)
	w := deflaters.Get().(*flate.Writer)
	w.Reset(dst)
	_, _ = w.Write(js) // a bytes.Buffer does not fail
	_ = w.Close()
	deflaters.Put(w)
}

// decompressJSON returns the alert JSON of a stored value.
func decompressJSON(b []byte) ([]byte, error) {
	if len(b) == 0 || b[0] == '{' {
		return b, nil
	}
	if b[0] != formatDeflateV1 {
		return nil, fmt.Errorf("unknown alert format %d", b[0])
	}
	r := inflaters.Get().(io.ReadCloser)
	defer inflaters.Put(r)
	if err := r.(flate.Resetter).Reset(bytes.NewReader(b[1:]), dictV1); err != nil {
		return nil, err
	}
	out := bytes.NewBuffer(make([]byte, 0, 4*len(b)))
	if _, err := out.ReadFrom(r); err != nil {
		return nil, fmt.Errorf("decompress alert: %w", err)
	}
	if out.Len() == 0 {
		return nil, errors.New("decompress alert: empty")
	}
	return out.Bytes(), nil
}
