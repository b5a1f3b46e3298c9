// A list as a table: a caption for screen readers, one header a column, one row an item, and a
// line of text in its place when there are no items. A "stack" table turns its rows into cards on
// a phone, each cell labelled by its column's header (data-label, styled in assets.ts).
import type { ComponentChildren } from 'preact'

export interface Column<Row> {
  header: string
  /** Only screen readers read the header (an actions column); its cells get an empty label. */
  hiddenHeader?: boolean
  cell: (row: Row) => ComponentChildren
}

export function DataTable<Row>(props: {
  caption: string
  /** `false`: a column this page leaves out. */
  columns: readonly (Column<Row> | false)[]
  rows: readonly Row[]
  rowKey: (row: Row) => string
  /** Shown instead of an empty table; nothing at all when absent. */
  empty?: string
  id?: string
  /** `false`: a plain table, its cells unlabelled. */
  stack?: boolean
}) {
  if (props.rows.length === 0) return props.empty === undefined ? null : <p>{props.empty}</p>
  const stack = props.stack ?? true
  const columns = props.columns.filter((c) => c !== false)
  return (
    <table class={stack ? 'stack' : undefined} id={props.id}>
      <caption class="visually-hidden">{props.caption}</caption>
      <thead>
        <tr>
          {columns.map((c) => (
            <th scope="col" key={c.header}>
              {c.hiddenHeader ? <span class="visually-hidden">{c.header}</span> : c.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((row) => (
          <tr key={props.rowKey(row)}>
            {columns.map((c) => (
              <td key={c.header} data-label={stack ? (c.hiddenHeader ? '' : c.header) : undefined}>
                {c.cell(row)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  )
}
