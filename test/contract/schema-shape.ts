// The shape of a migrated database, read back from the engine itself (SQLite pragmas, the
// PostgreSQL catalogue), and the comparison of two shapes: tables, columns (name, type family,
// nullability, whether a default exists) and indexes (name, columns, uniqueness, partial-ness).
import type BetterSqlite3 from 'better-sqlite3'
import type pg from 'pg'

export interface ColumnShape {
  type: string
  notNull: boolean
  hasDefault: boolean
}

export interface IndexShape {
  table: string
  columns: string[]
  unique: boolean
  partial: boolean
}

export interface SchemaShape {
  tables: Record<string, Record<string, ColumnShape>>
  /**
   * Indexes by name. An index behind a primary key or unique constraint is named by the engine
   * (sqlite_autoindex_…, …_pkey, …_key): it goes by `<table>(<columns>)` instead.
   */
  indexes: Record<string, IndexShape>
}

/**
 * Type families: SQLite's `integer` is 64-bit, so `integer` and `bigint` are one family (its
 * declared `integer` holds what PostgreSQL keeps in `bigint`); `varchar` is text.
 */
export function typeFamily(declared: string): string {
  const t = declared.toLowerCase().trim()
  if (/^(integer|int|int4|int8|bigint|smallint)$/.test(t)) return 'integer'
  if (/^(text|character varying|varchar.*)$/.test(t)) return 'text'
  return t
}

const constraintKey = (table: string, columns: string[]) => `${table}(${columns.join(', ')})`

export function sqliteSchema(db: BetterSqlite3.Database): SchemaShape {
  const shape: SchemaShape = { tables: {}, indexes: {} }
  const tables = db
    .prepare(`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`)
    .all() as { name: string }[]
  for (const { name: table } of tables) {
    const cols = db.prepare(`select * from pragma_table_info(?)`).all(table) as {
      name: string
      type: string
      notnull: number
      dflt_value: string | null
      pk: number
    }[]
    shape.tables[table] = Object.fromEntries(
      cols.map((c) => [
        c.name,
        {
          type: typeFamily(c.type),
          // SQLite lets a non-integer primary key hold NULL (a historical quirk); the store never
          // writes one, and PostgreSQL's primary key is not null: compare what is meant.
          notNull: c.notnull === 1 || c.pk > 0,
          hasDefault: c.dflt_value !== null,
        },
      ]),
    )
    const indexes = db.prepare(`select * from pragma_index_list(?)`).all(table) as {
      name: string
      unique: number
      origin: 'c' | 'u' | 'pk'
      partial: number
    }[]
    for (const ix of indexes) {
      const columns = (
        db.prepare(`select name from pragma_index_info(?) order by seqno`).all(ix.name) as { name: string }[]
      ).map((c) => c.name)
      shape.indexes[ix.origin === 'c' ? ix.name : constraintKey(table, columns)] = {
        table,
        columns,
        unique: ix.unique === 1,
        partial: ix.partial === 1,
      }
    }
    // A rowid table's `integer primary key` has no index of its own: it is the rowid.
    const pk = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk)
    const key = constraintKey(
      table,
      pk.map((c) => c.name),
    )
    if (pk.length > 0 && !(key in shape.indexes)) {
      shape.indexes[key] = { table, columns: pk.map((c) => c.name), unique: true, partial: false }
    }
  }
  return shape
}

export async function postgresSchema(c: pg.Client): Promise<SchemaShape> {
  const shape: SchemaShape = { tables: {}, indexes: {} }
  const cols = await c.query<{
    table_name: string
    column_name: string
    data_type: string
    is_nullable: 'YES' | 'NO'
    column_default: string | null
  }>(`select table_name, column_name, data_type, is_nullable, column_default
      from information_schema.columns where table_schema = 'public' order by table_name, ordinal_position`)
  for (const r of cols.rows) {
    shape.tables[r.table_name] ??= {}
    shape.tables[r.table_name]![r.column_name] = {
      type: typeFamily(r.data_type),
      notNull: r.is_nullable === 'NO',
      hasDefault: r.column_default !== null,
    }
  }
  const ixs = await c.query<{
    name: string
    table: string
    columns: string[]
    unique: boolean
    partial: boolean
    constraint: boolean
  }>(`select i.relname as name, t.relname as table,
        array(select a.attname from unnest(x.indkey) with ordinality k(n, o)
              join pg_attribute a on a.attrelid = t.oid and a.attnum = k.n order by k.o)::text[] as columns,
        x.indisunique as unique, x.indpred is not null as partial,
        exists (select 1 from pg_constraint k where k.conindid = i.oid) as constraint
      from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
      join pg_namespace n on n.oid = t.relnamespace where n.nspname = 'public'`)
  for (const r of ixs.rows) {
    shape.indexes[r.constraint ? constraintKey(r.table, r.columns) : r.name] = {
      table: r.table,
      columns: r.columns,
      unique: r.unique,
      partial: r.partial,
    }
  }
  return shape
}

/** An intended difference between the engines, with the reason. */
export interface AllowedDifference {
  table: string
  column: string
  sqlite: Partial<ColumnShape>
  postgres: Partial<ColumnShape>
  why: string
}

/** A table (with its indexes) that one engine has and the other does without, with the reason. */
export interface EngineOnlyTable {
  table: string
  only: 'SQLite' | 'PostgreSQL'
  why: string
}

/** Every difference between the two shapes not in `allowed`, one readable line each. */
export function compareSchemas(
  sqlite: SchemaShape,
  postgres: SchemaShape,
  allowed: readonly AllowedDifference[] = [],
  engineOnly: readonly EngineOnlyTable[] = [],
): string[] {
  const out: string[] = []
  /** The names on both sides, with their two values; a name on one side only is a difference. */
  const both = <T>(what: string, a: Record<string, T>, b: Record<string, T>): [string, T, T][] =>
    [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().flatMap((name): [string, T, T][] => {
      const [x, y] = [a[name], b[name]]
      if (x !== undefined && y !== undefined) return [[name, x, y]]
      out.push(`${what} ${name}: only on ${x !== undefined ? 'SQLite' : 'PostgreSQL'}`)
      return []
    })
  for (const [table, s, p] of both('table', sqlite.tables, postgres.tables)) {
    const columns = (t: Record<string, ColumnShape>) =>
      Object.fromEntries(Object.entries(t).map(([c, shape]) => [`${table}.${c}`, shape]))
    for (const [column, sc, pc] of both('column', columns(s), columns(p))) {
      const allow = allowed.find((a) => `${a.table}.${a.column}` === column)
      for (const k of ['type', 'notNull', 'hasDefault'] as const) {
        if (sc[k] === pc[k]) continue
        if (allow && allow.sqlite[k] === sc[k] && allow.postgres[k] === pc[k]) continue
        out.push(`column ${column}: ${k} is ${sc[k]} on SQLite, ${pc[k]} on PostgreSQL`)
      }
    }
  }
  for (const [name, s, p] of both('index', sqlite.indexes, postgres.indexes)) {
    if (JSON.stringify(s) !== JSON.stringify(p)) {
      out.push(`index ${name}: ${JSON.stringify(s)} on SQLite, ${JSON.stringify(p)} on PostgreSQL`)
    }
  }
  // A table one engine alone needs is allowed only on that engine, indexes included.
  const excused = (line: string) =>
    engineOnly.some(
      (e) =>
        line === `table ${e.table}: only on ${e.only}` ||
        (line.startsWith(`index ${e.table}(`) && line.endsWith(`: only on ${e.only}`)),
    )
  return out.filter((line) => !excused(line))
}
