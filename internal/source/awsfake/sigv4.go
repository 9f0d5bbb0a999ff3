package awsfake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// sigError is a rejected signature: unknown is true when the key or the token
// is not known (UnrecognizedClientException) rather than the signature wrong.
type sigError struct {
	unknown bool
	msg     string
}

func (e *sigError) Error() string { return e.msg }

// signature is what a request's Authorization header says about its signer.
type signature struct {
	accessKeyID, region, service, token string
}

// verify checks the request's SigV4 signature: the key must be known, the session
// token must be the key's, and signing the same canonical request with the key's
// secret must give the same signature.
func (s *Server) verify(r *http.Request, body []byte) (signature, error) {
	var sig signature
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return sig, errors.New("missing or unsupported Authorization header")
	}
	var cred, signedHeaders, got string
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signedHeaders = v
		case "Signature":
			got = v
		}
	}
	scope := strings.Split(cred, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return sig, fmt.Errorf("malformed credential scope %q", cred)
	}
	sig = signature{accessKeyID: scope[0], region: scope[2], service: scope[3], token: r.Header.Get("X-Amz-Security-Token")}
	s.mu.Lock()
	k, known := s.keys[sig.accessKeyID]
	s.mu.Unlock()
	if !known || k.token != sig.token {
		return sig, &sigError{unknown: true, msg: "The security token included in the request is invalid."}
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return sig, fmt.Errorf("bad X-Amz-Date: %w", err)
	}
	// Rebuild the request from the signed headers only and sign it again.
	re, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
	if err != nil {
		return sig, err
	}
	re.ContentLength = int64(len(body))
	for _, h := range strings.Split(signedHeaders, ";") {
		if h == "host" || h == "content-length" {
			continue
		}
		re.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: sig.accessKeyID, SecretAccessKey: k.secret, SessionToken: k.token}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, re, hex.EncodeToString(sum[:]), sig.service, sig.region, when); err != nil {
		return sig, err
	}
	_, want, _ := strings.Cut(re.Header.Get("Authorization"), "Signature=")
	if want != got {
		return sig, &sigError{msg: "The request signature we calculated does not match the signature you provided."}
	}
	return sig, nil
}
