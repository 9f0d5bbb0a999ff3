package awss3

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// layout is how a log type lays its objects out in the bucket.
type layout int

const (
	// layoutAWSLogs: <path>AWSLogs/<suffix>[<org>/]<account>/<Service>/<region>/YYYY/MM/DD/
	layoutAWSLogs layout = iota
	// layoutFirehose: <path>YYYY/MM/DD/HH/...
	layoutFirehose
	// layoutFlat: <path>YYYY-MM-DD-HH-MM-SS-<hex> (S3 server access logs)
	layoutFlat
)

// serviceFolders names the folder under the account for AWSLogs layouts.
var serviceFolders = map[string]string{
	"cloudtrail": "CloudTrail",
	"config":     "Config",
	"vpcflow":    "vpcflowlogs",
	"guardduty":  "GuardDuty",
	"alb":        "elasticloadbalancing",
	"clb":        "elasticloadbalancing",
	"nlb":        "elasticloadbalancing",
}

func layoutOf(logType string) layout {
	if _, ok := serviceFolders[logType]; ok {
		return layoutAWSLogs
	}
	if logType == "server_access" {
		return layoutFlat
	}
	return layoutFirehose
}

// root is one listing root: objects under it are grouped into day folders.
type root struct {
	prefix          string
	account, region string
}

// basePath normalises the configured path: no leading slash, one trailing slash
// (Wazuh mishandles both, #4159).
func basePath(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return p + "/"
}

// dayPrefix is the key prefix of one day's objects under a root.
func dayPrefix(logType, rootPrefix string, day time.Time) string {
	switch layoutOf(logType) {
	case layoutFlat:
		return rootPrefix + day.Format("2006-01-02")
	case layoutAWSLogs:
		if logType == "config" {
			// AWS Config writes month and day without zero padding.
			return fmt.Sprintf("%s%d/%d/%d/", rootPrefix, day.Year(), int(day.Month()), day.Day())
		}
	}
	return rootPrefix + day.Format("2006/01/02/")
}

var (
	accountFolder = regexp.MustCompile(`^\d{12}$`)
	orgFolder     = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
)

// listFolders returns the immediate sub-folder names under prefix.
func (s *Source) listFolders(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.cfg.Bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/"),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", s.cfg.Bucket, prefix, err)
		}
		for _, cp := range page.CommonPrefixes {
			name := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), prefix), "/")
			if name != "" {
				out = append(out, name)
			}
		}
	}
	return out, nil
}

// roots discovers the listing roots: for AWSLogs layouts every (account, region)
// present in the bucket (or configured), for the others the path itself.
func (s *Source) roots(ctx context.Context) ([]root, error) {
	base := basePath(s.cfg.Path)
	if layoutOf(s.cfg.LogType) != layoutAWSLogs {
		return []root{{prefix: base}}, nil
	}
	logs := base + "AWSLogs/" + basePath(s.cfg.PathSuffix)
	top, err := s.listFolders(ctx, logs)
	if err != nil {
		return nil, err
	}
	var accountPrefixes []string
	for _, name := range top {
		switch {
		case accountFolder.MatchString(name):
			accountPrefixes = append(accountPrefixes, logs+name+"/")
		case orgFolder.MatchString(name) || name == s.cfg.OrganizationID:
			accts, err := s.listFolders(ctx, logs+name+"/")
			if err != nil {
				return nil, err
			}
			for _, a := range accts {
				if accountFolder.MatchString(a) {
					accountPrefixes = append(accountPrefixes, logs+name+"/"+a+"/")
				}
			}
		}
	}
	var out []root
	for _, ap := range accountPrefixes {
		acct := strings.TrimSuffix(ap[strings.LastIndex(strings.TrimSuffix(ap, "/"), "/")+1:], "/")
		if !wanted(s.cfg.Accounts, acct) {
			continue
		}
		svc := ap + serviceFolders[s.cfg.LogType] + "/"
		regions, err := s.listFolders(ctx, svc)
		if err != nil {
			return nil, err
		}
		for _, r := range regions {
			if wanted(s.cfg.Regions, r) {
				out = append(out, root{prefix: svc + r + "/", account: acct, region: r})
			}
		}
	}
	return out, nil
}

func wanted(list []string, v string) bool {
	if len(list) == 0 {
		return true
	}
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
