import type { Health } from '../../ui'

// Wire shapes of systems (shared/apitype/systems.go).
export type KindField = {
  name: string
  label: string
  type: 'string' | 'url' | 'int' | 'bool' | 'secret' | 'select' | 'duration' | string
  required: boolean
  secret: boolean
  help?: string
  options?: string[]
  default?: unknown
}
export type Kind = { kind: string; title: string; urlHelp?: string; fields: KindField[] }
export type System = {
  id: string
  name: string
  kind: string
  url: string
  settings: Record<string, unknown> | null
  secrets: Record<string, { set: boolean }> | null
  createdAt: string
  updatedAt: string
  lastTest?: LastTest
  health?: Health
}
export type TestResult = { ok: boolean; message: string; problem?: string; action?: string; latencyMs: number; at?: string }
export type LastTest = TestResult & { actor?: string }
