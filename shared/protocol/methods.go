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
	SystemsTest   = def[a.SystemsTestParams, a.SystemsTestResult]("systems.test", Operator)
	SystemsSchema = def[a.SystemsSchemaParams, a.SystemsSchemaResult]("systems.schema", Viewer)

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

	BackupCreate   = def[a.BackupCreateParams, a.BackupCreateResult]("backup.create", Admin)
	BackupStatus   = def[a.IDParams, a.BackupStatusResult]("backup.status", Admin)
	BackupDownload = def[a.BackupDownloadParams, a.BackupDownloadResult]("backup.download", Admin)

	SettingsGet = def[a.Empty, a.SettingsResult]("settings.get", Admin)
	SettingsSet = def[a.SettingsSetParams, a.SettingsResult]("settings.set", Admin)
)

// Notification methods.
const (
	NotifyLogs  = "logs"
	NotifyEvent = "event"
)

// Sync processes (the engine).
var (
	ProcessesList       = def[a.Empty, a.ProcessesListResult]("processes.list", Viewer)
	ProcessesGet        = def[a.IDParams, a.ProcessResult]("processes.get", Viewer)
	ProcessesCreate     = def[a.ProcessParams, a.ProcessResult]("processes.create", Admin)
	ProcessesUpdate     = def[a.ProcessParams, a.ProcessResult]("processes.update", Admin)
	ProcessesDelete     = def[a.IDParams, a.Empty]("processes.delete", Admin)
	ProcessesActivate   = def[a.IDParams, a.ProcessResult]("processes.activate", Operator)
	ProcessesDeactivate = def[a.IDParams, a.ProcessResult]("processes.deactivate", Operator)
	ProcessesRun        = def[a.IDParams, a.RunAccepted]("processes.run", Operator)
	ProcessesSyncEntity = def[a.SyncEntityParams, a.RunResult]("processes.syncEntity", Operator)
	ProcessesPlan       = def[a.IDParams, a.PlanResult]("processes.plan", Operator)
	ProcessesBulkSync   = def[a.BulkSyncParams, a.BulkJobResult]("processes.bulkSync", Operator)
	ProcessesBulkStatus = def[a.IDParams, a.BulkJobResult]("processes.bulkStatus", Viewer)
	ProcessesExport     = def[a.ExportParams, a.DocumentResult]("processes.export", Viewer)
	ProcessesImport     = def[a.ImportParams, a.ImportResult]("processes.import", Admin)
	ProcessesResolve    = def[a.ResolveParams, a.Empty]("processes.resolve", Operator)

	PairsList          = def[a.PairsListParams, a.PairsListResult]("pairs.list", Viewer)
	PairsGet           = def[a.PairGetParams, a.PairResult]("pairs.get", Viewer)
	PairsValues        = def[a.PairGetParams, a.PairValuesResult]("pairs.values", Operator)
	PairsResolve       = def[a.PairsResolveParams, a.Empty]("pairs.resolve", Operator)
	PairsUnpair        = def[a.PairsUnpairParams, a.CountResult]("pairs.unpair", Operator)
	PairsRelink        = def[a.PairsRelinkParams, a.PairsRelinkResult]("pairs.relink", Operator)
	PairsRecreate      = def[a.PairGetParams, a.Empty]("pairs.recreate", Operator)
	PairsApplyDeletion = def[a.PairsApplyDeletionParams, a.Empty]("pairs.applyDeletion", Operator)
	PairsAdopt         = def[a.PairsAdoptParams, a.PairsAdoptResult]("pairs.adopt", Operator)
	QueueList          = def[a.QueueListParams, a.QueueListResult]("queue.list", Viewer)
	RunsList           = def[a.RunsListParams, a.RunsListResult]("runs.list", Viewer)
	RunsGet            = def[a.IDParams, a.RunResult]("runs.get", Viewer)
	ErrorsList         = def[a.ErrorsListParams, a.ErrorsListResult]("errors.list", Viewer)
	ErrorsRetry        = def[a.ErrorsRetryParams, a.ErrorsRetryResult]("errors.retry", Operator)
)

// License and telemetry.
var (
	LicenseGet       = def[a.Empty, a.LicenseInfo]("license.get", Viewer)
	LicenseImport    = def[a.LicenseImportParams, a.LicenseInfo]("license.import", Admin)
	TelemetryGet     = def[a.Empty, a.TelemetryInfo]("telemetry.get", Admin)
	TelemetrySet     = def[a.TelemetrySetParams, a.TelemetryInfo]("telemetry.set", Admin)
	TelemetryPreview = def[a.Empty, a.TelemetryPreview]("telemetry.preview", Admin)
)

// Notifications to administrators (email, webhooks).
var (
	NotificationsGet  = def[a.Empty, a.NotificationsInfo]("notifications.get", Admin)
	NotificationsSet  = def[a.Notifications, a.NotificationsInfo]("notifications.set", Admin)
	NotificationsTest = def[a.NotificationsTestParams, a.NotificationsTestResult]("notifications.test", Admin)
)
