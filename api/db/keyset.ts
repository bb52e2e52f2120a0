import type { ExpressionBuilder } from 'kysely'
import type { Page } from '../pagination.js'

/** `(created_at, id) < (after.createdAt, after.id)` for newest-first keyset pages. */
export const afterCursor =
  (page: Page) =>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  <EB extends ExpressionBuilder<any, any>>(eb: EB) =>
    page.after
      ? eb.or([
          eb('created_at', '<', page.after.createdAt),
          eb.and([eb('created_at', '=', page.after.createdAt), eb('id', '<', page.after.id)]),
        ])
      : eb.lit(true)
