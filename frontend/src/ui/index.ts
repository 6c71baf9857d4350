// Shared UI primitives for every page (the sync pages included). Their props
// are a contract: extend them, do not change them.
export { Button, type ButtonProps, type ButtonVariant } from './Button'
export { Field, type FieldProps } from './Field'
export { Table, type Column, type TableProps } from './Table'
export { Dialog, type DialogProps } from './Dialog'
export { ConfirmDialog, type ConfirmDialogProps } from './ConfirmDialog'
export { NotifyProvider, useNotify, type Notify, type NoticeKind } from './Toast'
export { EmptyState, type EmptyStateProps } from './EmptyState'
export { Alert, type AlertKind } from './Alert'
export { Page, Loading, Badge } from './Page'
export { count, formatBytes, formatDate, formatDuration, formatFingerprint, formatLicenseState, licenseTone } from './format'
export { HealthBadge, HealthNote, healthTone, healthWord, type Health } from './Health'
export { DateTime } from './DateTime'
