import { sql, type ExpressionBuilder, type SelectQueryBuilder } from 'kysely'
import type { Page } from '../pagination.js'

/**
 * `(created_at, id) < (after.createdAt, after.id)` for newest-first keyset pages. A row comparison,
 * not `created_at < … or (created_at = … and id < …)`: an index ending in (created_at desc, id desc)
 * takes it as the bound of its range scan, so a page deep in the walk reads its own rows only (the
 * `or` form is a filter over every row before the cursor).
 */
const afterCursor =
  (page: Page) =>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  <EB extends ExpressionBuilder<any, any>>(eb: EB) =>
    page.after ? sql<boolean>`(${sql.ref('created_at')}, ${sql.ref('id')}) < (${page.after.createdAt}, ${page.after.id})` : eb.lit(true)

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
