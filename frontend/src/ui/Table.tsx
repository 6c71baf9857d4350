import type { Key, ReactNode } from 'react'

export type Column<T> = {
  key: string
  header: ReactNode
  render?: (row: T) => ReactNode
  className?: string
}

export type TableProps<T> = {
  columns: Column<T>[]
  rows: T[]
  rowKey: (row: T) => Key
  caption?: ReactNode
  // empty is shown in place of the table when there are no rows.
  empty?: ReactNode
  onRowClick?: (row: T) => void
  selected?: Key | null
  className?: string
}

export function Table<T>({ columns, rows, rowKey, caption, empty, onRowClick, selected, className }: TableProps<T>) {
  if (rows.length === 0 && empty) return <>{empty}</>
  return (
    // Focusable, so a table wider than the page can be scrolled from the keyboard.
    <div className={['table-wrap', className].filter(Boolean).join(' ')} tabIndex={0} role="region" aria-label={typeof caption === 'string' ? caption : tableLabel(caption)}>
      <table className="table">
        {caption && <caption>{caption}</caption>}
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key} scope="col" className={c.className}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const k = rowKey(row)
            return (
              <tr
                key={k}
                className={[onRowClick ? 'clickable' : '', selected === k ? 'selected' : ''].filter(Boolean).join(' ') || undefined}
                onClick={onRowClick ? () => onRowClick(row) : undefined}
                aria-selected={selected === undefined ? undefined : selected === k}
              >
                {columns.map((c) => (
                  <td key={c.key} className={c.className}>
                    {c.render ? c.render(row) : String((row as Record<string, unknown>)[c.key] ?? '')}
                  </td>
                ))}
              </tr>
            )
          })}
        </tbody>
      </table>
    </div>
  )
}

// tableLabel names a table's scroll region after its caption's text.
function tableLabel(caption: ReactNode): string {
  if (caption && typeof caption === 'object' && 'props' in caption) {
    const text = (caption as { props: { children?: unknown } }).props.children
    if (typeof text === 'string') return text
  }
  return 'Table'
}
