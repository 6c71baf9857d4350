package alert

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/input"
)

// webhookTimeout bounds one delivery.
const webhookTimeout = 20 * time.Second

func webhookClient() *http.Client {
	return &http.Client{
		Timeout: webhookTimeout,
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConns:        4,
			IdleConnTimeout:     time.Minute,
			ForceAttemptHTTP2:   true,
		},
		// A redirect would post the message where the administrator did not
		// choose: it counts as a failed delivery.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// body is m in the webhook's format.
func body(format string, m Message) []byte {
	switch format {
	case apitype.WebhookSlack:
		return m.Slack()
	case apitype.WebhookTeams:
		return m.Teams()
	}
	return m.JSON()
}

// retryAfter is a refusal that says when to try again (429, 503).
type retryAfter struct {
	msg   string
	after time.Duration
}

func (e *retryAfter) Error() string { return e.msg }

// postWebhook posts b to the webhook. Its errors never contain the URL,
// whose path or query carries the receiver's token.
func postWebhook(ctx context.Context, client *http.Client, rawURL, version string, b []byte) error {
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(b))
	if err != nil {
		return errors.New("the stored URL is not usable")
	}
	req.Header = http.Header{"Content-Type": {"application/json"}, "User-Agent": {"lockstep-agent/" + version}}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error's text quotes the URL
		}
		return fmt.Errorf("post to %s: %w", req.URL.Host, netCause(err))
	}
	defer resp.Body.Close()
	// Read a little of the answer so the connection can be reused; its
	// content is not reported (a receiver may echo what it was sent).
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 16<<10))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	msg := fmt.Sprintf("post to %s: the receiver answered %s", req.URL.Host, resp.Status)
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s > 0 {
			return &retryAfter{msg: msg, after: time.Duration(min(s, 86400)) * time.Second}
		}
	}
	return errors.New(msg)
}

// checkWebhookURL accepts https, or http to this machine (a local relay or
// a test receiver), without credentials in the URL.
func checkWebhookURL(raw string) (*url.URL, error) {
	if len(raw) > input.MaxURL {
		return nil, fmt.Errorf("must be at most %d bytes", input.MaxURL)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" || u.Host == "" {
		return nil, errors.New("must be an absolute URL such as https://hooks.example.com/...")
	}
	if u.User != nil {
		return nil, errors.New("must not carry a user name or password")
	}
	switch u.Scheme {
	case "https":
		return u, nil
	case "http":
		if isLoopback(u.Hostname()) {
			return u, nil
		}
		return nil, errors.New("must use https (http only to this machine)")
	}
	return nil, errors.New("must use https")
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
