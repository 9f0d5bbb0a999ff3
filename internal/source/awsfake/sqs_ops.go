package awsfake

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxVisibility is SQS's longest visibility timeout (12 hours).
const maxVisibility = 12 * time.Hour

func (s *SQS) createQueue(body []byte) (any, *sqsError) {
	var req struct {
		QueueName  string
		Attributes map[string]string
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.QueueName == "" || len(req.QueueName) > 80 {
		return nil, errInvalidParameter("Value %q for parameter QueueName is invalid.", req.QueueName)
	}
	var vis time.Duration
	if v, ok := req.Attributes["VisibilityTimeout"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > int(maxVisibility/time.Second) {
			return nil, errInvalidParameter("Invalid value for the parameter VisibilityTimeout.")
		}
		vis = time.Duration(n) * time.Second
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return map[string]string{"QueueUrl": s.create(req.QueueName, vis).url}, nil
}

func (s *SQS) getQueueURL(body []byte) (any, *sqsError) {
	var req struct{ QueueName, QueueOwnerAWSAccountId string }
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queue[req.QueueName]
	if q == nil || (req.QueueOwnerAWSAccountId != "" && req.QueueOwnerAWSAccountId != SQSAccount) {
		return nil, errQueueMissing()
	}
	return map[string]string{"QueueUrl": q.url}, nil
}

func (s *SQS) getQueueAttributes(body []byte) (any, *sqsError) {
	var req struct {
		QueueUrl       string
		AttributeNames attributeSet
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.byURL(req.QueueUrl)
	if q == nil {
		return nil, errQueueMissing()
	}
	now := time.Now()
	visible, inflight := 0, 0
	for _, m := range q.msgs {
		if m.visibleAt.After(now) {
			inflight++
		} else {
			visible++
		}
	}
	all := map[string]string{
		"ApproximateNumberOfMessages":           strconv.Itoa(visible),
		"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(inflight),
		"ApproximateNumberOfMessagesDelayed":    "0",
		"VisibilityTimeout":                     strconv.Itoa(int(q.visibility / time.Second)),
		"QueueArn":                              "arn:aws:sqs:us-east-1:" + SQSAccount + ":" + q.name,
		"CreatedTimestamp":                      strconv.FormatInt(q.created.Unix(), 10),
	}
	attrs := map[string]string{}
	for k, v := range all {
		if req.AttributeNames.has(k) {
			attrs[k] = v
		}
	}
	return map[string]any{"Attributes": attrs}, nil
}

func (s *SQS) sendMessage(body []byte) (any, *sqsError) {
	var req struct {
		QueueUrl, MessageBody string
		DelaySeconds          int
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.MessageBody == "" || len(req.MessageBody) > 256<<10 {
		return nil, errInvalidParameter("The message body must be between 1 byte and 256 KiB long.")
	}
	if req.DelaySeconds != 0 {
		return nil, errInvalidParameter("The fake does not delay messages.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.byURL(req.QueueUrl)
	if q == nil {
		return nil, errQueueMissing()
	}
	id := s.send(q, req.MessageBody)
	return map[string]string{"MessageId": id, "MD5OfMessageBody": q.msgs[len(q.msgs)-1].md5}, nil
}

// receiveRequest is ReceiveMessage's body.
type receiveRequest struct {
	QueueUrl                    string
	MaxNumberOfMessages         *int
	VisibilityTimeout           *int
	WaitTimeSeconds             *int
	AttributeNames              attributeSet
	MessageSystemAttributeNames attributeSet
}

// receiveMessage hands out up to MaxNumberOfMessages visible messages, making
// them invisible for the visibility timeout; with WaitTimeSeconds it waits for
// one to become visible (sent, released or timed out) before answering empty.
func (s *SQS) receiveMessage(r *http.Request, body []byte) (any, *sqsError) {
	var req receiveRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	limit, wait := 1, time.Duration(0)
	if req.MaxNumberOfMessages != nil {
		if limit = *req.MaxNumberOfMessages; limit < 1 || limit > 10 {
			return nil, errInvalidParameter("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", limit)
		}
	}
	if req.WaitTimeSeconds != nil {
		if *req.WaitTimeSeconds < 0 || *req.WaitTimeSeconds > 20 {
			return nil, errInvalidParameter("Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", *req.WaitTimeSeconds)
		}
		wait = time.Duration(*req.WaitTimeSeconds) * time.Second
	}
	if req.VisibilityTimeout != nil && (*req.VisibilityTimeout < 0 || *req.VisibilityTimeout > int(maxVisibility/time.Second)) {
		return nil, errInvalidParameter("Value %d for parameter VisibilityTimeout is invalid.", *req.VisibilityTimeout)
	}
	deadline := time.Now().Add(wait)
	for {
		s.mu.Lock()
		q := s.byURL(req.QueueUrl)
		if q == nil {
			s.mu.Unlock()
			return nil, errQueueMissing()
		}
		vis := q.visibility
		if req.VisibilityTimeout != nil {
			vis = time.Duration(*req.VisibilityTimeout) * time.Second
		}
		now := time.Now()
		var out []map[string]any
		next := deadline
		for _, m := range q.msgs {
			if m.visibleAt.After(now) {
				next = minTime(next, m.visibleAt)
				continue
			}
			if len(out) == limit {
				break
			}
			out = append(out, s.deliver(q, m, now, vis, req))
		}
		wake := s.wake
		s.mu.Unlock()
		if len(out) > 0 {
			return map[string]any{"Messages": out}, nil
		}
		if !now.Before(deadline) {
			return map[string]any{}, nil // the service omits Messages when there are none
		}
		t := time.NewTimer(time.Until(next))
		select {
		case <-wake:
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return map[string]any{}, nil
		}
		t.Stop()
	}
}

// deliver marks one message received and returns its wire form. Called with
// s.mu held.
func (s *SQS) deliver(q *sqsQueue, m *sqsMessage, now time.Time, vis time.Duration, req receiveRequest) map[string]any {
	s.seq++
	m.receives++
	if m.firstReceive.IsZero() {
		m.firstReceive = now
	}
	m.received = now
	m.visibleAt = now.Add(vis)
	m.handle = base64.RawURLEncoding.EncodeToString([]byte(q.name + "\x00" + m.id + "\x00" + strconv.FormatInt(s.seq, 10)))
	wire := map[string]any{"MessageId": m.id, "ReceiptHandle": m.handle, "MD5OfBody": m.md5, "Body": m.body}
	all := map[string]string{
		"ApproximateReceiveCount":          strconv.Itoa(m.receives),
		"SentTimestamp":                    strconv.FormatInt(m.sent.UnixMilli(), 10),
		"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.firstReceive.UnixMilli(), 10),
		"SenderId":                         "AIDAFAKESENDER",
	}
	attrs := map[string]string{}
	for k, v := range all {
		if req.AttributeNames.has(k) || req.MessageSystemAttributeNames.has(k) {
			attrs[k] = v
		}
	}
	if len(attrs) > 0 {
		wire["Attributes"] = attrs
	}
	return wire
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// findHandle resolves a receipt handle: the message it was issued for (nil when
// that message is gone) and whether it is the message's latest handle.
// Called with s.mu held.
func (s *SQS) findHandle(q *sqsQueue, handle string) (m *sqsMessage, latest bool, err *sqsError) {
	raw, derr := base64.RawURLEncoding.DecodeString(handle)
	parts := strings.Split(string(raw), "\x00")
	if derr != nil || len(parts) != 3 || parts[0] != q.name {
		return nil, false, &sqsError{400, "com.amazonaws.sqs#ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid",
			"The input receipt handle \"" + handle + "\" is not a valid receipt handle."}
	}
	for _, m := range q.msgs {
		if m.id == parts[1] {
			return m, m.handle == handle, nil
		}
	}
	return nil, false, nil
}

func (s *SQS) deleteMessage(body []byte) (any, *sqsError) {
	var req struct{ QueueUrl, ReceiptHandle string }
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.byURL(req.QueueUrl)
	if q == nil {
		return nil, errQueueMissing()
	}
	m, latest, err := s.findHandle(q, req.ReceiptHandle)
	if err != nil {
		return nil, err
	}
	// A handle of a deleted message, or an older handle of a message received
	// again since, succeeds without effect (as the service documents).
	if m != nil && latest {
		for i, x := range q.msgs {
			if x == m {
				q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
				break
			}
		}
	}
	return map[string]any{}, nil
}

func (s *SQS) changeVisibility(body []byte) (any, *sqsError) {
	var req struct {
		QueueUrl, ReceiptHandle string
		VisibilityTimeout       int
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.VisibilityTimeout < 0 || req.VisibilityTimeout > int(maxVisibility/time.Second) {
		return nil, errInvalidParameter("Value %d for parameter VisibilityTimeout is invalid.", req.VisibilityTimeout)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.byURL(req.QueueUrl)
	if q == nil {
		return nil, errQueueMissing()
	}
	m, latest, err := s.findHandle(q, req.ReceiptHandle)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	switch {
	case m == nil || !latest:
		return nil, errInvalidParameter("Value %s for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.", req.ReceiptHandle)
	case !m.visibleAt.After(now):
		return nil, &sqsError{400, "com.amazonaws.sqs#MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", "The message referred to isn't in flight."}
	}
	vis := time.Duration(req.VisibilityTimeout) * time.Second
	if now.Add(vis).After(m.received.Add(maxVisibility)) {
		return nil, errInvalidParameter("Value %d for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]", req.VisibilityTimeout)
	}
	m.visibleAt = now.Add(vis)
	if vis == 0 {
		s.signal()
	}
	return map[string]any{}, nil
}
