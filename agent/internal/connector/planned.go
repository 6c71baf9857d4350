package connector

import "github.com/lockstep-sync/lockstep/shared/apitype"

// The schemas of the kinds Lockstep will support but does not ship a
// connector for yet. They are declared here so the API and the desktop's
// forms know every kind and its secret fields from the start; a kind's
// connector package registers the full spec (with Open and Test) in its
// init, and its entry here is then removed, so each kind is declared once.

func secretField(name, label, help string, required bool) apitype.KindField {
	return apitype.KindField{Name: name, Label: label, Type: apitype.FieldSecret, Secret: true, Required: required, Help: help}
}

func field(name, label, typ, help string, required bool) apitype.KindField {
	return apitype.KindField{Name: name, Label: label, Type: typ, Required: required, Help: help}
}

// withConnection adds the settings every HTTP-based kind has.
func withConnection(f ...apitype.KindField) []apitype.KindField {
	return append(f, ConnectionFields()...)
}

var planned = []Spec{
	{Kind: "gitlab", Title: "GitLab", Fields: withConnection(
		secretField("token", "Access token", "Scope: api.", true),
		secretField("webhookSecret", "Webhook secret token", "", false),
	)},
}

func init() {
	for _, s := range planned {
		_ = Register(s) // planned specs always have a kind and title
	}
}
