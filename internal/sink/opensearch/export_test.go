package opensearch

import (
	"time"

	"github.com/skywatch-dev/skywatch/internal/retry"
)

// SetTemplateRetry makes the template attempts quick for a test.
func SetTemplateRetry(initial time.Duration) (restore func()) {
	old := templateRetry
	templateRetry = retry.Policy{Initial: initial, Max: initial}
	return func() { templateRetry = old }
}
