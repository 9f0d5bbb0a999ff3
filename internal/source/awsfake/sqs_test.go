package awsfake_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/skywatch-dev/skywatch/internal/source/awsfake"
)

// sqsClient is the real SDK client against the fake, without SDK retries.
func sqsClient(t *testing.T) (*awsfake.SQS, *sqs.Client) {
	t.Helper()
	fake := awsfake.NewSQS(t)
	fake.AddKey("AKID", "secret", "")
	return fake, sqs.NewFromConfig(sdkConfig(t, fake.URL, "AKID", "secret"))
}

func receive(t *testing.T, c *sqs.Client, url string, n int32, vis int32) []types.Message {
	t.Helper()
	out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url),
		MaxNumberOfMessages: n, VisibilityTimeout: vis,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Messages
}

// TestSQSRoundTrip: queues are found by name, messages come back with their
// MD5 (the SDK checks it), and a deleted message is gone.
func TestSQSRoundTrip(t *testing.T) {
	fake, c := sqsClient(t)
	ctx := context.Background()
	cq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q"), Attributes: map[string]string{"VisibilityTimeout": "60"}})
	if err != nil {
		t.Fatal(err)
	}
	gq, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("q")})
	if err != nil || aws.ToString(gq.QueueUrl) != aws.ToString(cq.QueueUrl) {
		t.Fatalf("GetQueueUrl = %v, %v; CreateQueue gave %s", gq, err, aws.ToString(cq.QueueUrl))
	}
	url := aws.ToString(cq.QueueUrl)
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(`{"a":"ü"}`)}); err != nil {
		t.Fatal(err)
	}
	fake.Send("q", "second")
	msgs := receive(t, c, url, 10, 0)
	if len(msgs) != 2 || aws.ToString(msgs[0].Body) != `{"a":"ü"}` || msgs[0].Attributes["ApproximateReceiveCount"] != "1" {
		t.Fatalf("received %+v", msgs)
	}
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{"All"}})
	if err != nil || attrs.Attributes["ApproximateNumberOfMessagesNotVisible"] != "2" || attrs.Attributes["VisibilityTimeout"] != "60" {
		t.Fatalf("attributes %v, %v", attrs, err)
	}
	for _, m := range msgs {
		if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(fake.Messages("q")); n != 0 {
		t.Fatalf("%d messages left", n)
	}
	_, err = c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("nope")})
	var missing *types.QueueDoesNotExist
	if !errors.As(err, &missing) || apiCode(err) != "AWS.SimpleQueueService.NonExistentQueue" {
		t.Fatalf("missing queue: %v (code %q)", err, apiCode(err))
	}
}

// TestSQSVisibility: an unacknowledged message reappears after its visibility
// timeout with a new receipt handle and a higher receive count; the old handle
// no longer extends it and deletes nothing; ChangeMessageVisibility keeps a
// message hidden and fails once its timeout has run out.
func TestSQSVisibility(t *testing.T) {
	fake, c := sqsClient(t)
	ctx := context.Background()
	url := fake.CreateQueue("q", time.Second)
	fake.Send("q", "m")
	first := receive(t, c, url, 1, 0)
	if len(first) != 1 || len(receive(t, c, url, 1, 0)) != 0 {
		t.Fatal("an in-flight message was received again")
	}
	// Extending keeps it hidden past the queue's timeout.
	if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: first[0].ReceiptHandle, VisibilityTimeout: 2}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1200 * time.Millisecond)
	if len(receive(t, c, url, 1, 0)) != 0 {
		t.Fatal("an extended message reappeared early")
	}
	time.Sleep(1000 * time.Millisecond)
	_, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: first[0].ReceiptHandle, VisibilityTimeout: 5})
	var notInflight *types.MessageNotInflight
	if !errors.As(err, &notInflight) {
		t.Fatalf("extending a timed-out message: %v", err)
	}
	second := receive(t, c, url, 1, 30)
	if len(second) != 1 || second[0].Attributes["ApproximateReceiveCount"] != "2" || aws.ToString(second[0].ReceiptHandle) == aws.ToString(first[0].ReceiptHandle) {
		t.Fatalf("redelivery %+v", second)
	}
	if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: first[0].ReceiptHandle, VisibilityTimeout: 5}); apiCode(err) != "InvalidParameterValue" {
		t.Fatalf("extending with an old handle: %v", err)
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: first[0].ReceiptHandle}); err != nil {
		t.Fatalf("delete with an old handle: %v", err)
	}
	if n := len(fake.Messages("q")); n != 1 {
		t.Fatal("an old receipt handle deleted the message")
	}
	_, err = c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: aws.String("garbage")})
	var invalid *types.ReceiptHandleIsInvalid
	if !errors.As(err, &invalid) {
		t.Fatalf("delete with a bad handle: %v", err)
	}
}

// TestSQSLongPoll: a long poll returns as soon as a message is sent.
func TestSQSLongPoll(t *testing.T) {
	fake, c := sqsClient(t)
	url := fake.CreateQueue("q", 0)
	go func() {
		time.Sleep(200 * time.Millisecond)
		fake.Send("q", "late")
	}()
	start := time.Now()
	out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url, WaitTimeSeconds: 10})
	if err != nil || len(out.Messages) != 1 || time.Since(start) > 5*time.Second {
		t.Fatalf("long poll: %v, %d messages after %v", err, len(out.Messages), time.Since(start))
	}
	start = time.Now()
	out, err = c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url, WaitTimeSeconds: 1})
	if err != nil || len(out.Messages) != 0 || time.Since(start) < 900*time.Millisecond {
		t.Fatalf("empty long poll: %v, %d messages after %v", err, len(out.Messages), time.Since(start))
	}
}

// TestSQSFaults: injected faults reach the SDK as the service sends them; a
// truncated ReceiveMessage reply leaves its message in flight (received, but
// the client never learnt it).
func TestSQSFaults(t *testing.T) {
	fake, c := sqsClient(t)
	url := fake.CreateQueue("q", 0)
	fake.Send("q", "m")
	fake.Inject("ReceiveMessage", awsfake.Throttle, awsfake.ServerError, awsfake.DropConnection, awsfake.Truncate)
	in := &sqs.ReceiveMessageInput{QueueUrl: &url}
	ctx := context.Background()
	if _, err := c.ReceiveMessage(ctx, in); apiCode(err) != "RequestThrottled" {
		t.Errorf("throttle: %v", err)
	}
	if _, err := c.ReceiveMessage(ctx, in); apiCode(err) != "InternalFailure" {
		t.Errorf("server error: %v", err)
	}
	if _, err := c.ReceiveMessage(ctx, in); err == nil || apiCode(err) != "" {
		t.Errorf("dropped connection: %v", err)
	}
	if _, err := c.ReceiveMessage(ctx, in); err == nil {
		t.Error("truncated reply: no error")
	}
	if m := fake.Messages("q"); len(m) != 1 || !m[0].InFlight || m[0].Receives != 1 {
		t.Errorf("after a truncated receive: %+v", m)
	}
	if n := len(fake.Calls("ReceiveMessage")); n != 4 {
		t.Errorf("%d calls recorded", n)
	}
}
