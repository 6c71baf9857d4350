// Copying configuration between agents: what a copy of a process needs on
// the target, and the target agent's answers in words. Pure functions, so
// the dialogs stay thin and the rules are tested on their own.

export type SystemRef = { id: string; name: string; kind: string }
export type ProcessRef = { id: string; name: string; a: { system: string; project?: string }; b: { system: string; project?: string } }

export type SideCheck = {
  side: 'a' | 'b'
  // source is the process's system on the source agent (null: it is gone).
  source: SystemRef | null
  // target is the system of the same name on the target agent, if any.
  target: SystemRef | null
  // otherKind is set when the target's system of that name is of another kind.
  otherKind: boolean
}

export type ProcessPlan = {
  sides: SideCheck[]
  // missing lists the source's systems the target lacks, once each.
  missing: SystemRef[]
  // replaces says the target has a process of the same name, which the
  // import updates.
  replaces: boolean
  // ready says nothing is missing: the copy may go.
  ready: boolean
}

const same = (x: string, y: string) => x.trim().toLowerCase() === y.trim().toLowerCase()

// findByName matches names as the agent's import does: case and outer
// spaces aside.
export function findByName<T extends { name: string }>(list: T[], name: string): T | null {
  return list.find((x) => same(x.name, name)) ?? null
}

// planProcessCopy says what copying process from one agent to another
// needs: the import (processes.import) finds each of its two systems on the
// target by name, so a system missing there must be copied first.
export function planProcessCopy(process: ProcessRef, sourceSystems: SystemRef[], targetSystems: SystemRef[], targetProcesses: { name: string }[]): ProcessPlan {
  const sides: SideCheck[] = (['a', 'b'] as const).map((side) => {
    const source = sourceSystems.find((s) => s.id === process[side].system) ?? null
    const target = source ? findByName(targetSystems, source.name) : null
    return { side, source, target, otherKind: !!(source && target && source.kind !== target.kind) }
  })
  const missing: SystemRef[] = []
  for (const s of sides) if (s.source && !s.target && !missing.some((m) => m.id === s.source!.id)) missing.push(s.source)
  return {
    sides,
    missing,
    replaces: !!findByName(targetProcesses, process.name),
    ready: sides.every((s) => s.source && s.target && !s.otherKind),
  }
}

// issueWhere names the part of a process document an import issue is
// about, in the editor's words: processes[0].a.system is "System A".
export function issueWhere(field: string): string {
  const f = field.replace(/^processes\[\d+\]\.?/, '')
  if (!f) return 'The process'
  const words: Record<string, string> = {
    'a.system': 'System A',
    'b.system': 'System B',
    'a.project': 'Project in A',
    'b.project': 'Project in B',
    name: 'Name',
    document: 'The document',
  }
  if (words[f]) return words[f]
  return f
    .replace(/types\[(\d+)\]/g, (_, i) => `entity types ${Number(i) + 1}`)
    .replace(/fields\[(\d+)\]/g, (_, i) => `field pair ${Number(i) + 1}`)
    .replace(/filters\[(\d+)\]/g, (_, i) => `filter ${Number(i) + 1}`)
    .replace(/\./g, ', ')
    .replace(/^./, (c) => c.toUpperCase())
}

export type KindField = { name: string; label: string; secret?: boolean; type?: string; required?: boolean }

// secretsToAskFor lists a kind's secret fields, each saying whether the
// source system has it set: none is ever read from the source (the API
// never returns a secret), so the target's form asks for each again.
export function secretsToAskFor(fields: KindField[], sourceSecrets: Record<string, { set: boolean }> | null | undefined): { name: string; label: string; required: boolean; setOnSource: boolean }[] {
  return fields
    .filter((f) => f.secret || f.type === 'secret')
    .map((f) => ({ name: f.name, label: f.label, required: !!f.required, setOnSource: !!sourceSecrets?.[f.name]?.set }))
}
