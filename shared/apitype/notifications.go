package apitype

import "time"

// Notifications are the agent's alerts to administrators: what they are
// sent about and where (email, webhooks). Secrets (the SMTP password, the
// webhook URLs, which carry their token) are write-only: a read shows only
// whether each is set.
type Notifications struct {
	Enabled bool `json:"enabled"`
	// Events chooses what is notified: the Notify* event names below.
	Events []string `json:"events"`
	// MinIntervalMinutes is the least time between two messages to one
	// channel; what happens meanwhile goes into the next message.
	MinIntervalMinutes int                   `json:"minIntervalMinutes"`
	Email              NotificationEmail     `json:"email"`
	Webhooks           []NotificationWebhook `json:"webhooks"`
}

// What notifications are sent about.
const (
	NotifyParked  = "parked"  // a pair parked after a permanent error
	NotifyFailing = "failing" // a process or system started failing, or recovered
	NotifyLicense = "license" // the license nears expiry, expired, or users exceed it
	NotifyCrash   = "crash"   // the agent restarted after an unclean shutdown
)

// NotifyEvents lists every Notify* value.
var NotifyEvents = []string{NotifyParked, NotifyFailing, NotifyLicense, NotifyCrash}

// Email security modes.
const (
	SMTPStartTLS = "starttls" // plain connection upgraded with STARTTLS (port 587)
	SMTPTLS      = "tls"      // TLS from the first byte (port 465)
	SMTPNone     = "none"     // no encryption: only to a relay on this machine
)

// NotificationEmail is the SMTP channel.
type NotificationEmail struct {
	Enabled  bool   `json:"enabled"`
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Security string `json:"security"`
	// AllowSelfSigned accepts a server certificate no CA vouches for.
	AllowSelfSigned bool   `json:"allowSelfSigned"`
	Username        string `json:"username"`
	// Password is write-only: a value sets it, "" clears it, absent keeps it.
	Password *string `json:"password,omitempty"`
	// PasswordSet is read-only: whether a password is stored.
	PasswordSet bool     `json:"passwordSet" ts:"optional"`
	From        string   `json:"from"`
	To          []string `json:"to"`
}

// Webhook body shapes.
const (
	WebhookJSON  = "json"  // Lockstep's own JSON document
	WebhookSlack = "slack" // a Slack incoming webhook ({"text": ...})
	WebhookTeams = "teams" // a Microsoft Teams webhook (an Adaptive Card message)
)

// NotificationWebhook is one webhook channel.
type NotificationWebhook struct {
	// ID is assigned by the agent; on set, an existing id keeps that
	// webhook's stored URL when URL is absent.
	ID      string `json:"id,omitempty"`
	Name    string `json:"name"`
	Format  string `json:"format"`
	Enabled bool   `json:"enabled"`
	// URL is write-only (it carries the receiver's token): a value sets it,
	// absent keeps it. A new webhook needs one.
	URL *string `json:"url,omitempty"`
	// URLSet and Host are read-only: whether a URL is stored, and its host.
	URLSet bool   `json:"urlSet" ts:"optional"`
	Host   string `json:"host,omitempty"`
}

// NotificationsInfo is notifications.get's and notifications.set's result:
// the settings (secrets as flags) and each channel's delivery state.
type NotificationsInfo struct {
	Settings Notifications         `json:"settings"`
	Channels []NotificationChannel `json:"channels"`
}

// NotificationChannel is one channel's delivery state.
type NotificationChannel struct {
	Channel       string     `json:"channel"` // "email" or "webhook:<id>"
	Name          string     `json:"name"`
	LastSentAt    *time.Time `json:"lastSentAt,omitempty"`
	LastAttemptAt *time.Time `json:"lastAttemptAt,omitempty"`
	LastError     string     `json:"lastError,omitempty"`
	// Pending counts the notices waiting for the channel's next message.
	Pending int `json:"pending"`
}

// NotificationsTestParams: Channel names one channel ("email",
// "webhook:<id>"); empty tests every enabled one.
type NotificationsTestParams struct {
	Channel string `json:"channel,omitempty"`
}

// NotificationsTestResult is what each channel did with the test message.
type NotificationsTestResult struct {
	Results []NotificationTestOutcome `json:"results"`
}

// NotificationTestOutcome is one channel's answer to a test message.
type NotificationTestOutcome struct {
	Channel string `json:"channel"`
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Error   string `json:"error,omitempty"`
}
