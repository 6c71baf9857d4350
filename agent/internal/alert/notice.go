// Package alert tells administrators when the agent needs them, by email
// (SMTP, STARTTLS or TLS) and by webhooks (Lockstep's JSON, Slack, Microsoft
// Teams): a pair parked, a process or system started failing (or recovered),
// the license nears expiry, expired or has more users than it allows, the
// agent restarted after an unclean shutdown.
//
// Messages carry ids, keys, names and error kinds only: never a secret, a
// field's value or an error's text, which may quote either. Notices are
// batched per channel and each channel sends at most one message per
// interval, so an outage of a work system makes one message, not one per
// entity or per run.
package alert

import (
	"encoding/json"
	"strings"
	"time"
	"unicode"

	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/input"
)

// Kinds of notices, in the order a message lists them.
const (
	KindCrash     = "unclean_restart"
	KindFailing   = "failing"
	KindLicense   = "license"
	KindParked    = "pair_parked"
	KindRecovered = "recovered"
	KindTest      = "test"
)

var kindOrder = map[string]int{KindTest: 0, KindCrash: 1, KindFailing: 2, KindLicense: 3, KindParked: 4, KindRecovered: 5}

// event is the Notify* setting that turns a kind on.
func (n Notice) event() string {
	switch n.Kind {
	case KindCrash:
		return apitype.NotifyCrash
	case KindFailing, KindRecovered:
		return apitype.NotifyFailing
	case KindLicense:
		return apitype.NotifyLicense
	case KindParked:
		return apitype.NotifyParked
	}
	return ""
}

// Notice is one thing an administrator should hear about. Its fields are
// ids, keys, names and classes only, by construction: the constructors
// below copy nothing else from an event.
type Notice struct {
	Kind string
	// Subject is what the notice is about: "process", "system", "license"
	// or "agent"; ID and Name identify a process or system.
	Subject string
	ID      string
	Name    string
	// Cause is an error class (unauthorized, unavailable...), a license
	// state or reason.
	Cause string
	// Key is the entity key (or id) of a parked pair.
	Key      string
	DaysLeft int
	// Since is when a failure began or the previous run started.
	Since time.Time
	At    time.Time
	// Actor sent a test message.
	Actor string
}

// group is what a message counts together: the same kind about the same
// thing.
func (n Notice) group() string { return n.Kind + "\x00" + n.Subject + "\x00" + n.ID + "\x00" + n.Cause }

// FromEvent turns a bus event into a notice; ok is false for events that
// need no notice. at is the event's time.
func FromEvent(ev events.Event) (Notice, bool) {
	switch ev.Type {
	case apitype.EventPairFailed:
		var d struct {
			Process string `json:"process"`
			Entity  string `json:"entity"`
			Key     string `json:"key"`
		}
		if json.Unmarshal(ev.Data, &d) != nil || d.Process == "" {
			return Notice{}, false
		}
		key := d.Key
		if key == "" {
			key = d.Entity
		}
		return Notice{Kind: KindParked, Subject: "process", ID: d.Process, Key: clean(key), At: ev.Time}, true
	case apitype.EventHealthChanged:
		var d apitype.HealthChanged
		if json.Unmarshal(ev.Data, &d) != nil || d.ID == "" || (d.Kind != "process" && d.Kind != "system") {
			return Notice{}, false
		}
		if d.Acknowledged {
			return Notice{}, false // an administrator saw the failure and saved anyway: not news
		}
		n := Notice{Subject: d.Kind, ID: d.ID, Name: clean(d.Name), At: ev.Time}
		switch {
		case d.Health.State == apitype.HealthFailing && d.Previous != apitype.HealthFailing:
			n.Kind, n.Cause = KindFailing, clean(d.Health.Cause)
			if d.Health.Since != nil {
				n.Since = *d.Health.Since
			}
		case d.Previous == apitype.HealthFailing && d.Health.State != apitype.HealthFailing && d.Health.State != apitype.HealthInactive:
			// A failing process deactivated has not recovered: it stopped.
			n.Kind = KindRecovered
		default:
			return Notice{}, false
		}
		return n, true
	case apitype.EventLicenseChanged:
		var d struct {
			State    string `json:"state"`
			Reason   string `json:"reason"`
			DaysLeft int    `json:"daysLeft"`
		}
		if json.Unmarshal(ev.Data, &d) != nil {
			return Notice{}, false
		}
		n := Notice{Kind: KindLicense, Subject: "license", DaysLeft: d.DaysLeft, At: ev.Time}
		switch d.Reason {
		case "expiry_warning", "users_over_limit", "clock_back":
			n.Cause = d.Reason
		case "state":
			switch d.State {
			case "grace", "expired", "invalid":
				n.Cause = d.State
			default:
				return Notice{}, false
			}
		default: // imported (an administrator did it), users_within_limit
			return Notice{}, false
		}
		return n, true
	}
	return Notice{}, false
}

// CrashNotice says the agent restarted after a run that began at since did
// not end cleanly.
func CrashNotice(since, at time.Time) Notice {
	return Notice{Kind: KindCrash, Subject: "agent", Since: since, At: at}
}

// maxText bounds one key or name in a message.
const maxText = 120

// clean keeps a name or key printable on one line: what shared/input
// refuses in names (control characters, bidirectional overrides, line
// separators: they could make a message read differently from what it
// says) becomes a space; at most maxText runes.
func clean(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == maxText {
			b.WriteString("…")
			break
		}
		switch {
		case input.Refused(r) != "":
			r = ' '
		case !unicode.IsPrint(r) && r != ' ':
			continue
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}
