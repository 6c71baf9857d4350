package alert

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// smtpd is a real SMTP server (testdata/smtpd.py: Debian's python3-aiosmtpd)
// on loopback, for the life of a test.
type smtpd struct {
	Port int
	out  string
}

// python finds an interpreter that has aiosmtpd (Debian's python3, which
// `build/install-deps.sh --smtp` equips); without one the test skips, or
// fails in CI.
func python(t *testing.T) string {
	t.Helper()
	var tried []string
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		path, err := exec.LookPath(p)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import aiosmtpd").Run() == nil {
			return path
		}
		tried = append(tried, path)
	}
	msg := "no python3 with aiosmtpd (tried " + strings.Join(tried, ", ") + "); install it with build/install-deps.sh --smtp"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// selfSigned writes a certificate for 127.0.0.1 and localhost and its key.
func selfSigned(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lockstep test smtpd"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600)
	return cert, key
}

// startSMTPD starts the server; tls offers (and requires) STARTTLS, and a
// user makes AUTH required.
func startSMTPD(t *testing.T, tls bool, user, password string) *smtpd {
	t.Helper()
	py := python(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "mail")
	os.Mkdir(out, 0o700)
	args := []string{"testdata/smtpd.py", "--out", out}
	if tls {
		cert, key := selfSigned(t, dir)
		args = append(args, "--cert", cert, "--key", key)
	}
	if user != "" {
		args = append(args, "--user", user, "--password", password)
	}
	cmd := exec.Command(py, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- strings.TrimSpace(line)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case line := <-ready:
		port, err := strconv.Atoi(strings.TrimPrefix(line, "ready "))
		if err != nil {
			t.Fatalf("smtpd did not start: %q", line)
		}
		return &smtpd{Port: port, out: out}
	case <-time.After(60 * time.Second):
		t.Fatal("smtpd did not start within a minute")
	}
	return nil
}

// Messages are the accepted messages, oldest first.
func (s *smtpd) Messages(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(s.out)
	if err != nil {
		t.Fatal(err)
	}
	type msg struct {
		at   time.Time
		text string
	}
	var msgs []msg
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".eml") {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(s.out, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		info, _ := e.Info()
		msgs = append(msgs, msg{info.ModTime(), string(raw)})
	}
	slices.SortFunc(msgs, func(a, b msg) int { return a.at.Compare(b.at) })
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.text
	}
	return out
}

// receiver is a webhook endpoint: it records each POST by path and answers
// with the status set for the path (200 by default).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	posts  map[string][]string
	status map[string]int
}

func startReceiver(t *testing.T) *receiver {
	r := &receiver{posts: map[string][]string{}, status: map[string]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "want a JSON POST", http.StatusBadRequest)
			return
		}
		r.posts[req.URL.Path] = append(r.posts[req.URL.Path], string(body))
		if st := r.status[req.URL.Path]; st != 0 {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(st)
		}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) Posts(path string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.posts[path])
}

func (r *receiver) SetStatus(path string, status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status[path] = status
}
