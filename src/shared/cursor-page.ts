// Newest-first pages with an opaque cursor: the cursor is the last id of a page (ids sort by
// creation), base64url-encoded; one more row than asked tells whether a next page exists.

import { AppError } from './errors.ts'
import type { IdPrefix } from './ids.ts'

export const defaultPageSize = 50

/** The id a cursor stands for; invalid_cursor when it is not one of ours for this prefix. */
export function decodeCursor(cursor: string, prefix: IdPrefix): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8')
  if (!new RegExp(`^${prefix}_[0-9A-Za-z]+$`).test(id)) throw new AppError('invalid_cursor')
  return id
}

/** Fetches limit + 1 rows before the cursor and cuts them into a page and the next cursor. */
export async function cursorPage<T extends { id: string }>(
  q: { cursor?: string | undefined; limit?: number | undefined },
  prefix: IdPrefix,
  fetch: (f: { beforeId?: string; limit: number }) => Promise<T[]>,
): Promise<{ page: T[]; nextCursor: string | null }> {
  const limit = q.limit ?? defaultPageSize
  const rows = await fetch({
    ...(q.cursor !== undefined ? { beforeId: decodeCursor(q.cursor, prefix) } : {}),
    limit: limit + 1,
  })
  const page = rows.slice(0, limit)
  const last = page[page.length - 1]
  return {
    page,
    nextCursor: rows.length > limit && last ? Buffer.from(last.id, 'utf8').toString('base64url') : null,
  }
}
