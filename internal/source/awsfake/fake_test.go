package awsfake_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	"github.com/aws/smithy-go"

	"github.com/skywatch-dev/skywatch/internal/source/awsfake"
)

// client options for the real SDK clients against the fake.
func sdkConfig(t *testing.T, url, key, secret string) aws.Config {
	t.Setenv("AWS_CA_BUNDLE", "")
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), Retryer: func() aws.Retryer { return aws.NopRetryer{} },
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestGetLogEventsTokens: events come in timestamp order from startTime
// (inclusive) to endTime (exclusive), and at the end of the stream the forward
// token given is handed back.
func TestGetLogEventsTokens(t *testing.T) {
	fake := awsfake.New(t)
	fake.AddKey("AKID", "secret", "")
	fake.Logs.MaxEvents = 2
	fake.Logs.Put("us-east-1", "g", "s", awsfake.LogEvent{Timestamp: 30, Message: "c"},
		awsfake.LogEvent{Timestamp: 10, Message: "a"}, awsfake.LogEvent{Timestamp: 20, Message: "b"},
		awsfake.LogEvent{Timestamp: 40, Message: "d"})
	api := cloudwatchlogs.NewFromConfig(sdkConfig(t, fake.URL, "AKID", "secret"))
	ctx := context.Background()
	in := &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"),
		StartTime: aws.Int64(20), EndTime: aws.Int64(40), StartFromHead: aws.Bool(true)}
	var got []string
	for {
		out, err := api.GetLogEvents(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range out.Events {
			got = append(got, aws.ToString(e.Message))
		}
		if in.NextToken != nil && aws.ToString(out.NextForwardToken) == *in.NextToken {
			break
		}
		in.NextToken = out.NextForwardToken
	}
	if len(got) != 2 || got[0] != "b" || got[1] != "c" {
		t.Errorf("read %q, want b c", got)
	}
	_, err := api.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"),
		LogStreamName: aws.String("nope"), StartFromHead: aws.Bool(true)})
	if apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("missing stream: %v", err)
	}
}

// TestProtocolErrors: the fake refuses what the service refuses, in each
// protocol's error shape, as the SDK decodes it.
func TestProtocolErrors(t *testing.T) {
	fake := awsfake.New(t)
	fake.AddKey("AKID", "secret", "")
	ctx := context.Background()
	insp := inspector2.NewFromConfig(sdkConfig(t, fake.URL, "AKID", "secret"))
	if _, err := insp.ListFindings(ctx, &inspector2.ListFindingsInput{MaxResults: aws.Int32(101)}); apiCode(err) != "ValidationException" {
		t.Errorf("maxResults 101: %v", err)
	}
	fake.Inject("ListFindings", awsfake.Throttle)
	_, err := insp.ListFindings(ctx, &inspector2.ListFindingsInput{})
	var re interface{ HTTPStatusCode() int }
	if apiCode(err) != "ThrottlingException" || !errors.As(err, &re) || re.HTTPStatusCode() != 429 {
		t.Errorf("throttled ListFindings: %v", err)
	}
	logs := cloudwatchlogs.NewFromConfig(sdkConfig(t, fake.URL, "AKID", "secret"))
	if _, err := logs.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("none")}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("missing group: %v", err)
	}
	fake.Logs.CreateGroup("us-east-1", "g")
	if _, err := logs.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("g"), Limit: aws.Int32(51)}); apiCode(err) != "InvalidParameterException" {
		t.Errorf("limit 51: %v", err)
	}
	bad := cloudwatchlogs.NewFromConfig(sdkConfig(t, fake.URL, "AKID", "not-the-secret"))
	if _, err := bad.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("g")}); apiCode(err) != "InvalidSignatureException" {
		t.Errorf("wrong secret: %v", err)
	}
	unknown := cloudwatchlogs.NewFromConfig(sdkConfig(t, fake.URL, "AKIDOTHER", "secret"))
	if _, err := unknown.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("g")}); apiCode(err) != "UnrecognizedClientException" {
		t.Errorf("unknown key: %v", err)
	}
}
