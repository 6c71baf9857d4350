package alert

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/fault"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/input"
)

// Limits of the settings.
const (
	maxWebhooks   = 10
	maxRecipients = 20
	maxSecret     = 1024
	defaultMinGap = 5    // minutes
	maxMinGap     = 1440 // a day
)

// Secrets are sealed under this scope, as kind "notification".
const (
	sealScope = "notifications"
	sealKind  = "notification"
)

// stored is the settings as kept in the store: secrets sealed.
type stored struct {
	Enabled            bool            `json:"enabled"`
	Events             []string        `json:"events"`
	MinIntervalMinutes int             `json:"minIntervalMinutes"`
	Email              storedEmail     `json:"email"`
	Webhooks           []storedWebhook `json:"webhooks"`
}

type storedEmail struct {
	Enabled         bool     `json:"enabled"`
	Host            string   `json:"host"`
	Port            int      `json:"port"`
	Security        string   `json:"security"`
	AllowSelfSigned bool     `json:"allowSelfSigned"`
	Username        string   `json:"username"`
	Password        []byte   `json:"password,omitempty"` // sealed
	From            string   `json:"from"`
	To              []string `json:"to"`
}

type storedWebhook struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Format  string `json:"format"`
	Enabled bool   `json:"enabled"`
	URL     []byte `json:"url"` // sealed
	Host    string `json:"host"`
}

func defaults() stored {
	return stored{Events: slices.Clone(apitype.NotifyEvents), MinIntervalMinutes: defaultMinGap,
		Email: storedEmail{Security: apitype.SMTPStartTLS, Port: 587, To: []string{}}, Webhooks: []storedWebhook{}}
}

// view is what notifications.get shows: secrets as flags.
func (s stored) view() apitype.Notifications {
	v := apitype.Notifications{Enabled: s.Enabled, Events: slices.Clone(s.Events), MinIntervalMinutes: s.MinIntervalMinutes,
		Email: apitype.NotificationEmail{Enabled: s.Email.Enabled, Host: s.Email.Host, Port: s.Email.Port, Security: s.Email.Security,
			AllowSelfSigned: s.Email.AllowSelfSigned, Username: s.Email.Username, PasswordSet: len(s.Email.Password) > 0,
			From: s.Email.From, To: slices.Clone(s.Email.To)},
		Webhooks: make([]apitype.NotificationWebhook, 0, len(s.Webhooks))}
	if v.Email.To == nil {
		v.Email.To = []string{}
	}
	for _, w := range s.Webhooks {
		v.Webhooks = append(v.Webhooks, apitype.NotificationWebhook{ID: w.ID, Name: w.Name, Format: w.Format, Enabled: w.Enabled,
			URLSet: len(w.URL) > 0, Host: w.Host})
	}
	return v
}

// flat is the audit's view of the settings; secret fields hold their
// sealed form, which changes whenever a new value is set (and shows as
// [redacted] in the diff).
func (s stored) flat() (map[string]any, []string) {
	m := map[string]any{
		"enabled": s.Enabled, "events": s.Events, "minIntervalMinutes": s.MinIntervalMinutes,
		"email.enabled": s.Email.Enabled, "email.host": s.Email.Host, "email.port": s.Email.Port,
		"email.security": s.Email.Security, "email.allowSelfSigned": s.Email.AllowSelfSigned,
		"email.username": s.Email.Username, "email.from": s.Email.From, "email.to": s.Email.To,
		"email.password": base64.StdEncoding.EncodeToString(s.Email.Password),
	}
	secrets := []string{"email.password"}
	for _, w := range s.Webhooks {
		p := "webhooks." + w.ID + "."
		m[p+"name"], m[p+"format"], m[p+"enabled"], m[p+"host"] = w.Name, w.Format, w.Enabled, w.Host
		m[p+"url"] = base64.StdEncoding.EncodeToString(w.URL)
		secrets = append(secrets, p+"url")
	}
	return m, secrets
}

// invalid names the refused field (wire kind "invalid").
func invalid(field, format string, args ...any) error {
	return fault.Invalid(field, format, args...)
}

// hostName is a DNS name or an IP address (IPv6 without brackets).
var hostName = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,253}$`)

// oneLine checks one line of text the API stores (shared/input's rules: no
// control, bidirectional-control or separator characters).
func oneLine(field, s string, max int) error {
	if err := input.Line(s, max); err != nil {
		return invalid(field, "%s", err.Error())
	}
	return nil
}

// address accepts one bare e-mail address (user@example.com).
func address(field, s string) (string, error) {
	if err := oneLine(field, s, 254); err != nil {
		return "", err
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || !strings.Contains(a.Address, "@") {
		return "", invalid(field, "must be an e-mail address such as ops@example.com")
	}
	return a.Address, nil
}

// sealer seals and opens the settings' secrets.
type sealer interface {
	Seal(scope, kind, id, field string, value []byte) ([]byte, error)
	Open(scope, kind, id, field string, sealed []byte) ([]byte, error)
}

var _ sealer = (*secret.Sealer)(nil)

// next validates p against the current settings and returns what to store:
// secrets absent from p keep their sealed value, new ones are sealed.
func next(cur stored, p apitype.Notifications, seal sealer) (stored, error) {
	out := stored{Enabled: p.Enabled, MinIntervalMinutes: p.MinIntervalMinutes, Events: []string{}, Webhooks: []storedWebhook{}}
	if out.MinIntervalMinutes == 0 {
		out.MinIntervalMinutes = defaultMinGap
	}
	if out.MinIntervalMinutes < 1 || out.MinIntervalMinutes > maxMinGap {
		return stored{}, invalid("minIntervalMinutes", "must be between 1 and %d", maxMinGap)
	}
	for i, e := range p.Events {
		if !slices.Contains(apitype.NotifyEvents, e) {
			return stored{}, invalid(fmt.Sprintf("events[%d]", i), "must be one of %s", strings.Join(apitype.NotifyEvents, ", "))
		}
		if !slices.Contains(out.Events, e) {
			out.Events = append(out.Events, e)
		}
	}
	email, err := nextEmail(cur.Email, p.Email, seal)
	if err != nil {
		return stored{}, err
	}
	out.Email = email
	if len(p.Webhooks) > maxWebhooks {
		return stored{}, invalid("webhooks", "at most %d webhooks", maxWebhooks)
	}
	for i, w := range p.Webhooks {
		sw, err := nextWebhook(cur.Webhooks, w, fmt.Sprintf("webhooks[%d]", i), seal)
		if err != nil {
			return stored{}, err
		}
		if slices.ContainsFunc(out.Webhooks, func(o storedWebhook) bool { return o.ID == sw.ID }) {
			return stored{}, invalid(fmt.Sprintf("webhooks[%d].id", i), "appears twice")
		}
		out.Webhooks = append(out.Webhooks, sw)
	}
	return out, nil
}

func nextEmail(cur storedEmail, p apitype.NotificationEmail, seal sealer) (storedEmail, error) {
	e := storedEmail{Enabled: p.Enabled, Host: strings.TrimSpace(p.Host), Port: p.Port, Security: p.Security,
		AllowSelfSigned: p.AllowSelfSigned, Username: p.Username, Password: cur.Password, To: []string{}}
	if e.Security == "" {
		e.Security = apitype.SMTPStartTLS
	}
	switch e.Security {
	case apitype.SMTPStartTLS, apitype.SMTPNone:
		if e.Port == 0 {
			e.Port = 587
		}
	case apitype.SMTPTLS:
		if e.Port == 0 {
			e.Port = 465
		}
	default:
		return storedEmail{}, invalid("email.security", "must be starttls, tls or none")
	}
	if e.Port < 1 || e.Port > 65535 {
		return storedEmail{}, invalid("email.port", "must be between 1 and 65535")
	}
	if e.Host != "" && !hostName.MatchString(e.Host) {
		return storedEmail{}, invalid("email.host", "must be a host name or IP address")
	}
	if e.Security == apitype.SMTPNone && e.Host != "" && !isLoopback(e.Host) {
		return storedEmail{}, invalid("email.security", "none (no encryption) is only allowed to a relay on this machine (localhost); use starttls or tls")
	}
	if err := oneLine("email.username", e.Username, 256); err != nil {
		return storedEmail{}, err
	}
	if p.Password != nil {
		if len(*p.Password) > maxSecret {
			return storedEmail{}, invalid("email.password", "must be at most %d bytes", maxSecret)
		}
		if err := secret.CheckLen(*p.Password); err != nil {
			return storedEmail{}, invalid("email.password", "%s", err.Error())
		}
		e.Password = nil
		if *p.Password != "" {
			sealed, err := seal.Seal(sealScope, sealKind, "email", "password", []byte(*p.Password))
			if err != nil {
				return storedEmail{}, fmt.Errorf("seal the SMTP password: %w", err)
			}
			e.Password = sealed
		}
	}
	if len(e.Password) > 0 && e.Username == "" {
		return storedEmail{}, invalid("email.username", "is required with a password")
	}
	if p.From != "" {
		a, err := address("email.from", p.From)
		if err != nil {
			return storedEmail{}, err
		}
		e.From = a
	}
	if len(p.To) > maxRecipients {
		return storedEmail{}, invalid("email.to", "at most %d recipients", maxRecipients)
	}
	for i, t := range p.To {
		a, err := address(fmt.Sprintf("email.to[%d]", i), strings.TrimSpace(t))
		if err != nil {
			return storedEmail{}, err
		}
		if !slices.Contains(e.To, a) {
			e.To = append(e.To, a)
		}
	}
	if e.Enabled {
		switch {
		case e.Host == "":
			return storedEmail{}, invalid("email.host", "is required to send email")
		case e.From == "":
			return storedEmail{}, invalid("email.from", "is required to send email")
		case len(e.To) == 0:
			return storedEmail{}, invalid("email.to", "needs at least one recipient")
		}
	}
	return e, nil
}

func nextWebhook(cur []storedWebhook, p apitype.NotificationWebhook, field string, seal sealer) (storedWebhook, error) {
	name, err := input.Name(p.Name, input.MaxName)
	if err != nil {
		return storedWebhook{}, invalid(field+".name", "%s", err.Error())
	}
	w := storedWebhook{ID: p.ID, Name: name, Format: p.Format, Enabled: p.Enabled}
	if len(w.ID) > input.MaxID {
		return storedWebhook{}, invalid(field+".id", "no webhook has this id; leave it empty for a new one")
	}
	if w.Format == "" {
		w.Format = apitype.WebhookJSON
	}
	if w.Format != apitype.WebhookJSON && w.Format != apitype.WebhookSlack && w.Format != apitype.WebhookTeams {
		return storedWebhook{}, invalid(field+".format", "must be json, slack or teams")
	}
	if w.ID != "" {
		i := slices.IndexFunc(cur, func(o storedWebhook) bool { return o.ID == w.ID })
		if i < 0 {
			return storedWebhook{}, invalid(field+".id", "no webhook has this id; leave it empty for a new one")
		}
		w.URL, w.Host = cur[i].URL, cur[i].Host
	} else {
		id := make([]byte, 6)
		rand.Read(id)
		w.ID = "wh-" + hex.EncodeToString(id)
	}
	if p.URL != nil {
		u, err := checkWebhookURL(strings.TrimSpace(*p.URL))
		if err != nil {
			return storedWebhook{}, invalid(field+".url", "%s", err.Error())
		}
		sealed, err := seal.Seal(sealScope, sealKind, w.ID, "url", []byte(u.String()))
		if err != nil {
			return storedWebhook{}, fmt.Errorf("seal a webhook URL: %w", err)
		}
		w.URL, w.Host = sealed, u.Host
	}
	if len(w.URL) == 0 {
		return storedWebhook{}, invalid(field+".url", "is required for a new webhook")
	}
	return w, nil
}
