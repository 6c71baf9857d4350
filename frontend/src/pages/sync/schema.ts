// The systems' schemas (systems.schema) behind the mapping editor's
// pick-lists: entity types, fields with their types, enum values and link
// types of each side's project. A schema only suggests names: every input
// stays free text, and the agent checks the names when the process is saved.
import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react'
import { call, errorMessage } from '../../api/bridge'
import type { ProcessEnd, SchemaField, SchemaUser, Side, SystemsSchemaResult } from '../../api/generated/types'
import type { Listed } from './api'

export type { SchemaField, SchemaUser }

// SystemSchema is a side's schema as the editor reads it: the wire's, its
// lists made lists (Go sends an empty one as null).
export type SystemSchema = Listed<SystemsSchemaResult>

export type SideSchema =
  | { state: 'none' } // no system or project chosen yet
  | { state: 'loading' }
  | { state: 'ready'; schema: SystemSchema }
  | { state: 'error'; message: string }

const none: SideSchema = { state: 'none' }

export async function fetchSchema(system: string, project: string): Promise<SystemSchema> {
  const r = await call('systems.schema', { id: system, project })
  return {
    ...r,
    entityTypes: r.entityTypes ?? [],
    fields: (r.fields ?? []).map((f) => ({ ...f, values: f.values ?? [] })),
    linkTypes: r.linkTypes ?? [],
  }
}

// schemaKey names one system's project; '' when either is not chosen.
export function schemaKey(end: ProcessEnd): string {
  const project = end.project.trim()
  return end.system && project ? `${end.system}\n${project}` : ''
}

// How long the project name must rest before its schema is read, so typing
// a key does not ask the system once per keystroke.
export const schemaDelayMs = 400

// useSchemas reads both sides' schemas and keeps each per system and
// project for as long as the editor is open, so switching back and forth
// asks the system once. refresh reads the chosen ones again.
export function useSchemas(a: ProcessEnd, b: ProcessEnd, enabled: boolean): { a: SideSchema; b: SideSchema; refresh: () => void } {
  const cache = useRef(new Map<string, SideSchema>())
  const [, setVersion] = useState(0)
  const [generation, setGeneration] = useState(0)
  const forced = useRef(false)
  const mounted = useRef(true)
  useEffect(() => {
    mounted.current = true
    return () => {
      mounted.current = false
    }
  }, [])

  const keyA = enabled ? schemaKey(a) : ''
  const keyB = enabled ? schemaKey(b) : ''

  useEffect(() => {
    const now = forced.current
    forced.current = false
    const wanted = [keyA, keyB].filter((k) => k !== '' && !cache.current.has(k))
    if (wanted.length === 0) return
    const load = () => {
      for (const key of wanted) {
        if (cache.current.has(key)) continue
        // A refresh may replace this entry while the answer is on its way;
        // only the entry's own answer may fill it.
        const entry: SideSchema = { state: 'loading' }
        cache.current.set(key, entry)
        const settle = (next: SideSchema) => {
          if (cache.current.get(key) !== entry) return
          cache.current.set(key, next)
          if (mounted.current) setVersion((v) => v + 1)
        }
        const [system, project] = key.split('\n')
        fetchSchema(system, project).then(
          (schema) => settle({ state: 'ready', schema }),
          (e) => settle({ state: 'error', message: errorMessage(e) }),
        )
      }
      setVersion((v) => v + 1)
    }
    if (now) {
      load()
      return
    }
    const t = setTimeout(load, schemaDelayMs)
    return () => clearTimeout(t)
  }, [keyA, keyB, generation])

  const refresh = useCallback(() => {
    for (const k of [keyA, keyB]) if (k) cache.current.delete(k)
    forced.current = true
    setGeneration((g) => g + 1)
  }, [keyA, keyB])

  const get = (k: string): SideSchema => (k ? (cache.current.get(k) ?? { state: 'loading' }) : none)
  return { a: get(keyA), b: get(keyB), refresh }
}

export const SchemaContext = createContext<Record<Side, SideSchema>>({ a: none, b: none })

export function useSideSchema(side: Side): SideSchema {
  return useContext(SchemaContext)[side]
}

export function schemaOf(s: SideSchema): SystemSchema | undefined {
  return s.state === 'ready' ? s.schema : undefined
}

export function findField(s: SideSchema, name: string): SchemaField | undefined {
  return schemaOf(s)?.fields.find((f) => f.name === name)
}

// valuesOf lists the values a field allows, narrowed to an entity type where
// the system says which values that type allows.
export function valuesOf(s: SideSchema, entityType: string, field: string): string[] {
  const sch = schemaOf(s)
  if (!sch) return []
  const narrowed = sch.typeValues?.[entityType]?.[field]
  if (narrowed) return narrowed
  return sch.fields.find((f) => f.name === field)?.values ?? []
}
