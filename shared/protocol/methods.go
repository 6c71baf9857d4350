package protocol

import a "github.com/lockstep-sync/lockstep/shared/apitype"

// Methods. Roles per PROTOCOL.md: A = Admin, O = Operator, V = Viewer.
var (
	SessionHello  = def[a.HelloParams, a.HelloResult]("session.hello", Handshake)
	SessionLogin  = def[a.LoginParams, a.LoginResult]("session.login", Anonymous)
	SessionResume = def[a.ResumeParams, a.LoginResult]("session.resume", Anonymous)
	SessionLogout = def[a.Empty, a.Empty]("session.logout", Viewer)
	SessionWhoami = def[a.Empty, a.AccountResult]("session.whoami", Viewer)

	AgentInfo = def[a.Empty, a.AgentInfo]("agent.info", Viewer)
	HostInfo  = def[a.Empty, a.HostInfo]("host.info", Viewer)

	SystemsKinds  = def[a.Empty, a.KindsResult]("systems.kinds", Viewer)
	SystemsList   = def[a.Empty, a.SystemsListResult]("systems.list", Viewer)
	SystemsGet    = def[a.IDParams, a.SystemResult]("systems.get", Viewer)
	SystemsCreate = def[a.SystemsCreateParams, a.SystemResult]("systems.create", Admin)
	SystemsUpdate = def[a.SystemsUpdateParams, a.SystemResult]("systems.update", Admin)
	SystemsDelete = def[a.IDParams, a.Empty]("systems.delete", Admin)
	SystemsTest   = def[a.IDParams, a.SystemsTestResult]("systems.test", Operator)

	AccountsList        = def[a.Empty, a.AccountsListResult]("accounts.list", Admin)
	AccountsCreate      = def[a.AccountsCreateParams, a.AccountResult]("accounts.create", Admin)
	AccountsUpdate      = def[a.AccountsUpdateParams, a.AccountResult]("accounts.update", Admin)
	AccountsDelete      = def[a.IDParams, a.Empty]("accounts.delete", Admin)
	AccountsSetPassword = def[a.AccountsSetPasswordParams, a.Empty]("accounts.setPassword", Admin)

	AuditList   = def[a.AuditListParams, a.AuditListResult]("audit.list", Admin)
	AuditVerify = def[a.Empty, a.AuditVerifyResult]("audit.verify", Admin)

	LogsSubscribe   = def[a.LogsSubscribeParams, a.SubResult]("logs.subscribe", Viewer)
	LogsQuery       = def[a.LogsQueryParams, a.LogsQueryResult]("logs.query", Viewer)
	EventsSubscribe = def[a.EventsSubscribeParams, a.EventsSubscribeResult]("events.subscribe", Viewer)
	SubCancel       = def[a.SubCancelParams, a.Empty]("sub.cancel", Viewer)

	SupportCreate   = def[a.Empty, a.SupportCreateResult]("support.create", Admin)
	SupportStatus   = def[a.IDParams, a.SupportStatusResult]("support.status", Admin)
	SupportDownload = def[a.SupportDownloadParams, a.SupportDownloadResult]("support.download", Admin)

	SettingsGet = def[a.Empty, a.SettingsResult]("settings.get", Admin)
	SettingsSet = def[a.SettingsSetParams, a.SettingsResult]("settings.set", Admin)
)

// Notification methods.
const (
	NotifyLogs  = "logs"
	NotifyEvent = "event"
)
