package connector

import "github.com/lockstep-sync/lockstep/shared/apitype"

// The schemas of the kinds Lockstep supports. They are declared here so the
// API and the desktop's forms know every kind and its secret fields from the
// start; each connector package re-registers its kind with a Test and the
// rest of the contract when it lands.

func secretField(name, label, help string, required bool) apitype.KindField {
	return apitype.KindField{Name: name, Label: label, Type: apitype.FieldSecret, Secret: true, Required: required, Help: help}
}

func field(name, label, typ, help string, required bool) apitype.KindField {
	return apitype.KindField{Name: name, Label: label, Type: typ, Required: required, Help: help}
}

// Common settings every HTTP-based kind has.
var (
	allowSelfSigned = apitype.KindField{Name: "allowSelfSigned", Label: "Allow a self-signed certificate", Type: apitype.FieldBool,
		Help: "Only for servers with a private CA you cannot install; the connection is then not verified.", Default: false}
	requestsPerMinute = apitype.KindField{Name: "requestsPerMinute", Label: "Requests per minute", Type: apitype.FieldInt,
		Help: "Upper bound on this system's request rate; 0 means the connector's default.", Default: 0}
)

var planned = []Spec{
	{Kind: "sandbox", Title: "Sandbox (built-in)", Fields: []apitype.KindField{
		field("project", "Project", apitype.FieldString, "Project key, e.g. HELP", false),
		secretField("token", "API token", "The sandbox server's access token.", true),
		allowSelfSigned, requestsPerMinute,
	}},
	{Kind: "jira", Title: "Jira", Fields: []apitype.KindField{
		{Name: "deployment", Label: "Deployment", Type: apitype.FieldSelect, Options: []string{"cloud", "server"}, Required: true, Default: "cloud"},
		field("email", "Account email", apitype.FieldString, "Cloud: the account the API token belongs to.", false),
		secretField("apiToken", "API token", "Cloud: an API token of that account.", false),
		secretField("personalAccessToken", "Personal access token", "Server/Data Center: a personal access token.", false),
		allowSelfSigned, requestsPerMinute,
	}},
	{Kind: "azuredevops", Title: "Azure DevOps", Fields: []apitype.KindField{
		field("organization", "Organization or collection", apitype.FieldString, "e.g. contoso, or DefaultCollection on Server", true),
		secretField("pat", "Personal access token", "Scopes: Work Items (read & write).", true),
		allowSelfSigned, requestsPerMinute,
	}},
	{Kind: "servicenow", Title: "ServiceNow", Fields: []apitype.KindField{
		field("username", "Username", apitype.FieldString, "An integration user.", false),
		secretField("password", "Password", "", false),
		field("clientId", "OAuth client id", apitype.FieldString, "", false),
		secretField("clientSecret", "OAuth client secret", "", false),
		allowSelfSigned, requestsPerMinute,
	}},
	{Kind: "github", Title: "GitHub", Fields: []apitype.KindField{
		field("owner", "Owner", apitype.FieldString, "Organization or user.", true),
		secretField("token", "Token", "A fine-grained token with Issues read & write.", true),
		secretField("webhookSecret", "Webhook secret", "", false),
		allowSelfSigned, requestsPerMinute,
	}},
	{Kind: "gitlab", Title: "GitLab", Fields: []apitype.KindField{
		secretField("token", "Access token", "Scope: api.", true),
		secretField("webhookSecret", "Webhook secret token", "", false),
		allowSelfSigned, requestsPerMinute,
	}},
	{Kind: "redmine", Title: "Redmine", Fields: []apitype.KindField{
		secretField("apiKey", "API key", "My account > API access key.", true),
		allowSelfSigned, requestsPerMinute,
	}},
	{Kind: "rt", Title: "Request Tracker", Fields: []apitype.KindField{
		secretField("token", "Auth token", "RT 5 REST2 auth token.", true),
		allowSelfSigned, requestsPerMinute,
	}},
}

func init() {
	for _, s := range planned {
		_ = Register(s) // planned specs always have a kind and title
	}
}
