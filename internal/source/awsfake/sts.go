package awsfake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// STS answers AssumeRole for the roles it knows, and accepts the credentials it
// issued on every API of the server.
type STS struct {
	server *Server
	mu     sync.Mutex
	roles  map[string]string // role ARN → required external id ("" for none)
	issued int
}

// AddRole lets callers assume roleARN; a non-empty externalID must be passed
// with the request.
func (s *STS) AddRole(roleARN, externalID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[roleARN] = externalID
}

// Issued returns how many sessions AssumeRole has handed out.
func (s *STS) Issued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

type assumeRoleResponse struct {
	XMLName     xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ AssumeRoleResponse"`
	Credentials struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		SessionToken    string `xml:"SessionToken"`
		Expiration      string `xml:"Expiration"`
	} `xml:"AssumeRoleResult>Credentials"`
	AssumedRoleARN string `xml:"AssumeRoleResult>AssumedRoleUser>Arn"`
	AssumedRoleID  string `xml:"AssumeRoleResult>AssumedRoleUser>AssumedRoleId"`
	RequestID      string `xml:"ResponseMetadata>RequestId"`
}

// assumeRole answers Action=AssumeRole (Version 2011-06-15) with a new session
// whose key the server then accepts.
func (s *STS) assumeRole(w http.ResponseWriter, form url.Values, caller string) {
	if form.Get("Version") != "2011-06-15" {
		writeError(w, awsQuery, http.StatusBadRequest, "InvalidAction", "unsupported version "+form.Get("Version"))
		return
	}
	role, session := form.Get("RoleArn"), form.Get("RoleSessionName")
	if role == "" || session == "" {
		writeError(w, awsQuery, http.StatusBadRequest, "ValidationError", "RoleArn and RoleSessionName are required")
		return
	}
	duration := 3600
	if d := form.Get("DurationSeconds"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 900 || n > 43200 {
			writeError(w, awsQuery, http.StatusBadRequest, "ValidationError", "DurationSeconds must be between 900 and 43200")
			return
		}
		duration = n
	}
	s.mu.Lock()
	want, known := s.roles[role]
	s.mu.Unlock()
	if !known || (want != "" && form.Get("ExternalId") != want) {
		writeError(w, awsQuery, http.StatusForbidden, "AccessDenied",
			"User: arn:aws:iam::123456789012:user/"+caller+" is not authorized to perform: sts:AssumeRole on resource: "+role)
		return
	}
	var r assumeRoleResponse
	r.Credentials.AccessKeyID = "ASIA" + randomHex(8)
	r.Credentials.SecretAccessKey = randomHex(20)
	r.Credentials.SessionToken = "FwoGZXIvYXdzE" + randomHex(32)
	r.Credentials.Expiration = time.Now().Add(time.Duration(duration) * time.Second).UTC().Format(time.RFC3339)
	r.AssumedRoleARN = role + "/" + session
	r.AssumedRoleID = "AROA" + randomHex(8) + ":" + session
	r.RequestID = "fake-request-id"
	s.server.AddKey(r.Credentials.AccessKeyID, r.Credentials.SecretAccessKey, r.Credentials.SessionToken)
	s.mu.Lock()
	s.issued++
	s.mu.Unlock()
	b, _ := xml.Marshal(r)
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
