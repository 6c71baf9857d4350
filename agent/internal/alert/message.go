package alert

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Agent identifies the agent in messages: ids and its host name.
type Agent struct {
	InstanceID string
	Host       string
	Version    string
}

// Message is one batch in words, ready for each channel's format.
type Message struct {
	Agent   Agent
	At      time.Time
	Summary string   // one line: the subject of an email, the title of a card
	Lines   []string // one per group
	Groups  []Group
	Total   int // notices in the message
	Omitted int // notices in groups past what a message lists
}

// Names resolves a process's or system's name by id ("" when unknown).
type Names func(subject, id string) string

// render words a batch. names fills in names the notices lack.
func render(b *batch, agent Agent, at time.Time, names Names) Message {
	groups := b.sorted()
	m := Message{Agent: agent, At: at.UTC(), Groups: groups, Total: b.total, Omitted: b.omitted}
	for i := range groups {
		g := &groups[i]
		if g.Notice.Name == "" && names != nil && (g.Notice.Subject == "process" || g.Notice.Subject == "system") {
			g.Notice.Name = clean(names(g.Notice.Subject, g.Notice.ID))
		}
		m.Lines = append(m.Lines, line(*g))
	}
	host := agent.Host
	if host == "" {
		host = "agent " + agent.InstanceID
	}
	m.Summary = "Lockstep on " + host
	if len(groups) > 0 {
		m.Summary += ": " + headline(groups[0])
		if more := len(groups) - 1 + b.omitted; more > 0 {
			m.Summary += fmt.Sprintf(" (+%d more)", more)
		}
	}
	return m
}

// what names a process or system: Process "Billing sync" (p-1).
func what(n Notice) string {
	noun := strings.ToUpper(n.Subject[:1]) + n.Subject[1:]
	if n.Name == "" {
		return fmt.Sprintf("%s %s", noun, n.ID)
	}
	return fmt.Sprintf("%s %q (%s)", noun, n.Name, n.ID)
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// licenseWords says what a license notice means.
func licenseWords(n Notice) string {
	switch n.Cause {
	case "expiry_warning":
		return "The license expires in " + plural(n.DaysLeft, "day", "days") + "."
	case "grace":
		return "The license has expired; sync continues during its grace period."
	case "expired":
		return "The license has expired and its grace period is over: licensed systems no longer sync."
	case "invalid":
		return "The stored license no longer verifies; evaluation rules apply."
	case "users_over_limit":
		return "More users were identified than the license allows; sync continues."
	case "clock_back":
		return "The system clock is more than a day behind the latest time the agent has seen."
	}
	return "The license changed: " + n.Cause + "."
}

// line is one group in a sentence or two.
func line(g Group) string {
	n := g.Notice
	times := ""
	if g.Count > 1 {
		times = fmt.Sprintf(" (%d times)", g.Count)
	}
	switch n.Kind {
	case KindTest:
		return fmt.Sprintf("Test message, sent by %s: this channel receives Lockstep notifications.", n.Actor)
	case KindCrash:
		return fmt.Sprintf("The agent restarted after an unclean shutdown: the run started %s did not stop cleanly (a crash, a kill or a power loss)%s.",
			stamp(n.Since), times)
	case KindFailing:
		s := what(n) + " is failing"
		if n.Cause != "" {
			s += " (" + n.Cause + ")"
		}
		if !n.Since.IsZero() {
			s += " since " + stamp(n.Since)
		}
		return s + times + "."
	case KindRecovered:
		return what(n) + " works again" + times + "."
	case KindLicense:
		return licenseWords(n)
	case KindParked:
		s := fmt.Sprintf("%s: %s parked after permanent errors", what(n), plural(g.Count, "pair", "pairs"))
		if len(g.Keys) > 0 {
			s += ": " + strings.Join(g.Keys, ", ")
			if rest := g.Count - len(g.Keys); rest > 0 {
				s += fmt.Sprintf(" and %d more", rest)
			}
		}
		return s + "."
	}
	return n.Kind
}

// headline is a group in a few words, for the summary.
func headline(g Group) string {
	n := g.Notice
	name := n.Subject + " " + n.ID
	if n.Name != "" {
		name = fmt.Sprintf("%s %q", n.Subject, n.Name)
	}
	switch n.Kind {
	case KindTest:
		return "test message"
	case KindCrash:
		return "the agent restarted after an unclean shutdown"
	case KindFailing:
		return name + " is failing"
	case KindRecovered:
		return name + " works again"
	case KindLicense:
		return strings.TrimSuffix(strings.ToLower(licenseWords(n)[:1])+licenseWords(n)[1:], ".")
	case KindParked:
		return fmt.Sprintf("%s parked in %s", plural(g.Count, "pair", "pairs"), name)
	}
	return n.Kind
}

// footer says where the message comes from and where details are.
func (m Message) footer() string {
	return fmt.Sprintf("Agent %s (instance %s, version %s). Details are in the Lockstep desktop app.",
		m.Agent.Host, m.Agent.InstanceID, m.Agent.Version)
}

// Text is the plain-text body (email).
func (m Message) Text() string {
	var b strings.Builder
	b.WriteString(m.Summary + "\n\n")
	for _, l := range m.Lines {
		b.WriteString("- " + l + "\n")
	}
	if m.Omitted > 0 {
		fmt.Fprintf(&b, "- and %d more notices not listed here.\n", m.Omitted)
	}
	b.WriteString("\n" + m.footer() + "\n")
	return b.String()
}

// jsonNotice is one group in the JSON document.
type jsonNotice struct {
	Kind     string    `json:"kind"`
	Subject  string    `json:"subject"`
	ID       string    `json:"id,omitempty"`
	Name     string    `json:"name,omitempty"`
	Cause    string    `json:"cause,omitempty"`
	DaysLeft int       `json:"daysLeft,omitempty"`
	Count    int       `json:"count"`
	Keys     []string  `json:"keys,omitempty"`
	Since    *string   `json:"since,omitempty"`
	FirstAt  time.Time `json:"firstAt"`
	LastAt   time.Time `json:"lastAt"`
	Text     string    `json:"text"`
}

// JSON is Lockstep's own webhook document (schema 1).
func (m Message) JSON() []byte {
	doc := struct {
		Schema  int          `json:"schema"`
		Source  string       `json:"source"`
		Agent   any          `json:"agent"`
		At      time.Time    `json:"at"`
		Summary string       `json:"summary"`
		Notices []jsonNotice `json:"notices"`
		Omitted int          `json:"omitted"`
		Text    string       `json:"text"`
	}{Schema: 1, Source: "lockstep-agent", At: m.At, Summary: m.Summary, Omitted: m.Omitted, Text: m.Text(),
		Agent: map[string]string{"instanceId": m.Agent.InstanceID, "host": m.Agent.Host, "version": m.Agent.Version}}
	doc.Notices = make([]jsonNotice, 0, len(m.Groups))
	for i, g := range m.Groups {
		n := g.Notice
		j := jsonNotice{Kind: n.Kind, Subject: n.Subject, ID: n.ID, Name: n.Name, Cause: n.Cause, DaysLeft: n.DaysLeft,
			Count: g.Count, Keys: g.Keys, FirstAt: g.FirstAt.UTC(), LastAt: g.LastAt.UTC(), Text: m.Lines[i]}
		if !n.Since.IsZero() {
			s := n.Since.UTC().Format(time.RFC3339)
			j.Since = &s
		}
		doc.Notices = append(doc.Notices, j)
	}
	// Strings, numbers and times only: marshalling cannot fail.
	b, _ := json.Marshal(doc)
	return b
}

// slackEscape escapes what Slack's message text treats as markup.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Slack is a Slack incoming-webhook body.
func (m Message) Slack() []byte {
	var b strings.Builder
	b.WriteString("*" + slackEscape.Replace(m.Summary) + "*\n")
	for _, l := range m.Lines {
		b.WriteString("• " + slackEscape.Replace(l) + "\n")
	}
	if m.Omitted > 0 {
		fmt.Fprintf(&b, "• and %d more notices not listed here.\n", m.Omitted)
	}
	b.WriteString("_" + slackEscape.Replace(m.footer()) + "_")
	out, _ := json.Marshal(map[string]string{"text": b.String()})
	return out
}

// Teams is a Microsoft Teams webhook body: a message with one Adaptive
// Card, the shape both Teams' Workflows webhooks and its older incoming
// webhooks take.
func (m Message) Teams() []byte {
	type block map[string]any
	body := []block{{"type": "TextBlock", "text": m.Summary, "weight": "Bolder", "size": "Medium", "wrap": true}}
	for _, l := range m.Lines {
		body = append(body, block{"type": "TextBlock", "text": "- " + l, "wrap": true})
	}
	if m.Omitted > 0 {
		body = append(body, block{"type": "TextBlock", "text": fmt.Sprintf("- and %d more notices not listed here.", m.Omitted), "wrap": true})
	}
	body = append(body, block{"type": "TextBlock", "text": m.footer(), "isSubtle": true, "size": "Small", "wrap": true})
	card := map[string]any{
		"type": "message",
		"attachments": []any{map[string]any{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"contentUrl":  nil,
			"content": map[string]any{
				"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
				"type":    "AdaptiveCard",
				"version": "1.4",
				"body":    body,
			},
		}},
	}
	out, _ := json.Marshal(card)
	return out
}
