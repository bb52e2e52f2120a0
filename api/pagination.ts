import { invalidFields } from './domain/errors.js'

// Keyset pagination, newest first, on (created_at, id): stable while rows are inserted, because a
// page starts strictly after the last row the client saw. One cursor for every list: the access log
// (identity ids, in insertion order) pages on its id alone, with the same cursor.

export interface Page {
  limit: number
  after: { createdAt: Date; id: string } | null
}

export interface PageQuery {
  limit?: number
  cursor?: string
}

// A forged cursor may decode to a time JavaScript accepts and PostgreSQL does not (year -271821, or
// +275760): only times a row of ours can carry are cursors.
const EARLIEST = Date.UTC(2000, 0, 1)
const LATEST = Date.UTC(9999, 11, 31)

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
/** A row id: a uuid, or an identity number (safe integer). */
const ROW_ID = (id: string): boolean => UUID.test(id) || /^[1-9]\d{0,14}$/.test(id)

/** The page a query asks for; `field` names the cursor in a refusal (a body's cursor is `cursor`). */
export function parsePage(query: PageQuery, field = 'query.cursor'): Page {
  const limit = query.limit ?? 25
  if (!query.cursor) return { limit, after: null }
  try {
    const decoded = JSON.parse(Buffer.from(query.cursor, 'base64url').toString('utf8')) as { c?: unknown; i?: unknown }
    const createdAt = typeof decoded.c === 'string' ? new Date(decoded.c) : null
    const time = createdAt?.getTime() ?? Number.NaN
    if (!createdAt || Number.isNaN(time) || time < EARLIEST || time > LATEST || typeof decoded.i !== 'string' || !ROW_ID(decoded.i)) throw new Error('bad')
    return { limit, after: { createdAt, id: decoded.i } }
  } catch {
    throw invalidFields([{ name: field, code: 'invalid-cursor', reason: 'is not a cursor this API gave out' }])
  }
}

export const encodeCursor = (createdAt: Date, id: string | number): string =>
  Buffer.from(JSON.stringify({ c: createdAt.toISOString(), i: String(id) }), 'utf8').toString('base64url')

/** Rows fetched with limit + 1; the extra row only tells whether there is a next page. */
export function toPage<Row extends { created_at: Date; id: string | number }, Item>(
  rows: Row[],
  page: Page,
  map: (row: Row) => Item,
): { items: Item[]; nextCursor: string | null } {
  const visible = rows.slice(0, page.limit)
  const last = visible[visible.length - 1]
  return { items: visible.map(map), nextCursor: rows.length > page.limit && last ? encodeCursor(last.created_at, last.id) : null }
}
