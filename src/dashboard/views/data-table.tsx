// A list as a table: a caption for screen readers, one header a column, one row an item, and a
// line of text in its place when there are no items. On a phone its rows turn into cards, each
// cell labelled by its column's header (the "stack" class and data-label, styled in assets.ts).
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
}) {
  if (props.rows.length === 0) return props.empty === undefined ? null : <p>{props.empty}</p>
  const columns = props.columns.filter((c) => c !== false)
  return (
    <table class="stack" id={props.id}>
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
              <td key={c.header} data-label={c.hiddenHeader ? '' : c.header}>
                {c.cell(row)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  )
}
