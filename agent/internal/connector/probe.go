package connector

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"time"
)

// Probe is the generic connection test: an HTTPS GET of the system's URL.
// It proves the host resolves, the port answers and the certificate is
// valid (unless the system allows a self-signed one); it says nothing about
// the credentials, which only a connector can check.
func Probe(ctx context.Context, c Config) (string, error) {
	insecure := c.SettingBool("allowSelfSigned")
	client := &http.Client{
		Timeout: 15 * time.Second,
		Transport: &http.Transport{
			Proxy:           http.ProxyFromEnvironment,
			TLSClientConfig: &tls.Config{InsecureSkipVerify: insecure, MinVersion: tls.VersionTLS12},
		},
		// A redirect is an answer: do not follow it to another host.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL, nil)
	if err != nil {
		return "", fmt.Errorf("build request: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("reach %s: %w", c.URL, err)
	}
	resp.Body.Close()
	return fmt.Sprintf("%s answered HTTP %d (credentials are checked once the %s connector is installed)", c.URL, resp.StatusCode, c.Kind), nil
}
