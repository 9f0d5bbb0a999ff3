package awssqs

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/skywatch-dev/skywatch/internal/source/awss3"
)

// sqsAPI is the part of the SQS client the source uses.
type sqsAPI interface {
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, opts ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// callTimeout bounds one SQS call other than a long poll.
const callTimeout = 30 * time.Second

// handleGone reports errors saying a receipt handle no longer controls its
// message: its visibility timeout ran out (the message may be with another
// consumer now) or it was deleted.
func handleGone(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	code := ae.ErrorCode()
	return strings.Contains(code, "MessageNotInflight") || code == "ReceiptHandleIsInvalid" ||
		(code == "InvalidParameterValue" && strings.Contains(ae.ErrorMessage(), "receipt handle"))
}

// objectState travels with one object's read (in its context): the region its
// notification names, and whether the object turned out to be gone.
type objectState struct {
	region  string
	missing atomic.Bool
}

type objectStateKey struct{}

// objectClient reads objects for both readers: in the region of their
// notification, and with a missing object (NoSuchKey) read as empty, so that
// its message is deleted instead of retried forever; the state records it.
type objectClient struct{ api awss3.ObjectAPI }

// GetObject implements awss3.ObjectAPI.
func (c objectClient) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	st, _ := ctx.Value(objectStateKey{}).(*objectState)
	if st != nil && st.region != "" {
		region := st.region
		opts = append(opts, func(o *s3.Options) { o.Region = region })
	}
	out, err := c.api.GetObject(ctx, in, opts...)
	var nsk *s3types.NoSuchKey
	if st != nil && errors.As(err, &nsk) {
		st.missing.Store(true)
		return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader(""))}, nil
	}
	return out, err
}
