package sandbox

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// syncBuffer lets the test read what Serve prints while it runs.
type lineWriter struct{ lines chan string }

func (w lineWriter) Write(p []byte) (int, error) {
	sc := bufio.NewScanner(strings.NewReader(string(p)))
	for sc.Scan() {
		w.lines <- sc.Text()
	}
	return len(p), nil
}

func TestServe(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[useTLS], func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			out := lineWriter{make(chan string, 16)}
			done := make(chan error, 1)
			go func() { done <- Serve(ctx, ServeOptions{Addr: "127.0.0.1:0", Out: out, TLS: useTLS}) }()
			var url, token string
			for url == "" || token == "" {
				select {
				case l := <-out.lines:
					if rest, ok := strings.CutPrefix(l, "Sandbox serving "); ok {
						url, _, _ = strings.Cut(rest, " ")
					}
					if rest, ok := strings.CutPrefix(l, "  token: "); ok {
						token = rest
					}
				case err := <-done:
					t.Fatalf("Serve ended: %v", err)
				case <-time.After(5 * time.Second):
					t.Fatal("Serve printed no URL and token")
				}
			}
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
			req, _ := http.NewRequest("GET", url+"/api/projects", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(body), `"HELP"`) || !strings.Contains(string(body), `"ENG"`) {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestServeRefusesPlainHTTPBeyondLoopback(t *testing.T) {
	err := Serve(context.Background(), ServeOptions{Addr: "0.0.0.0:0"})
	if err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Fatalf("err = %v", err)
	}
}
