package api

import (
	"math"
	"sync"
	"time"
)

// rateLimiter is a token bucket per key (a token's id): rate units per second on
// average, burst at once.
type rateLimiter struct {
	rate, burst float64
	now         func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	level float64
	last  time.Time
}

func newRateLimiter(rate float64, burst int, now func() time.Time) *rateLimiter {
	return &rateLimiter{rate: rate, burst: float64(burst), now: now, buckets: map[string]*bucket{}}
}

// take spends n units of key's bucket. When there are not enough it spends
// nothing and says how long until there will be.
func (l *rateLimiter) take(key string, n int) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{level: l.burst, last: now}
		l.buckets[key] = b
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.level = math.Min(l.burst, b.level+dt*l.rate)
	}
	b.last = now
	need := float64(n)
	if b.level >= need {
		b.level -= need
		return true, 0
	}
	wait := time.Duration((need - b.level) / l.rate * float64(time.Second))
	return false, wait
}
