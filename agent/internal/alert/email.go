package alert

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"strconv"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// smtpTimeout bounds one delivery, from dialling to QUIT; under the API's
// 30 s, so a test message answers in time.
const smtpTimeout = 25 * time.Second

// emailConfig is the email channel with its password opened.
type emailConfig struct {
	Host            string
	Port            int
	Security        string
	AllowSelfSigned bool
	Username        string
	Password        string
	From            string
	To              []string
}

// sendEmail delivers m over SMTP. net/smtp does the protocol; this adds
// timeouts, requires STARTTLS when configured (never falling back to a
// plain session), and authenticates with PLAIN only over TLS (or to a relay
// on this machine, which net/smtp's PlainAuth also insists on).
func sendEmail(ctx context.Context, cfg emailConfig, helo string, m Message) error {
	ctx, cancel := context.WithTimeout(ctx, smtpTimeout)
	defer cancel()
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	tlsCfg := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.AllowSelfSigned} //nolint:gosec // the administrator's explicit choice, per server
	var conn net.Conn
	var err error
	if cfg.Security == apitype.SMTPTLS {
		conn, err = (&tls.Dialer{Config: tlsCfg}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("connect to %s: %w", addr, netCause(err))
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	// The agent stopping cuts a delivery short at once.
	defer context.AfterFunc(ctx, func() { conn.Close() })()
	c, err := smtp.NewClient(conn, cfg.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("greeting from %s: %w", addr, netCause(err))
	}
	defer c.Close()
	if err := c.Hello(helo); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if cfg.Security == apitype.SMTPStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("the server does not offer STARTTLS; nothing was sent")
		}
		if err := c.StartTLS(tlsCfg); err != nil {
			return fmt.Errorf("STARTTLS: %w", netCause(err))
		}
	}
	if cfg.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("the server offers no authentication, but a username is set")
		}
		if err := c.Auth(smtp.PlainAuth("", cfg.Username, cfg.Password, cfg.Host)); err != nil {
			return fmt.Errorf("authenticate as %s: %w", cfg.Username, err)
		}
	}
	if err := c.Mail(cfg.From); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, to := range cfg.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(emailBytes(cfg, helo, m)); err != nil {
		return fmt.Errorf("send the message: %w", netCause(err))
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("send the message: %w", err)
	}
	// The message is accepted; a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// emailBytes is the RFC 5322 message: a plain-text, quoted-printable body
// and a MIME-encoded subject.
func emailBytes(cfg emailConfig, host string, m Message) []byte {
	var b bytes.Buffer
	id := make([]byte, 12)
	rand.Read(id)
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", cfg.From)
	h("To", strings.Join(cfg.To, ", "))
	h("Subject", mime.QEncoding.Encode("utf-8", m.Summary))
	h("Date", m.At.Format(time.RFC1123Z))
	h("Message-ID", "<"+hex.EncodeToString(id)+"@"+host+">")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	// RFC 3834: no vacation or out-of-office replies to the agent.
	h("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(m.Text(), "\n", "\r\n")))
	qp.Close()
	return b.Bytes()
}

// netCause drops what Go's network errors add around the cause (addresses
// the message already names), keeping timeouts recognisable.
func netCause(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}
