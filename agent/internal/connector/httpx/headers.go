package httpx

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// retryAfter reads Retry-After: delay seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 && !math.IsInf(secs, 0) {
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}

// rateReset reads when a spent quota refills, from X-RateLimit-Reset or the
// IETF draft's RateLimit-Reset. Systems disagree on the form: Unix seconds
// (GitHub, Azure DevOps, the sandbox), seconds from now (the IETF draft), or
// an ISO 8601 time (Jira); a number above 10^9 is taken as Unix time.
func rateReset(h http.Header, now time.Time) (time.Time, bool) {
	v := strings.TrimSpace(h.Get("X-RateLimit-Reset"))
	if v == "" {
		v = strings.TrimSpace(h.Get("RateLimit-Reset"))
	}
	if v == "" {
		return time.Time{}, false
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 && !math.IsInf(n, 0) {
		if n > 1e9 {
			sec, frac := math.Modf(n)
			return time.Unix(int64(sec), int64(frac*1e9)), true
		}
		return now.Add(time.Duration(n * float64(time.Second))), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", http.TimeFormat} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
