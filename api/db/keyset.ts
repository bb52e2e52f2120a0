import type { ExpressionBuilder, SelectQueryBuilder } from 'kysely'
import type { Page } from '../pagination.js'

/** `(created_at, id) < (after.createdAt, after.id)` for newest-first keyset pages. */
const afterCursor =
  (page: Page) =>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  <EB extends ExpressionBuilder<any, any>>(eb: EB) =>
    page.after
      ? eb.or([
          eb('created_at', '<', page.after.createdAt),
          eb.and([eb('created_at', '=', page.after.createdAt), eb('id', '<', page.after.id)]),
        ])
      : eb.lit(true)

/**
 * One newest-first keyset page of a list query (use with `$call`): rows after the cursor, ordered by
 * (created_at, id) descending, one more than the limit so `toPage` can tell whether another follows.
 */
export const newestFirstPage =
  (page: Page) =>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  <QB extends SelectQueryBuilder<any, any, any>>(qb: QB): QB =>
    qb
      .where(afterCursor(page))
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(page.limit + 1) as QB
