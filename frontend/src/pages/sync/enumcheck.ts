// Which enum values a process cannot map: a status of 5 values paired with
// one of 4 and no value map for the fifth fails the first run that meets it
// ("not one of its values"). The editor warns at save; the dry run finds
// the same thing later, with the entities.
import { valuesOf, type SideSchema } from './schema'
import type { FieldPair, Process } from './api'

export type EnumGap = { typeA: string; typeB: string; field: string; from: 'a' | 'b'; values: string[] }

function gaps(fp: FieldPair, from: 'a' | 'b', fromValues: string[], toValues: string[]): string[] {
  const vm = fp.valueMap
  const mapped = new Set((vm?.pairs ?? []).map((p) => (from === 'a' ? p.a : p.b)))
  const hasDefault = from === 'a' ? !!vm?.defaultB : !!vm?.defaultA
  if (hasDefault || vm?.onMissing === 'keep' || vm?.onMissing === 'empty' || vm?.onMissing === 'default') return []
  // Without a value map a value passes as it is: fine where the other side has it too.
  const passes = !vm || vm.pairs.length === 0
  return fromValues.filter((v) => !mapped.has(v) && !(passes && toValues.includes(v)))
}

export function enumGaps(p: Process, a: SideSchema, b: SideSchema): EnumGap[] {
  const out: EnumGap[] = []
  for (const t of p.types) {
    for (const fp of t.fields) {
      if (fp.userMap) continue
      const va = valuesOf(a, t.a, fp.a)
      const vb = valuesOf(b, t.b, fp.b)
      if (va.length === 0 || vb.length === 0) continue
      if (fp.direction !== 'b_to_a') {
        const g = gaps(fp, 'a', va, vb)
        if (g.length) out.push({ typeA: t.a, typeB: t.b, field: `${fp.a} → ${fp.b}`, from: 'a', values: g })
      }
      if (fp.direction !== 'a_to_b') {
        const g = gaps(fp, 'b', vb, va)
        if (g.length) out.push({ typeA: t.a, typeB: t.b, field: `${fp.b} → ${fp.a}`, from: 'b', values: g })
      }
    }
  }
  return out
}
